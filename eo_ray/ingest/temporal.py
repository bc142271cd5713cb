"""Temporal preprocessing of image time series: gap filling, composites, spectral indices.

Array level (numpy, vectorised over pixels; the dates axis comes FIRST, any trailing
shape): :func:`time_grid`, :func:`interpolate`, :func:`composite`, :func:`spectral_index_values`.
Dataset level, for cubes from :func:`eo_ray.ingest.read_cube` (rows with ``image`` dates ×
bands × h × w, ``times`` and ``valid`` dates × h × w), applied with ``map_batches``:
:func:`interpolate_cube` (exported as ``eo.ingest.interpolate``) and
:func:`composite_cube` (``eo.ingest.composite``); ``eo.ingest.spectral_index`` computes an
index per date on cubes as it does on chips.

``every`` names a regular period: ``"16D"`` (days), ``"2W"`` (weeks), both counted from
the start, or ``"1MS"`` / ``"1YS"`` (calendar months / years, starting on the 1st).
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from eo_ray.ingest.errors import InvalidOptionError, invalid
from eo_ray.ingest.preprocess import INDICES, set_images

if TYPE_CHECKING:
    import ray.data

HOW = ("median", "mean", "max")
_EVERY = re.compile(r"^(\d*)\s*(D|W|MS|YS)$", re.IGNORECASE)
_DAY = np.timedelta64(1, "D")
# Band names that are common names in themselves, and Sentinel-2's (unambiguous) names.
_S2_COMMON = {
    "B01": "coastal",
    "B02": "blue",
    "B03": "green",
    "B04": "red",
    "B08": "nir",
    "B8A": "nir08",
    "B11": "swir16",
    "B12": "swir22",
}


def _period(every: str, owner: str) -> tuple[int, str]:
    found = _EVERY.match(str(every).strip()) if isinstance(every, str) else None
    if found is None or found[1] == "0":
        raise invalid("every", owner, "a period like '16D', '2W', '1MS' or '1YS'", every)
    return int(found[1] or 1), found[2].upper()


def _day(value: Any, name: str, owner: str) -> np.datetime64:
    try:
        return np.datetime64(np.datetime64(value, "D"), "D")
    except (TypeError, ValueError):
        raise invalid(name, owner, "a date (e.g. '2020-05-01' or a datetime64)", value) from None


def _starts(first: np.datetime64, last: np.datetime64, every: str, owner: str) -> np.ndarray:
    """Period starts from ``first`` (floored to the month / year for MS / YS) to ``last``."""
    step, unit = _period(every, owner)
    if unit in ("D", "W"):
        days = step * (7 if unit == "W" else 1)
        count = int((last - first) // (days * _DAY)) + 1
        return first + np.arange(count) * days * _DAY
    coarse = "M" if unit == "MS" else "Y"
    lo, hi = first.astype(f"datetime64[{coarse}]"), last.astype(f"datetime64[{coarse}]")
    return np.arange(lo, hi + 1, step).astype("datetime64[D]")


def time_grid(start: Any, end: Any, every: str) -> np.ndarray:
    """Regular dates (``datetime64[D]``) from ``start`` to ``end`` (both included) every
    ``every``; month and year grids hold the 1sts that fall in the range."""
    first, last = _day(start, "start", "time_grid"), _day(end, "end", "time_grid")
    if last < first:
        raise invalid("end", "time_grid", f"on or after start ({first})", str(last))
    grid = _starts(first, last, every, "time_grid")
    return grid[(grid >= first) & (grid <= last)]


def _times(times: Any, count: int, owner: str) -> np.ndarray:
    """``times`` as float days since the epoch; refuses unsorted or misshapen ones."""
    try:
        stamps = np.asarray(times, dtype="datetime64[s]")
    except (TypeError, ValueError):
        raise invalid("times", owner, "dates (datetime64 or ISO strings)", times) from None
    if stamps.ndim != 1 or len(stamps) != count:
        raise invalid("times", owner, f"{count} dates, one per entry of values", stamps.shape)
    if np.isnat(stamps).any():
        raise invalid("times", owner, "dates without NaT", "a NaT")
    back = np.flatnonzero(np.diff(stamps) < np.timedelta64(0, "s"))
    if back.size:
        k = int(back[0]) + 1
        raise invalid(
            "times",
            owner,
            "ascending (oldest first; sort values, times and valid together)",
            f"{stamps[k]} after {stamps[k - 1]} at index {k}",
        )
    return stamps.astype(np.int64) / 86400.0


def _flat(values: Any, valid: Any, owner: str) -> tuple[np.ndarray, np.ndarray, tuple]:
    """values as float (T, N) and valid (T, N) (broadcast; NaN values count as invalid)."""
    array = np.asarray(values)
    if array.ndim < 1 or array.shape[0] == 0:
        raise invalid("values", owner, "an array with a dates axis first", array.shape)
    data = array.astype(np.float64 if array.dtype == np.float64 else np.float32, copy=False)
    mask = np.ones(array.shape, bool) if valid is None else np.asarray(valid, dtype=bool)
    if mask.ndim < array.ndim and mask.shape == array.shape[: mask.ndim]:
        mask = mask.reshape(mask.shape + (1,) * (array.ndim - mask.ndim))  # e.g. one per date
    try:
        mask = np.broadcast_to(mask, array.shape)
    except ValueError:
        expected = f"booleans broadcastable to {array.shape}"
        raise invalid("valid", owner, expected, mask.shape) from None
    flat = data.reshape(array.shape[0], -1)
    return flat, mask.reshape(flat.shape) & ~np.isnan(flat), array.shape[1:]


def interpolate(values: Any, times: Any, valid: Any, grid: Any) -> np.ndarray:
    """Values resampled onto the dates of ``grid``, linear in time over valid observations.

    ``values`` is (T, ...) with T dates first, ``times`` the T dates ascending, ``valid``
    booleans broadcastable to ``values`` (None: all valid; NaN values never count).
    Before the first / after the last valid observation of a pixel its nearest valid value
    is repeated; a pixel with no valid observation is NaN. Returns float32 (G, ...).
    """
    flat, ok, tail = _flat(values, valid, "interpolate")
    t = _times(times, flat.shape[0], "interpolate")
    g = _times(grid, len(np.asarray(grid)), "interpolate")
    count = flat.shape[0]
    index = np.arange(count)[:, None]
    last_valid = np.maximum.accumulate(np.where(ok, index, -1), axis=0)  # at or before
    next_valid = np.minimum.accumulate(np.where(ok, index, count)[::-1], axis=0)[::-1]
    before = np.searchsorted(t, g, side="right") - 1  # last observation at or before
    after = np.searchsorted(t, g, side="left")  # first observation at or after
    prev = np.where((before >= 0)[:, None], last_valid[np.clip(before, 0, None)], -1)
    nxt = np.where((after < count)[:, None], next_valid[np.clip(after, None, count - 1)], count)
    has_prev, has_next = prev >= 0, nxt < count
    v_prev = np.take_along_axis(flat, np.clip(prev, 0, count - 1), axis=0)
    v_next = np.take_along_axis(flat, np.clip(nxt, 0, count - 1), axis=0)
    t_prev, t_next = t[np.clip(prev, 0, count - 1)], t[np.clip(nxt, 0, count - 1)]
    span = t_next - t_prev
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(span > 0, (g[:, None] - t_prev) / np.where(span > 0, span, 1), 0.0)
    both = v_prev + weight * (v_next - v_prev)
    out = np.where(has_prev & has_next, both, np.where(has_prev, v_prev, v_next))
    out = np.where(has_prev | has_next, out, np.nan)
    return out.astype(np.float32).reshape((len(g), *tail))


def composite(
    values: Any,
    times: Any,
    valid: Any,
    every: str,
    how: Literal["median", "mean", "max"] = "median",
    *,
    start: Any = None,
    end: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-period composites of the valid observations: (float32 (P, ...), period starts).

    Periods of ``every`` run from ``start`` (default: the first date, floored to the month
    or year for ``MS``/``YS``) to ``end`` (default: the last date); a period without a
    valid observation of a pixel is NaN there. Give ``start``/``end`` to get the same
    periods for several series.
    """
    if how not in HOW:
        raise invalid("how", "composite", f"one of {HOW}", how)
    flat, ok, tail = _flat(values, valid, "composite")
    t = _times(times, flat.shape[0], "composite")
    days = np.floor(t).astype("datetime64[D]")
    first = days[0] if start is None else _day(start, "start", "composite")
    last = days[-1] if end is None else _day(end, "end", "composite")
    if last < first:
        raise invalid("end", "composite", f"on or after start ({first})", str(last))
    starts = _starts(first, last, every, "composite")
    period = np.searchsorted(starts, days, side="right") - 1
    inside = (days >= first) & (days <= last)
    masked = np.where(ok, flat, np.nan)
    reduce = {"median": np.nanmedian, "mean": np.nanmean, "max": np.nanmax}[how]
    out = np.full((len(starts), flat.shape[1]), np.nan, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels stay NaN
        for p in np.unique(period[inside]).tolist():
            out[p] = reduce(masked[inside & (period == p)], axis=0)
    return out.reshape((len(starts), *tail)), starts


# -- spectral indices --------------------------------------------------------------------
_OPS = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}


