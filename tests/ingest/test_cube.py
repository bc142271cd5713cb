"""Datacubes from real Slovenia dates: values equal direct reads, warped items land on the
right pixels, temporal transforms on the Dataset, and every bad input's sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window

from eo_ray import ingest
from eo_ray.datasets import load_s2_slovenia
from eo_ray.ingest import InvalidOptionError
from eo_ray.ingest.temporal import composite, interpolate, time_grid

DATES = [0, 1, 2, 3, 5, 6, 9]  # patch dates written as files (one day each)
WARPED = 4  # 2015-09-09: written as a 5 m crop without nodata, warped back onto the grid
CROP = (20, 30, 50, 40)  # row, col, height, width of the warped crop on the patch grid
CHIP = 32
# The reference scenes carry no dates: these files name them (a documented choice).
REFERENCE_DATES = ["2017-01-01", "2017-02-01", "2017-03-01", "2017-04-01", "2017-05-01"]
S2_BANDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10"]
S2_BANDS += ["B11", "B12"]


@pytest.fixture(scope="module")
def patch():
    return load_s2_slovenia()


def _bands(patch, t: int) -> dict[str, np.ndarray]:
    ndvi = patch.data["data/NDVI"][t, ..., 0].copy()
    ndvi[patch.data["mask/IS_DATA"][t, ..., 0] == 0] = np.nan
    return {"NDVI": ndvi, "CLM": patch.data["mask/CLM"][t, ..., 0]}


def _write_crop(patch, t: int, path: Path) -> None:
    """Date ``t`` cropped to CROP and upsampled 2x (5 m), float32 without a nodata value."""
    row, col, h, w = CROP
    bands = _bands(patch, t)
    data = np.stack(
        [np.kron(b[row : row + h, col : col + w], np.ones((2, 2))) for b in bands.values()]
    )
    a, _, c, _, e, f = patch.transform
    transform = Affine(a / 2, 0, c + col * a, 0, e / 2, f + row * e)
    with rasterio.open(
        path, "w", driver="GTiff", width=2 * w, height=2 * h, count=2, dtype="float32",
        crs=patch.crs, transform=transform,
    ) as dst:  # fmt: skip
        dst.write(data.astype(np.float32))
        dst.descriptions = tuple(bands)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory, patch) -> dict[str, Path]:
    """Per-date GeoTIFFs of the patch (NDVI and its cloud mask CLM), named by date."""
    root = tmp_path_factory.mktemp("cube")
    series = root / "series"
    series.mkdir()
    for t in DATES:
        patch.to_geotiff(series / f"ndvi_{patch.timestamps[t][:10]}.tif", _bands(patch, t))
    _write_crop(patch, WARPED, series / f"ndvi_{patch.timestamps[WARPED][:10]}_5m.tif")
    reference = root / "reference"
    reference.mkdir()
    scenes = patch.reference_scenes  # 5 × 101 × 100 × 13: the patch's own grid size
    assert scenes.shape[1:3] == patch.shape
    for date, scene in zip(REFERENCE_DATES, scenes, strict=True):
        arrays = {band: scene[..., k] for k, band in enumerate(S2_BANDS)}
        patch.to_geotiff(reference / f"s2_{date.replace('-', '')}.tif", arrays)
    return {"root": root, "series": series, "reference": reference}


@pytest.fixture(scope="module")
def cube_rows(ray_session, folders):
    ds = ingest.read_cube(folders["series"], chip_size=CHIP, cloud_band="CLM")
    return sorted(ds.take_all(), key=lambda r: (r["row_off"], r["col_off"]))


def _file_of(folders, t: int) -> Path:
    return next(folders["series"].glob(f"ndvi_{load_s2_slovenia().timestamps[t][:10]}*.tif"))


def test_cube_values_equal_direct_reads(cube_rows, folders, patch) -> None:
    order = sorted([*DATES, WARPED])
    assert len(cube_rows) == 4 * 4  # 101 × 100 in 32-pixel chips, padded
    for row in cube_rows:
        assert row["image"].shape == (len(order), 1, CHIP, CHIP)
        assert row["valid"].shape == (len(order), CHIP, CHIP)
        assert list(row["bands"]) == ["NDVI"]
        assert row["crs"] == patch.crs
        expected = Affine(*patch.transform) @ Affine.translation(row["col_off"], row["row_off"])
        np.testing.assert_allclose(row["transform"], tuple(expected)[:6])
    times = cube_rows[0]["times"].astype("datetime64[D]").astype(str).tolist()
    assert times == [patch.timestamps[t][:10] for t in order]
    window = Window(CHIP, 2 * CHIP, CHIP, CHIP)  # col 32, row 64
    row = next(r for r in cube_rows if (r["row_off"], r["col_off"]) == (2 * CHIP, CHIP))
    for k, t in enumerate(order):
        if t == WARPED:
            continue
        with rasterio.open(_file_of(folders, t)) as src:
            ndvi, clm = src.read(window=window, boundless=True, fill_value=np.nan)
        np.testing.assert_array_equal(row["image"][k, 0], ndvi)
        np.testing.assert_array_equal(row["valid"][k], ~np.isnan(ndvi) & (clm == 0))
    edge = next(r for r in cube_rows if (r["row_off"], r["col_off"]) == (3 * CHIP, 3 * CHIP))
    assert not edge["valid"][:, 101 - 3 * CHIP :, :].any()  # padding beyond the grid
    assert edge["valid"][0, : 101 - 3 * CHIP, : 100 - 3 * CHIP].all()  # 07-11 is clear


def test_a_warped_item_lands_on_the_right_pixels(cube_rows, patch) -> None:
    k = sorted([*DATES, WARPED]).index(WARPED)
    full = np.full((4 * CHIP, 4 * CHIP), np.nan, np.float32)
    valid = np.zeros((4 * CHIP, 4 * CHIP), bool)
    for r in cube_rows:
        full[r["row_off"] : r["row_off"] + CHIP, r["col_off"] : r["col_off"] + CHIP] = r["image"][
            k, 0
        ]
        valid[r["row_off"] : r["row_off"] + CHIP, r["col_off"] : r["col_off"] + CHIP] = r["valid"][
            k
        ]
    row, col, h, w = CROP
    inside = np.zeros_like(valid)
    inside[row : row + h, col : col + w] = True
    expected = patch.data["data/NDVI"][WARPED, row : row + h, col : col + w, 0]
    np.testing.assert_array_equal(full[row : row + h, col : col + w], expected)
    assert valid[inside].all()  # 09-09 is clear
    assert not valid[~inside].any()  # off the crop's footprint (no nodata value: its alpha)


def test_multiband_reference_scenes_and_index_per_date(ray_session, folders, patch) -> None:
    ds = ingest.read_cube(folders["reference"], bands=["B04", "B08"], chip_size=(101, 100))
    (row,) = ds.take_all()
    scenes = patch.reference_scenes
    assert row["image"].shape == (5, 2, 101, 100)
    np.testing.assert_array_equal(row["image"][:, 0], scenes[..., 3])
    np.testing.assert_array_equal(row["image"][:, 1], scenes[..., 7])
    assert row["times"].astype("datetime64[D]").astype(str).tolist() == REFERENCE_DATES
    (with_index,) = ingest.add_index(ds, "NDVI", bands={"nir": "B08", "red": "B04"}).take_all()
    red, nir = scenes[..., 3], scenes[..., 7]
    np.testing.assert_allclose(with_index["ndvi"], (nir - red) / (nir + red), rtol=1e-6)
    window = ingest.read_cube(
        folders["reference"], start="2017-02-01", end="2017-03-15", chip_size=50, edge="drop"
    ).take_all()
    assert len(window) == 4
    assert window[0]["image"].shape == (2, 13, 50, 50)


def test_interpolate_and_composite_cubes(ray_session, folders, cube_rows) -> None:
    ds = ingest.read_cube(folders["series"], chip_size=CHIP, cloud_band="CLM")
    start, end = "2015-07-11", "2016-01-01"
    filled = {
        r["chip_id"]: r for r in ingest.interpolate(ds, "16D", start=start, end=end).take_all()
    }
    grid = time_grid(start, end, "16D")
    for row in cube_rows[:3]:
        got = filled[row["chip_id"]]
        expected = interpolate(row["image"], row["times"], row["valid"][:, None], grid)
        np.testing.assert_array_equal(got["image"], expected)
        assert got["times"].astype("datetime64[D]").tolist() == grid.tolist()
        np.testing.assert_array_equal(got["valid"], ~np.isnan(expected[:, 0]))
    monthly = ingest.composite(ds, "1MS", "max").take(1)[0]
    source = next(r for r in cube_rows if r["chip_id"] == monthly["chip_id"])
    expected, starts = composite(
        source["image"], source["times"], source["valid"][:, None], "1MS", "max"
    )
    np.testing.assert_array_equal(monthly["image"], expected)
    assert len(starts) == len(monthly["times"]) == 6  # July to December


def _refused(match: str, **kw) -> str:
    with pytest.raises(InvalidOptionError, match=match) as info:
        ingest.read_cube(**kw)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_bad_inputs_are_one_sentence(ray_session, folders, patch, tmp_path: Path) -> None:
    series = folders["series"]
    _refused("'end' parameter of read_cube", source=series, start="2016-01-01", end="2015-01-01")
    _refused("'resampling' parameter of read_cube", source=series, resampling="sharpest")
    _refused("'start' parameter of read_cube", source=series, start="2030-01-01")
    one = tmp_path / "one"
    one.mkdir()
    patch.to_geotiff(one / "ndvi_2015-07-11.tif", _bands(patch, 0))
    message = _refused("min_dates=2", source=one, min_dates=2)
    assert "1 date(s)" in message
    _refused("'cloud_band' parameter", source=one, cloud_band="SCL_MASK")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    patch.to_geotiff(mixed / "ndvi_2015-07-11.tif", _bands(patch, 0))
    patch.to_geotiff(mixed / "ndvi_2015-07-31.tif", {"NDVI": _bands(patch, 1)["NDVI"]})
    message = _refused("same bands at every date", source=mixed)
    assert "[NDVI, CLM] on 2015-07-11" in message
    assert len(ingest.read_cube(mixed, bands=["NDVI"], chip_size=64).take_all()) == 4
    undated = tmp_path / "undated"
    undated.mkdir()
    patch.to_geotiff(undated / "ndvi_2015-07-11.tif", _bands(patch, 0))
    patch.to_geotiff(undated / "ndvi_copy.tif", _bands(patch, 1))
    message = _refused("dated items", source=undated)
    assert "ndvi_copy.tif" in message


def test_landsat_qa_band_marks_clouds_invalid(ray_session, l8_dir: Path) -> None:
    from eo_ray.ingest.preprocess import qa_cloud_mask

    rows = ingest.read_cube(l8_dir, bands=["B4"], chip_size=256, edge="drop").take_all()
    row = next(r for r in rows if (r["row_off"], r["col_off"]) == (256, 0))
    assert row["image"].shape == (1, 1, 256, 256)
    with rasterio.open(l8_dir / "l8_BQA.tif") as src:
        qa = src.read(1, window=Window(0, 256, 256, 256))
    with rasterio.open(l8_dir / "l8_B4.tif") as src:
        red = src.read(1, window=Window(0, 256, 256, 256))
    np.testing.assert_array_equal(row["image"][0, 0], red)
    clouds = qa_cloud_mask(qa, "pre-collection")
    assert clouds.any()
    np.testing.assert_array_equal(row["valid"][0], ~clouds)


def test_a_target_crs_and_resolution_make_the_grid(ray_session, folders, patch) -> None:
    ds = ingest.read_cube(
        folders["reference"], bands=["B04"], crs="EPSG:3857", resolution=20.0, chip_size=64
    )
    rows = ds.take_all()
    assert {r["crs"] for r in rows} == {"EPSG:3857"}
    first = min(rows, key=lambda r: (r["row_off"], r["col_off"]))
    assert first["transform"][0] == 20.0
    assert first["transform"][4] == -20.0
    # the patch's centre pixel, looked up through the cube's grid, has the patch's value
    from rasterio.warp import transform as warp_points

    a, _, c, _, e, f = patch.transform
    x, y = c + 50.5 * a, f + 50.5 * e
    (mx,), (my,) = warp_points(patch.crs, "EPSG:3857", [x], [y])
    for row in rows:
        col, r = ~Affine(*row["transform"]) @ (mx, my)
        if 0 <= r < 64 and 0 <= col < 64:
            near = patch.reference_scenes[0, 49:52, 49:52, 3]
            assert near.min() <= row["image"][0, 0, int(r), int(col)] <= near.max()
            assert row["valid"][0, int(r), int(col)]
