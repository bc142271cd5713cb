"""The write path of a feature group: check → validate → statistics → one Delta commit → online.

In-memory data (pandas, Arrow) is checked and written by this process; a Ray Dataset is
conformed, checked and written as Parquet files by the Ray workers that hold its blocks, then
validated and described by DuckDB streaming over those files, and committed once here.
Nothing is committed when a check or a strict validation fails.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from eo_ray._params import one_of
from eo_ray.featurestore import _delta
from eo_ray.featurestore._duck import connect, quote
from eo_ray.featurestore._metadata import new_id
from eo_ray.featurestore._target import WriteTarget
from eo_ray.featurestore.errors import (
    DataError,
    InvalidParameterError,
    SchemaError,
    ValidationFailedError,
)
from eo_ray.featurestore.expectations import ValidationReport, validate
from eo_ray.featurestore.online import encode_key
from eo_ray.featurestore.schema import (
    Schema,
    conform,
    infer_schema,
    normalise_table,
    normalise_type,
)
from eo_ray.featurestore.statistics import Statistics, compute_statistics

OPERATIONS = ("upsert", "insert")
VALIDATIONS = ("strict", "always")


@dataclass
class InsertReport:
    """What one insert did: rows, the Delta version it made, validation and statistics."""

    group: str
    group_version: int
    operation: str
    table_version: int
    rows: int
    rows_inserted: int
    rows_updated: int
    merged: bool
    validation: ValidationReport | None = None
    statistics: Statistics | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "group": self.group,
            "group_version": self.group_version,
            "operation": self.operation,
            "table_version": self.table_version,
            "rows": self.rows,
            "rows_inserted": self.rows_inserted,
            "rows_updated": self.rows_updated,
            "merged": self.merged,
            "validation_success": None if self.validation is None else self.validation.success,
            "seconds": self.seconds,
            "timings": self.timings,
        }


# -- inputs -----------------------------------------------------------------------------------


def _is_ray_dataset(data: Any) -> bool:
    return type(data).__module__.startswith("ray.data") and hasattr(data, "map_batches")


def to_arrow(data: Any) -> pa.Table:
    """pandas / Arrow input as an Arrow table (index dropped)."""
    import pandas as pd

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise DataError(
        f"Cannot insert a {type(data).__name__}: pass a pandas DataFrame, a pyarrow Table "
        "or a Ray Dataset."
    )


def _check_key_columns(fg: WriteTarget, columns: list[str]) -> None:
    needed = [*fg.primary_key, *([fg.event_time] if fg.event_time else []), *fg.partition_key]
    missing = [c for c in needed if c not in columns]
    if missing:
        raise SchemaError(
            f"Data for feature group {fg.name!r} lacks its key columns {missing} "
            f"(primary key {fg.primary_key}, event time {fg.event_time!r}); add them."
        )


def _null_key_count(table: pa.Table, keys: list[str]) -> int:
    import pyarrow.compute as pc

    bad = None
    for key in keys:
        col = table[key]
        cond = (
            pc.is_null(col, nan_is_null=True)
            if pa.types.is_floating(col.type)
            else (pc.is_null(col))
        )
        bad = cond if bad is None else pc.or_(bad, cond)
    return 0 if bad is None else int(pc.sum(bad).as_py() or 0)


def _check_duplicates(fg: WriteTarget, source: Any) -> None:
    keys = ", ".join(quote(k) for k in fg.merge_keys)
    con = connect(src=source)
    rows = con.execute(
        f"SELECT {keys}, count(*) AS n FROM src GROUP BY ALL HAVING n > 1 LIMIT 3"  # noqa: S608
    ).fetchall()
    con.close()
    if rows:
        examples = [tuple(r[:-1]) for r in rows]
        raise DataError(
            f"Data for feature group {fg.name!r} has duplicate keys {fg.merge_keys}, e.g. "
            f"{examples}; keep one row per key (and event time) before inserting."
        )


# -- the pipeline -----------------------------------------------------------------------------


def insert(
    fg: WriteTarget,
    data: Any,
    operation: str = "upsert",
    validation: str = "strict",
    statistics: bool | None = None,
) -> InsertReport:
    """Insert ``data`` into ``fg`` as one atomic Delta commit (see ``FeatureGroup.insert``)."""
    one_of(operation, OPERATIONS, name="operation", owner="insert", error=InvalidParameterError)
    one_of(validation, VALIDATIONS, name="validation", owner="insert", error=InvalidParameterError)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if _is_ray_dataset(data):
        source, staged, rows = _stage_ray(fg, data)
        timings["write_files"] = time.perf_counter() - started
    else:
        table = normalise_table(to_arrow(data))
        _check_key_columns(fg, table.column_names)
        if fg.schema is None:
            fg.record_schema(infer_schema(table, fg.primary_key, fg.event_time, fg.partition_key))
        nulls = _null_key_count(table, fg.merge_keys)
        if nulls:
            raise DataError(
                f"{nulls} row(s) of the data for feature group {fg.name!r} have a null or NaN "
                f"key in {fg.merge_keys}; fill or drop them before inserting."
            )
        table = conform(table, fg.schema, fg.name)
        source, staged, rows = table, None, table.num_rows
    try:
        return _commit(
            fg, source, staged, rows, operation, validation, statistics, timings, started
        )
    except BaseException:
        if staged is not None:
            _discard(fg, staged)
        raise


def _check(
    fg: WriteTarget,
    scan: Any,
    schema: pa.Schema,
    validation: str,
    statistics: bool | None,
    timings: dict[str, float],
) -> tuple[ValidationReport | None, Statistics | None]:
    """Key checks, the expectation suite (raising when strict) and statistics of a write."""
    t = time.perf_counter()
    _check_duplicates(fg, scan)
    timings["key_checks"] = time.perf_counter() - t
    report = None
    suite = fg.expectation_suite()
    if suite is not None and suite.expectations:
        t = time.perf_counter()
        report = validate(suite, scan, schema)
        report.id = new_id()
        timings["validation"] = time.perf_counter() - t
        if not report.success and validation == "strict":
            report.ingestion = "REJECTED"
            fg.save_validation(report)
            raise ValidationFailedError(
                f"Insert into feature group {fg.name!r} rejected, nothing was written: "
                f"{report.summary()}. Fix the data, or insert with validation='always'.",
                report,
            )
    stats = None
    if fg.statistics_enabled if statistics is None else statistics:
        t = time.perf_counter()
        stats = compute_statistics(scan, schema)
        timings["statistics"] = time.perf_counter() - t
    return report, stats


def _commit(
    fg: WriteTarget,
    source: Any,
    staged: list[dict[str, Any]] | None,
    rows: int,
    operation: str,
    validation: str,
    statistics: bool | None,
    timings: dict[str, float],
    started: float,
) -> InsertReport:
    schema = fg.schema.to_arrow()
    scan = source  # an Arrow table, or a dataset over the files the workers wrote
    dt = _delta.open_table(fg.ws, fg.table_uri)
    merged = operation == "upsert" and dt is not None and _needs_merge(fg, dt, scan)
    writing = None
    if not merged and staged is None:
        # Appends write their data files while the checks below run; the files only become
        # part of the table at the commit, and are deleted if a check fails.
        path = fg.ws.fs_path(fg.table_uri)
        pool = ThreadPoolExecutor(max_workers=1)
        writing = pool.submit(_delta.write_files, source, path, fg.ws.filesystem, fg.partition_key)
        pool.shutdown(wait=False)
    try:
        report, stats = _check(fg, scan, schema, validation, statistics, timings)
    except BaseException:
        if writing is not None:
            _discard(fg, writing.result())
        raise
    t = time.perf_counter()
    commit_id = new_id()
    meta = {_delta.COMMIT_ID: commit_id, "eo_ray_operation": operation, "eo_ray_rows": rows}
    if merged:
        merge_source: Callable[[], Any] | pa.Table = (
            source if isinstance(source, pa.Table) else (lambda: source.scanner().to_reader())
        )
        metrics = _delta.merge(dt, merge_source, fg.merge_keys, meta)
        inserted = int(metrics.get("num_target_rows_inserted", 0))
        updated = int(metrics.get("num_target_rows_updated", 0))
    else:
        actions = staged if writing is None else writing.result()
        timings["write_files_wait"] = time.perf_counter() - t
        if dt is None:
            dt = _delta.create_table(fg.ws, fg.table_uri, schema, fg.partition_key)
        _delta.commit_files(dt, actions, schema, fg.partition_key, meta)
        inserted, updated = rows, 0
    version = _delta.find_version(dt, commit_id)
    timings["delta_commit"] = time.perf_counter() - t
    if stats is not None:
        stats.version = version
        fg.save_statistics(stats)
    if report is not None:
        report.version = version
        fg.save_validation(report)
    if fg.online:
        t = time.perf_counter()
        write_online(fg, scan)
        timings["online"] = time.perf_counter() - t
    if merged and staged is not None:
        _discard(fg, staged)  # merged from the staged files, which are not part of any version
    return InsertReport(
        group=fg.name,
        group_version=fg.version,
        operation=operation,
        table_version=version,
        rows=rows,
        rows_inserted=inserted,
        rows_updated=updated,
        merged=merged,
        validation=report,
        statistics=stats,
        seconds=time.perf_counter() - started,
        timings=timings,
    )


def _needs_merge(fg: WriteTarget, dt: Any, source: Any) -> bool:
    """False when no row of ``source`` can match a stored key: then a plain append is enough."""
    if pa.table(dt.get_add_actions(flatten=True)).num_rows == 0:
        return False
    con = connect(src=source)
    try:
        if fg.partition_key:
            cols = ", ".join(quote(k) for k in fg.partition_key)
            new = {
                tuple(None if v is None else str(v) for v in row)
                for row in con.execute(f"SELECT DISTINCT {cols} FROM src").fetchall()  # noqa: S608
            }
            old = {tuple(p.get(k) for k in fg.partition_key) for p in dt.partitions()}
            if not new & old:
                return False
        if len(fg.primary_key) == 1:
            key = fg.primary_key[0]
            ranges = _delta.file_key_ranges(dt, key)
            if ranges is None:
                return True
            bounds = f"SELECT min({quote(key)}), max({quote(key)}) FROM src"  # noqa: S608
            lo, hi = con.execute(bounds).fetchall()[0]
            return any(not (hi < f_lo or lo > f_hi) for f_lo, f_hi in ranges)
        return True
    finally:
        con.close()


def write_online(fg: WriteTarget, source: Any) -> int:
    """Put the latest row per primary key of ``source`` into the online store.

    DuckDB picks the latest rows and encodes them as JSON in the form of
    :func:`eo_ray.featurestore.online.encode_row` (vectorised); keys are encoded here.
    """
    store = fg.online_store()
    keys = ", ".join(quote(k) for k in fg.primary_key)
    order = f"ORDER BY {quote(fg.event_time)} DESC" if fg.event_time else ""
    ts = f"epoch({quote(fg.event_time)})::DOUBLE" if fg.event_time else "0.0::DOUBLE"
    value = _json_row_sql(fg.schema.to_arrow())
    con = connect(src=source)
    con.execute("SET TimeZone = 'UTC'")
    sql = (
        f"SELECT {keys}, {ts} AS __ts, {value} AS __v FROM src "  # noqa: S608 - quoted names
        f"QUALIFY row_number() OVER (PARTITION BY {keys} {order}) = 1"
    )
    count = 0
    for batch in con.sql(sql).to_arrow_reader(50_000):
        key_cols = [batch.column(i).to_pylist() for i in range(len(fg.primary_key))]
        encoded = [encode_key(k) for k in zip(*key_cols, strict=True)]
        stamps = batch.column(len(fg.primary_key)).to_pylist()
        values = batch.column(len(fg.primary_key) + 1).to_pylist()
        store.write(fg.online_table, zip(encoded, stamps, values, strict=True))
        count += batch.num_rows
    con.close()
    return count


def _json_row_sql(schema: pa.Schema) -> str:
    """A DuckDB expression giving each row as the JSON text of ``encode_row``."""
    parts = []
    for fld in schema:
        col, dtype = quote(fld.name), fld.type
        if pa.types.is_timestamp(dtype):
            expr = f"json_object('$t', strftime({col}, '%Y-%m-%dT%H:%M:%S.%f+00:00'))"
        elif pa.types.is_date(dtype):
            expr = f"json_object('$t', strftime({col}, '%Y-%m-%d'))"
        elif pa.types.is_binary(dtype):
            expr = f"json_object('$b', lower(hex({col})))"
        elif pa.types.is_floating(dtype):
            expr = f"CASE WHEN isnan({col}) OR isinf({col}) THEN NULL ELSE {col} END"
        else:
            expr = col
        if expr != col:
            expr = f"CASE WHEN {col} IS NULL THEN NULL ELSE {expr} END"
        parts.append(f"'{fld.name.replace(chr(39), chr(39) * 2)}', {expr}")
    return f"json_object({', '.join(parts)})::VARCHAR"


# -- Ray Datasets -----------------------------------------------------------------------------


class _WriteBlocks:
    """Run by Ray workers: conform a block to the schema, check keys, write Parquet files."""

    def __init__(
        self,
        root: str,
        table_path: str,
        schema: list[dict],
        partition_by: list[str],
        keys: list[str],
    ) -> None:
        from eo_ray.storage import Workspace

        self.filesystem = Workspace(root).filesystem
        self.table_path = table_path
        self.schema = Schema.from_list(schema)
        self.partition_by = partition_by
        self.keys = keys

    def __call__(self, block: pa.Table) -> pa.Table:
        """One row per written file; a block with bad data writes nothing and reports why."""
        import json

        out_schema = pa.schema([("action", pa.string()), ("error", pa.string())])
        try:
            table = normalise_table(block)
            nulls = _null_key_count(table, self.keys)
            if nulls:
                raise DataError(
                    f"{nulls} row(s) have a null or NaN key in {self.keys}; fill or drop them."
                )
            table = conform(table, self.schema, "(ray dataset)")
        except (DataError, SchemaError) as exc:  # reported as data: Ray would wrap the class
            kind = "data" if isinstance(exc, DataError) else "schema"
            return pa.table({"action": [None], "error": [f"{kind}:{exc}"]}, schema=out_schema)
        actions = _delta.write_files(table, self.table_path, self.filesystem, self.partition_by)
        return pa.table(
            {"action": [json.dumps(a) for a in actions], "error": [None] * len(actions)},
            schema=out_schema,
        )


def _stage_ray(fg: WriteTarget, ds: Any) -> tuple[Any, list[dict[str, Any]], int]:
    """Have the workers write ``ds`` into the table folder (uncommitted); a dataset over it."""
    import json

    import pyarrow.dataset as pds

    arrow_schema = _ray_schema(ds)
    _check_key_columns(fg, arrow_schema.names)
    if fg.schema is None:
        fields = [pa.field(f.name, normalise_type(f.type, f.name)) for f in arrow_schema]
        empty = pa.schema(fields).empty_table()
        fg.record_schema(infer_schema(empty, fg.primary_key, fg.event_time, fg.partition_key))
    table_path = fg.ws.fs_path(fg.table_uri)
    out = ds.map_batches(
        _WriteBlocks,
        fn_constructor_args=(
            fg.ws.root,
            table_path,
            fg.schema.to_list(),
            fg.partition_key,
            fg.merge_keys,
        ),
        batch_format="pyarrow",
        batch_size=None,
        concurrency=(1, 4),
    ).take_all()
    actions = [json.loads(row["action"]) for row in out if row["action"] is not None]
    errors = [row["error"] for row in out if row["error"] is not None]
    if errors:
        _discard(fg, actions)  # blocks that were fine wrote files; none is committed
        kind, message = errors[0].split(":", 1)
        error = DataError if kind == "data" else SchemaError
        raise error(f"Ray Dataset for feature group {fg.name!r}: {message}")
    rows = sum(a["num_rows"] for a in actions)
    schema = fg.schema.to_arrow()
    part = None
    if fg.partition_key:
        part = pds.partitioning(
            pa.schema([schema.field(k) for k in fg.partition_key]), flavor="hive"
        )
    file_schema = pa.schema([f for f in schema if f.name not in fg.partition_key])
    dataset = pds.dataset(
        [f"{table_path}/{a['path']}" for a in actions],
        schema=file_schema if part is None else None,
        format="parquet",
        filesystem=fg.ws.filesystem,
        partitioning=part,
        partition_base_dir=table_path,
    )
    return dataset, actions, rows


def _ray_schema(ds: Any) -> pa.Schema:
    """The Arrow schema of a Ray Dataset (from one row when its blocks are pandas)."""
    schema = ds.schema()
    base = getattr(schema, "base_schema", schema)
    if isinstance(base, pa.Schema):
        return base
    return ds.take_batch(1, batch_format="pyarrow").schema


def _discard(fg: WriteTarget, actions: list[dict[str, Any]]) -> None:
    """Delete files written for a write that will not be committed."""
    path = fg.ws.fs_path(fg.table_uri)
    for action in actions:
        with contextlib.suppress(OSError):  # already gone; uncommitted files are invisible
            fg.ws.filesystem.delete_file(f"{path}/{action['path']}")
