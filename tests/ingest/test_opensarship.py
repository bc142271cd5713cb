"""The reference use case: OpenSARShip as a labelled, fixed-size chip dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eo_ray import ingest


@pytest.fixture(scope="module")
def ships(ray_session) -> pd.DataFrame:
    return ingest.opensarship_chips(64).to_pandas()


def test_all_351_chips_with_the_manifest_classes(ships: pd.DataFrame, sar_dir: Path) -> None:
    manifest = pd.read_csv(sar_dir / "chips_manifest.csv")
    assert len(ships) == 351
    assert ships["label"].value_counts().to_dict() == manifest["class"].value_counts().to_dict()
    # every manifest chip is there, with its class
    got = {
        (cid.split(":", 1)[0], row)
        for cid, row in zip(ships["item_id"], ships["label"], strict=False)
    }
    want = {
        (z.removesuffix(".zip"), c)
        for z, c in zip(manifest["zip"], manifest["class"], strict=False)
    }
    assert got == want
    classes = ingest.opensarship_classes()
    assert classes[:3] == ["Cargo", "Tanker", "Other Type"]
    assert (ships["label_id"] == ships["label"].map(classes.index)).all()


def test_fixed_size_images_and_channels(ships: pd.DataFrame, sar_dir: Path) -> None:
    manifest = pd.read_csv(sar_dir / "chips_manifest.csv")
    assert {img.shape for img in ships["image"]} == {(2, 64, 64)}
    assert {img.dtype for img in ships["image"]} == {np.dtype("float32")}
    assert (
        ships["channels"].value_counts().to_dict() == manifest["channels"].value_counts().to_dict()
    )
    single = ships[ships["channels"] == 1].iloc[0]
    assert not single["image"][1].any()  # the missing polarisation is zero
    assert list(single["bands"]) == ["VV", "VH"]


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # bare chips
def test_pixels_match_the_chip_files(ships: pd.DataFrame) -> None:
    import rasterio

    from eo_ray.ingest._gdal import gdal_path

    small = ships[ships["height"] == 64].iloc[0]  # every row is 64 x 64 after fitting
    with rasterio.open(gdal_path(small["source"])) as src:
        data = src.read()
    h, w = data.shape[1:]
    r0, c0 = h // 2 - 32, w // 2 - 32
    top, left = max(0, -r0), max(0, -c0)
    rh, rw = min(64, h - max(r0, 0)), min(64, w - max(c0, 0))
    np.testing.assert_array_equal(
        small["image"][: data.shape[0], top : top + rh, left : left + rw],
        data[:, max(r0, 0) : max(r0, 0) + rh, max(c0, 0) : max(c0, 0) + rw],
    )


def test_ais_fields_where_present(ships: pd.DataFrame) -> None:
    with_ais = ships[ships["ais:mmsi"].notna()]
    assert len(with_ais) > 300
    assert with_ais["ais:mmsi"].astype("int64").gt(100_000_000).all()
    assert ships["ais:name"].notna().sum() > 0
    assert ships["opensarship:longitude"].between(-180, 180).all()
    assert set(ships["platform"]) == {"sentinel-1a"}
