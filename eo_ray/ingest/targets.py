"""Shape features of the bright target at the centre of a SAR chip: a ship, an iceberg, a rig.

A chip cut around a detection holds one bright target on darker sea. Its size, elongation
and the way its backscatter is spread along its length tell ship types apart better than
whole-chip statistics do (tankers: one long, even deck; cargo ships: bright stacks along
the hull). :class:`TargetShape` finds that target and measures it, per chip, as a Ray Data
``map_batches`` transform; :func:`target_shape` applies it to a Dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from eo_ray.ingest._blocks import arrow_friendly
from eo_ray.ingest.errors import invalid
from eo_ray.ingest.preprocess import Batch, images

if TYPE_CHECKING:
    import ray.data

# The scalar measures, in column order (each column is ``target_<name>``).
GEOMETRY = ("length", "width", "area", "aspect", "fill", "spread_major", "spread_minor", "peak_db")


class TargetShape:
    """Geometry and backscatter profiles of the bright target nearest each chip's centre.

    Chips are linear power; pixels at 0 (padding, nodata) lie outside the chip. In the band
    ``band``, in dB above the chip's median (the sea), the target is the connected set of
    smoothed pixels at least ``threshold_db`` above it (or half the way to the chip's 99.5th
    percentile when that is higher), the largest near the centre. Its axes are those of its
    power-weighted second moments. Adds, in pixels and dB:

    - ``target_length``, ``target_width``: extent along and across the major axis;
      ``target_area`` (pixels), ``target_aspect`` (length / width), ``target_fill``
      (area / (length x width)), ``target_spread_major``/``_minor`` (weighted 1-sigma) and
      ``target_peak_db`` (the chip's peak above its median);
    - ``target_profile``: ``profile_bins`` samples along the major axis from end to end,
      brighter half first (so a ship's heading does not matter);
    - ``target_radial``: the mean in ``rings`` rings of the chip's footprint, centre out.

    A chip without such a target gets NaN.
    """

    def __init__(
        self,
        band: int = 0,
        *,
        threshold_db: float = 6.0,
        profile_bins: int = 12,
        rings: int = 6,
    ) -> None:
        if not isinstance(band, int) or band < 0:
            raise invalid("band", "TargetShape", "a band index (0 or more)", band)
        if not threshold_db > 0:
            raise invalid("threshold_db", "TargetShape", "a positive number of dB", threshold_db)
        for name, value in (("profile_bins", profile_bins), ("rings", rings)):
            if not isinstance(value, int) or value < 2:
                raise invalid(name, "TargetShape", "an integer of 2 or more", value)
        self.band, self.threshold_db = band, float(threshold_db)
        self.profile_bins, self.rings = profile_bins, rings

    def __call__(self, batch: Batch) -> Batch:
        rows = [self.measure(image[self.band]) for image in images(batch)]
        for k, name in enumerate(GEOMETRY):
            batch[f"target_{name}"] = np.array([row[0][k] for row in rows], dtype=np.float64)
        for k, (name, width) in enumerate((("profile", self.profile_bins), ("radial", self.rings))):
            values = np.array([row[k + 1] for row in rows], dtype=np.float32)
            batch[f"target_{name}"] = values.reshape(len(rows), width)  # (0, width) when empty
        return arrow_friendly(batch)

    def measure(self, power: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Geometry (in :data:`GEOMETRY` order), profile and radial profile of one band."""
        db = _footprint_db(power)
        none = (
            np.full(len(GEOMETRY), np.nan),
            np.full(self.profile_bins, np.nan),
            np.full(self.rings, np.nan),
        )
        if db is None:
            return none
        sea = float(np.nanmedian(db))
        relative = np.nan_to_num(db - sea, nan=0.0)  # a nodata pixel inside counts as sea
        radial = _rings(db - sea, self.rings)
        pixels = self._target(relative, float(np.nanpercentile(db, 99.5)) - sea)
        if pixels is None:
            return none[0], none[1], radial
        ys, xs, weights = pixels
        centre = np.array([np.average(ys, weights=weights), np.average(xs, weights=weights)])
        offsets = np.stack([ys, xs]).T - centre
        if len(ys) > 2:
            variance, axes = np.linalg.eigh(np.cov(offsets.T, aweights=weights))
        else:
            variance, axes = np.zeros(2), np.eye(2)
        major, minor = axes[:, 1], axes[:, 0]
        along, across = offsets @ major, offsets @ minor
        length, width = np.ptp(along) + 1.0, np.ptp(across) + 1.0
        geometry = np.array(
            [
                length,
                width,
                float(len(ys)),
                length / width,
                len(ys) / (length * width),
                np.sqrt(max(variance[1], 0.0)),
                np.sqrt(max(variance[0], 0.0)),
                float(np.nanmax(db)) - sea,
            ]
        )
        profile = self._profile(relative, centre, major, along.min(), along.max())
        return geometry, profile, radial

    def _target(self, relative: np.ndarray, bright: float) -> tuple[np.ndarray, ...] | None:
        """Rows, columns and linear weights of the target's pixels (None: no target);
        ``bright`` is the chip's 99.5th percentile above the sea."""
        from scipy import ndimage

        smooth = ndimage.uniform_filter(relative, 3)
        threshold = max(self.threshold_db, 0.5 * bright)
        labels, count = ndimage.label(smooth > threshold)
        if count == 0:
            return None
        h, w = relative.shape
        centre = np.array([(h - 1) / 2, (w - 1) / 2])
        index = np.arange(1, count + 1)
        sizes = ndimage.sum_labels(np.ones_like(relative), labels, index)
        centroids = np.array(ndimage.center_of_mass(np.ones_like(relative), labels, index))
        distance = np.hypot(*(centroids - centre).T) / max(h, w)
        best = int(index[np.argmax(np.log(sizes) - 6.0 * distance)])
        ys, xs = np.nonzero(labels == best)
        return ys, xs, 10.0 ** (smooth[ys, xs] / 10.0)

    def _profile(
        self, relative: np.ndarray, centre: np.ndarray, axis: np.ndarray, start: float, stop: float
    ) -> np.ndarray:
        from scipy import ndimage

        steps = np.linspace(start, stop, self.profile_bins)
        points = centre[:, None] + axis[:, None] * steps[None, :]
        profile = ndimage.map_coordinates(relative, points, order=1)
        half = self.profile_bins // 2
        return profile if profile[:half].sum() >= profile[-half:].sum() else profile[::-1]


def _footprint_db(power: np.ndarray) -> np.ndarray | None:
    """The chip's footprint (its valid pixels' bounding box) in dB, NaN outside."""
    valid = np.isfinite(power) & (power > 0)
    if not valid.any():
        return None
    rows, cols = np.nonzero(valid.any(axis=1))[0], np.nonzero(valid.any(axis=0))[0]
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(valid[box], 10.0 * np.log10(power[box]), np.nan)


def _rings(relative: np.ndarray, rings: int) -> np.ndarray:
    """Mean of ``relative`` (NaN ignored) in ``rings`` equal-width rings out to the edge."""
    h, w = relative.shape
    yy, xx = np.mgrid[:h, :w]
    radius = np.hypot(yy - (h - 1) / 2, xx - (w - 1) / 2) / (max(h, w) / 2)
    ring = np.minimum((radius * rings).astype(int), rings)  # corners beyond the edge: dropped
    finite = np.isfinite(relative)
    sums = np.bincount(ring[finite], relative[finite], minlength=rings + 1)[:rings]
    counts = np.bincount(ring[finite], minlength=rings + 1)[:rings]
    return np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)


def target_shape(
    ds: ray.data.Dataset,
    band: int = 0,
    *,
    threshold_db: float = 6.0,
    profile_bins: int = 12,
    rings: int = 6,
) -> ray.data.Dataset:
    """Add the ``target_*`` shape columns of :class:`TargetShape` to a Dataset of SAR chips
    in linear power (before :func:`~eo_ray.ingest.to_decibel`)."""
    shape = TargetShape(band, threshold_db=threshold_db, profile_bins=profile_bins, rings=rings)
    return ds.map_batches(shape, batch_format="numpy")


__all__: Sequence[str] = ["GEOMETRY", "TargetShape", "target_shape"]
