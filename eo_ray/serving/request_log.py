"""The request log: every request and response of a deployment, in a Delta table.

Replicas hand each finished request to one logger actor per deployment (a fire-and-forget
actor call, off the request path); the actor buffers rows and appends them to
``serving/request_logs/<name>`` in micro-batches (every ``flush_rows`` rows or ``flush_s``
seconds), so it is the table's only writer and commits never conflict. A replica that is
stopped, cleanly or not, loses nothing it has answered: its rows are already with the actor,
which flushes on :meth:`RequestLogWriter.flush` and when the deployment is undeployed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pyarrow as pa

from eo_ray.storage import Workspace

NAMESPACE = "eo_ray_serving"
SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("time", pa.timestamp("us", tz="UTC")),
        ("deployment", pa.string()),
        ("model", pa.string()),
        ("model_version", pa.int64()),
        ("replica", pa.string()),
        ("status", pa.int32()),
        ("error", pa.string()),
        ("n_instances", pa.int32()),
        ("inputs", pa.string()),
        ("features", pa.string()),
        ("predictions", pa.string()),
        ("latency_ms", pa.float64()),
    ]
)


def table_uri(ws: Workspace, name: str) -> str:
    """Where the request log of deployment ``name`` lives."""
    return ws.uri("serving", "request_logs", name)


def actor_name(name: str) -> str:
    return f"request-log:{name}"


class RequestLogWriter:
    """Buffers log rows and appends them to the Delta table in micro-batches (a Ray actor)."""

    def __init__(self, root: str, name: str, flush_rows: int = 512, flush_s: float = 1.0) -> None:
        self._ws = Workspace(root)
        self._uri = table_uri(self._ws, name)
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._flush_rows = flush_rows
        self._flush_s = flush_s
        self._written = 0
        self._dropped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def append(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._rows.extend(rows)
            full = len(self._rows) >= self._flush_rows
        if full:
            self.flush()

    def flush(self) -> int:
        """Write the buffered rows now; return the number of rows written so far.

        A failed write keeps the rows for the next attempt; a row that does not fit the
        schema (never written by the serving code) is dropped and counted, so it cannot
        block the log.
        """
        with self._write_lock:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return self._written
            from deltalake import write_deltalake

            table, rows = self._table(rows)
            try:
                write_deltalake(
                    self._uri, table, mode="append", storage_options=self._ws.storage_options
                )
            except Exception:
                with self._lock:
                    self._rows[:0] = rows
                raise
            self._written += len(rows)
            return self._written

    def _table(self, rows: list[dict[str, Any]]) -> tuple[pa.Table, list[dict[str, Any]]]:
        try:
            return pa.Table.from_pylist(rows, schema=SCHEMA), rows
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            good = []
            for row in rows:
                try:
                    pa.Table.from_pylist([row], schema=SCHEMA)
                    good.append(row)
                except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
                    self._dropped += 1
            return pa.Table.from_pylist(good, schema=SCHEMA), good

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "written": self._written,
                "buffered": len(self._rows),
                "dropped": self._dropped,
            }

    def close(self) -> int:
        self._stop.set()
        return self.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self._flush_s):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - keep the rows' thread alive; retried next tick
                time.sleep(self._flush_s)


def find_writer(name: str) -> Any:
    """The live logger actor of deployment ``name``, or None."""
    import ray

    try:
        return ray.get_actor(actor_name(name), namespace=NAMESPACE)
    except ValueError:
        return None


def writer_handle(root: str, name: str) -> Any:
    """The logger actor of deployment ``name``, created (detached) on first use."""
    import ray

    actor = ray.remote(RequestLogWriter).options(
        name=actor_name(name),
        namespace=NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        num_cpus=0,
        max_concurrency=8,
        max_restarts=-1,
    )
    return actor.remote(root, name)


def flush(name: str) -> None:
    """Flush the live logger of ``name``, if Ray and the logger are up (no-op otherwise)."""
    import ray

    handle = find_writer(name) if ray.is_initialized() else None
    if handle is not None:
        ray.get(handle.flush.remote())


def close(name: str) -> None:
    """Flush and stop the logger of ``name`` (on undeploy)."""
    import ray

    handle = find_writer(name)
    if handle is not None:
        ray.get(handle.close.remote())
        ray.kill(handle, no_restart=True)
