"""Run a registered model with a signature on raw source pixels: class probabilities out.

The runner applies the signature's preprocessing, calls the model in its framework, and
turns whatever the model gives (labels, scores, logits, probabilities) into probabilities
in the order of the signature's classes, checking the shape against the signature.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eo_ray.models._signature import Signature
from eo_ray.models.errors import ModelFormatError


class ModelOutputError(ModelFormatError):
    """The model's output does not match its signature (shape or class labels)."""


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=axis, keepdims=True)
    return shifted


def as_probabilities(out: np.ndarray, classes: int, axis: int = 1) -> np.ndarray:
    """``out`` as float32 probabilities along ``axis``: kept when it already is one (every
    value in [0, 1], sums 1), else read as logits (softmax)."""
    out = np.asarray(out, dtype=np.float32)
    if out.shape[axis] != classes:
        raise ModelOutputError(
            f"The model gives {out.shape[axis]} scores per prediction (output shape "
            f"{tuple(out.shape)}) but its signature names {classes} classes; register it "
            "with the classes in its output order."
        )
    probabilities = out.size and out.min() >= 0.0 and out.max() <= 1.0
    if probabilities and np.allclose(out.sum(axis=axis), 1.0, atol=1e-3):
        return out
    return _softmax(out, axis)


class ModelRunner:
    """A loaded model and its signature: ``predict_proba(x)`` on raw pixels.

    ``x`` is pixels × bands (``pixel``), pixels × dates × bands (``series``) or
    chips × bands × h × w (``chip``), in the source's dtype; the result is probabilities
    pixels × classes, or chips × classes (chip classification), or chips × classes × h × w
    (segmentation).
    """

    def __init__(
        self, model: Any, framework: str, signature: Signature, device: str | None = None
    ) -> None:
        self.model = model
        self.framework = "tensorflow" if framework == "keras" else framework
        self.signature = signature
        self.n_classes = len(signature.classes)
        self.device = device if self.framework == "torch" else None
        if self.device is not None:
            self.model = _on_device(model, self.device)

    @classmethod
    def load(cls, version: Any, device: str | None = None) -> ModelRunner:
        """The runner of a registered :class:`ModelVersion` (its model loaded once).

        ``device`` (``"cuda"``, ``"cuda:1"``...) moves a torch model and its inputs there;
        TensorFlow places itself on a visible GPU, and scikit-learn runs on the CPU."""
        signature = Signature.of(version)
        if signature is None:
            raise ModelFormatError(
                f"Model {version.name!r} version {version.version} has no signature; register "
                "it with input='pixel', 'series' or 'chip' and classes=[...] to map with it."
            )
        return cls(version.load(), version.framework, signature, device)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of raw pixels or chips ``x`` (see the class docstring)."""
        out = self._scores(x)
        if out.ndim == 1:
            return self._one_hot(out, out.shape[0])
        return as_probabilities(out, self.n_classes, axis=1)

    def predict_classes(self, x: np.ndarray) -> np.ndarray:
        """Class indices of raw pixels or chips ``x``: pixels, chips, or chips × h × w.

        The argmax of the model's own scores (logits or probabilities alike), without
        turning them into probabilities first: the fast path for class maps.
        """
        out = self._scores(x)
        if out.ndim == 1:
            return self._indices(out)
        if out.shape[1] != self.n_classes:
            as_probabilities(out[:1], self.n_classes, axis=1)  # raises the shape error
        return out.argmax(axis=1)

    def _scores(self, x: np.ndarray) -> np.ndarray:
        """The model's raw output on preprocessed ``x``, its shape checked."""
        kind = self.signature.input
        band_axis = {"pixel": 1, "series": 2, "chip": 1}[kind]
        if self.signature.preprocess is not None:
            x = self.signature.preprocess.apply(x, band_axis)
        else:
            x = np.asarray(x, dtype=np.float32)
        if kind == "series" and self.framework == "sklearn":
            x = x.reshape(len(x), -1)  # dates major, bands minor
        out = self._call(np.ascontiguousarray(x))
        if out.ndim == 1 or out.ndim == 2 or (kind == "chip" and out.ndim == 4):
            return out
        raise ModelOutputError(
            f"The model gives outputs shaped {tuple(out.shape)} for input shaped "
            f"{tuple(x.shape)}; a {kind} model must give one label or one score per class "
            "for each input" + (" (or classes × h × w per chip)." if kind == "chip" else ".")
        )

    def _call(self, x: np.ndarray) -> np.ndarray:
        if self.framework == "torch":
            import torch

            with torch.inference_mode():
                tensor = torch.from_numpy(x)
                if self.device is not None:
                    tensor = tensor.to(self.device, non_blocking=True)
                out = self.model(tensor)
            return out.cpu().numpy()
        if self.framework == "tensorflow":
            return np.asarray(self.model(x, training=False))
        if self.framework == "sklearn":
            names = getattr(self.model, "feature_names_in_", None)
            if names is not None:  # fitted on a DataFrame: give it its column names back
                import pandas as pd

                x = pd.DataFrame(x, columns=names)  # type: ignore[assignment]
            if hasattr(self.model, "predict_proba"):
                return self._sklearn_columns(np.asarray(self.model.predict_proba(x)))
            return np.asarray(self.model.predict(x))
        raise ModelFormatError(f"No runner for framework {self.framework!r}.")

    def _sklearn_columns(self, proba: np.ndarray) -> np.ndarray:
        """Scatter predict_proba's columns (the estimator's classes_) onto the signature's."""
        labels = getattr(self.model, "classes_", None)
        if labels is None or len(labels) == self.n_classes:
            return proba
        out = np.zeros((len(proba), self.n_classes), dtype=np.float32)
        out[:, self._indices(np.asarray(labels))] = proba
        return out

    def _indices(self, labels: np.ndarray) -> np.ndarray:
        """Class indices of labels that are class names or integer indices."""
        names = {name: i for i, name in enumerate(self.signature.classes)}
        integers = labels.dtype.kind in "iu" and labels.size
        if integers and labels.min() >= 0 and labels.max() < self.n_classes:
            return labels.astype(np.int64)
        found = [names.get(str(v)) for v in labels.tolist()]
        missing = sorted({str(v) for v, i in zip(labels.tolist(), found, strict=True) if i is None})
        if missing:
            raise ModelOutputError(
                f"The model predicts labels {missing[:5]} that are not among its signature's "
                f"classes {list(self.signature.classes)}; register the classes it predicts."
            )
        return np.asarray(found, dtype=np.int64)

    def _one_hot(self, labels: np.ndarray, n: int) -> np.ndarray:
        out = np.zeros((n, self.n_classes), dtype=np.float32)
        out[np.arange(n), self._indices(labels)] = 1.0
        return out


def _on_device(model: Any, device: str) -> Any:
    """A torch model moved to ``device``, or one clear sentence when it cannot go there."""
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelFormatError(
            f"The model was asked to run on {device!r}, but this torch ({torch.__version__}) "
            "sees no CUDA device; install a CUDA build of torch or leave num_gpus unset."
        )
    return model.to(device)
