"""Labelled samples: the values of every item at points and polygon pixels, in long form.

``sample(source, samples, label=...)`` places the samples on each grid once (items of one
time series share their grid), then reads the items in Ray tasks, a few items of one grid
per task, each file opened once and only the needed pixels read (``_sample_read``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eo_ray.ingest._gdal import GdalOptions
from eo_ray.ingest._sample_read import AssetRead, ItemRead, read_items
from eo_ray.ingest._vector import OWNER, load_samples
from eo_ray.ingest.catalog import Catalog, _ensure_ray
from eo_ray.ingest.chips import Source, _as_items, _select_bands
from eo_ray.ingest.errors import NothingReadableError, RasterInputError, invalid
from eo_ray.ingest.item import Item

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    import ray.data

Grid = tuple[str | None, tuple[float, ...], int, int]  # crs, transform, height, width
SHOWN = 5  # ids named in the warning about samples outside every item


class SamplesOutsideWarning(UserWarning):
    """Some samples fall outside every item (or cover no pixel centre) and have no rows."""


def sample(
    source: Source,
    samples: Any,
    *,
    label: str | None = None,
    bands: Sequence[str | int] | str | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
    crs: str | None = None,
    as_dataset: bool = False,
) -> pd.DataFrame | ray.data.Dataset:
    """The values of every item of ``source`` at the ``samples``, one row per sample pixel
    per date.

    ``source`` is a Catalog (or its name), a search result, items, or raster paths.
    ``samples`` is a vector file (GeoPackage, GeoJSON, Shapefile) or GeoDataFrame of points
    or polygons in any CRS (every pixel whose centre is inside a polygon is a sample), or a
    DataFrame with ``longitude``/``latitude`` (WGS84) or ``x``/``y`` and ``crs``.
    Columns: ``id`` (the input's ``id`` column, else the row number), ``x``, ``y`` (the
    pixel centre in the item's CRS, named in ``crs``), ``time`` (the item's date, UTC), one
    column per band named by the band (``bands`` picks some, by name or 0-based index) and
    ``label``. ``start``/``end`` keep items dated in ``[start, end]``. Samples outside every
    item are named in one :class:`SamplesOutsideWarning`. ``as_dataset=True`` returns a
    ``ray.data.Dataset`` instead of gathering the rows here.
    """
    import ray

    frame = load_samples(samples, label, crs)
    wanted = _bands(bands)
    items = _dated(_resolve(source), start, end)
    _ensure_ray()
    options = GdalOptions.from_env()
    by_grid: dict[Grid, list[Item]] = {}
    for item in items:
        by_grid.setdefault(_grid(item), []).append(item)
    placed: set[int] = set()
    cpus = max(1, int(ray.available_resources().get("CPU", 1)))
    per_task = max(1, math.ceil(len(items) / (2 * cpus)))
    remote = ray.remote(read_items).options(num_cpus=1, max_retries=2)
    refs = []
    for grid, members in by_grid.items():
        pixels = pixel_table(frame, label, grid)
        if pixels.empty:
            continue
        placed.update(pixels.pop("_pos").unique().tolist())
        table = ray.put(pixels)
        reads = [_item_read(item, wanted) for item in members]
        for k in range(0, len(reads), per_task):
            refs.append(remote.remote(reads[k : k + per_task], table, label, options))
    _warn_outside(frame, placed)
    if not refs:
        raise NothingReadableError(
            f"No sample falls on any of the {len(items)} items: check the samples' CRS and "
            "that they lie inside the rasters."
        )
    if as_dataset:
        return ray.data.from_pandas_refs(refs)
    import pandas as pd

    rows = pd.concat(ray.get(refs), ignore_index=True)
    return rows.sort_values(["id", "y", "x", "time"], kind="stable", ignore_index=True)


def pixel_table(frame: gpd.GeoDataFrame, label: str | None, grid: Grid) -> pd.DataFrame:
    """The sample pixels on one grid: ``_pos`` (row of ``frame``), ``id``, ``x``, ``y``
    (pixel centres in the grid's CRS) and the label; points give their pixel, polygons every
    pixel whose centre is inside."""
    import pandas as pd
    import shapely
    from affine import Affine

    crs, transform, height, width = grid
    geoms = frame.geometry if crs is None else frame.geometry.to_crs(crs)
    affine = Affine(*transform[:6])
    inverse = ~affine
    pos, rows, cols = [], [], []
    points = np.flatnonzero((geoms.geom_type == "Point").to_numpy())
    if points.size:
        xy = shapely.get_coordinates(geoms.iloc[points].to_numpy())
        c, r = inverse @ (xy[:, 0], xy[:, 1])
        pos.append(points)
        rows.append(np.floor(r).astype(np.int64))
        cols.append(np.floor(c).astype(np.int64))
    for n in np.flatnonzero((geoms.geom_type != "Point").to_numpy()):
        r, c = _polygon_pixels(geoms.iloc[n], inverse, affine, height, width)
        pos.append(np.full(r.size, n))
        rows.append(r)
        cols.append(c)
    pos_, rows_, cols_ = (
        np.concatenate(a) if a else np.empty(0, np.int64) for a in (pos, rows, cols)
    )
    keep = (rows_ >= 0) & (rows_ < height) & (cols_ >= 0) & (cols_ < width)
    pos_, rows_, cols_ = pos_[keep], rows_[keep], cols_[keep]
    xs, ys = affine @ (cols_ + 0.5, rows_ + 0.5)
    table = {"_pos": pos_, "id": frame["id"].to_numpy()[pos_], "x": xs, "y": ys}
    if label is not None:
        table[label] = frame[label].to_numpy()[pos_]
    return pd.DataFrame(table)


def _polygon_pixels(geom, inverse, affine, height: int, width: int):
    """Rows and columns of the pixels whose centre is inside ``geom`` (within the grid)."""
    from rasterio.features import geometry_mask

    minx, miny, maxx, maxy = geom.bounds
    corners_c, corners_r = inverse @ (
        np.array([minx, maxx, minx, maxx]),
        np.array([miny, miny, maxy, maxy]),
    )
    r0, r1 = max(0, math.floor(min(corners_r))), min(height, math.ceil(max(corners_r)))
    c0, c1 = max(0, math.floor(min(corners_c))), min(width, math.ceil(max(corners_c)))
    if r1 <= r0 or c1 <= c0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    window_transform = affine @ affine.translation(c0, r0)
    inside = geometry_mask(
        [geom], out_shape=(r1 - r0, c1 - c0), transform=window_transform, invert=True
    )
    r, c = np.nonzero(inside)
    return r.astype(np.int64) + r0, c.astype(np.int64) + c0


def _warn_outside(frame: gpd.GeoDataFrame, placed: set[int]) -> None:
    missing = [n for n in range(len(frame)) if n not in placed]
    if not missing:
        return
    ids = ", ".join(str(frame["id"].iloc[n]) for n in missing[:SHOWN])
    more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
    warnings.warn(
        f"{len(missing)} of {len(frame)} samples fall outside every item (or cover no pixel "
        f"centre) and have no rows: ids {ids}{more}.",
        SamplesOutsideWarning,
        stacklevel=3,
    )


def _resolve(source: Source) -> list[Item]:
    if isinstance(source, str) and not Path(source).exists() and "/" not in source:
        catalog = Catalog(source)
        if catalog.exists():
            return catalog.items()
    try:
        items, failures = _as_items(source)
    except ValueError as exc:
        raise invalid(
            "source",
            OWNER,
            "a Catalog or its name, a search result, items, or raster paths",
            source,
        ) from exc
    if failures:
        warnings.warn(
            f"{len(failures)} inputs skipped: "
            + "; ".join(f"{f.path} {f.reason}" for f in failures[:3]),
            stacklevel=3,
        )
    return items


def _dated(items: list[Item], start: Any, end: Any) -> list[Item]:
    """Items dated within ``[start, end]`` (every item when neither is given)."""
    import pandas as pd

    if start is None and end is None:
        return items
    lo, hi = (_timestamp(v, name) for v, name in ((start, "start"), (end, "end")))
    if hi is not None and len(str(end)) <= 10:  # a day: include all of it
        hi = hi + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    kept = []
    for item in items:
        if item.datetime is None:
            continue
        when = pd.Timestamp(item.datetime)
        when = when.tz_localize("UTC") if when.tzinfo is None else when
        if (lo is None or when >= lo) and (hi is None or when <= hi):
            kept.append(item)
    return kept


def _timestamp(value: Any, name: str):
    import pandas as pd

    if value is None:
        return None
    if not isinstance(value, (str, date, datetime, pd.Timestamp)):
        raise invalid(name, OWNER, "a date ('2017-05-01') or datetime", value)
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise invalid(name, OWNER, "a date ('2017-05-01') or datetime", value) from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


def _bands(bands: Any) -> tuple[str | int, ...] | None:
    if bands is None:
        return None
    chosen = (bands,) if isinstance(bands, (str, int)) else tuple(bands)
    if not chosen or not all(isinstance(b, (str, int)) for b in chosen):
        raise invalid("bands", OWNER, "band names or 0-based indexes", bands)
    return chosen


def _grid(item: Item) -> Grid:
    return item.crs, tuple(round(v, 9) for v in item.transform), item.height, item.width


def _item_read(item: Item, wanted: tuple[str | int, ...] | None) -> ItemRead:
    try:
        selected = _select_bands(item, wanted)
    except RasterInputError as exc:
        raise invalid(
            "bands", OWNER, f"bands of every item (item {item.id} {exc})", wanted
        ) from None
    reads: dict[str, AssetRead] = {}
    for key, index, name in selected:
        asset = item.assets[key]
        if key not in reads:
            reads[key] = AssetRead(
                asset.href, [], [], tuple(asset.transform), asset.width, asset.height
            )
        reads[key].indexes.append(index)
        reads[key].names.append(name)
    return ItemRead(item.id, item.datetime, item.crs, list(reads.values()))
