"""The request log without Ray: spooled rows, bulk appends, crash recovery, no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pyarrow as pa
import pytest

import eo_ray as eo
from eo_ray.serving import request_log
from eo_ray.serving._server import _logged_inputs
from eo_ray.serving.request_log import (
    RequestLog,
    append_rows,
    decode_array,
    encode_array,
    spool_dir,
    table_uri,
)


def _row(i: int, status: int = 200) -> dict:
    return {
        "request_id": f"r{i}",
        "time": time.time_ns() // 1000 + i,
        "deployment": "d",
        "model": "m",
        "model_version": 1,
        "replica": "x",
        "status": status,
        "error": None,
        "n_instances": 1,
        "inputs": "[[1.0]]",
        "features": None,
        "predictions": "[0]",
        "latency_ms": 1.5,
    }


def _ids(name: str) -> list[str]:
    return eo.monitoring.requests(name).request_id.tolist()


def test_rows_are_spooled_then_appended_in_bulk(workspace_root):
    log = RequestLog(workspace_root.root, "d", "replica-a", background=False)
    for i in range(4):
        log.record(_row(i))
    assert log.stats() == {"written": 0, "buffered": 4, "dropped": 0}
    assert len(list(spool_dir(workspace_root, "d").glob("*.jsonl"))) == 1  # the open segment
    assert log.flush() == 4
    assert not list(spool_dir(workspace_root, "d").glob("*.jsonl"))
    log.record(_row(4, status=401))
    assert log.close() == 5
    assert not list(spool_dir(workspace_root, "d").iterdir())  # nothing left to recover
    assert _ids("d") == [f"r{i}" for i in range(5)]
    assert eo.monitoring.requests("d", status=401).request_id.tolist() == ["r4"]
    assert len(eo.monitoring.requests("d", limit=3)) == 3
    assert table_uri(workspace_root, "d").endswith("serving/request_logs/d")


def test_the_background_thread_appends_within_its_interval(workspace_root):
    log = RequestLog(workspace_root.root, "bg", "replica-b", flush_s=0.1)
    try:
        log.record(_row(0))
        deadline = time.monotonic() + 10
        while log.stats()["written"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert log.stats()["written"] == 1
    finally:
        log.close()
    assert _ids("bg") == ["r0"]


def test_a_failed_append_keeps_its_rows_and_a_bad_row_is_dropped(workspace_root, monkeypatch):
    import deltalake

    log = RequestLog(workspace_root.root, "e", "replica-e", background=False)
    log.record(_row(0))
    bad = _row(1)
    bad["model_version"] = "not a number"
    log.record(bad)
    log.record(_row(2))

    def refuse(*args, **kwargs):
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(deltalake, "write_deltalake", refuse)
        patch.setattr(request_log.time, "sleep", lambda s: None)
        with pytest.raises(OSError, match="disk full"):
            log.flush()
    assert log.stats()["buffered"] == 3
    assert log.flush() == 2
    assert log.stats() == {"written": 2, "buffered": 0, "dropped": 1}
    log.close()
    assert _ids("e") == ["r0", "r2"]


def test_image_inputs_are_logged_as_arrays_that_round_trip():
    rng = np.random.default_rng(0)
    for x in (
        rng.standard_normal((2, 1, 48, 48)).astype(np.float32),
        rng.integers(0, 255, (3, 28, 28), dtype=np.uint8),
        rng.standard_normal((1, 4, 8, 8))[:, :, ::2],  # float64, not contiguous
    ):
        back = decode_array(encode_array(x))
        assert back.dtype == x.dtype
        np.testing.assert_array_equal(back, x)
    chip = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    text, blob = _logged_inputs("[[[[0.1]]]]", chip, None)
    assert text is None
    np.testing.assert_array_equal(decode_array(blob), chip)
    vector = np.ones((2, 3), np.float32)  # tabular rows stay JSON text, as do entity keys
    assert _logged_inputs("[[1, 1, 1]]", vector, None) == ("[[1, 1, 1]]", None)
    assert _logged_inputs('[{"id": 1}]', chip, [[1.0]]) == ('[{"id": 1}]', None)
    assert _logged_inputs('[["x"]]', None, None) == ('[["x"]]', None)  # no array made (422)


def test_a_log_written_before_arrays_were_logged_gains_the_column(workspace_root):
    from deltalake import write_deltalake

    old = pa.schema([f for f in request_log.SCHEMA if f.name != request_log.ARRAY])
    uri = table_uri(workspace_root, "old")
    write_deltalake(uri, pa.Table.from_pylist([_row(0)], schema=old))
    log = RequestLog(workspace_root.root, "old", "replica-o", background=False)
    chip = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    log.record({**_row(1), "inputs": None, "inputs_array": encode_array(chip)})
    assert log.close() == 1
    frame = eo.monitoring.requests("old")
    assert frame.request_id.tolist() == ["r0", "r1"]
    old_inputs, chip_back = eo.monitoring.request_inputs(frame)
    assert old_inputs == [[1.0]]
    np.testing.assert_array_equal(chip_back, chip)


WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from eo_ray.serving.request_log import RequestLog, encode_array
    log = RequestLog(sys.argv[1], "k", "doomed", background=False)
    for i in range(50):
        chip = encode_array(np.full((1, 1, 2, 2), i, np.float32))
        row = {"request_id": f"r{i}", "time": time.time_ns() // 1000, "status": 200}
        log.record({**row, "inputs_array": chip})
        if i == 29:
            log.flush()  # 30 rows committed, 20 only in the spool
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_rows_of_a_killed_writer_are_recovered_once(workspace_root):
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, workspace_root.root], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert request_log.recover(workspace_root, "k") == 0  # alive: its spool is its own
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    request_log.flush("k")  # what eo.monitoring.requests and undeploy do
    frame = eo.monitoring.requests("k")
    assert sorted(frame.request_id) == sorted(f"r{i}" for i in range(50))
    for request_id, chip in zip(frame.request_id, eo.monitoring.request_inputs(frame), strict=True):
        assert chip.shape == (1, 1, 2, 2)  # spooled arrays come back exactly
        assert (chip == int(request_id[1:])).all()
    assert not list(spool_dir(workspace_root, "k").iterdir())


def test_a_segment_committed_before_a_crash_is_not_appended_twice(workspace_root):
    folder = spool_dir(workspace_root, "c")
    folder.mkdir(parents=True)
    rows = [_row(i) for i in range(3)]
    append_rows(workspace_root, table_uri(workspace_root, "c"), "gone-1", 0, rows)
    # The writer died after the commit and before deleting its segment.
    segment = folder / "gone-1.000000000.jsonl"
    segment.write_bytes(b"".join(request_log.orjson.dumps(r) + b"\n" for r in rows))
    assert request_log.recover(workspace_root, "c") == 0
    assert not segment.exists()
    assert _ids("c") == ["r0", "r1", "r2"]


def test_recovery_leaves_a_starting_writer_alone(workspace_root):
    folder = spool_dir(workspace_root, "s")
    folder.mkdir(parents=True)
    starting = folder / "new-1.lock"  # created, not locked yet, no segment yet
    starting.touch()
    assert request_log.recover(workspace_root, "s") == 0
    assert starting.exists()


def _record_concurrently(logs: list, rows: int, flush_every: int) -> None:
    """Each log (one per replica) records ``rows`` rows in its own thread, flushing every
    ``flush_every`` rows; then all are closed."""

    def work(k: int) -> None:
        for i in range(rows):
            logs[k].record(_row(1000 * k + i))
            if i % flush_every == flush_every - 1:
                logs[k].flush()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(logs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for log in logs:
        log.close()


def test_replicas_append_to_one_table_concurrently(workspace_root):
    logs = [RequestLog(workspace_root.root, "many", f"rep{k}", background=False) for k in range(3)]

    _record_concurrently(logs, rows=40, flush_every=10)
    ids = _ids("many")
    assert len(ids) == 120
    assert len(set(ids)) == 120


def test_replicas_append_to_a_request_log_on_s3(s3_bucket, monkeypatch):
    root = f"s3://{s3_bucket}/ws"
    monkeypatch.setenv("EO_RAY_HOME", root)
    from eo_ray.storage import Workspace

    logs = [RequestLog(root, "s3log", f"rep{k}", background=False) for k in range(3)]
    assert not str(spool_dir(Workspace(root), "s3log")).startswith("s3:")  # spools stay local

    _record_concurrently(logs, rows=24, flush_every=3)
    ids = _ids("s3log")
    assert sorted(ids) == sorted(f"r{1000 * k + i}" for k in range(3) for i in range(24))
