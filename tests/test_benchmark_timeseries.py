"""``benchmarks/timeseries.py --quick`` runs in seconds and both sides read the same values."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_timeseries_benchmark_quick(ray_session, tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_ts", REPO / "benchmarks/timeseries.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = bench.main(["--quick", "--data", str(tmp_path)])
    measured = [r for r in rows if "skipped" not in r]
    assert {r["stack"] for r in measured} == {"slovenia", "landsat"}
    assert all(r["agree"] for r in measured)
    assert all(r["hand_s"] > 0 and r["eo_s"] > 0 for r in measured)
    cubes = [r for r in measured if r["case"].startswith("cube")]
    assert cubes
    assert all(r["ray_data_s"] > 0 and r["ceiling"] > 0 for r in cubes)  # the bound, same run
    assert "| stack | dates |" in capsys.readouterr().out
