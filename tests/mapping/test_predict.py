"""Maps on real rasters equal the model's own prediction, on the source grid, as valid COGs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

import eo_ray as eo
from tests.mapping.conftest import whole_image_proba


def _read(path: str) -> tuple[np.ndarray, rasterio.profiles.Profile, dict]:
    with rasterio.open(path) as src:
        return src.read(), src.profile, {"tags": src.tags(), "src": src.tags(ns="IMAGE_STRUCTURE")}


def test_pixel_map_equals_the_model_on_every_pixel_of_the_source_grid(
    l8_forest, l8_dir: Path, l8_pixels: np.ndarray, tmp_path: Path
) -> None:
    version, forest = l8_forest
    result = eo.mapping.predict(version, [str(l8_dir)], tmp_path, chip_size=200, progress=False)

    assert result.summary()["maps"] == 1
    (output,) = result.outputs
    got, profile, meta = _read(output.uri)
    expected = forest.predict(l8_pixels.reshape(-1, 4).astype(np.float32) * np.float32(1e-4))
    np.testing.assert_array_equal(got[0], expected.reshape(l8_pixels.shape[:2]))
    with rasterio.open(l8_dir / "l8_B4.tif") as band:
        assert profile["crs"] == band.crs
        assert profile["transform"] == band.transform
        assert (profile["height"], profile["width"]) == band.shape
    assert profile["dtype"] == "uint8"
    assert profile["nodata"] == 255
    assert json.loads(meta["tags"]["EO_RAY_CLASSES"]) == ["water", "sparse", "vegetation"]
    assert meta["tags"]["EO_RAY_MODEL"] == f"map-l8-forest:{version.version}"


def test_maps_are_cloud_optimized_geotiffs_with_overviews_and_a_colour_table(
    l8_forest, l8_dir: Path, tmp_path: Path
) -> None:
    version, _ = l8_forest
    result = eo.mapping.predict(version, [str(l8_dir)], tmp_path, progress=False)
    with rasterio.open(result.outputs[0].uri) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.profile["tiled"]
        assert src.block_shapes[0] == (512, 512)
        assert src.compression.name.lower() == "deflate"
        assert src.overviews(1) == [2]
        assert src.colormap(1)[0][:3] == (0x21, 0x66, 0xAC)
        assert src.colormap(1)[255][3] == 0  # nodata is transparent


@pytest.fixture(scope="module")
def l7_expected(l7_segmenter, l7_rgb: Path) -> tuple[np.ndarray, np.ndarray]:
    """The segmenter's classes over the whole Landsat 7 image (255 where it has no data),
    and the image's validity mask."""
    _, model = l7_segmenter
    with rasterio.open(l7_rgb) as src:
        image = src.read()
    valid = (image != 0).any(axis=0)
    return np.where(valid, whole_image_proba(model, image, 1 / 255).argmax(0), 255), valid


def test_chip_model_without_overlap_equals_a_whole_image_run_and_keeps_nodata(
    l7_segmenter, l7_expected, l7_rgb: Path, tmp_path: Path
) -> None:
    version, _ = l7_segmenter
    expected, valid = l7_expected

    result = eo.mapping.predict(version, [str(l7_rgb)], tmp_path, chip_size=128, progress=False)

    got, _, _ = _read(result.outputs[0].uri)
    np.testing.assert_array_equal(got[0], expected)
    assert (~valid).sum() > 100_000  # the scene really has a nodata margin
    assert result.outputs[0].skipped_windows > 0  # all-nodata windows never met the model


def test_overlapping_windows_blend_without_seams(
    l7_segmenter, l7_expected, l7_rgb: Path, tmp_path: Path
) -> None:
    version, _ = l7_segmenter
    expected, _ = l7_expected

    result = eo.mapping.predict(
        version, [str(l7_rgb)], tmp_path, chip_size=96, overlap=24, progress=False
    )

    got, _, _ = _read(result.outputs[0].uri)
    np.testing.assert_array_equal(got[0], expected)


@pytest.mark.parametrize("proba_dtype", ["float32", "uint8"])
def test_probability_maps_hold_the_model_probabilities(
    l7_segmenter, l7_rgb: Path, tmp_path: Path, proba_dtype: str
) -> None:
    version, model = l7_segmenter
    with rasterio.open(l7_rgb) as src:
        image = src.read()
    valid = (image != 0).any(axis=0)
    expected = whole_image_proba(model, image, 1 / 255)

    result = eo.mapping.predict(
        version,
        [str(l7_rgb)],
        tmp_path,
        chip_size=128,
        output="both",
        proba_dtype=proba_dtype,
        progress=False,
    )

    (output,) = result.outputs
    assert Path(output.uri).exists()
    got, profile, _ = _read(output.proba_uri)
    assert profile["count"] == 4
    assert profile["dtype"] == proba_dtype
    if proba_dtype == "uint8":
        assert (got[:, ~valid] == 255).all()
        np.testing.assert_allclose(got[:, valid] / 254.0, expected[:, valid], atol=0.5 / 254 + 1e-6)
    else:
        assert np.isnan(got[:, ~valid]).all()
        np.testing.assert_allclose(got[:, valid], expected[:, valid], atol=1e-5)


