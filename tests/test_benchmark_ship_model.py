"""``benchmarks/ship_model.py --quick``: both feature sets on the same splits, from the
feature rows the pipeline stores; and ``--curve``, the learning curve."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ship_model_benchmark_quick(ray_session, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_ships", REPO / "benchmarks/ship_model.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "splits.json"
    summary = bench.main(["--quick", "--json", str(out)])
    shape, statistics, paired = summary
    assert shape["inputs"].startswith("shape")
    assert statistics["inputs"].startswith("dB")
    for line in (shape, statistics):
        assert line["splits"] == 10
        assert 0.5 < line["mean majority"] < 0.6  # Cargo: 194 of 351 chips
        assert 0.3 < line["mean accuracy"] < 0.9
    assert paired["accuracy"].count("+-") == 1
    rows = json.loads(out.read_text())["rows"]
    assert [r["seed"] for r in rows] == list(range(400, 410))  # never the demo's seeds 0-4

    *sizes, need = bench.main(["--quick", "--curve"])  # the same process: rows are reused
    assert [line["training chips"] for line in sizes] == [140, 280]  # half, then all of 280
    for line in sizes:
        assert 0.3 < line["mean accuracy"] < 0.9
        assert 0 < line["margin sd over splits"] < 0.2
        assert line["five of five seeds meet both"] == round(line["split meets both"] ** 5, 3)
    assert need["margin five of five need"].startswith("0.")
