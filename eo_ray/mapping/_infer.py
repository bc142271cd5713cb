"""Inference on windows: the callable class Ray Data runs on an actor pool.

Each actor loads the model once. A batch is a block of windows read by the ingest
datasource (bands × h × w each); windows with no valid pixel never reach the model. Pixel
models see only the valid pixels of a window; chip models see whole windows, and their
output is masked where the source has no data afterwards. For series models the actor
stacks the same windows of the later dates onto each window (dates × bands × h × w); a
pixel is valid when it holds data on every date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from eo_ray.mapping._series import SeriesStacker
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
    series: tuple[Any, ...] = ()  # series models: the plans of the dates after the first
    series_nodata: tuple[float | None, ...] = ()  # their nodata values
    device: str | None = None  # "cuda" when the actors hold GPUs: torch models run there


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
        self.runner = ModelRunner.load(ModelVersion(**record, root=root), settings.device)
        self.settings = settings
        self.n_classes = self.runner.n_classes
        self.stacker = SeriesStacker(settings.series) if settings.series else None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        images = batch["image"]
        n, h, w = images.shape[0], *images.shape[-2:]
        valid = np.empty((n, h, w), dtype=bool)
        for item in np.unique(batch["item_id"]):
            rows = batch["item_id"] == item
            valid[rows] = valid_pixels(images[rows], self.settings.nodata.get(str(item)))
        if self.stacker is not None:  # windows × dates × bands × h × w
            images = self.stacker.stack(batch)
            for k, nodata in enumerate(self.settings.series_nodata, start=1):
                valid &= valid_pixels(images[:, k], nodata)
        skipped = ~valid.reshape(n, -1).any(axis=1)
        settings = self.settings
        classes = proba = None
        if settings.send_classes:
            classes = np.full((n, h, w), settings.class_nodata, dtype=settings.class_dtype)
        if settings.send_proba:
            proba = np.full((n, self.n_classes, h, w), np.nan, dtype=np.float32)
        for chunk in self._chunks(np.flatnonzero(~skipped)):
            if proba is None:  # class indices only: argmax of the model's own scores
                classes[chunk] = self._classes(images[chunk], valid[chunk])  # type: ignore[index]
                continue
            p = self._predict(images[chunk], valid[chunk])
            proba[chunk] = p
            if classes is not None:
                best = np.nan_to_num(p, nan=-1.0).argmax(axis=1)
                classes[chunk] = np.where(valid[chunk], best, settings.class_nodata)
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

    def _classes(self, images: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Class indices (windows × h × w) of ``images``; nodata where not valid."""
        n, h, w = images.shape[0], *images.shape[-2:]
        nodata = self.settings.class_nodata
        dtype = self.settings.class_dtype
        if self.runner.signature.input == "chip":
            best = self.runner.predict_classes(images)
            if best.ndim == 1:  # one class per chip, painted over its window
                best = np.broadcast_to(best[:, None, None], (n, h, w))
            return np.where(valid, best, nodata).astype(dtype)
        out = np.full((n, h * w), nodata, dtype=dtype)
        step = self.settings.batch_size
        for k in range(n):
            pixels = _pixels(images[k])
            if valid[k].all():  # the common case: contiguous runs, no index arrays
                for start in range(0, h * w, step):
                    part = slice(start, start + step)
                    out[k, part] = self.runner.predict_classes(pixels[part])
                continue
            where = np.flatnonzero(valid[k].ravel())
            for start in range(0, where.size, step):
                index = where[start : start + step]
                out[k, index] = self.runner.predict_classes(pixels[index])
        return out.reshape(n, h, w)

    def _predict(self, images: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Probabilities (windows × classes × h × w) of ``images``; NaN where not valid."""
        n, h, w = images.shape[0], *images.shape[-2:]
        if self.runner.signature.input == "chip":
            out = self.runner.predict_proba(images)
            if out.ndim == 2:  # one class per chip, painted over its window
                out = np.broadcast_to(out[:, :, None, None], (n, self.n_classes, h, w))
            return np.where(valid[:, None], out, np.float32(np.nan))
        proba = np.full((n, self.n_classes, h * w), np.nan, dtype=np.float32)
        step = self.settings.batch_size
        for k in range(n):
            pixels = _pixels(images[k])
            where = np.flatnonzero(valid[k].ravel())
            for start in range(0, where.size, step):
                index = where[start : start + step]
                proba[k][:, index] = self.runner.predict_proba(pixels[index]).T
        return proba.reshape(n, self.n_classes, h, w)


def _pixels(window: np.ndarray) -> np.ndarray:
    """A window's pixels first (a view): bands × h × w to pixels × bands, or dates × bands ×
    h × w to pixels × dates × bands."""
    return np.moveaxis(window.reshape(*window.shape[:-2], -1), -1, 0)


def bound_predictor(settings: InferSettings) -> type[WindowPredictor]:
    """A WindowPredictor class with ``settings`` bound in, so Ray Data starts its actors
    without constructor arguments in the object store (which a restarted actor could lose)."""

    class BoundWindowPredictor(WindowPredictor):
        def __init__(self) -> None:
            super().__init__(settings)

    return BoundWindowPredictor
