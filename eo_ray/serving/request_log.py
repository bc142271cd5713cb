"""The request log: every request and response of a deployment, in a Delta table.

Each replica owns a :class:`RequestLog`. Recording a request is one ``write`` of a JSON line
to the replica's spool file (a local write-ahead log: no network, no actor call), so a row
survives its replica being killed the moment the request is answered. A background thread
appends the spooled rows to ``serving/request_logs/<name>`` in bulk every ``flush_s``
seconds (or every ``flush_rows`` rows), off the request path, through one table handle kept
open for the writer's life.

Image chips are logged as the array the model received, in NPY bytes (``inputs_array``,
:func:`encode_array` / :func:`decode_array`): a 48×48 float32 chip is 9 KB there, against
about 47 KB as JSON text, and every step of logging costs by the byte. Other inputs (tabular
instances, entity keys, input that did not make an array) are logged as JSON text
(``inputs``). Replicas append to the table
concurrently (Delta's optimistic commits, retried); each spool segment is committed with a
Delta app transaction (app id = the writer's spool id, version = the segment number), so a
segment is never written twice, even when a crash falls between its commit and its deletion.

Segments left by a writer that died (its spool lock is free) are appended by :func:`recover`,
which :func:`flush` (``eo.monitoring.requests``, ``undeploy``) and the deployment's other
replicas call. There is no logger process whose loss would lose rows. Spools are per machine:
on a multi-node cluster :func:`flush` sees this machine's spools, the others reach the table
within ``flush_s``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import hashlib
import io
import logging
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from eo_ray.storage import Workspace, workspace

logger = logging.getLogger(__name__)

FLUSH_S = 1.0
FLUSH_ROWS = 2048
WRITE_ATTEMPTS = 5
RECOVER_EVERY = 30  # flush ticks between a writer's scans for dead writers' spools
SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("time", pa.timestamp("us", tz="UTC")),  # rows carry epoch microseconds
        ("deployment", pa.string()),
        ("model", pa.string()),
        ("model_version", pa.int64()),
        ("replica", pa.string()),
        ("status", pa.int32()),
        ("error", pa.string()),
        ("n_instances", pa.int32()),
        ("inputs", pa.string()),
        ("inputs_array", pa.binary()),  # NPY bytes of image inputs (then ``inputs`` is null)
        ("features", pa.string()),
        ("predictions", pa.string()),
        ("latency_ms", pa.float64()),
    ]
)


ARRAY = "inputs_array"
LARGE = (ARRAY, "inputs", "features")  # columns of big, rarely repeated values


@functools.cache
def _writer_properties() -> Any:
    """Parquet settings of the log: no dictionary pages and no min/max statistics for the
    columns of large unique values (they only cost encoding time and log size)."""
    from deltalake import ColumnProperties, WriterProperties

    plain = ColumnProperties(dictionary_enabled=False, statistics_enabled="NONE")
    return WriterProperties(compression="SNAPPY", column_properties=dict.fromkeys(LARGE, plain))


def encode_array(x: np.ndarray) -> bytes:
    """``x`` in NPY format (dtype and shape in the header): how image inputs are logged."""
    x = np.ascontiguousarray(x)
    return _npy_header(x.dtype.str, x.shape) + x.tobytes()


def decode_array(blob: bytes) -> np.ndarray:
    """The array of :func:`encode_array` bytes."""
    return np.load(io.BytesIO(blob), allow_pickle=False)


@functools.lru_cache(maxsize=64)
def _npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    out = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue()


def table_uri(ws: Workspace, name: str) -> str:
    """Where the request log of deployment ``name`` lives."""
    return ws.uri("serving", "request_logs", name)


def spool_dir(ws: Workspace, name: str) -> Path:
    """This machine's spool folder of deployment ``name`` (under a local workspace)."""
    if ws.is_local:
        base = Path(ws.fs_path(ws.uri("serving", "request_spool")))
    else:
        digest = hashlib.sha1(ws.root.encode()).hexdigest()[:12]  # noqa: S324 - a folder name
        base = Path(tempfile.gettempdir()) / "eo-ray-request-spool" / digest
    return base / name


def _segment_path(folder: Path, owner: str, seq: int) -> Path:
    return folder / f"{owner}.{seq:09d}.jsonl"


