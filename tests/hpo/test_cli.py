"""`eo-ray hpo ...` verbs."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from eo_ray.cli import app
from eo_ray.hpo.errors import SearchConfigError

runner = CliRunner()


def test_optimizers_lists_every_builtin():
    out = runner.invoke(app, ["hpo", "optimizers", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data["optimizers"]) == {"random", "grid", "tpe", "gp", "asha", "hyperband"}
    assert set(data["early_stopping"]) == {"median", "none"}


def test_run_searches_a_function_in_a_file(ray_session, tmp_path):
    script = tmp_path / "train_square.py"
    script.write_text(
        "def train(hparams, reporter):\n"
        "    reporter.report(hparams['x'] ** 2)\n"
        "    return {'score': hparams['x'] ** 2}\n"
    )
    space = json.dumps({"x": {"type": "double", "low": -1.0, "high": 1.0}})
    out = runner.invoke(
        app,
        [
            "hpo",
            "run",
            f"{script}:train",
            "--space",
            space,
            "--trials",
            "4",
            "--workers",
            "2",
            "--metric",
            "score",
            "--mode",
            "min",
            "--early-stopping",
            "none",
            "--heartbeat-interval",
            "0.2",
            "--trial-timeout",
            "120",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    assert summary["trials"] == 4
    assert summary["completed"] == 4
    assert 0 <= summary["best_value"] <= 1


def test_run_refuses_a_bad_target(tmp_path):
    out = runner.invoke(app, ["hpo", "run", "no_colon", "--space", "{}"])
    assert isinstance(out.exception, SearchConfigError)
    assert "file.py:function" in str(out.exception)
