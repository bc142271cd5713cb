"""Every item has its date: from the product, the file's metadata, or its name; or it is
listed as undated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eo_ray import ingest
from eo_ray.cli import app
from eo_ray.ingest._dates import date_from_name, date_from_tags, item_date


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ndvi_2020-05-01.tif", "2020-05-01T00:00:00Z"),
        ("S2_20200501.tif", "2020-05-01T00:00:00Z"),
        ("field_2020122.tif", "2020-05-01T00:00:00Z"),  # day 122 of a leap year
        ("scene_20200501T101500_B04.tif", "2020-05-01T10:15:00Z"),
        ("ndvi20200501.tif", "2020-05-01T00:00:00Z"),  # glued to letters: still a date
        ("v20190101_2020-05-01.tif", "2020-05-01T00:00:00Z"),  # delimited wins
        ("a_20200501_20200601.tif", "2020-05-01T00:00:00Z"),  # leftmost wins
        ("zip://x.zip!/folder/rgb_2021-06-15.tif", "2021-06-15T00:00:00Z"),
    ],
)
def test_dates_in_file_names(name: str, expected: str) -> None:
    assert date_from_name(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "tile_12345678.tif",  # year 1234
        "id_20201301.tif",  # month 13
        "run_20200230.tif",  # 30 February
        "x2020122y.tif",  # a 7-digit day of year glued to letters
        "a_2019366.tif",  # 2019 has 365 days
        "img_123456789.tif",  # nine digits are no date
        "rgb.tif",
    ],
)
def test_numbers_that_are_not_dates(name: str) -> None:
    assert date_from_name(name) is None


def test_metadata_dates_acquisition_tags_before_tiff_datetime() -> None:
    assert date_from_tags({"TIFFTAG_DATETIME": "2020:05:01 10:30:00"}) == "2020-05-01T10:30:00Z"
    tags = {"TIFFTAG_DATETIME": "2021:01:01 00:00:00", "AcquisitionDateTime": "2020-05-01T09:00Z"}
    assert date_from_tags(tags) == "2020-05-01T09:00:00Z"
    assert date_from_tags({"TIFFTAG_DATETIME": "yesterday", "AREA_OR_POINT": "Area"}) is None


def test_precedence_product_then_metadata_then_name() -> None:
    tags = {"TIFFTAG_DATETIME": "2021:08:02 00:00:00"}
    assert item_date("2015-08-04T16:19:21Z", tags, ["a_20200101.tif"])[1] == "product"
    assert item_date(None, tags, ["a_20200101.tif"]) == ("2021-08-02T00:00:00Z", "metadata")
    assert item_date(None, {}, ["a_20200101.tif"]) == ("2020-01-01T00:00:00Z", "filename")
    assert item_date(None, {}, ["a.tif"]) == (None, None)


@pytest.fixture(scope="module")
def dated_folder(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """Copies of a real Slovenia GeoTIFF under dated and undated names, one with a
    TIFFTAG_DATETIME that disagrees with its name."""
    import rasterio

    source = data_dir / "s2_eolearn_slovenia" / "import-tiff-test1.tiff"
    root = tmp_path_factory.mktemp("dated")
    for name in (
        "ndvi_2021-06-15.tif",
        "ndvi_20210701.tif",
        "ndvi_2021200.tif",
        "ndvi_tagged_20210101.tif",
        "ndvi_copy.tif",
        "ndvi_12345678.tif",
    ):
        shutil.copyfile(source, root / name)
    with rasterio.open(root / "ndvi_tagged_20210101.tif", "r+") as dst:
        dst.update_tags(TIFFTAG_DATETIME="2021:08:02 10:11:12")
    return root


def test_scan_dates_items_and_lists_the_undated(ray_session, dated_folder: Path, l8_dir) -> None:
    cat = ingest.scan([dated_folder, l8_dir], catalog="dates")
    found = {Path(i.href).name: i for i in cat.items()}
    assert found["ndvi_2021-06-15.tif"].datetime == "2021-06-15T00:00:00Z"
    assert found["ndvi_20210701.tif"].datetime == "2021-07-01T00:00:00Z"
    assert found["ndvi_2021200.tif"].datetime == "2021-07-19T00:00:00Z"
    tagged = found["ndvi_tagged_20210101.tif"]
    assert (tagged.datetime, tagged.properties["datetime_source"]) == (
        "2021-08-02T10:11:12Z",
        "metadata",
    )
    assert found["ndvi_2021-06-15.tif"].properties["datetime_source"] == "filename"
    landsat = found["l8_B1.tif"]
    assert landsat.datetime.startswith("2015-08-04T16:19:21")
    assert landsat.properties["datetime_source"] == "product"
    for undated in ("ndvi_copy.tif", "ndvi_12345678.tif"):
        assert found[undated].datetime is None
        assert "datetime_source" not in found[undated].properties
    assert cat.last_scan is not None
    assert [Path(p).name for p in cat.last_scan.undated] == ["ndvi_12345678.tif", "ndvi_copy.tif"]
    assert len(cat.search(datetime="2021-06-01/2021-07-31")) == 3


def test_cli_lists_undated_items(ray_session, dated_folder: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", "scan", str(dated_folder), "-c", "datescli", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(Path(p).name for p in report["undated"]) == [
        "ndvi_12345678.tif",
        "ndvi_copy.tif",
    ]
    human = runner.invoke(app, ["ingest", "scan", str(dated_folder), "-c", "datescli"])
    assert human.exit_code == 0, human.output
    assert "2 item(s) without a date" in human.output
    assert "ndvi_copy.tif" in human.output
