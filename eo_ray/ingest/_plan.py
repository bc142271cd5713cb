"""The plan of a chip read, shared by the planner (``chips.py``), the read tasks
(``_datasource.py``) and the block builder (``_blocks.py``): small picklable types only.

Data flow: :class:`ChipOptions` (validated arguments) → one :class:`ItemPlan` per item (its
grid, its :class:`FileRead` per file, its windows) → read tasks → blocks of chip rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_PROPERTIES = ("platform", "label", "landsat:qa_scheme")
WindowSpec = tuple[int, int, int, int, int]  # row, col, height, width, sample index (-1: grid)


@dataclass(frozen=True)
class ChipOptions:
    """Validated options of :func:`read_chips` (see there)."""

    size: tuple[int, int]
    stride: tuple[int, int]
    bands: tuple[str | int, ...] | None = None
    edge: str = "drop"
    max_nodata: float = 0.5
    resolution: float | None = None
    resampling: str = "bilinear"
    fit: str | None = None
    allow_ungeoreferenced: bool = False
    properties: tuple[str, ...] = DEFAULT_PROPERTIES
    # The largest block (and read task): Ray Data's own default block size limit.
    block_bytes: int = 128 * 2**20


@dataclass(frozen=True)
class FileRead:
    """One file read per window: which bands go to which chip bands, warped or direct."""

    href: str
    indexes: list[int]  # 1-based band indexes in the file
    positions: list[int]  # where they go in the chip
    warp: bool
    nodata: float | None
    width: int = 0  # the file's size when it was scanned (0: not known)
    height: int = 0


@dataclass(frozen=True)
class ItemPlan:
    """Everything a read task needs for the windows of one item (small, picklable)."""

    item_id: str
    source: str
    collection: str
    datetime: str | None
    crs: str | None
    transform: tuple[float, ...]
    height: int
    width: int
    band_names: list[str]
    dtype: str
    nodata: float | None
    reads: list[FileRead]
    windows: list[WindowSpec]
    extra: dict[str, Any] = field(default_factory=dict)
    out_shape: tuple[int, int] | None = None  # resize whole rasters to this size
