"""``eo-ray ingest``: scan, search, chips and run-command, with --json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from eo_ray.cli import app

runner = CliRunner()


def _json(args: list[str]) -> object:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_scan_search_and_chips_from_the_command_line(
    ray_session, l8_dir: Path, l7_rgb: Path, tmp_path: Path
) -> None:
    report = _json(["ingest", "scan", str(l8_dir), str(l7_rgb), "-c", "cli", "--json"])
    assert report["items"] == 2
    assert report["failures"] == []
    found = _json(["ingest", "search", "-c", "cli", "--text", "landsat", "--json"])
    assert [r["id"] for r in found] == ["LC80200392015216LGN00"]
    stac = _json(["ingest", "search", "-c", "cli", "--bbox=-78,24,-77,25", "--json", "--stac"])
    assert stac["features"][0]["properties"]["proj:epsg"] == 32618
    human = runner.invoke(app, ["ingest", "search", "-c", "cli", "-w", "platform=landsat-8"])
    assert human.exit_code == 0
    assert "1 item(s) in cli" in human.stdout
    assert "landsat-8" in human.stdout
    out = tmp_path / "chips"
    summary = _json(
        ["ingest", "chips", "-c", "cli", "-w", "collection=landsat-8", "--size", "128",
         "--bands", "B4,B3,B2", "--out", str(out), "--json"]
    )  # fmt: skip
    assert summary["chips"] == (603 // 128) * (627 // 128)
    table = pq.read_table(out)
    assert table.num_rows == summary["chips"]
    assert {"chip_id", "image", "transform", "crs"} <= set(table.column_names)
    delta = _json(
        ["ingest", "chips", str(l7_rgb), "--size", "256", "--format", "delta",
         "--out", str(tmp_path / "delta"), "--json"]
    )  # fmt: skip
    from deltalake import DeltaTable

    rows = DeltaTable(str(tmp_path / "delta")).to_pyarrow_table()
    assert rows.num_rows == delta["chips"] > 0
    assert rows.column("image_shape")[0].as_py() == [3, 256, 256]


def test_run_command_exit_code_and_table(ray_session, tmp_path: Path) -> None:
    good, bad = tmp_path / "a.txt", tmp_path / "bad.txt"
    good.write_text("a")
    bad.write_text("b")
    code = "import sys; sys.exit('bad' in sys.argv[1])"
    args = ["ingest", "run-command", "-i", str(good), "-i", str(bad), "--retries", "0"]
    result = runner.invoke(app, [*args, "--json", "--", sys.executable, "-c", code, "{input}"])
    assert result.exit_code == 1
    rows = {Path(r["input"]).name: r for r in json.loads(result.stdout)}
    assert rows["a.txt"]["ok"]
    assert rows["bad.txt"]["returncode"] == 1


def test_user_errors_are_one_line(ray_session) -> None:
    result = runner.invoke(app, ["ingest", "search", "-c", "no-such-catalog"])
    assert result.exit_code != 0
    assert "No catalog 'no-such-catalog'" in str(result.exception)
