"""PNG images rendered on the server: catalog quicklooks and map previews (no tile server)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

QUICKLOOK_PX = 384  # longest side of a quicklook or a preview


def _out_shape(height: int, width: int, longest: int = QUICKLOOK_PX) -> tuple[int, int]:
    scale = min(1.0, longest / max(height, width, 1))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _png(rgba: np.ndarray) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    plt.imsave(buf, rgba, format="png")
    return buf.getvalue()


def _stretch(band: np.ma.MaskedArray) -> np.ndarray:
    """Values scaled to [0, 1] between the 2nd and 98th percentiles of the valid pixels."""
    valid = band.compressed().astype("float64")
    valid = valid[np.isfinite(valid)]
    if not valid.size:
        return np.zeros(band.shape)
    lo, hi = np.percentile(valid, [2, 98])
    scaled = (band.filled(lo).astype("float64") - lo) / (hi - lo if hi > lo else 1.0)
    return np.clip(np.nan_to_num(scaled), 0.0, 1.0)


def _item_bands(item: Any) -> list[tuple[str, int]]:
    """(file, 1-based band index) of red, green, blue when named, else of the first band."""
    by_common: dict[str, tuple[str, int]] = {}
    for asset in item.assets.values():
        for i, common in enumerate(asset.common_names or []):
            if common and common not in by_common:
                by_common[common] = (asset.href, i + 1)
    if all(c in by_common for c in ("red", "green", "blue")):
        return [by_common["red"], by_common["green"], by_common["blue"]]
    first = next(iter(item.assets.values()))
    if len(first.bands) >= 3:
        return [(first.href, 1), (first.href, 2), (first.href, 3)]
    return [(first.href, 1)]


def quicklook_png(item: Any) -> bytes:
    """A small true-colour (or grey) picture of a catalog item, nodata transparent."""
    import rasterio

    shape = _out_shape(item.height, item.width)
    bands, mask = [], np.zeros(shape, dtype=bool)
    for href, index in _item_bands(item):
        with rasterio.open(href) as src:
            band = src.read(index, out_shape=shape, masked=True)
        bands.append(_stretch(band))
        mask |= np.ma.getmaskarray(band)
    rgb = np.stack(bands * 3 if len(bands) == 1 else bands, axis=-1)
    alpha = (~mask).astype("float64")[..., None]
    return _png(np.concatenate([rgb, alpha], axis=-1))


def _rgb(color: str) -> tuple[float, float, float]:
    text = color.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"Colours must be '#rrggbb'; got {color!r}.")
    return tuple(int(text[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def class_map_png(uri: str, colors: Sequence[str]) -> bytes:
    """A class map (values index ``colors``) at overview resolution; others transparent."""
    import rasterio

    with rasterio.open(uri) as src:
        values = src.read(1, out_shape=_out_shape(src.height, src.width), masked=True)
    table = np.array([(*_rgb(c), 1.0) for c in colors] + [(0.0, 0.0, 0.0, 0.0)])
    index = values.filled(len(colors)).astype("int64")
    index[(index < 0) | (index >= len(colors))] = len(colors)
    return _png(table[index])