def _evaluate(node: ast.AST, bands: Mapping[str, np.ndarray], formula: str) -> Any:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, bands, formula)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _evaluate(node.left, bands, formula), _evaluate(node.right, bands, formula)
        return _OPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand, bands, formula)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return np.float32(node.value)
    if isinstance(node, ast.Name) and node.id in bands:
        return bands[node.id]
    if isinstance(node, ast.Name):
        raise InvalidOptionError(
            f"The formula {formula!r} names {node.id!r}, which is not a band ({list(bands)})."
        )
    raise InvalidOptionError(
        f"The formula {formula!r} may only use band names, numbers, + - * / ** and brackets."
    )


def _band_for(common: str, bands: Sequence[str], common_names: Mapping[str, str]) -> str:
    if common in common_names:
        return common_names[common]
    for band in bands:
        if band.lower() == common or _S2_COMMON.get(band.upper()) == common:
            return band
    raise InvalidOptionError(
        f"The index needs the {common} band, which none of {list(bands)} is; pass "
        f"common_names={{'{common}': BAND}} or a formula such as '(B5 - B4) / (B5 + B4)'."
    )


def spectral_index_values(
    values: Any,
    bands: Sequence[str],
    name_or_formula: str,
    *,
    band_axis: int = 1,
    common_names: Mapping[str, str] | None = None,
) -> np.ndarray:
    """A spectral index per date: float32 ``values`` without its band axis.

    ``name_or_formula`` is an index of :data:`eo_ray.ingest.INDICES` (``"NDVI"``, ...,
    bands found by common name: a band named ``red``, Sentinel-2's ``B04``, or
    ``common_names={"red": "B4"}``) or a formula over band names (``"(B8 - B4) / (B8 + B4)"``).
    Non-finite results (division by zero) are NaN.
    """
    array = np.asarray(values)
    names = [str(b) for b in bands]
    axis = band_axis % array.ndim if array.ndim else 0
    if array.ndim < 2 or array.shape[axis] != len(names):
        raise invalid(
            "bands", "spectral_index_values", f"one name per entry of axis {band_axis}", names
        )
    key = str(name_or_formula).upper()
    if key in INDICES:
        a, b = (_band_for(c, names, common_names or {}) for c in INDICES[key])
        formula = f"({a} - {b}) / ({a} + {b})"
        if not (a.isidentifier() and b.isidentifier()):
            raise invalid("bands", "spectral_index_values", "names that are identifiers", names)
    else:
        formula = str(name_or_formula)
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError:
        raise invalid(
            "name_or_formula",
            "spectral_index_values",
            f"one of {sorted(INDICES)} or a formula",
            formula,
        ) from None
    planes = {n: np.take(array, i, axis=axis).astype(np.float32) for i, n in enumerate(names)}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        result = np.asarray(_evaluate(tree, planes, formula), dtype=np.float32)
    return np.where(np.isfinite(result), result, np.float32(np.nan))


