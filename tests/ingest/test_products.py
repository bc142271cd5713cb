"""Product recognition from names and sidecars (no Ray)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from eo_ray.ingest._sensors import Landsat, Landsat8, OpenSARShipChip, parse_ship_xml
from eo_ray.ingest.products import Product, identify, parse_datetime, product_by_name

S1_ZIP = "S1A_IW_GRDH_1SDV_20150902T102505_20150902T102534_007535_00A699_2D00.zip"


def test_sentinel1_name_gives_platform_mode_product_polarisations_and_times() -> None:
    product, groups = identify("measurement/s1a-iw-grd-vv.tiff", S1_ZIP)
    props = product.properties(groups, {})
    assert product.name == "sentinel-1"
    assert props["platform"] == "sentinel-1a"
    assert props["sar:instrument_mode"] == "IW"
    assert props["sar:product_type"] == "GRD"
    assert props["sar:polarizations"] == ["VV", "VH"]
    assert props["start_datetime"] == "2015-09-02T10:25:05Z"
    assert props["end_datetime"] == "2015-09-02T10:25:34Z"
    assert props["datetime"] == props["start_datetime"]
    assert product.band_names(groups, 2) == ["VV", "VH"]


def test_single_polarisation_slc_name() -> None:
    name = "S1A_IW_SLC__1SSV_20150217T204257_20150217T204324_004668_005C34_2DC9.zip"
    product, groups = identify("x.tif", name)
    props = product.properties(groups, {})
    assert props["sar:product_type"] == "SLC"
    assert props["sar:polarizations"] == ["VV"]


def test_opensarship_chip_name_and_ship_xml(sar_dir: Path) -> None:
    product, groups = identify("Patch_Cal/Other Type_x909_y5436.tif", S1_ZIP)
    assert product is OpenSARShipChip
    assert groups["label"] == "Other Type"
    with zipfile.ZipFile(sar_dir / S1_ZIP) as zf:
        ships = parse_ship_xml(zf.read("Ship.xml"))  # this file ends with '<\ShipList>'
    assert len(ships) == 13
    props = product.properties(groups, {"ships": ships})
    assert props["label"] == "Other Type"
    assert props["opensarship:center"] == [909, 5436]
    assert isinstance(props["ais:mmsi"], int)
    assert product.location(props) == (
        props["opensarship:longitude"],
        props["opensarship:latitude"],
    )
    assert not product.georeferenced


def test_landsat_resolves_mission_from_mtl(l8_dir: Path) -> None:
    product, groups = identify("l8_B4.tif")
    assert product is Landsat
    assert groups == {"scene": "l8", "band": "B4"}
    assert product.sidecar_names(groups) == ("l8_MTL.txt",)
    mtl = product.parse_sidecar("l8_MTL.txt", (l8_dir / "l8_MTL.txt").read_bytes())
    mission = product.resolve(groups, mtl)
    assert mission is Landsat8
    props = mission.properties(groups, mtl)
    assert props["platform"] == "landsat-8"
    assert props["datetime"].startswith("2015-08-04T16:19:21")
    assert props["landsat:scene_id"] == "LC80200392015216LGN00"
    assert props["eo:cloud_cover"] == 11.08


def test_landsat_date_from_scene_id_without_mtl() -> None:
    product, groups = identify("LC08_L1TP_020039_20150804_20170226_01_T1_B5.TIF")
    mission = product.resolve(groups, {})
    assert mission is Landsat8
    assert mission.properties(groups, {})["datetime"] == "2015-08-04T00:00:00Z"
    assert mission.common_names["B5"] == "nir"


def test_sentinel2_band_file() -> None:
    product, groups = identify("T33UVP_20200101T100309_B08_10m.jp2")
    assert product.name == "sentinel-2"
    assert product.separate_files
    assert groups["band"] == "B08"
    assert groups["tile"] == "33UVP"
    assert product.properties(groups, {})["datetime"] == "2020-01-01T10:03:09Z"


def test_unknown_file_is_a_plain_raster() -> None:
    product, groups = identify("RGB.byte.tif")
    assert product is Product
    assert groups == {}
    assert product.band_names(groups, 3) == ["band_1", "band_2", "band_3"]


def test_product_lookup_and_datetime_parsing() -> None:
    assert product_by_name("landsat-8") is Landsat8
    assert product_by_name("nope") is None
    assert parse_datetime("20150823T221233", "%Y%m%dT%H%M%S") == "2015-08-23T22:12:33Z"
