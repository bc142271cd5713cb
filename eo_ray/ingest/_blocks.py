"""Chip blocks as whole columns: one tensor of images, vectorised transforms, typed lists.

A read task builds each block from arrays (``n x bands x h x w`` images, offsets, nodata
fractions) instead of one dict per chip. Lists of strings (``bands``, ``sar:polarizations``)
get one Arrow type, ``list<string>``, in every block and after numpy transforms, so Ray Data
never falls back to pickling them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from eo_ray.ingest._plan import ItemPlan

STRING_LIST = pa.list_(pa.string())


def transforms(
    plan_transform: Sequence[float], windows: np.ndarray, out_shape: tuple[int, int] | None
) -> np.ndarray:
    """Affine coefficients (n x 6) mapping each chip's pixel (0, 0) to the map."""
    a, b, c, d, e, f = plan_transform[:6]
    rows, cols = windows[:, 0].astype(np.float64), windows[:, 1].astype(np.float64)
    out = np.empty((len(windows), 6), dtype=np.float64)
    out[:, 0], out[:, 1], out[:, 3], out[:, 4] = a, b, d, e
    out[:, 2] = a * cols + b * rows + c
    out[:, 5] = d * cols + e * rows + f
    if out_shape is not None:  # a resized window: pixels are larger by window / out size
        sx = windows[:, 3] / out_shape[1]
        sy = windows[:, 2] / out_shape[0]
        out[:, 0] *= sx
        out[:, 3] *= sx
        out[:, 1] *= sy
        out[:, 4] *= sy
    return out


def tensor(values: np.ndarray | list[np.ndarray]) -> pa.Array:
    """A tensor column: fixed shape for one array, variable shape for a list of arrays."""
    from ray.data.extensions import ArrowTensorArray

    if isinstance(values, np.ndarray):
        return ArrowTensorArray.from_numpy(values)
    if len({v.shape for v in values}) == 1:
        return ArrowTensorArray.from_numpy(np.stack(values))
    ragged = np.empty(len(values), dtype=object)
    for n, value in enumerate(values):
        ragged[n] = value
    return ArrowTensorArray.from_numpy(ragged)


@dataclass(frozen=True)
class ChipRows:
    """The metadata of some chips of one item: ``windows`` (n x 5: row, col, h, w, sample)
    and their nodata fractions. A block's table is built from all of its items at once."""

    plan: ItemPlan
    windows: np.ndarray
    fractions: np.ndarray


