"""Delta Lake plumbing: data files written by anyone (driver or Ray worker), one commit.

Writing is two-phase so that a Ray Dataset's blocks are written by the workers that hold
them and committed by the driver in a single atomic Delta transaction: :func:`write_files`
writes Parquet files in the table's layout and returns their add actions (plain dicts, cheap
to send back); :func:`commit_files` commits them. Files written by a writer that dies before
the commit are never part of any version.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import CommitFailedError, TableNotFoundError
from deltalake.transaction import AddAction

from eo_ray.storage import Workspace

COMMIT_ID = "eo_ray_commit_id"
MAX_RETRIES = 50


def storage_options(ws: Workspace) -> dict[str, str]:
    """deltalake options for the workspace; S3 commits use conditional puts when available."""
    options = dict(ws.storage_options)
    if not ws.is_local:
        options.setdefault("AWS_S3_ALLOW_UNSAFE_RENAME", "true")
    return options


def open_table(ws: Workspace, uri: str, version: int | str | None = None) -> DeltaTable | None:
    """The Delta table at ``uri`` (at ``version``: an int or ISO datetime), or None if absent."""
    try:
        dt = DeltaTable(uri, storage_options=storage_options(ws))
    except TableNotFoundError:
        return None
    if version is not None:
        dt.load_as_version(version)
    return dt


def create_table(ws: Workspace, uri: str, schema: pa.Schema, partition_by: list[str]) -> DeltaTable:
    """Create the empty table (version 0) unless it exists; safe when racing other writers."""
    return DeltaTable.create(
        uri,
        schema,
        mode="ignore",
        partition_by=partition_by or None,
        configuration={"delta.enableChangeDataFeed": "true"},  # incremental reads
        storage_options=storage_options(ws),
    )


def _partition_path(values: dict[str, Any]) -> str:
    from urllib.parse import quote

    return "/".join(f"{k}={quote(str(v), safe='')}" for k, v in values.items())


def _file_stats(table: pa.Table) -> str:
    """Delta per-file statistics (row count, null counts, min/max of plain columns)."""
    mins: dict[str, Any] = {}
    maxs: dict[str, Any] = {}
    nulls: dict[str, int] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        nulls[name] = col.null_count
        dtype = col.type
        if not (
            pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_string(dtype)
        ):
            continue
        if col.null_count == len(col):
            continue
        mm = pc.min_max(col).as_py()
        lo, hi = mm["min"], mm["max"]
        if isinstance(lo, float) and not (math.isfinite(lo) and math.isfinite(hi)):
            continue
        mins[name], maxs[name] = lo, hi
    return json.dumps(
        {"numRecords": table.num_rows, "minValues": mins, "maxValues": maxs, "nullCount": nulls}
    )


def write_files(
    table: pa.Table, root: str, filesystem: pafs.FileSystem, partition_by: list[str]
) -> list[dict[str, Any]]:
    """Write ``table`` as Parquet files under ``root`` (a filesystem path); their add actions.

    Partition columns go into hive-style folders (``col=value/``), not into the files, as
    Delta Lake expects. Returned paths are relative to ``root``.
    """
    if table.num_rows == 0:
        return []
    groups: list[tuple[dict[str, Any], pa.Table]]
    if partition_by:
        keys = table.select(partition_by).group_by(partition_by).aggregate([]).to_pylist()
        groups = []
        for key in keys:
            mask = None
            for col, value in key.items():
                cond = pc.is_null(table[col]) if value is None else pc.equal(table[col], value)
                mask = cond if mask is None else pc.and_(mask, cond)
            groups.append((key, table.filter(mask).drop_columns(partition_by)))
    else:
        groups = [({}, table)]
    actions = []
    for values, part in groups:
        folder = _partition_path(values)
        rel = f"{folder}/" if folder else ""
        rel += f"part-{uuid.uuid4().hex}.snappy.parquet"
        path = f"{root}/{rel}"
        filesystem.create_dir(f"{root}/{folder}" if folder else root, recursive=True)
        pq.write_table(part, path, filesystem=filesystem, compression="snappy")
        size = filesystem.get_file_info(path).size
        actions.append(
            {
                "path": rel,
                "size": int(size),
                "partition_values": {k: None if v is None else str(v) for k, v in values.items()},
                "modification_time": int(time.time() * 1000),
                "stats": _file_stats(part),
                "num_rows": part.num_rows,
            }
        )
    return actions


def commit_files(
    dt: DeltaTable,
    actions: list[dict[str, Any]],
    schema: pa.Schema,
    partition_by: list[str],
    metadata: dict[str, Any],
) -> None:
    """Commit written files as one append transaction (retried on conflicts by delta-rs)."""
    adds = [
        AddAction(
            path=a["path"],
            size=a["size"],
            partition_values=a["partition_values"],
            modification_time=a["modification_time"],
            data_change=True,
            stats=a["stats"],
        )
        for a in actions
    ]
    dt.create_write_transaction(
        adds,
        mode="append",
        schema=schema,
        partition_by=partition_by or None,
        commit_properties=CommitProperties(
            custom_metadata=metadata, max_commit_retries=MAX_RETRIES
        ),
    )


def merge(
    dt: DeltaTable, source: Any, keys: list[str], metadata: dict[str, Any], attempts: int = 20
) -> dict[str, Any]:
    """Upsert ``source`` on ``keys`` (update matches, insert the rest), retrying conflicts.

    ``source`` is Arrow data or a callable giving a fresh Arrow stream for each attempt.
    """
    predicate = " AND ".join(f't."{k}" = s."{k}"' for k in keys)

    def attempt() -> dict[str, Any]:
        return (
            dt.merge(
                source() if callable(source) else source,
                predicate,
                source_alias="s",
                target_alias="t",
                commit_properties=CommitProperties(custom_metadata=metadata),
            )
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )

    for retry in range(attempts - 1):
        try:
            return attempt()
        except CommitFailedError:  # another writer committed first: re-read, merge again
            time.sleep(0.05 * (retry + 1))
            dt.update_incremental()
    return attempt()


def find_version(dt: DeltaTable, commit_id: str) -> int:
    """The table version whose commit carries ``commit_id``."""
    dt.update_incremental()
    for limit in (20, None):
        for entry in dt.history(limit):
            if entry.get(COMMIT_ID) == commit_id:
                return int(entry["version"])
    raise LookupError(f"commit {commit_id} not found in the Delta log")


def file_key_ranges(dt: DeltaTable, column: str) -> list[tuple[Any, Any]] | None:
    """(min, max) of ``column`` per data file from the Delta log; None if any file lacks them."""
    actions = pa.table(dt.get_add_actions(flatten=True))
    lo, hi = f"min.{column}", f"max.{column}"
    if actions.num_rows == 0:
        return []
    if lo not in actions.column_names or hi not in actions.column_names:
        return None
    los, his = actions[lo].to_pylist(), actions[hi].to_pylist()
    if any(v is None for v in los + his):
        return None
    return list(zip(los, his, strict=True))
