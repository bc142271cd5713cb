"""A uniform view of the model under analysis: inputs from a DataFrame, labels and scores out."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from eo_ray.analysis.errors import AnalysisError


class Scorer:
    """Predicts classes (and class scores when the model gives them) for rows of a frame."""

    def __init__(self, model: Any, image: str | None, features: list[str] | None) -> None:
        self.name, self._predict, self.feature_names = _resolve(model)
        self.image = image
        self.features = features or self.feature_names

    def inputs(self, frame: pd.DataFrame) -> Any:
        if self.image is not None:
            x = np.stack([np.asarray(v, dtype=np.float32) for v in frame[self.image]])
            return x
        cols = self.features or []
        missing = [c for c in cols if c not in frame]
        if missing:
            raise AnalysisError(f"The data lacks the model's features {missing}.")
        return frame[cols]

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        preds, scores = [], []
        for start in range(0, len(frame), 1024):
            p, s = self._predict(self.inputs(frame.iloc[start : start + 1024]))
            preds.extend(p)
            scores.extend(s if s is not None else [])
        return np.asarray(preds), (np.asarray(scores, dtype=np.float64) if scores else None)


def _resolve(model: Any) -> tuple[str, Any, list[str] | None]:
    """(name, predict(x) -> (labels, scores), feature names) for a model in any accepted form."""
    from eo_ray import models

    if isinstance(model, str):
        name, _, version = model.partition(":")
        model = models.get(name, int(version) if version.isdigit() else None)
    if isinstance(model, models.ModelVersion):
        predictor = models.predictor_for(model.framework, model.load(), model.signature)
        spec = predictor.spec
        names = list(spec.feature_names) if spec.feature_names else None

        def run(x: Any) -> tuple[list, list | None]:
            arr = x.to_numpy(np.float64) if isinstance(x, pd.DataFrame) else np.asarray(x)
            if spec.shape is not None and arr.shape[1:] != tuple(spec.shape):
                arr = arr.reshape((len(arr), *spec.shape))
            return predictor.predict(arr.astype(spec.dtype))

        return f"{model.name} v{model.version}", run, names
    if hasattr(model, "predict"):
        names = getattr(model, "feature_names_in_", None)

        def run_estimator(x: Any) -> tuple[list, list | None]:
            scores = model.predict_proba(x).tolist() if hasattr(model, "predict_proba") else None
            return np.asarray(model.predict(x)).tolist(), scores

        return type(model).__name__, run_estimator, None if names is None else list(names)
    raise AnalysisError(
        "model must be a registered model (name, 'name:version' or ModelVersion) or an "
        f"estimator with predict(); got {type(model).__name__}."
    )
