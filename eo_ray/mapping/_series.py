"""Series models over a time series of items on one grid: checks in the driver, stacking
in the inference actors.

The items of the source are ordered by date and checked once (dated, several dates, as many
as the model was trained on, one grid, one band set). Windows are planned on the first
date's grid and read by the ingest datasource; inside each actor a :class:`SeriesStacker`
reads the same windows from the later dates, so a window reaches the model as
dates × bands × h × w, in date order.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from eo_ray.ingest import Item
from eo_ray.ingest.window_reader import WindowReader, same_grid
from eo_ray.mapping.errors import MappingInputError
from eo_ray.models import Signature


def order_series(items: list[Item], signature: Signature, model: str) -> list[Item]:
    """The items as one time series in ascending date order, or one sentence saying why
    they cannot be one for ``model``."""
    undated = [item.id for item in items if not item.datetime]
    if undated:
        raise MappingInputError(
            f"{len(undated)} item(s) have no date ({', '.join(undated[:3])}), so they cannot be "
            "ordered into a time series; name the files with their dates (YYYY-MM-DD) or set "
            "the date in their metadata."
        )
    ordered = sorted(items, key=lambda item: _instant(item.datetime))
    needed = signature.dates
    if len(ordered) == 1:
        raise MappingInputError(
            f"The source is a cube of one date ({ordered[0].datetime}) but model {model!r} takes "
            f"a time series of {needed or 'several'} dates; pass every date of the series."
        )
    if needed is not None and len(ordered) != needed:
        raise MappingInputError(
            f"The source has {len(ordered)} dates but model {model!r} was trained on series of "
            f"{needed} dates; resample the series onto the model's {needed} dates first."
        )
    instants = [_instant(item.datetime) for item in ordered]
    repeated = sorted({str(t) for t, u in itertools.pairwise(instants) if t == u})
    if repeated:
        raise MappingInputError(
            f"Several items share the date {repeated[0]}; a time series has one item per date "
            "(mosaic same-day items first)."
        )
    if not same_grid(ordered):
        grids = sorted({f"{item.crs} {item.width}x{item.height}" for item in ordered})
        raise MappingInputError(
            f"The items of the series are on different grids ({'; '.join(grids[:3])}); a "
            "series is mapped on one grid: reproject its dates onto one grid first."
        )
    bands = {tuple(item.band_names) for item in ordered}
    if len(bands) > 1:
        raise MappingInputError(
            f"The dates of the series have different band sets ({sorted(bands)[:2]}); every "
            "date must have the same bands."
        )
    return ordered


def _instant(stamp: str) -> np.datetime64:
    return np.datetime64(stamp.replace("Z", "").split("+")[0], "s")


def stack_name(series: Sequence[Item]) -> str:
    """The id of the series' map: its first and last items."""
    return f"{series[0].id}--{series[-1].id}"


class SeriesStacker:
    """In an actor: the windows of a batch of the first date, stacked with the same windows
    of the later dates (``plans``) into windows × dates × bands × h × w."""

    def __init__(self, plans: Sequence[Any]) -> None:
        self.reader = WindowReader(plans)

    def stack(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """The series of every window of ``batch`` (its ``image`` is the first date)."""
        first = batch["image"]
        n = first.shape[0]
        out = np.empty((n, 1 + len(self.reader.plans), *first.shape[1:]), dtype=first.dtype)
        out[:, 0] = first
        for k in range(len(self.reader.plans)):
            for m in range(n):
                out[m, k + 1] = self.reader.read(
                    k, batch["row_off"][m], batch["col_off"][m], *first.shape[-2:]
                )
        return out
