"""Many chip windows of one item read with few GDAL calls: row strips sliced by numpy.

Grid chips of one row share their rows of pixels. Instead of one GDAL read per window and
band, the windows of a row are merged into runs (their union window), each run is read once
per file, and the chips are copied out of the strip. Nodata counts come from one validity
mask per strip (prefix sums along columns), so the cost per chip is one array copy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from eo_ray.ingest._windows import Window, overlap

MAX_STRIP_BYTES = 64 * 2**20  # a run never holds more than this (wide scenes are split)
SMALL_CHIP_BYTES = 256 * 2**10  # below this a GDAL call costs more than a copy
Spec = tuple[int, int, int, int, int]  # row, col, height, width, sample index


def plan_runs(
    windows: Sequence[Spec], max_cols: int, merge: bool = True, gaps: bool = True
) -> list[tuple[Window, list[int]]]:
    """Group windows into runs: (union window, member indexes), in first-window order.

    Windows with the same row offset and height whose columns overlap are merged, up to
    ``max_cols`` columns; with ``gaps`` also windows that touch or leave a gap of at most
    one window width (small chips: fewer GDAL calls for one extra copy).
    ``merge=False`` gives one run per window.
    """
    groups: dict[tuple[int, int], list[int]] = {}
    for n, (row, _, height, _, _) in enumerate(windows):
        groups.setdefault((row, height) if merge else (n, n), []).append(n)
    runs = []
    for (_, _), members in groups.items():
        members = sorted(members, key=lambda m: windows[m][1])
        start = end = None
        current: list[int] = []
        for m in members:
            col, width = windows[m][1], windows[m][3]
            near = bool(current) and (col <= end + width if gaps else col < end)
            if near and max(end, col + width) - start <= max_cols:
                end = max(end, col + width)
                current.append(m)
                continue
            if current:
                runs.append((current, start, end))
            current, start, end = [m], col, col + width
        runs.append((current, start, end))
    out = []
    for members, start, end in runs:
        row, _, height, _, _ = windows[members[0]]
        out.append((Window(row, start, height, end - start), members))
    return sorted(out, key=lambda run: min(run[1]))


def valid_mask(data: np.ndarray, nodata: float | None) -> np.ndarray | None:
    """Pixels where at least one band holds data; None when every pixel does.

    Compares in the pixels' own dtype (a float ``nodata`` against integer pixels would
    cast every pixel to float64 first, five times slower), and tells an all-valid read
    from its first band alone: a pixel whose first band holds data is valid.
    """
    if nodata is None or math.isnan(nodata):
        if data.dtype.kind != "f":
            return None
        missing = np.isnan(data[0])
        if not missing.any():
            return None
        for band in data[1:]:
            missing &= np.isnan(band)
        return ~missing
    value = _in_dtype(nodata, data.dtype)
    if value is None:  # no pixel of this dtype can equal nodata
        return None
    valid = data[0] != value
    if valid.all():
        return None
    for band in data[1:]:
        valid |= band != value
    return valid


def _in_dtype(nodata: float, dtype: np.dtype) -> Any:
    """``nodata`` as a scalar of ``dtype``, or None when no value of ``dtype`` equals it."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not float(nodata).is_integer() or not info.min <= nodata <= info.max:
            return None
        return dtype.type(int(nodata))
    if dtype.kind == "f":
        return dtype.type(nodata)
    return nodata


def _positions(positions: list[int]) -> slice | list[int]:
    """Contiguous chip bands as a slice (a view), else a list (fancy indexing)."""
    if positions == list(range(positions[0], positions[0] + len(positions))):
        return slice(positions[0], positions[0] + len(positions))
    return positions


def read_span(
    plan: Any, span: Window, sources: Sequence[Any], out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Pixels of ``span`` on the item grid (nodata beyond the raster) and their validity
    (None when every pixel holds data).

    ``out`` (bands x height x width of ``plan.dtype``) receives the pixels when given.
    """
    from rasterio.windows import Window as RioWindow

    shape = (len(plan.band_names), span.height, span.width)
    part = overlap(span, plan.height, plan.width)
    fill = plan.nodata if plan.nodata is not None else 0
    strip = np.empty(shape, dtype=plan.dtype) if out is None else out
    if part is None or part != span:
        strip.fill(fill)
    if part is None:
        return strip, np.zeros(shape[1:], dtype=bool)
    r0, c0 = part.row_off - span.row_off, part.col_off - span.col_off
    rows, cols = slice(r0, r0 + part.height), slice(c0, c0 + part.width)
    window = RioWindow(part.col_off, part.row_off, part.width, part.height)
    all_valid, mask = False, None
    for read, source in zip(plan.reads, sources, strict=True):
        target = strip[_positions(read.positions), rows, cols]
        file_dtype = np.dtype(source.reader.dtypes[read.indexes[0] - 1])
        if target.flags.c_contiguous and target.dtype == file_dtype:
            data = source.reader.read(read.indexes, window=window, out=target)
        else:
            data = source.reader.read(read.indexes, window=window)
            strip[_positions(read.positions), rows, cols] = data
        if all_valid:
            continue
        band_valid = valid_mask(data, read.nodata)
        if band_valid is None:
            all_valid = True
        else:
            mask = band_valid if mask is None else mask | band_valid
    if all_valid:
        mask = None
    if part == span:
        return strip, mask
    valid = np.zeros(shape[1:], dtype=bool)  # pixels beyond the raster are nodata
    valid[rows, cols] = True if mask is None else mask
    return strip, valid


def read_resized(
    plan: Any, spec: Spec, sources: Sequence[Any], resampling: Any
) -> tuple[np.ndarray, np.ndarray]:
    """A whole window resampled to ``plan.out_shape`` (``fit="resize"``) and its validity."""
    from rasterio.windows import Window as RioWindow

    out_h, out_w = plan.out_shape
    image = np.empty((len(plan.band_names), out_h, out_w), dtype=plan.dtype)
    window = RioWindow(spec[1], spec[0], spec[3], spec[2])
    all_valid, mask = False, None
    for read, source in zip(plan.reads, sources, strict=True):
        shape = (len(read.indexes), out_h, out_w)
        data = source.reader.read(
            read.indexes, window=window, out_shape=shape, resampling=resampling
        )
        image[_positions(read.positions)] = data
        band_valid = None if all_valid else valid_mask(data, read.nodata)
        if band_valid is None:
            all_valid = True
        elif not all_valid:
            mask = band_valid if mask is None else mask | band_valid
    valid = np.ones((out_h, out_w), bool) if all_valid or mask is None else mask
    return image, valid


def good_counts(
    valid: np.ndarray | None, offsets: np.ndarray, widths: np.ndarray, height: int
) -> np.ndarray:
    """Valid pixels of the windows ``[offset, offset + width)`` of a strip ``height``
    rows high (``valid`` None: every pixel holds data)."""
    if valid is None:
        return widths * height
    prefix = np.zeros(valid.shape[1] + 1, dtype=np.int64)
    # per-column counts summed as bytes: 4x faster than a sum of booleans into int64
    wide = np.uint16 if valid.shape[0] <= np.iinfo(np.uint16).max else np.int64
    columns = np.add.reduce(valid.view(np.uint8), axis=0, dtype=wide)
    np.cumsum(columns, dtype=np.int64, out=prefix[1:])
    return prefix[offsets + widths] - prefix[offsets]


def valid_count(valid: np.ndarray | None, shape: tuple[int, int]) -> int:
    """Valid pixels of one window of ``shape`` (``valid`` None: all of them)."""
    return shape[0] * shape[1] if valid is None else int(np.count_nonzero(valid))
