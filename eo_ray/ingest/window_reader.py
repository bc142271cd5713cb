"""Reading given windows of planned items, each file opened once: the same window of every
date of a time series on one grid, for example, read inside a Ray actor.

It reads exactly as the chip datasource does (band selection and order, multi-file
products, warping of files on another grid, nodata beyond the raster), from the same
:class:`~eo_ray.ingest._plan.ItemPlan` s that :func:`eo_ray.ingest.chips.plan_items` makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from eo_ray.ingest._datasource import _open, _Source
from eo_ray.ingest._gdal import GdalOptions
from eo_ray.ingest._plan import ItemPlan
from eo_ray.ingest._strips import read_span
from eo_ray.ingest._windows import Window


class WindowReader:
    """Windows of ``plans`` on demand: ``read(k, row, col, height, width)`` gives the pixels
    (bands × height × width, the plan's dtype) of plan ``k``. Use it as a context manager,
    or call :meth:`close`, to close the files."""

    def __init__(
        self,
        plans: Sequence[ItemPlan],
        resampling: str = "nearest",
        options: GdalOptions | None = None,
    ) -> None:
        from rasterio.enums import Resampling

        self.plans = list(plans)
        self.resampling = Resampling[resampling]
        self.options = options or GdalOptions.from_env()
        self._opened: dict[tuple, _Source] = {}

    def __enter__(self) -> WindowReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(
        self, k: int, row: int, col: int, height: int, width: int, out: np.ndarray | None = None
    ) -> np.ndarray:
        """The window (``row``, ``col``, ``height``, ``width``) of plan ``k`` on its grid."""
        plan = self.plans[k]
        with self.options.env():
            sources = _open(plan, self.resampling, self._opened)
            image, _ = read_span(
                plan, Window(int(row), int(col), int(height), int(width)), sources, out
            )
        return image

    def close(self) -> None:
        """Close every file opened so far."""
        for source in self._opened.values():
            source.close()
        self._opened.clear()


def same_grid(plans: Sequence[Any]) -> bool:
    """Whether ``plans`` (or items) share one grid: CRS, transform, height and width."""
    grids = {(p.crs, tuple(p.transform), p.height, p.width) for p in plans}
    return len(grids) <= 1
