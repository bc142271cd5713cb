"""The read side of :func:`eo_ray.ingest.sample`: one Ray task reads a few items of one grid.

Each file is opened once; the pixels asked for are grouped by 256 × 256 block and each
group is read as the smallest window holding it, so scattered points cost a pixel each and
polygons their own extent, never a whole scene.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from eo_ray.ingest._gdal import GdalOptions, gdal_path

if TYPE_CHECKING:
    import pandas as pd

BLOCK = 256  # pixels read together when they fall in the same block of this size


@dataclass(frozen=True)
class AssetRead:
    """The bands wanted from one file of an item, and the file's grid."""

    href: str
    indexes: list[int]  # 1-based band indexes in the file
    names: list[str]  # their output column names
    transform: tuple[float, ...]
    width: int
    height: int


@dataclass(frozen=True)
class ItemRead:
    """One item to sample: its date, its CRS and the files to read."""

    item_id: str
    time: str | None
    crs: str | None
    assets: list[AssetRead]


def file_pixels(
    transform: tuple[float, ...], xs: np.ndarray, ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row and column, in a file of grid ``transform``, of the pixels holding map points."""
    from affine import Affine

    inverse = ~Affine(*transform[:6])
    cols = inverse.a * xs + inverse.b * ys + inverse.c
    rows = inverse.d * xs + inverse.e * ys + inverse.f
    return np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)


def read_pixels(src, indexes: list[int], rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Values (bands × pixels) of an open rasterio dataset at ``rows``/``cols``; pixels off
    the file are NaN (the array is then float64)."""
    from rasterio.windows import Window

    inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
    dtype = np.result_type(*(src.dtypes[i - 1] for i in indexes))
    out = np.empty((len(indexes), len(rows)), dtype=dtype if inside.all() else np.float64)
    if not inside.all():
        out[:] = np.nan
    where = np.flatnonzero(inside)
    if where.size == 0:
        return out
    r, c = rows[where], cols[where]
    blocks = (r // BLOCK) * (src.width // BLOCK + 1) + c // BLOCK
    order = np.argsort(blocks, kind="stable")
    cuts = np.flatnonzero(np.diff(blocks[order])) + 1
    for group in np.split(order, cuts):
        gr, gc = r[group], c[group]
        r0, c0 = int(gr.min()), int(gc.min())
        window = Window(c0, r0, int(gc.max()) - c0 + 1, int(gr.max()) - r0 + 1)
        data = src.read(indexes, window=window)
        out[:, where[group]] = data[:, gr - r0, gc - c0]
    return out


def read_items(
    items: list[ItemRead], pixels: pd.DataFrame, label: str | None, options: GdalOptions
) -> pd.DataFrame:
    """Long-form rows (``id, x, y, crs, time``, one column per band, label) of ``pixels``
    (``id, x, y`` in the items' CRS, and the label) in every item of one grid."""
    import pandas as pd
    import rasterio

    xs, ys = pixels["x"].to_numpy(), pixels["y"].to_numpy()
    frames = []
    with options.env():
        for item in items:
            columns: dict[str, object] = {
                "id": pixels["id"].to_numpy(),
                "x": xs,
                "y": ys,
                "crs": item.crs,
                "time": pd.Timestamp(item.time) if item.time else pd.NaT,
            }
            for asset in item.assets:
                rows, cols = file_pixels(asset.transform, xs, ys)
                with rasterio.open(gdal_path(asset.href)) as src:
                    values = read_pixels(src, asset.indexes, rows, cols)
                columns.update(zip(asset.names, values, strict=True))
            if label is not None:
                columns[label] = pixels[label].to_numpy()
            frames.append(pd.DataFrame(columns))
    frame = pd.concat(frames, ignore_index=True)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame
