"""Writing chip Datasets to Parquet or Delta, all or nothing (a temp folder renamed at the end)."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eo_ray.ingest.errors import InvalidOptionError, invalid

if TYPE_CHECKING:
    import pyarrow as pa

    from eo_ray.ingest.chips import ChipReader

FORMATS = ("parquet", "delta")


def _plain_columns(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Tensor columns as Delta-friendly columns: raw bytes plus shape and dtype."""
    import numpy as np
    import pyarrow as pa

    arrays, names = [], []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if not isinstance(column.type, pa.ExtensionType):
            arrays.append(column)
            names.append(name)
            continue
        values = column.to_numpy(zero_copy_only=False)
        if name == "transform":
            arrays.append(pa.array([list(map(float, v)) for v in values], pa.list_(pa.float64())))
            names.append(name)
            continue
        arrays += [
            pa.array([np.ascontiguousarray(v).tobytes() for v in values], pa.binary()),
            pa.array([list(v.shape) for v in values], pa.list_(pa.int64())),
            pa.array([str(v.dtype) for v in values], pa.string()),
        ]
        names += [name, f"{name}_shape", f"{name}_dtype"]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def write_chips(
    reader: ChipReader, out: str | Path, *, fmt: str = "parquet", overwrite: bool = False
) -> dict[str, Any]:
    """Write the chips of ``reader`` to ``out``; on any error nothing is left at ``out``."""
    import pyarrow as pa

    if fmt not in FORMATS:
        raise invalid("format", "write_chips", f"one of {FORMATS}", fmt)
    out = Path(out).expanduser().resolve()
    if out.exists() and not overwrite:
        raise InvalidOptionError(f"{out} already exists; choose another --out or pass --overwrite.")
    started = time.perf_counter()
    ds = reader.dataset(on_error="warn")
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if fmt == "parquet":
            ds.write_parquet(str(tmp))
            written = pa.dataset.dataset(str(tmp), format="parquet")
            chips = written.count_rows()
            size = sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file())
        else:
            from deltalake import write_deltalake

            counts = {"rows": 0}

            def batches() -> Iterator[pa.RecordBatch]:
                for batch in ds.iter_batches(batch_format="pyarrow", batch_size=256):
                    for record in batch.to_batches():
                        counts["rows"] += record.num_rows
                        yield _plain_columns(record)

            iterator = batches()
            first = next(iterator)
            stream = pa.RecordBatchReader.from_batches(first.schema, _chain(first, iterator))
            write_deltalake(str(tmp), stream, mode="error")  # one commit
            chips = counts["rows"]
            size = sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file())
        if out.exists():
            trash = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.old")
            out.rename(trash)
            tmp.rename(out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return {
        "out": str(out),
        "format": fmt,
        "chips": chips,
        "items": len(reader.plans or []),
        "megabytes": round(size / 2**20, 2),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest
