"""``eo-ray serve``, ``eo-ray monitor`` and ``eo-ray analyze`` on a live deployment."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from eo_ray.cli import app

runner = CliRunner()


def _json(args: list[str]):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_deploy_predict_list_requests_drift_undeploy(
    serve_instance, fashion_cnn, fashion, tmp_path
):
    _, (x_test, _) = fashion
    options = ["--batch-size", "4", "--batch-wait-ms", "2", "--num-cpus", "0.25", "--no-block"]
    dep = _json(
        ["serve", "deploy", "fashion-cnn", "--name", "cli-cnn", "--max-replicas", "1", *options]
    )
    assert dep["url"].endswith("/cli-cnn")
    assert dep["batch_size"] == 4
    assert [d["name"] for d in _json(["serve", "list"]) if d["name"] == "cli-cnn"] == ["cli-cnn"]
    images = (x_test[:30, None] / 255.0).round(3).tolist()
    out = _json(["serve", "predict", "cli-cnn", "--instances", json.dumps(images)])
    assert len(out["predictions"]) == 30
    assert out["version"] == fashion_cnn.version
    bad = runner.invoke(app, ["serve", "predict", "cli-cnn", "--instances", "[[1, 2]]"])
    assert bad.exit_code != 0
    assert "HTTP 422" in str(bad.exception)
    human = runner.invoke(app, ["monitor", "requests", "cli-cnn"])
    assert human.exit_code == 0
    assert "422" in human.stdout
    logged = _json(["monitor", "requests", "cli-cnn"])
    assert [r["status"] for r in logged] == [200, 422]
    np.save(tmp_path / "ref.npy", (x_test[1000:1600, None] / 255.0).astype(np.float32))
    report = _json(
        [
            "monitor",
            "drift",
            "cli-cnn",
            "--reference",
            str(tmp_path / "ref.npy"),
            "--html",
            str(tmp_path / "d.html"),
        ]
    )
    assert report["current_rows"] == 30
    assert (tmp_path / "d.html").stat().st_size > 10_000
    assert _json(["serve", "undeploy", "cli-cnn"]) == {"undeployed": "cli-cnn"}
    gone = runner.invoke(app, ["serve", "undeploy", "cli-cnn"])
    assert gone.exit_code != 0
    assert "No deployment named 'cli-cnn'" in str(gone.exception)


def test_cli_analyze_report(fashion_cnn, tmp_path):
    out = tmp_path / "a.html"
    data = _json(
        [
            "analyze",
            "report",
            "fashion-cnn",
            "--dataset",
            "fashion_mnist",
            "--rows",
            "300",
            "--slice",
            "brightness",
            "--out",
            str(out),
        ]
    )
    assert data["rows"] == 300
    assert 0.5 < data["accuracy"] < 1.0
    assert "Misclassified chips" in out.read_text()
    missing = runner.invoke(app, ["analyze", "report", "fashion-cnn"])
    assert missing.exit_code != 0
    assert "exactly one of --data or --dataset" in str(missing.exception)