# -- Dataset level: cubes of read_cube --------------------------------------------------
class _CubeTransform:
    """A per-chip temporal transform of cube batches (numpy ``map_batches``)."""

    owner = "cube transform"

    def __init__(self, every: str, start: Any = None, end: Any = None) -> None:
        _period(every, self.owner)
        self.every = every
        self.start = None if start is None else _day(start, "start", self.owner)
        self.end = None if end is None else _day(end, "end", self.owner)

    def apply(
        self, image: np.ndarray, times: np.ndarray, valid: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        from eo_ray.ingest._blocks import arrow_friendly

        images, stamps, masks = [], [], []
        for image, times, valid in zip(batch["image"], batch["times"], batch["valid"], strict=True):
            values, dates = self.apply(np.asarray(image), np.asarray(times), np.asarray(valid))
            images.append(values)
            stamps.append(dates.astype("datetime64[s]"))
            masks.append(~np.isnan(values).all(axis=1))
        set_images(batch, images, "image")
        set_images(batch, stamps, "times")
        set_images(batch, masks, "valid")
        return arrow_friendly(batch)


class Interpolate(_CubeTransform):
    """Gap-fill each chip's series onto a regular grid of ``every`` (see :func:`interpolate`)."""

    owner = "interpolate"

    def apply(
        self, image: np.ndarray, times: np.ndarray, valid: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        first = self.start if self.start is not None else times[0]
        last = self.end if self.end is not None else times[-1]
        grid = time_grid(first, last, self.every)
        return interpolate(image, times, valid[:, None], grid), grid


class Composite(_CubeTransform):
    """Per-period composites of each chip's series (see :func:`composite`)."""

    owner = "composite"

    def __init__(self, every: str, how: str = "median", start: Any = None, end: Any = None) -> None:
        if how not in HOW:
            raise invalid("how", "composite", f"one of {HOW}", how)
        super().__init__(every, start, end)
        self.how = how

    def apply(
        self, image: np.ndarray, times: np.ndarray, valid: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return composite(
            image, times, valid[:, None], self.every, self.how,  # type: ignore[arg-type]
            start=self.start, end=self.end,
        )  # fmt: skip


def interpolate_cube(
    ds: ray.data.Dataset, every: str, *, start: Any = None, end: Any = None
) -> ray.data.Dataset:
    """Cube chips gap-filled by linear interpolation onto dates every ``every``.

    ``image`` becomes float32 on the grid from ``start`` to ``end`` (default: each chip's
    first and last date; give both for the same grid in every chip), ``times`` the grid
    and ``valid`` the pixels that had a valid observation.
    """
    return ds.map_batches(Interpolate(every, start, end), batch_format="numpy")


def composite_cube(
    ds: ray.data.Dataset,
    every: str,
    how: Literal["median", "mean", "max"] = "median",
    *,
    start: Any = None,
    end: Any = None,
) -> ray.data.Dataset:
    """Cube chips composited per period of ``every`` (``how``: median, mean or max of the
    valid observations); ``times`` become the period starts."""
    return ds.map_batches(Composite(every, how, start, end), batch_format="numpy")
