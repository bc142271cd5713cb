from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from eo_ray.cli import app

runner = CliRunner()


def test_info_json(ray_session, session_home):
    result = runner.invoke(app, ["info", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["workspace"] == str(session_home)
    assert data["ray"]["resources"]["CPU"] == 2
    assert data["packages"]["ray"]
    assert data["packages"]["deltalake"]


def test_info_human(ray_session):
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0
    assert "workspace" in result.stdout
    assert "resources" in result.stdout


def test_datasets_list_json():
    result = runner.invoke(app, ["datasets", "list", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert {r["name"] for r in rows} >= {"fashion_mnist", "opensarship_subset"}
    assert all(r["present"] == r["files"] for r in rows)


def test_datasets_verify_reports_each_dataset():
    result = runner.invoke(app, ["datasets", "verify", "--json"])
    assert result.exit_code == 0
    reports = json.loads(result.stdout)
    assert len(reports) == 8
    assert all(r["passed"] for r in reports)
    human = runner.invoke(app, ["datasets", "verify", "titanic", "mnist"])
    assert human.exit_code == 0
    assert "titanic" in human.stdout
    assert "mnist" in human.stdout


def test_verify_fails_with_exit_code_when_data_is_missing(tmp_path):
    env = {**os.environ, "EO_RAY_DATA": str(tmp_path), "EO_RAY_CACHE": str(tmp_path / "c")}
    proc = subprocess.run(
        [sys.executable, "-m", "eo_ray.cli", "datasets", "verify", "titanic", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout)[0]["missing"] == ["train.csv"]


def test_unknown_dataset_is_one_line_error():
    proc = subprocess.run(
        [sys.executable, "-m", "eo_ray.cli", "datasets", "verify", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: Unknown dataset 'nope'")
    assert "Traceback" not in proc.stderr
