"""What differs between torch and Keras/TensorFlow: checkpoint state and the final export.

Checkpoints and exports use each framework's own safe format: torch tensors saved with
``torch.save`` and read back with ``weights_only=True`` (no pickled code), TorchScript for a
model that loads without its Python class, Keras ``.weights.h5`` and ``.keras`` files loaded
with ``safe_mode=True``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eo_ray._params import choices, invalid
from eo_ray.train.errors import TrainConfigError

STATE_FILE = "state.json"


class Framework:
    """The checkpoint/export rules of one framework."""

    name: str = ""

    def save_state(self, model: Any, optimizer: Any, folder: Path, step: int) -> None:
        """Write the model (and optimizer) state after ``step`` into ``folder``."""
        raise NotImplementedError

    def load_state(self, model: Any, optimizer: Any, folder: Path) -> int:
        """Load the state written by :meth:`save_state`; return its step."""
        raise NotImplementedError

    def export(self, model: Any, folder: Path, example: Any = None) -> list[str]:
        """Write the final model into ``folder``; return the file names written."""
        raise NotImplementedError


def _unwrap(model: Any) -> Any:
    """The user's module inside a DistributedDataParallel wrapper."""
    return getattr(model, "module", model)


class TorchFramework(Framework):
    name = "torch"

    def save_state(self, model: Any, optimizer: Any, folder: Path, step: int) -> None:
        import torch

        folder.mkdir(parents=True, exist_ok=True)
        torch.save(_unwrap(model).state_dict(), folder / "model.pt")
        if optimizer is not None:
            torch.save(optimizer.state_dict(), folder / "optimizer.pt")
        (folder / STATE_FILE).write_text(json.dumps({"step": step}))

    def load_state(self, model: Any, optimizer: Any, folder: Path) -> int:
        import torch

        state = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
        _unwrap(model).load_state_dict(state)
        if optimizer is not None and (folder / "optimizer.pt").exists():
            optimizer.load_state_dict(
                torch.load(folder / "optimizer.pt", map_location="cpu", weights_only=True)
            )
        return int(json.loads((folder / STATE_FILE).read_text())["step"])

    def export(self, model: Any, folder: Path, example: Any = None) -> list[str]:
        import torch

        module = _unwrap(model).to("cpu").eval()
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(module.state_dict(), folder / "state_dict.pt")
        written = ["state_dict.pt"]
        scripted = None
        try:
            scripted = torch.jit.script(module)
        except Exception:  # noqa: BLE001 - not every module scripts; tracing is the fallback
            if example is not None:
                with torch.no_grad():
                    scripted = torch.jit.trace(module, torch.as_tensor(example))
        if scripted is not None:
            scripted.save(str(folder / "model.torchscript.pt"))
            written.append("model.torchscript.pt")
        return written


class KerasFramework(Framework):
    name = "tensorflow"

    def save_state(self, model: Any, optimizer: Any, folder: Path, step: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        model.save_weights(str(folder / "model.weights.h5"))
        (folder / STATE_FILE).write_text(json.dumps({"step": step}))

    def load_state(self, model: Any, optimizer: Any, folder: Path) -> int:
        model.load_weights(str(folder / "model.weights.h5"))
        return int(json.loads((folder / STATE_FILE).read_text())["step"])

    def export(self, model: Any, folder: Path, example: Any = None) -> list[str]:
        folder.mkdir(parents=True, exist_ok=True)
        model.save(str(folder / "model.keras"))
        return ["model.keras"]


FRAMEWORKS: dict[str, type[Framework]] = {"torch": TorchFramework, "tensorflow": KerasFramework}


def get_framework(name: str) -> Framework:
    """The framework called ``name`` ("torch" or "tensorflow")."""
    try:
        return FRAMEWORKS[name]()
    except (KeyError, TypeError):
        expected = f"one of {choices(FRAMEWORKS)}"
        raise invalid(TrainConfigError, "framework", "fit", expected, name) from None
