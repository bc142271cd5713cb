"""Scanning real rasters into a persisted catalog, and searching it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from eo_ray import ingest


def test_scan_reads_every_real_raster(base_catalog: ingest.Catalog, sar_dir: Path) -> None:
    report = base_catalog.last_scan
    assert report is not None
    assert report.failures == []
    manifest = pd.read_csv(sar_dir / "chips_manifest.csv")
    cal = base_catalog.search(collection="opensarship", **{"opensarship:patch": "Patch_Cal"})
    assert len(cal) == len(manifest) == 351
    assert len(base_catalog) == report.items


def test_landsat8_bands_become_one_item_with_band_assets(base_catalog: ingest.Catalog) -> None:
    (item,) = base_catalog.search(collection="landsat-8")
    assert item.id == "LC80200392015216LGN00"
    assert list(item.assets) == [f"B{i}" for i in range(1, 12)] + ["BQA"]
    assert item.crs == "EPSG:32616"
    assert item.resolution == (30.0, 30.0)
    assert (item.width, item.height) == (627, 603)
    assert item.assets["B8"].resolution == (15.0, 15.0)
    assert item.datetime.startswith("2015-08-04T16:19:21")
    assert item.properties["platform"] == "landsat-8"
    assert item.assets["B5"].common_names == ["nir"]
    # WGS84 bbox of a UTM 16N scene near the Gulf coast (lon -87.5, lat 30.7)
    west, south, east, north = item.bbox
    assert -88 < west < east < -87
    assert 30 < south < north < 31


def test_sentinel1_zip_members_carry_product_and_ais(base_catalog: ingest.Catalog) -> None:
    item = base_catalog.get(
        "S1A_IW_GRDH_1SDV_20150902T102505_20150902T102534_007535_00A699_2D00:"
        "Patch_Cal/Tanker_x6262_y8671"
    )
    props = item.properties
    assert item.crs is None
    assert item.href.startswith("zip://")
    assert props["platform"] == "sentinel-1a"
    assert props["sar:polarizations"] == ["VV", "VH"]
    assert props["sar:instrument_mode"] == "IW"
    assert props["product_type"] == "GRD"
    assert item.datetime == "2015-09-02T10:25:05Z"
    assert props["label"] == "Tanker"
    assert isinstance(props["ais:mmsi"], int)
    assert item.band_names == ["VV", "VH"]
    lon, lat = props["opensarship:longitude"], props["opensarship:latitude"]
    assert item.bbox == [lon, lat, lon, lat]


def test_rescan_updates_instead_of_duplicating(ray_session, l8_dir: Path, l7_rgb: Path) -> None:
    first = ingest.scan([l8_dir, l7_rgb], catalog="rescan")
    assert (first.last_scan.added, first.last_scan.updated) == (2, 0)
    again = ingest.scan([str(l8_dir), str(l7_rgb)], catalog="rescan")
    assert (again.last_scan.added, again.last_scan.updated) == (0, 2)
    assert len(ingest.Catalog.open("rescan")) == 2
    assert "rescan" in ingest.list_catalogs()


def test_search_by_bbox_in_wgs84_whatever_the_item_crs(base_catalog: ingest.Catalog) -> None:
    assert base_catalog.search(bbox=(-88, 30, -87, 31)).ids == ["LC80200392015216LGN00"]
    rgb = base_catalog.search(bbox="-78,24,-77,25")  # the UTM 18N Landsat 7 scene
    assert [i.collection for i in rgb] == ["raster"]
    # Ships are points from Ship.xml: the Pearl River mouth scene of 2015-09-02
    ships = base_catalog.search(bbox=(113.5, 21.5, 115.5, 23), collection="opensarship")
    assert ships
    assert {i.properties["start_datetime"][:10] for i in ships} == {"2015-09-02"}
    assert base_catalog.search(bbox=(0, 0, 1, 1)).ids == []


def test_search_by_time_range_and_properties(base_catalog: ingest.Catalog) -> None:
    s1_2015 = base_catalog.search(datetime="2015-01-01/2015-12-31", platform="sentinel-1")
    assert s1_2015
    assert all(i.datetime.startswith("2015") for i in s1_2015)
    assert "LC80200392015216LGN00" in base_catalog.search(datetime="2015-08-04").ids
    later = base_catalog.search(datetime="2016-06-01/..", platform="sentinel-1")
    assert later
    assert all(i.datetime >= "2016-06-01" for i in later)
    slc = base_catalog.search(sar_product_type="SLC")
    assert slc
    assert all("_SLC_" in i.id for i in slc)
    with_vh = base_catalog.search(**{"sar:polarizations": "VH"}, collection="opensarship")
    assert 0 < len(with_vh) < len(base_catalog.search(collection="opensarship"))
    assert all("1SDV" in i.id for i in with_vh)


def test_free_text_search_is_ranked(base_catalog: ingest.Catalog) -> None:
    result = base_catalog.search(
        text="tanker", datetime="2015-01-01/2016-12-31", platform="sentinel-1", limit=20
    )
    assert len(result) == 20
    assert result.scores == sorted(result.scores, reverse=True)
    assert all(i.properties["label"] == "Tanker" for i in result)
    oil = base_catalog.search(text="oil tanker")
    assert oil
    assert all("oil" in i.properties.get("ais:elaborated_type", "").lower() for i in oil[:5])
    assert base_catalog.search(text="landsat").ids[0] == "LC80200392015216LGN00"
    assert len(base_catalog.search(text="zzzznothing")) == 0


def test_items_export_as_stac(base_catalog: ingest.Catalog) -> None:
    stac = base_catalog.get("LC80200392015216LGN00").to_stac()
    assert stac["type"] == "Feature"
    assert stac["stac_version"] == "1.0.0"
    assert stac["properties"]["proj:epsg"] == 32616
    assert stac["geometry"]["type"] == "Polygon"
    assert stac["assets"]["B4"]["eo:bands"] == [{"name": "B4", "common_name": "red"}]
    assert stac["properties"]["datetime"].startswith("2015-08-04")
    frame = base_catalog.search(text="landsat").to_pandas()
    assert list(frame["id"]) == ["LC80200392015216LGN00"]
