"""Predicting with a loaded model: one small adapter per framework, a batch array in,
predictions (and scores) out; used by serving, monitoring and analysis.

The adapters also say what an instance must look like (:class:`InputSpec`), from the input
example registered with the model or from the model itself (scikit-learn's
``n_features_in_`` / ``feature_names_in_``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eo_ray.models._inputs import InputSpec, stack_instances


class Predictor:
    """Predict a batch; ``predict`` returns ``(predictions, scores or None)`` as lists."""

    def __init__(self, model: Any, signature: dict[str, Any] | None) -> None:
        self.model = model
        self.spec = self._spec(signature)

    def _spec(self, signature: dict[str, Any] | None) -> InputSpec:
        if signature and signature.get("shape") is not None:
            return InputSpec(shape=tuple(signature["shape"]), dtype=signature["dtype"])
        return InputSpec()

    def inputs(self, instances: list[Any] | np.ndarray) -> np.ndarray:
        """``instances`` stacked into the batch array the model takes (InputError if they do
        not fit its :class:`InputSpec`)."""
        return stack_instances(instances, self.spec)

    def predict(self, x: np.ndarray) -> tuple[list[Any], list[Any] | None]:
        """Predictions (and per-class scores, or None) of the batch ``x``, as lists."""
        raise NotImplementedError


def _from_outputs(out: np.ndarray) -> tuple[list[Any], list[Any] | None]:
    """Class indices for multi-column outputs (scores kept), plain values otherwise."""
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1).tolist(), out.round(6).tolist()
    return out.reshape(len(out), -1)[:, 0].tolist() if out.ndim > 1 else out.tolist(), None


class TorchPredictor(Predictor):
    def predict(self, x: np.ndarray) -> tuple[list[Any], list[Any] | None]:
        import torch

        with torch.inference_mode():
            out = self.model(torch.from_numpy(np.ascontiguousarray(x)))
        return _from_outputs(out.numpy())


class KerasPredictor(Predictor):
    def predict(self, x: np.ndarray) -> tuple[list[Any], list[Any] | None]:
        return _from_outputs(np.asarray(self.model(x, training=False)))


class SklearnPredictor(Predictor):
    def _spec(self, signature: dict[str, Any] | None) -> InputSpec:
        names = getattr(self.model, "feature_names_in_", None)
        n = getattr(self.model, "n_features_in_", None)
        if names is not None:
            return InputSpec(
                shape=(len(names),), dtype="float64", feature_names=tuple(map(str, names))
            )
        if signature and signature.get("shape") is not None:
            return InputSpec(shape=tuple(signature["shape"]), dtype=signature["dtype"])
        return InputSpec(shape=None if n is None else (int(n),), dtype="float64")

    def predict(self, x: np.ndarray) -> tuple[list[Any], list[Any] | None]:
        if self.spec.feature_names is not None:
            import pandas as pd

            x = pd.DataFrame(x, columns=list(self.spec.feature_names))
        predictions = np.asarray(self.model.predict(x)).tolist()
        scores = None
        if hasattr(self.model, "predict_proba"):
            scores = np.asarray(self.model.predict_proba(x)).round(6).tolist()
        return predictions, scores


PREDICTORS: dict[str, type[Predictor]] = {
    "torch": TorchPredictor,
    "tensorflow": KerasPredictor,
    "keras": KerasPredictor,
    "sklearn": SklearnPredictor,
}


def predictor_for(framework: str, model: Any, signature: dict[str, Any] | None) -> Predictor:
    """The adapter of ``framework`` around a loaded model."""
    return PREDICTORS[framework](model, signature)
