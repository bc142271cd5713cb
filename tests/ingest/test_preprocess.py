"""Preprocessing transforms on real chips: dB, normalisation, indices, QA clouds, reprojection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import rasterio
from affine import Affine

from eo_ray import ingest
from eo_ray.ingest.preprocess import qa_cloud_mask


@pytest.fixture(scope="module")
def l8_chips(base_catalog: ingest.Catalog):
    l8 = base_catalog.search(collection="landsat-8")
    return ingest.read_chips(l8, 96, bands=["B3", "B4", "B5", "BQA"]).materialize()


def test_qa_cloud_mask_bits() -> None:
    qa = np.array([20480, 61440, 53248, 28672, 2800, 1 << 3], dtype=np.uint16)
    np.testing.assert_array_equal(
        qa_cloud_mask(qa, "pre-collection"), [False, True, True, True, False, False]
    )
    np.testing.assert_array_equal(
        qa_cloud_mask(qa, "collection-2"), [False, False, False, False, True, True]
    )
    with pytest.raises(ingest.InvalidOptionError, match="'scheme' parameter"):
        qa_cloud_mask(qa, "collection-9")


def test_spectral_indices_match_the_formula(l8_chips, l8_dir: Path) -> None:
    rows = ingest.spectral_index(ingest.spectral_index(l8_chips, "NDVI"), "ndwi").take(3)
    for row in rows:
        green, red, nir = (row["image"][i].astype(np.float32) for i in range(3))
        np.testing.assert_allclose(row["ndvi"], (nir - red) / (nir + red), rtol=1e-6)
        np.testing.assert_allclose(row["ndwi"], (green - nir) / (green + nir), rtol=1e-6)
        assert row["ndvi"].shape == (96, 96)
    with pytest.raises(ValueError, match="'name' parameter"):
        ingest.SpectralIndex("XYZ")


def test_cloud_mask_from_the_quality_band(l8_chips, l8_dir: Path) -> None:
    rows = ingest.cloud_mask(l8_chips, apply=True, drop_qa=True).take_all()
    with rasterio.open(l8_dir / "l8_BQA.tif") as src:
        qa = src.read(1)
    row = max(rows, key=lambda r: r["cloud_fraction"])
    window = qa[row["row_off"] : row["row_off"] + 96, row["col_off"] : row["col_off"] + 96]
    expected = ((window >> 14) & 3) == 3
    expected |= ((window >> 12) & 3) == 3
    np.testing.assert_array_equal(row["cloud_mask"], expected)
    assert row["cloud_fraction"] == pytest.approx(expected.mean())
    assert row["cloud_fraction"] > 0
    assert list(row["bands"]) == ["B3", "B4", "B5"]
    assert row["image"].shape == (3, 96, 96)
    assert not row["image"][:, expected].any()  # cloudy pixels blanked
    total = sum(r["cloud_fraction"] for r in rows) / len(rows)
    assert 0 < total < 1


def test_band_statistics_and_normalisation(l8_chips) -> None:
    stats = ingest.band_stats(l8_chips)
    stack = np.stack([r["image"] for r in l8_chips.take_all()]).astype(np.float64)
    np.testing.assert_allclose(stats.mean, stack.mean(axis=(0, 2, 3)), rtol=1e-9)
    np.testing.assert_allclose(stats.std, stack.std(axis=(0, 2, 3)), rtol=1e-6)
    assert stats.bands == ["B3", "B4", "B5", "BQA"]
    normed = np.stack([r["image"] for r in ingest.normalize(l8_chips, stats).take_all()])
    assert normed.dtype == np.float32
    np.testing.assert_allclose(normed.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(normed.std(axis=(0, 2, 3)), 1, atol=1e-4)


def test_sar_to_decibels(ray_session) -> None:
    linear = ingest.opensarship_chips(32, fit="resize").take(4)
    db = ingest.to_decibel(ingest.opensarship_chips(32, fit="resize")).take(4)
    for a, b in zip(linear, db, strict=True):
        assert a["chip_id"] == b["chip_id"]
        real = a["image"][: a["channels"]]
        np.testing.assert_allclose(
            b["image"][: a["channels"]], 10 * np.log10(np.maximum(real, 1e-10)), rtol=1e-5
        )


def test_reprojection_keeps_chips_georeferenced(ray_session, l7_rgb: Path) -> None:
    from rasterio.warp import transform as warp

    chips = ingest.read_chips(str(l7_rgb), 64, max_nodata=0.0)
    row = ingest.reproject(chips, "EPSG:4326", resolution=0.003).take(1)[0]
    assert row["crs"] == "EPSG:4326"
    assert row["transform"][0] == pytest.approx(0.003)
    assert row["image"].shape[0] == 3
    assert (row["height"], row["width"]) == row["image"].shape[1:]
    # the chip's UTM centre lands inside the warped chip, near its centre
    with rasterio.open(l7_rgb) as src:
        x, y = src.xy(row["row_off"] + 32, row["col_off"] + 32)
    (lon,), (lat,) = warp("EPSG:32618", "EPSG:4326", [x], [y])
    col, line = ~Affine(*row["transform"]) @ (lon, lat)
    assert abs(col - row["width"] / 2) < 2
    assert abs(line - row["height"] / 2) < 2


def _pickled_columns(ds) -> list[str]:
    schema = ds.schema().base_schema
    return [f.name for f in schema if "pickled" in str(f.type) or "PythonObject" in str(f.type)]


def test_user_transform_keeps_typed_columns_with_arrow_friendly(l8_chips) -> None:
    def scaled(batch: dict) -> dict:  # a user's function: float image and a tag list
        batch["image"] = batch["image"].astype(np.float32) / 10000.0
        batch["tags"] = np.array([["landsat", "toa"]] * len(batch["image"]))
        return batch

    raw = l8_chips.map_batches(scaled, batch_format="numpy")
    assert "bands" in _pickled_columns(raw)  # what arrow_friendly is for

    ds = l8_chips.map_batches(lambda b: ingest.arrow_friendly(scaled(b)), batch_format="numpy")
    schema = ds.schema().base_schema
    assert _pickled_columns(ds) == []
    assert schema.field("bands").type == pa.list_(pa.string())
    assert schema.field("tags").type == pa.list_(pa.string())
    assert schema.field("image").type.value_type == pa.float32()
    row = ds.take(1)[0]
    assert list(row["bands"]) == ["B3", "B4", "B5", "BQA"]
    assert list(row["tags"]) == ["landsat", "toa"]
    assert row["image"].shape == (4, 96, 96)
