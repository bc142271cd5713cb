"""The request-log writer without Ray: micro-batches, thresholds, no rows lost on a failed write."""

from __future__ import annotations

import datetime as dt

import pytest

import eo_ray as eo
from eo_ray.serving.request_log import RequestLogWriter, table_uri


def _row(i: int, status: int = 200) -> dict:
    return {
        "request_id": f"r{i}",
        "time": dt.datetime.now(dt.timezone.utc),
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


def test_rows_are_written_in_micro_batches(workspace_root):
    writer = RequestLogWriter(workspace_root.root, "d", flush_rows=10, flush_s=3600)
    writer.append([_row(i) for i in range(4)])
    assert writer.stats() == {"written": 0, "buffered": 4, "dropped": 0}
    writer.append([_row(i) for i in range(4, 12)])  # crosses flush_rows: written at once
    assert writer.stats() == {"written": 12, "buffered": 0, "dropped": 0}
    writer.append([_row(12, status=422)])
    assert writer.close() == 13
    log = eo.monitoring.requests("d")
    assert list(log.request_id) == [f"r{i}" for i in range(13)]
    assert eo.monitoring.requests("d", status=422).request_id.tolist() == ["r12"]
    assert len(eo.monitoring.requests("d", since=log.time.iloc[12])) == 1
    assert len(eo.monitoring.requests("d", limit=3)) == 3


def test_a_failed_write_keeps_its_rows_and_a_bad_row_is_dropped(workspace_root, monkeypatch):
    import deltalake

    writer = RequestLogWriter(workspace_root.root, "e", flush_rows=1000, flush_s=3600)
    writer.append([_row(0)])
    bad = _row(1)
    bad["model_version"] = "not a number"
    writer.append([bad, _row(2)])

    def refuse(*args, **kwargs):
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(deltalake, "write_deltalake", refuse)
        with pytest.raises(OSError, match="disk full"):
            writer.flush()
    assert writer.stats() == {"written": 0, "buffered": 2, "dropped": 1}
    assert writer.flush() == 2
    assert eo.monitoring.requests("e").request_id.tolist() == ["r0", "r2"]
    assert table_uri(workspace_root, "e").endswith("serving/request_logs/e")