class RequestLog:
    """One writer's request log: spool each row at once, append spooled rows to Delta in bulk.

    ``record`` is called on the request path and costs one small file write; ``flush`` (a
    background thread, and ``close``) commits the spooled segments in order. A failed commit
    keeps its segment for the next attempt; a row that does not fit the schema (never written
    by the serving code) is dropped and counted, so it cannot block the log.
    """

    def __init__(
        self,
        root: str,
        name: str,
        owner: str = "writer",
        *,
        flush_s: float = FLUSH_S,
        flush_rows: int = FLUSH_ROWS,
        background: bool = True,
    ) -> None:
        self._ws = Workspace(root)
        self._name = name
        self._uri = table_uri(self._ws, name)
        self._dir = spool_dir(self._ws, name)
        self._dir.mkdir(parents=True, exist_ok=True)
        token = hashlib.sha1(f"{owner}{time.time_ns()}{id(self)}".encode()).hexdigest()[:8]  # noqa: S324
        self.owner = f"{re.sub(r'[^A-Za-z0-9_-]', '_', owner)}-{token}"
        self._lock_path = self._dir / f"{self.owner}.lock"
        self._lock = open(self._lock_path, "a+b")  # noqa: SIM115 - held for the writer's life
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._flush_s = flush_s
        self._flush_rows = flush_rows
        self._seq = 0
        self._table = _Table(self._ws, self._uri)
        self._file: Any = None  # the open segment, created on the first row after a flush
        self._rows: list[dict[str, Any]] = []
        self._sealed: list[tuple[int, list[dict[str, Any]]]] = []
        self._mutex = threading.Lock()  # record vs seal
        self._flushing = threading.Lock()  # one flush at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self.written = 0
        self.dropped = 0
        self._thread = None
        if background:
            self._thread = threading.Thread(target=self._loop, name="request-log", daemon=True)
            self._thread.start()

    def record(self, row: dict[str, Any]) -> None:
        """Spool one row (``time`` in epoch microseconds); it reaches the table in bulk later."""
        line = orjson.dumps(_spooled(row), option=orjson.OPT_APPEND_NEWLINE)
        with self._mutex:
            if self._closed:
                raise RuntimeError(f"The request log of {self._name!r} is closed.")
            if self._file is None:
                path = _segment_path(self._dir, self.owner, self._seq)
                self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - closed on seal
            self._file.write(line)  # unbuffered: in the OS once this returns
            self._rows.append(row)
            full = len(self._rows) >= self._flush_rows
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Commit every spooled row now; return the number of rows written so far."""
        with self._flushing:
            self._seal()
            while self._sealed:
                seq, rows = self._sealed[0]
                written, dropped = self._table.append(self.owner, seq, rows)
                _segment_path(self._dir, self.owner, seq).unlink(missing_ok=True)
                self._sealed.pop(0)
                self.written += written
                self.dropped += dropped
            return self.written

    def stats(self) -> dict[str, int]:
        with self._mutex:
            buffered = len(self._rows) + sum(len(rows) for _, rows in self._sealed)
        return {"written": self.written, "buffered": buffered, "dropped": self.dropped}

    def close(self) -> int:
        """Stop the background thread, commit what is spooled, release the spool."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            return self.flush()
        finally:
            with self._mutex:
                self._closed = True
            if not self._sealed:  # all committed: nothing for anyone to recover
                self._lock_path.unlink(missing_ok=True)
            self._lock.close()  # releases the lock: leftovers become recoverable

    def _seal(self) -> None:
        with self._mutex:
            if self._file is None:
                return
            self._file.close()
            self._file = None
            self._sealed.append((self._seq, self._rows))
            self._rows = []
            self._seq += 1

    def _loop(self) -> None:
        ticks = 0
        while not self._stop.is_set():
            self._wake.wait(self._flush_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - the segment stays; retried next tick
                logger.warning("Request log of %s: append failed (%s); retrying.", self._name, exc)
            if ticks % RECOVER_EVERY == 0:
                with contextlib.suppress(Exception):
                    recover(self._ws, self._name)
            ticks += 1


def _spooled(row: dict[str, Any]) -> dict[str, Any]:
    """The row as its spool line holds it: array bytes in base64 (JSON has no bytes)."""
    blob = row.get(ARRAY)
    if blob is None:
        return row
    return {**row, ARRAY: base64.b64encode(blob).decode("ascii")}


def _unspooled(row: dict[str, Any]) -> dict[str, Any]:
    blob = row.get(ARRAY)
    if isinstance(blob, str):
        row[ARRAY] = base64.b64decode(blob)
    return row


def _arrow(rows: list[dict[str, Any]]) -> tuple[pa.Table, int]:
    """The rows as an Arrow table of :data:`SCHEMA`, and how many did not fit it."""
    bad = (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError)
    try:
        return pa.Table.from_pylist(rows, schema=SCHEMA), 0
    except bad:
        good = []
        for row in rows:
            with contextlib.suppress(*bad):
                pa.Table.from_pylist([row], schema=SCHEMA)
                good.append(row)
        return pa.Table.from_pylist(good, schema=SCHEMA), len(rows) - len(good)


def _committed_version(handle: Any, app_id: str) -> int:
    """The last segment of writer ``app_id`` that the table (an open handle, or None while
    it does not exist) records, -1 if none."""
    version = handle.transaction_version(app_id) if handle is not None else None
    return -1 if version is None else int(version)


class _Table:
    """A writer's request-log table, opened once: each append updates the open handle
    rather than reading the Delta log again (a handle in doubt after a failure is dropped)."""

    def __init__(self, ws: Workspace, uri: str) -> None:
        self._ws, self._uri = ws, uri
        self._handle: Any = None

    def append(self, app_id: str, seq: int, rows: list[dict[str, Any]]) -> tuple[int, int]:
        if self._handle is None:
            self._handle = _open(self._ws, self._uri)
        try:
            out = append_rows(self._ws, self._uri, app_id, seq, rows, target=self._handle)
        except Exception:
            self._handle = None
            raise
        if self._handle is None:  # this append created the table
            self._handle = _open(self._ws, self._uri)
        return out


def _open(ws: Workspace, uri: str) -> Any:
    """The table's handle, or None while no replica has created it."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(uri, storage_options=ws.storage_options)
    except TableNotFoundError:
        return None


def append_rows(
    ws: Workspace,
    uri: str,
    app_id: str,
    seq: int,
    rows: list[dict[str, Any]],
    *,
    check: bool = False,
    target: Any = None,
) -> tuple[int, int]:
    """Append ``rows`` as segment ``seq`` of writer ``app_id``, at most once.

    ``target`` is an open handle of the table at ``uri`` (opened here when not given).
    Retries failed commits (concurrent writers, a table being created by another replica)
    with backoff; before a retry, and when ``check`` is set, a segment the table already
    records is skipped. A log written before ``inputs_array`` existed gains the column.
    Returns (rows written, rows dropped).
    """
    from deltalake import CommitProperties, Transaction, write_deltalake

    table, dropped = _arrow(rows)
    props = CommitProperties(app_transactions=[Transaction(app_id, seq)], max_commit_retries=50)
    for attempt in range(WRITE_ATTEMPTS):
        try:
            if target is None or attempt:  # fresh, so that the check below sees every commit
                target = _open(ws, uri)
            if (check or attempt) and _committed_version(target, app_id) >= seq:
                return 0, dropped
            write_deltalake(
                uri if target is None else target,
                table,
                mode="append",
                schema_mode="merge",
                storage_options=ws.storage_options,
                writer_properties=_writer_properties(),
                commit_properties=props,
            )
            return table.num_rows, dropped
        except Exception:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


def _read_segment(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.read_bytes().splitlines():
        with contextlib.suppress(orjson.JSONDecodeError):  # a line cut short by a kill
            rows.append(_unspooled(orjson.loads(line)))
    return rows


def recover(ws: Workspace | None, name: str) -> int:
    """Append the spooled rows of dead writers of deployment ``name`` on this machine."""
    ws = ws or workspace()
    folder = spool_dir(ws, name)
    if not folder.is_dir():
        return 0
    uri, total = table_uri(ws, name), 0
    # Only writers with segments: a writer just starting (lock file, no segment yet) is
    # never touched, so its lock cannot be taken or removed under it.
    owners = sorted({p.name.split(".", 1)[0] for p in folder.glob("*.jsonl")})
    for owner in owners:
        lock_path = folder / f"{owner}.lock"
        with open(lock_path, "a+b") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer owns it
            for segment in sorted(folder.glob(f"{owner}.*.jsonl")):
                seq = int(segment.name.split(".")[1])
                rows = _read_segment(segment)
                if rows:
                    total += append_rows(ws, uri, owner, seq, rows, check=True)[0]
                segment.unlink(missing_ok=True)
            lock_path.unlink(missing_ok=True)
    return total


def flush(name: str, timeout: float | None = None) -> None:
    """Make the requests answered so far visible in the table (this machine's spools).

    Recovers dead writers' spools and waits (at most ``timeout``, by default a few flush
    intervals) until the segments live writers held at the call are committed.
    """
    ws = workspace()
    folder = spool_dir(ws, name)
    if not folder.is_dir():
        return
    pending = {p for p in folder.glob("*.jsonl") if p.stat().st_size}
    deadline = time.monotonic() + (4 * FLUSH_S + 5 if timeout is None else timeout)
    while True:
        recover(ws, name)
        pending = {p for p in pending if p.exists()}
        if not pending or time.monotonic() > deadline:
            return
        time.sleep(0.05)
