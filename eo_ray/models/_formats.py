"""How each framework's model is stored and loaded back, in safe formats only.

* torch: TorchScript (``torch.jit.script``, or ``trace`` on the input example), loaded with
  ``torch.jit.load``; the model's Python class is not needed and no pickle is read.
* Keras / TensorFlow: the ``.keras`` file, loaded with ``safe_mode=True`` (no lambdas).
* scikit-learn: skops (``.skops``), loaded trusting only the types recorded when the model
  was registered; a file holding any other type is refused.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from eo_ray._params import choices, invalid
from eo_ray.models.errors import ModelFormatError


class ModelFormat:
    """Save a model (object or file) into a folder and load it back."""

    framework: str = ""
    filename: str = ""
    suffixes: tuple[str, ...] = ()

    def save(self, model: Any, folder: Path, example: np.ndarray | None) -> dict[str, Any]:
        """Write the model as ``folder / self.filename``; return extra metadata to keep."""
        if isinstance(model, str | Path):
            path = Path(model)
            if not path.is_file() or not path.name.endswith(self.suffixes):
                raise ModelFormatError(
                    f"{path} is not a {self.framework} model file ({', '.join(self.suffixes)}); "
                    f"register the model object or a file of that kind."
                )
            shutil.copyfile(path, folder / self.filename)
            self.load(folder / self.filename, {})  # refuse files that do not load safely
            return {}
        return self._save_object(model, folder, example)

    def _save_object(self, model: Any, folder: Path, example: np.ndarray | None) -> dict:
        raise NotImplementedError

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        raise NotImplementedError


class TorchScriptFormat(ModelFormat):
    framework = "torch"
    filename = "model.torchscript.pt"
    suffixes = (".pt", ".pth")

    def _save_object(self, model: Any, folder: Path, example: np.ndarray | None) -> dict:
        import torch

        if not isinstance(model, torch.nn.Module | torch.jit.ScriptModule):
            raise ModelFormatError(
                f"A torch model must be a torch.nn.Module or a TorchScript file; "
                f"got {type(model).__name__}."
            )
        module = getattr(model, "module", model).to("cpu").eval()
        try:
            scripted = torch.jit.script(module)
        except Exception as exc:  # noqa: BLE001 - scripting fails on dynamic code: trace it
            if example is None:
                raise ModelFormatError(
                    f"This torch model cannot be scripted ({type(exc).__name__}); pass "
                    "input_example= so it can be traced instead."
                ) from None
            with torch.no_grad():
                scripted = torch.jit.trace(module, torch.as_tensor(example))
        scripted.save(str(folder / self.filename))
        return {}

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        import torch

        try:
            return torch.jit.load(str(path), map_location="cpu").eval()
        except RuntimeError as exc:
            raise ModelFormatError(
                f"{path.name} is not a TorchScript archive ({str(exc).splitlines()[0]}); a "
                "torch model must be registered as a module or a TorchScript file."
            ) from None


class KerasFormat(ModelFormat):
    framework = "tensorflow"
    filename = "model.keras"
    suffixes = (".keras",)

    def _save_object(self, model: Any, folder: Path, example: np.ndarray | None) -> dict:
        import keras

        if not isinstance(model, keras.Model):
            raise ModelFormatError(
                f"A Keras model must be a keras.Model or a .keras file; got {type(model).__name__}."
            )
        model.save(str(folder / self.filename))
        return {}

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        import keras

        return keras.saving.load_model(str(path), safe_mode=True)


class SkopsFormat(ModelFormat):
    framework = "sklearn"
    filename = "model.skops"
    suffixes = (".skops",)

    def _save_object(self, model: Any, folder: Path, example: np.ndarray | None) -> dict:
        import skops.io as sio
        from sklearn.base import BaseEstimator

        if not isinstance(model, BaseEstimator):
            raise ModelFormatError(
                f"A scikit-learn model must be an estimator or a .skops file; "
                f"got {type(model).__name__}."
            )
        sio.dump(model, folder / self.filename)
        return {"trusted_types": sio.get_untrusted_types(file=folder / self.filename)}

    def save(self, model: Any, folder: Path, example: np.ndarray | None) -> dict[str, Any]:
        if isinstance(model, str | Path):
            import skops.io as sio

            path = Path(model)
            if not path.is_file() or path.suffix != ".skops":
                raise ModelFormatError(
                    f"{path} is not a .skops file; register the estimator or a .skops file."
                )
            untrusted = sio.get_untrusted_types(file=path)
            if untrusted:
                raise ModelFormatError(
                    f"{path.name} holds types skops does not trust by default ({untrusted[:3]}); "
                    "register the estimator object instead so its types are recorded."
                )
            shutil.copyfile(path, folder / self.filename)
            return {"trusted_types": []}
        return self._save_object(model, folder, example)

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        import skops.io as sio

        trusted = list(meta.get("trusted_types", []))
        untrusted = sio.get_untrusted_types(file=path)
        unexpected = sorted(set(untrusted) - set(trusted))
        if unexpected:
            raise ModelFormatError(
                f"{path.name} holds types that were not in the registered model {unexpected[:3]}; "
                "it was changed after registration and is not loaded."
            )
        return sio.load(path, trusted=trusted)


FORMATS: dict[str, type[ModelFormat]] = {
    "torch": TorchScriptFormat,
    "tensorflow": KerasFormat,
    "keras": KerasFormat,
    "sklearn": SkopsFormat,
}


def get_format(framework: str) -> ModelFormat:
    """The storage format of ``framework`` (torch, tensorflow/keras, sklearn)."""
    try:
        return FORMATS[framework]()
    except (KeyError, TypeError):
        expected = f"one of {choices(FORMATS)}"
        raise invalid(ModelFormatError, "framework", "register", expected, framework) from None
