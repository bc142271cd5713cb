"""``eo-ray map predict|list|show``: readable tables, JSON, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from eo_ray.cli import app

runner = CliRunner()


def test_map_predict_list_and_show(l8_forest, l8_dir: Path, tmp_path: Path) -> None:
    version, _ = l8_forest
    model = f"{version.name}:{version.version}"
    out = tmp_path / "maps"
    made = runner.invoke(app, ["map", "predict", model, str(l8_dir), "--out", str(out), "--json"])
    assert made.exit_code == 0, made.output
    data = json.loads(made.stdout)
    assert data["summary"]["maps"] == 1
    assert data["summary"]["km2"] > 300
    uri = data["outputs"][0]["uri"]
    assert Path(uri).parent == out

    human = runner.invoke(app, ["map", "predict", model, str(l8_dir), "--out", str(out)])
    assert human.exit_code == 0, human.output
    assert "0 written, 1 resumed, 0 failed" in human.stdout

    listed = json.loads(runner.invoke(app, ["map", "list", "--json"]).stdout)
    record = next(r for r in listed if r["uri"] == uri)
    shown = runner.invoke(app, ["map", "show", record["map_id"]])
    assert shown.exit_code == 0
    assert "map-l8-forest" in shown.stdout


def test_map_errors_are_one_line(tmp_path: Path) -> None:
    """User errors print one line from the real command (its entry point catches them)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "EO_RAY_HOME": str(tmp_path / "ws")}
    command = [sys.executable, "-m", "eo_ray.cli", "map", "show", "no-such-map"]
    missing = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert missing.returncode == 2
    assert "No map 'no-such-map'" in missing.stderr
    assert "Traceback" not in missing.stderr