def test_nodata_overrides_a_file_that_declares_none(ray_session, data_dir: Path, tmp_path: Path):
    from sklearn.tree import DecisionTreeClassifier

    tiff = data_dir / "s2_eolearn_slovenia" / "import-tiff-test1.tiff"
    with rasterio.open(tiff) as src:
        assert src.nodata is None
        pixels = src.read(1)
    x = pixels.reshape(-1, 1).astype(np.float32)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    tree.fit(x, (x[:, 0] > np.median(x)).astype(int))
    version = eo.models.register(
        "map-s2-tree", tree, "sklearn", input="pixel", classes=["low", "high"]
    )
    missing = int(pixels[0, 0])

    result = eo.mapping.predict(version, [str(tiff)], tmp_path, nodata=missing, progress=False)

    got, _, _ = _read(result.outputs[0].uri)
    expected = np.where(pixels == missing, 255, tree.predict(x).reshape(pixels.shape))
    np.testing.assert_array_equal(got[0], expected)
    assert (pixels == missing).sum() >= 1


def test_eopatch_land_cover_map_equals_the_classifier(ray_session, tmp_path: Path) -> None:
    """The Slovenia EOPatch (real Sentinel-2 features, written on its grid): the map of a
    land-cover classifier equals the classifier on every pixel; NaN pixels are nodata."""
    from sklearn.ensemble import RandomForestClassifier

    patch = eo.datasets.load_s2_slovenia()
    ndvi = patch.data["data/NDVI"][..., 0]
    features = {
        "ndvi_max": np.nanmax(ndvi, axis=0),
        "ndvi_mean": np.nanmean(ndvi, axis=0),
        "dem": patch.data["data_timeless/DEM"][..., 0],
    }
    for name in features:  # a corner without data in every band
        features[name] = features[name].copy()
        features[name][:3, :3] = np.nan
    tiff = patch.to_geotiff(tmp_path / "eopatch.tif", features)
    x = np.stack([f.ravel() for f in features.values()], -1)
    labels = patch.data["mask_timeless/LULC"][..., 0].ravel()
    ok = np.isfinite(x).all(axis=1)
    forest = RandomForestClassifier(10, max_depth=6, random_state=0).fit(x[ok], labels[ok])
    classes = [str(c) for c in forest.classes_]
    version = eo.models.register(
        "map-eopatch-forest", forest, "sklearn", input="pixel", classes=classes,
        bands=list(features),
    )  # fmt: skip

    result = eo.mapping.predict(version, [str(tiff)], tmp_path / "maps", progress=False)

    got, profile, _ = _read(result.outputs[0].uri)
    assert profile["crs"].to_epsg() == 32633
    expected = np.full(len(x), 255)
    expected[ok] = forest.predict(x[ok]).astype(int)
    index = {int(c): i for i, c in enumerate(forest.classes_)}
    expected[ok] = [index[v] for v in expected[ok]]
    np.testing.assert_array_equal(got[0].ravel(), expected)


def test_maps_are_searchable_items_of_the_map_catalog_with_lineage(
    l8_forest, l8_dir: Path, tmp_path: Path
) -> None:
    version, _ = l8_forest
    result = eo.mapping.predict(version, [str(l8_dir)], tmp_path, chip_size=256, progress=False)
    record = eo.mapping.get(result.outputs[0].uri.rsplit("/", 1)[-1][: -len(".tif")])

    assert record.model == "map-l8-forest"
    assert record.model_version == version.version
    assert any(s.endswith("l8_B4.tif") for s in record.sources)
    assert record.parameters["chip_size"] == [256, 256]
    assert record.uri == result.outputs[0].uri
    found = eo.ingest.Catalog.open("maps").search(text="map-l8-forest")
    assert record.map_id in found.ids
    stac = next(i for i in found if i.id == record.map_id).to_stac()
    assert stac["properties"]["eo_ray:model"] == "map-l8-forest"
    assert any(r.map_id == record.map_id for r in eo.mapping.list())


def test_maps_go_to_s3(l8_forest, l8_dir: Path, s3_bucket: str, tmp_path: Path) -> None:
    import boto3

    version, _ = l8_forest
    out = f"s3://{s3_bucket}/maps"
    result = eo.mapping.predict(version, [str(l8_dir)], out, catalog=None, progress=False)

    (output,) = result.outputs
    assert output.uri.startswith(out)
    key = output.uri[len(f"s3://{s3_bucket}/") :]
    body = boto3.client("s3").get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    local = tmp_path / "map.tif"
    local.write_bytes(body)
    local_result = eo.mapping.predict(version, [str(l8_dir)], tmp_path / "local", progress=False)
    np.testing.assert_array_equal(_read(str(local))[0], _read(local_result.outputs[0].uri)[0])
    sidecar = key[: -len(".tif")] + ".map.json"
    assert boto3.client("s3").head_object(Bucket=s3_bucket, Key=sidecar)
