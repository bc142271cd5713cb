"""The plan types of :func:`eo_ray.ingest.read_cube`, shared by its planner (``_cube``) and
its read tasks (``_cube_source``): a leaf module, so the read path imports in data-flow order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eo_ray.ingest._plan import ItemPlan, WindowSpec


@dataclass(frozen=True)
class MaskRead:
    """A band of one date whose pixels mark clouds: read with nearest resampling."""

    plan: ItemPlan  # one band on the series grid
    kind: str  # "landsat" (QA bits), "scl" (Sentinel-2 scene classes) or "nonzero"
    scheme: str = ""  # the Landsat QA scheme


@dataclass(frozen=True)
class SeriesPlan:
    """Everything the read tasks need for the windows of one series (small, picklable)."""

    series: str  # the id of its first item
    crs: str
    transform: tuple[float, ...]
    height: int
    width: int
    band_names: list[str]
    dtype: str
    nodata: float | None
    collection: str
    times: list[str]  # ISO dates, ascending, one per entry of ``dates``
    dates: list[ItemPlan]
    masks: list[MaskRead | None]
    windows: list[WindowSpec]


@dataclass(frozen=True)
class CubeOptions:
    """Validated options of :func:`read_cube`."""

    bands: tuple[str | int, ...] | None
    start: np.datetime64 | None
    end: np.datetime64 | None
    size: tuple[int, int]
    crs: str | None
    resolution: float | None
    resampling: str
    edge: str
    min_dates: int
    cloud_band: str | None
    block_bytes: int = 128 * 2**20