def _kind(value: Any) -> str | None:
    """What Arrow makes of a property value, coarsely (None: fits any column)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    if _is_string_lists([value]):
        return "strings"
    return type(value).__name__


def property_kinds(plan: ItemPlan) -> dict[str, str | None]:
    """The kind of each item property ``plan`` carries (see :func:`fits`)."""
    return {key: _kind(value) for key, value in plan.extra.items()}


def fits(kinds: dict[str, str | None], other: dict[str, str | None]) -> bool:
    """Whether properties of ``other`` kinds can share columns with those of ``kinds``."""
    return kinds.keys() == other.keys() and all(
        kinds[key] is None or other[key] is None or kinds[key] == other[key] for key in kinds
    )


def chip_table(
    rows: Sequence[ChipRows],
    images: np.ndarray | list[np.ndarray] | None,
    sample_fields: Mapping[int, Mapping[str, Any]],
    sample_keys: Sequence[str],
) -> pa.Table:
    """The chips of ``rows`` (one or many items) as one table; without the ``image``
    column when ``images`` is None (the block adds it).

    Built once per block rather than once per item: a column that is constant per item is
    one small array taken per chip, so a scene of a few chips adds microseconds, not a
    table. The items' properties must :func:`fit` one set of columns.
    """
    plans = [r.plan for r in rows]
    windows = np.concatenate([r.windows for r in rows])
    samples = windows[:, 4]
    heights = np.concatenate([_sizes(r, 0) for r in rows])
    widths = np.concatenate([_sizes(r, 1) for r in rows])
    item_of = pa.array(np.repeat(np.arange(len(rows)), [len(r.windows) for r in rows]))

    def per_item(values: list[Any], type_: pa.DataType | None = None) -> pa.Array:
        return pa.array(values, type=type_).take(item_of)

    chip_ids: list[str] = []
    for r in rows:
        item, w = r.plan.item_id, r.windows
        chip_ids += [
            f"{item}@{a},{b}#{s}" if s >= 0 else f"{item}@{a},{b}"
            for a, b, s in zip(w[:, 0].tolist(), w[:, 1].tolist(), w[:, 4].tolist(), strict=True)
        ]
    columns: dict[str, pa.Array] = {
        "chip_id": pa.array(chip_ids, type=pa.string()),
        "source": per_item([p.source for p in plans], pa.string()),
        "row_off": pa.array(windows[:, 0], type=pa.int64()),
        "col_off": pa.array(windows[:, 1], type=pa.int64()),
        "height": pa.array(heights, type=pa.int64()),
        "width": pa.array(widths, type=pa.int64()),
        "crs": per_item([p.crs for p in plans], pa.string()),
        "transform": tensor(np.concatenate([_transforms(r) for r in rows])),
        "image": None if images is None else tensor(images),
        "item_id": per_item([p.item_id for p in plans], pa.string()),
        "collection": per_item([p.collection for p in plans], pa.string()),
        "datetime": per_item([p.datetime for p in plans], pa.string()),
        "bands": per_item([list(p.band_names) for p in plans], STRING_LIST),
        "nodata": per_item([p.nodata for p in plans], pa.float64()),
        "nodata_fraction": pa.array(np.concatenate([r.fractions for r in rows]), type=pa.float64()),
        "sample": pa.array(samples, type=pa.int64()),
    }
    if images is None:
        del columns["image"]
    for key in plans[0].extra:
        values = [p.extra[key] for p in plans]
        strings = _is_string_lists(values)
        columns[key] = per_item(
            string_lists(values) if strings else values, STRING_LIST if strings else None
        )
    for key in sample_keys:
        values = [sample_fields.get(s, {}).get(key) for s in samples.tolist()]
        columns[key] = string_lists(values) if _is_string_lists(values) else pa.array(values)
    return pa.table(columns)


def _transforms(rows: ChipRows) -> np.ndarray:
    plan = rows.plan
    return transforms(plan.transform, rows.windows, plan.out_shape)


def _sizes(rows: ChipRows, axis: int) -> np.ndarray:
    """Chip heights (``axis`` 0) or widths (1): the window's, or the resized shape."""
    shape = rows.plan.out_shape
    if shape is None:
        return rows.windows[:, 2 + axis]
    return np.full(len(rows.windows), shape[axis], dtype=np.int64)


def _is_string_lists(values: Sequence[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, (list, tuple, np.ndarray)) and all(isinstance(x, (str, np.str_)) for x in v)
        for v in present
    )


def string_lists(values: Sequence[Any]) -> list[list[str] | None]:
    """Lists of strings as plain Python lists, which Ray Data stores as ``list<string>``.

    A numpy batch holds them as an object array of string arrays, which Ray Data cannot
    turn back into Arrow and pickles instead.
    """
    return [None if v is None else [str(x) for x in v] for v in values]


def arrow_friendly(batch: dict[str, Any]) -> dict[str, Any]:
    """Make a numpy batch of chips convertible back to typed Arrow columns; returns it.

    In ``batch_format="numpy"`` Ray Data hands list columns such as ``bands`` (and
    ``sar:polarizations``) to a ``map_batches`` function as numpy object arrays of string
    arrays. Returned as they are, Ray Data cannot turn them back into Arrow and stores them
    as pickled Python objects (slow, and unreadable outside Python, e.g. in Parquet). This
    turns every such column back into plain lists, stored as ``list<string>``; other
    columns are left alone. Wrap the result of your own function::

        ds.map_batches(lambda b: ingest.arrow_friendly(my_fn(b)), batch_format="numpy")

    The transforms of :mod:`eo_ray.ingest.preprocess` already do this.
    """
    for key, values in batch.items():
        if (
            isinstance(values, np.ndarray)
            and (values.dtype == object or (values.ndim == 2 and values.dtype.kind == "U"))
            and len(values)
            and _is_string_lists(list(values))
        ):
            batch[key] = string_lists(values)
    return batch
