"""Bad input: each file is reported with a clear reason, the rest continue, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasterio

from eo_ray import ingest
from eo_ray.ingest.chips import ChipReader, make_options
from eo_ray.ingest.writer import write_chips


def _reasons(failures) -> dict[str, str]:
    return {Path(f.path).name: f.reason for f in failures}


def test_scan_reports_every_bad_file_and_keeps_the_good_ones(
    ray_session, bad_inputs: dict[str, Path]
) -> None:
    cat = ingest.scan([bad_inputs["root"], "/no/such/folder"], catalog="bad")
    reasons = _reasons(cat.last_scan.failures)
    assert reasons["truncated_cog.tif"].startswith("is truncated: its pixel data ends at byte")
    assert reasons["truncated_rgb.tif"].startswith("is truncated or corrupt")
    assert reasons["notes.tif"] == "is not a raster GDAL can read"
    assert reasons["no_crs.tif"].startswith("has no CRS (not georeferenced)")
    assert reasons["folder"] == "does not exist: check the path"
    assert len(reasons) == 5
    assert sorted(i.href.rsplit("/", 1)[-1] for i in cat) == ["all_nodata.tif", "good.tif"]


def test_all_nodata_scene_is_reported_when_reading_chips(
    ray_session, bad_inputs: dict[str, Path]
) -> None:
    reader = ChipReader(
        [str(bad_inputs["good"]), str(bad_inputs["all_nodata"])], make_options(32, None, None)
    )
    rows = reader.dataset().take_all()
    assert len(rows) == 4
    assert {r["source"] for r in rows} == {str(bad_inputs["good"])}
    reasons = _reasons(reader.failures)
    assert reasons == {"all_nodata.tif": reasons["all_nodata.tif"]}
    assert reasons["all_nodata.tif"].startswith("is entirely nodata (nodata=0.0)")


def test_paths_with_bad_files_yield_the_good_chips_and_list_the_rest(
    ray_session, bad_inputs: dict[str, Path]
) -> None:
    reader = ChipReader([str(bad_inputs["root"])], make_options(32, None, None))
    assert len(reader.dataset(on_error="ignore").take_all()) == 4
    assert set(_reasons(reader.failures)) == {
        "truncated_cog.tif",
        "truncated_rgb.tif",
        "notes.tif",
        "no_crs.tif",
        "all_nodata.tif",
    }
    with pytest.raises(ingest.NothingReadableError, match="5 chip inputs failed"):
        ingest.read_chips(str(bad_inputs["root"]), 32, on_error="raise")


def test_only_bad_inputs_is_one_clear_error(ray_session, bad_inputs: dict[str, Path]) -> None:
    with pytest.raises(ingest.NothingReadableError, match="no input yields chips"):
        ingest.read_chips([str(bad_inputs["no_crs"]), str(bad_inputs["all_nodata"])], 16)
    with pytest.raises(ingest.NoInputError, match="No raster files found"):
        ingest.scan(["/no/such/file.tif"], catalog="nothing")


def test_windows_outside_the_raster_are_reported_per_sample(
    ray_session, bad_inputs: dict[str, Path]
) -> None:
    with rasterio.open(bad_inputs["good"]) as src:
        inside = src.xy(32, 32)
        edge = src.xy(1, 1)
        crs = str(src.crs)
    samples = [
        {"x": inside[0], "y": inside[1], "label": "ok"},
        {"x": edge[0], "y": edge[1], "label": "edge"},
        {"x": 0.0, "y": 0.0, "label": "far away"},
    ]
    reader = ChipReader(
        [str(bad_inputs["good"])], make_options(16, None, None), samples=samples, samples_crs=crs
    )
    rows = reader.dataset().take_all()
    assert [r["label"] for r in rows] == ["ok"]
    reasons = sorted(f.reason for f in reader.failures)
    assert reasons[0].startswith("sample 1: its window (-7, -7, 16, 16) extends beyond the raster")
    assert reasons[1].startswith("window around (0.0, 0.0) (EPSG:32618) is outside every raster")
    padded = ingest.read_chips(
        [str(bad_inputs["good"])],
        16,
        samples=samples[:2],
        samples_crs=crs,
        edge="pad",
        max_nodata=1.0,
    ).take_all()
    assert sorted(r["label"] for r in padded) == ["edge", "ok"]


def test_failed_chip_write_leaves_nothing(
    ray_session, bad_inputs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "chips"
    reader = ChipReader([str(bad_inputs["no_crs"])], make_options(16, None, None))
    with pytest.raises(ingest.NothingReadableError):
        write_chips(reader, out)
    assert list(tmp_path.iterdir()) == []
    good = ChipReader([str(bad_inputs["good"])], make_options(16, None, None))
    summary = write_chips(good, out)
    assert summary["chips"] == 16
    assert [p.name for p in tmp_path.iterdir()] == ["chips"]
    with pytest.raises(ingest.InvalidOptionError, match="already exists"):
        write_chips(good, out)
