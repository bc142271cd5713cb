"""Inference on windows: the callable class Ray Data runs on an actor pool.

Each actor loads the model once. A batch is a block of windows read by the ingest
datasource (bands × h × w each); windows with no valid pixel never reach the model. Pixel
models see only the valid pixels of a window; chip models see whole windows, and their
output is masked where the source has no data afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from eo_ray.models import ModelRunner, ModelVersion


@dataclass(frozen=True)
class InferSettings:
    """What every actor needs (small and picklable)."""

    model: dict[str, Any]  # the ModelVersion record, with its workspace root
    nodata: dict[str, float | None]  # item id -> the nodata value pixels are checked against
    class_dtype: str  # "uint8" or "uint16"
    class_nodata: int
    send_classes: bool  # class indices per pixel (overlap 0, class output)
    send_proba: bool  # probabilities per pixel (blending, or probability output)
    batch_size: int  # pixels (pixel models) or windows (chip models) per model call


def valid_pixels(images: np.ndarray, nodata: float | None) -> np.ndarray:
    """Pixels (windows × h × w) where at least one band holds data (GDAL's mask rule)."""
    if nodata is None or (isinstance(nodata, float) and math.isnan(nodata)):
        if images.dtype.kind != "f":
            return np.ones((images.shape[0], *images.shape[2:]), dtype=bool)
        return ~np.isnan(images).all(axis=1)
    if images.dtype.kind in "iu":
        info = np.iinfo(images.dtype)
        if not float(nodata).is_integer() or not info.min <= nodata <= info.max:
            return np.ones((images.shape[0], *images.shape[2:]), dtype=bool)
    return (images != images.dtype.type(nodata)).any(axis=1)


class WindowPredictor:
    """``__call__(batch)``: windows in, class indices and/or probabilities out."""

    def __init__(self, settings: InferSettings) -> None:
        record = dict(settings.model)
        root = record.pop("root")
        self.runner = ModelRunner.load(ModelVersion(**record, root=root))
        self.settings = settings
        self.n_classes = self.runner.n_classes

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        images = batch["image"]
        n, _, h, w = images.shape
        valid = np.empty((n, h, w), dtype=bool)
        for item in np.unique(batch["item_id"]):
            rows = batch["item_id"] == item
            valid[rows] = valid_pixels(images[rows], self.settings.nodata.get(str(item)))
        skipped = ~valid.reshape(n, -1).any(axis=1)
        settings = self.settings
        classes = proba = None
        if settings.send_classes:
            classes = np.full((n, h, w), settings.class_nodata, dtype=settings.class_dtype)
        if settings.send_proba:
            proba = np.full((n, self.n_classes, h, w), np.nan, dtype=np.float32)
        for chunk in self._chunks(np.flatnonzero(~skipped)):
            p = self._predict(images[chunk], valid[chunk])
            if classes is not None:
                best = np.nan_to_num(p, nan=-1.0).argmax(axis=1)
                classes[chunk] = np.where(valid[chunk], best, settings.class_nodata)
            if proba is not None:
                proba[chunk] = p
        out = {k: batch[k] for k in ("item_id", "row_off", "col_off", "height", "width")}
        out["skipped"] = skipped
        if classes is not None:
            out["classes"] = classes
        if proba is not None:
            out["proba"] = proba
        return out

    def _chunks(self, windows: np.ndarray) -> list[np.ndarray]:
        """Windows per model call: one at a time for pixel models (their pixels are batched),
        ``batch_size`` at a time for chip models."""
        step = self.settings.batch_size if self.runner.signature.input == "chip" else 1
        return [windows[i : i + step] for i in range(0, windows.size, step)]

    def _predict(self, images: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Probabilities (windows × classes × h × w) of ``images``; NaN where not valid."""
        n, bands, h, w = images.shape
        if self.runner.signature.input == "chip":
            out = self.runner.predict_proba(images)
            if out.ndim == 2:  # one class per chip, painted over its window
                out = np.broadcast_to(out[:, :, None, None], (n, self.n_classes, h, w))
            return np.where(valid[:, None], out, np.float32(np.nan))
        proba = np.full((n, self.n_classes, h * w), np.nan, dtype=np.float32)
        step = self.settings.batch_size
        for k in range(n):
            pixels = images[k].reshape(bands, -1).T  # pixels × bands
            where = np.flatnonzero(valid[k].ravel())
            for start in range(0, where.size, step):
                index = where[start : start + step]
                proba[k][:, index] = self.runner.predict_proba(pixels[index]).T
        return proba.reshape(n, self.n_classes, h, w)


def bound_predictor(settings: InferSettings) -> type[WindowPredictor]:
    """A WindowPredictor class with ``settings`` bound in, so Ray Data starts its actors
    without constructor arguments in the object store (which a restarted actor could lose)."""

    class BoundWindowPredictor(WindowPredictor):
        def __init__(self) -> None:
            super().__init__(settings)

    return BoundWindowPredictor
