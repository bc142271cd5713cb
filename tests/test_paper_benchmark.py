"""``benchmarks/paper.py`` end to end at its smallest size (``--tiny``, the code path of
``--quick`` and of the full run): every stage runs, REPORT.md holds each paper table beside
eo-ray's, the figures exist, and a second run reuses the cached stages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


def paper(*args: str, home: Path) -> str:
    env = {
        **os.environ,
        "EO_RAY_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("RAY_ADDRESS", None)  # its own Ray, never the test session's
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "paper.py"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    return proc.stdout


@pytest.mark.slow
def test_paper_tiny_writes_every_table_and_figure_and_resumes(tmp_path):
    out = tmp_path / "paper"
    first = paper("--tiny", "--out", str(out), home=tmp_path / "home")
    for stage in ("hpo", "replays", "table3", "table4", "fig15"):
        assert f"paper: {stage} done" in first
    report = (out / "REPORT.md").read_text()
    for heading in (
        "Table 1: best accuracy",
        "Table 2: wall-clock",
        "Table 3: Titanic",
        "Table 4: MNIST",
        "Figure 15: ablation scaling",
        "Protocol differences",
    ):
        assert heading in report
    assert "Not run" not in report
    assert "| 2 | real | – | – |" in report  # this machine's real HPO row
    assert "| 4 | replay | 0.915 | 0.905 |" in report  # the paper's Table 1 beside eo-ray's
    assert "| `fare` | 0.695 |" in report
    assert "| `second_conv` | 0.913 |" in report
    for number in ("13", "14", "15"):
        (png,) = out.glob(f"fig{number}_*.png")
        assert png.read_bytes().startswith(PNG)
    curves = json.loads((out / "hpo_curves.json").read_text())
    assert len(curves["curves"]) == 6
    assert all(curves["curves"])
    # A second run finds every stage cached: no stage reruns, the report is rewritten.
    again = paper("--tiny", "--out", str(out), "--only", "table3", home=tmp_path / "home")
    assert "done in" not in again
    assert "wrote" in again
