"""Pure window planning: a grid of chips over a raster, or chips centred on samples."""

from __future__ import annotations

import math
from typing import NamedTuple

EDGE_MODES = ("drop", "pad", "snap")


class Window(NamedTuple):
    """A chip window in pixels of the item grid (may extend beyond it when padded)."""

    row_off: int
    col_off: int
    height: int
    width: int


def _offsets(length: int, size: int, stride: int, edge: str) -> list[int]:
    """Start offsets along one axis for ``edge`` handling of the last window."""
    if length <= 0:
        return []
    if edge == "pad" or (edge == "snap" and length < size):
        offsets, start = [], 0
        while True:
            offsets.append(start)
            if start + size >= length:
                return offsets
            start += stride
    offsets = list(range(0, length - size + 1, stride))
    if edge == "snap" and offsets and offsets[-1] + size < length:
        offsets.append(length - size)
    return offsets


def grid_windows(
    height: int, width: int, size: tuple[int, int], stride: tuple[int, int], edge: str
) -> list[Window]:
    """Chips of ``size`` every ``stride`` pixels over a ``height`` x ``width`` grid.

    ``drop`` keeps only windows fully inside; ``pad`` adds windows that run past the last
    row/column (read padded with nodata); ``snap`` moves the last window back so it ends
    exactly at the edge (overlapping its neighbour).
    """
    rows = _offsets(height, size[0], stride[0], edge)
    cols = _offsets(width, size[1], stride[1], edge)
    return [Window(r, c, size[0], size[1]) for r in rows for c in cols]


def centred_window(row: float, col: float, size: tuple[int, int]) -> Window:
    """The ``size`` window holding pixel (row, col) at its centre pixel (size // 2)."""
    return Window(math.floor(row) - size[0] // 2, math.floor(col) - size[1] // 2, *size)


def overlap(window: Window, height: int, width: int) -> Window | None:
    """The part of ``window`` inside a ``height`` x ``width`` grid (None when outside)."""
    r0, c0 = max(window.row_off, 0), max(window.col_off, 0)
    r1 = min(window.row_off + window.height, height)
    c1 = min(window.col_off + window.width, width)
    if r1 <= r0 or c1 <= c0:
        return None
    return Window(r0, c0, r1 - r0, c1 - c0)


def inside(window: Window, height: int, width: int) -> bool:
    """Whether ``window`` lies entirely within the grid."""
    return (
        window.row_off >= 0
        and window.col_off >= 0
        and window.row_off + window.height <= height
        and window.col_off + window.width <= width
    )
