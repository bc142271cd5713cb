"""Drift on real data: Fashion-MNIST requests against the training images, through the log."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import eo_ray as eo
from eo_ray.cli import app
from eo_ray.monitoring import NoRequestsError, ReferenceDataError


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


@pytest.fixture(scope="module")
def drift_windows(serve_instance, fashion_cnn, fashion):
    """Same-distribution requests, then brightened copies, sent to a live deployment."""
    _, (x_test, _) = fashion
    dep = eo.serving.deploy("fashion-cnn", name="fashion-drift", min_replicas=1, max_replicas=1)
    images = x_test[:800, None].astype(np.float32) / 255.0
    start = _now()
    for i in range(0, 400, 50):
        dep.predict(images[i : i + 50].round(3))
    middle = _now()
    shifted = np.clip(images[400:800] + 0.35, 0.0, 1.0)
    for i in range(0, 400, 50):
        dep.predict(shifted[i : i + 50].round(3))
    yield start, middle
    eo.serving.undeploy("fashion-drift")


@pytest.fixture(scope="module")
def reference(fashion):
    (x_train, _), _ = fashion
    return x_train[10_000:12_000, None].astype(np.float32) / 255.0


def test_same_distribution_does_not_alert(drift_windows, reference):
    start, middle = drift_windows
    hooked = []
    report = eo.monitoring.drift(
        "fashion-drift", reference=reference, since=start, until=middle, on_alert=hooked.append
    )
    assert report.window["instances"] == 400
    assert {c.column for c in report.columns} >= {"b0_mean", "b0_std", "b0_p95"}
    assert not report.drifted
    assert report.alert is None
    assert hooked == []
    assert report.prediction is not None
    assert not report.prediction.drifted


def test_brightened_copy_alerts_and_calls_the_hook(drift_windows, reference):
    _, middle = drift_windows
    before = len(eo.monitoring.alerts("fashion-drift"))
    hooked = []
    report = eo.monitoring.drift(
        "fashion-drift", reference=reference, since=middle, on_alert=hooked.append
    )
    assert report.drifted
    assert "b0_mean" in report.drifted_columns
    assert report.share_drifted >= 0.5
    assert hooked == [report.alert]
    assert report.alert.metric == "share_drifted"
    assert len(eo.monitoring.alerts("fashion-drift")) == before + 1
    listed = CliRunner().invoke(app, ["monitor", "alerts", "fashion-drift", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)[-1]["report"] == report.uri
    data = json.loads(report.to_json())
    assert data["drifted"] is True
    assert data["window"]["requests"] == 8
    assert "<html" in report.html.lower()
    ws = eo.workspace()
    assert ws.exists(f"{report.uri}/report.html")
    assert json.loads(ws.read_bytes(f"{report.uri}/report.json"))["drifted"] is True
    # The stored report loads evidently's 3.5 MB bundle from one shared copy beside it.
    stored = ws.read_bytes(f"{report.uri}/report.html").decode()
    assert len(stored) < 1_000_000 < len(report.html)
    src = stored.split('<script src="', 1)[1].split('"', 1)[0]
    assert src.startswith("../../../_static/evidently-")
    assert ws.exists(ws.join(ws.uri("monitoring"), "_static", src.rsplit("/", 1)[1]))
    # The stored report comes back through the stage's get and list (newest first).
    latest = eo.monitoring.get("fashion-drift")
    assert (latest.created_at, latest.uri) == (report.created_at, report.uri)
    assert latest.drifted_columns == report.drifted_columns
    assert latest.alert == report.alert
    assert eo.monitoring.get("fashion-drift", report.created_at).uri == report.uri
    assert eo.monitoring.list("fashion-drift")[0].created_at == report.created_at
    assert report.uri in [r.uri for r in eo.monitoring.list()]
    with pytest.raises(eo.monitoring.MonitoringError, match="No drift report"):
        eo.monitoring.get("fashion-drift", "1999-01-01T00:00:00+0000")


def test_alert_starts_the_retraining_pipeline(drift_windows, reference):
    _, middle = drift_windows
    pipe = eo.pipelines.Pipeline("retrain-fashion")

    @pipe.step()
    def retrain():
        return "retrained"

    report = eo.monitoring.drift(
        "fashion-drift",
        reference=reference,
        since=middle,
        window=200,
        on_alert=eo.pipelines.on_alert(pipe),
    )
    assert report.drifted
    runs = eo.pipelines.list_runs("retrain-fashion")
    assert [r.trigger for r in runs] == ["alert:drift:fashion-drift"]


def test_large_windows_are_sampled(drift_windows, reference):
    report = eo.monitoring.drift(
        "fashion-drift", reference=reference, sample=300, predictions=False, save=False
    )
    assert report.window["instances"] == 800
    assert report.current_rows == 300
    assert report.reference_rows == 300
    assert report.window["sampled"]
    assert report.prediction is None
    assert report.uri is None


def test_bad_drift_calls(drift_windows, reference):
    with pytest.raises(NoRequestsError, match="no successful requests"):
        eo.monitoring.drift("fashion-drift", reference=reference, since=_now())
    with pytest.raises(NoRequestsError, match="logged no requests"):
        eo.monitoring.drift("never-served", reference=reference)
    with pytest.raises(ReferenceDataError, match="The 'reference' parameter of drift must be"):
        eo.monitoring.drift("fashion-drift", reference="x_train")
    with pytest.raises(ReferenceDataError, match="none of the logged features"):
        eo.monitoring.drift("fashion-drift", reference=pd.DataFrame({"age": [1.0, 2.0]}))
    with pytest.raises(ReferenceDataError, match="drift_share"):
        eo.monitoring.drift("fashion-drift", reference=reference, drift_share=0)
