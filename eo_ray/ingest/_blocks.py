"""Chip blocks as whole columns: one tensor of images, vectorised transforms, typed lists.

A read task builds each block from arrays (``n x bands x h x w`` images, offsets, nodata
fractions) instead of one dict per chip. Lists of strings (``bands``, ``sar:polarizations``)
get one Arrow type, ``list<string>``, in every block and after numpy transforms, so Ray Data
never falls back to pickling them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

STRING_LIST = pa.list_(pa.string())


def _constant(value: Any, n: int, type_: pa.DataType | None = None) -> pa.Array:
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        type_ = STRING_LIST
        value = list(value)
    if value is None and type_ is None:
        return pa.nulls(n)
    if isinstance(value, (list, tuple, np.ndarray)):
        return pa.array([value] * n, type=type_)
    return pa.repeat(pa.scalar(value, type=type_), n)


def transforms(plan_transform: Sequence[float], windows: np.ndarray, out_shape: Any) -> np.ndarray:
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


def chip_table(
    plan: Any,
    windows: np.ndarray,
    images: np.ndarray | list[np.ndarray] | None,
    fractions: np.ndarray,
    sample_fields: Mapping[int, Mapping[str, Any]],
    sample_keys: Sequence[str],
) -> pa.Table:
    """The rows of ``windows`` (n x 5: row, col, h, w, sample) of one item as a table;
    without the ``image`` column when ``images`` is None (the block adds it)."""
    n = len(windows)
    rows, cols, heights, widths, samples = (windows[:, k] for k in range(5))
    if plan.out_shape is not None:
        heights = np.full(n, plan.out_shape[0], dtype=np.int64)
        widths = np.full(n, plan.out_shape[1], dtype=np.int64)
    item = plan.item_id
    chip_ids = [
        f"{item}@{r},{c}#{s}" if s >= 0 else f"{item}@{r},{c}"
        for r, c, s in zip(rows.tolist(), cols.tolist(), samples.tolist(), strict=True)
    ]
    columns: dict[str, pa.Array] = {
        "chip_id": pa.array(chip_ids, type=pa.string()),
        "source": _constant(plan.source, n, pa.string()),
        "row_off": pa.array(rows, type=pa.int64()),
        "col_off": pa.array(cols, type=pa.int64()),
        "height": pa.array(heights, type=pa.int64()),
        "width": pa.array(widths, type=pa.int64()),
        "crs": _constant(plan.crs, n, pa.string()),
        "transform": tensor(transforms(plan.transform, windows, plan.out_shape)),
        "image": None if images is None else tensor(images),
        "item_id": _constant(item, n, pa.string()),
        "collection": _constant(plan.collection, n, pa.string()),
        "datetime": _constant(plan.datetime, n, pa.string()),
        "bands": _constant(list(plan.band_names), n, STRING_LIST),
        "nodata": _constant(plan.nodata, n, pa.float64()),
        "nodata_fraction": pa.array(fractions, type=pa.float64()),
        "sample": pa.array(samples, type=pa.int64()),
    }
    if images is None:
        del columns["image"]
    for key, value in plan.extra.items():
        columns[key] = _constant(value, n)
    for key in sample_keys:
        values = [sample_fields.get(s, {}).get(key) for s in samples.tolist()]
        columns[key] = string_lists(values) if _is_string_lists(values) else pa.array(values)
    return pa.table(columns)


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
