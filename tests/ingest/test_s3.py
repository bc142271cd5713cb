"""Rasters on S3 (a real moto server on loopback): scan, search, read chips, bad objects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eo_ray import ingest
from eo_ray.storage import Workspace

S1_ZIP = "S1A_IW_GRDH_1SDV_20150902T102505_20150902T102534_007535_00A699_2D00.zip"


@pytest.fixture
def s3_rasters(s3_bucket: str, s3_server: str, l7_rgb: Path, l8_dir: Path, sar_dir: Path) -> str:
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_server)
    s3.upload_file(str(l7_rgb), s3_bucket, "scenes/l7/RGB.byte.tif")
    for name in ("l8_B2.tif", "l8_B3.tif", "l8_B4.tif", "l8_B8.tif", "l8_MTL.txt"):
        s3.upload_file(str(l8_dir / name), s3_bucket, f"scenes/l8/{name}")
    s3.upload_file(str(sar_dir / S1_ZIP), s3_bucket, f"scenes/s1/{S1_ZIP}")
    return s3_bucket


def test_scan_search_and_chip_rasters_on_s3(ray_session, s3_rasters: str, l7_rgb: Path) -> None:
    bucket = s3_rasters
    cat = ingest.scan(f"s3://{bucket}/scenes/", catalog="s3scenes")
    assert cat.last_scan.failures == []
    (l8,) = cat.search(collection="landsat-8")  # the MTL sidecar is read from S3 too
    assert l8.id == "LC80200392015216LGN00"
    assert list(l8.assets) == ["B2", "B3", "B4", "B8"]
    assert l8.href == f"s3://{bucket}/scenes/l8/l8_B2.tif"
    ships = cat.search(text="cargo", platform="sentinel-1")
    assert ships
    assert ships[0].href.startswith(f"zip://s3://{bucket}/scenes/s1/")
    (rgb,) = cat.search(collection="raster")
    assert rgb.href == f"s3://{bucket}/scenes/l7/RGB.byte.tif"

    remote = sorted(ingest.read_chips(rgb, 128).take_all(), key=lambda r: r["chip_id"])
    local = sorted(ingest.read_chips(str(l7_rgb), 128).take_all(), key=lambda r: r["chip_id"])
    assert len(remote) == len(local) > 0
    for a, b in zip(remote, local, strict=True):
        np.testing.assert_array_equal(a["image"], b["image"])
        np.testing.assert_array_equal(a["transform"], b["transform"])
    assert remote[0]["source"].startswith("s3://")
    sar = ingest.read_chips(ships[:3], 32, fit="pad", allow_ungeoreferenced=True, max_nodata=1)
    assert [r["image"].shape for r in sar.take_all()] == [(2, 32, 32)] * 3


def test_unreachable_s3_objects_are_reported(ray_session, s3_rasters: str, s3_server: str) -> None:
    import boto3

    bucket = s3_rasters
    cat = ingest.scan(
        [f"s3://{bucket}/scenes/l7/RGB.byte.tif", f"s3://{bucket}/scenes/missing.tif"],
        catalog="s3missing",
    )
    (failure,) = cat.last_scan.failures
    assert failure.path.endswith("missing.tif")
    assert failure.reason == "is not an S3 object or a prefix holding rasters"
    # the object disappears after it was catalogued: reading reports it, nothing else breaks
    boto3.client("s3", endpoint_url=s3_server).delete_object(
        Bucket=bucket, Key="scenes/l7/RGB.byte.tif"
    )
    reader = ingest.ChipReader(cat, ingest.chips.make_options(64, None, None))
    with pytest.raises(ingest.NothingReadableError, match=r"cannot be (opened|read)"):
        reader.dataset()
    assert reader.failures[0].path == f"s3://{bucket}/scenes/l7/RGB.byte.tif"


def test_catalog_on_an_s3_workspace(ray_session, s3_rasters: str) -> None:
    ws = Workspace(f"s3://{s3_rasters}/workspace")
    cat = ingest.scan(f"s3://{s3_rasters}/scenes/l7/", catalog="remote", ws=ws)
    again = ingest.Catalog.open("remote", ws=ws)
    assert len(again) == 1
    assert again.search(bbox=(-78, 24, -77, 25)).ids == [i.id for i in cat]
