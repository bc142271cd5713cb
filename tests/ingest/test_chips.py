"""read_chips: georeferencing, edges, nodata, band selection and stacking, samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window

from eo_ray import ingest
from eo_ray.ingest import InvalidOptionError


def _rows(ds) -> list[dict]:
    return sorted(ds.take_all(), key=lambda r: (r["item_id"], r["row_off"], r["col_off"]))


def test_chips_equal_an_independent_window_read_and_are_georeferenced(
    ray_session, l7_rgb: Path
) -> None:
    rows = _rows(ingest.read_chips(str(l7_rgb), 100, stride=80, max_nodata=1.0))
    with rasterio.open(l7_rgb) as src:
        assert len(rows) == len(range(0, src.height - 99, 80)) * len(range(0, src.width - 99, 80))
        for row in rows[::7]:
            window = Window(row["col_off"], row["row_off"], row["width"], row["height"])
            expected = src.read(window=window)
            assert row["image"].dtype == np.uint8
            assert row["image"].shape == (3, 100, 100)
            np.testing.assert_array_equal(row["image"], expected)
            # the chip's pixel (0, 0) is where the source's (row_off, col_off) is on the map
            chip_origin = Affine(*row["transform"]) @ (0, 0)
            assert chip_origin == pytest.approx(src.xy(row["row_off"], row["col_off"], offset="ul"))
            assert row["transform"][0] == src.transform.a
            assert row["crs"] == "EPSG:32618"
            # a centre pixel too, through the full affine
            cx, cy = Affine(*row["transform"]) @ (50.5, 20.5)
            assert (cx, cy) == pytest.approx(src.xy(row["row_off"] + 20, row["col_off"] + 50))
    assert {"chip_id", "source", "item_id", "bands", "nodata_fraction"} <= rows[0].keys()
    assert rows[0]["source"] == str(l7_rgb)


def test_edge_modes(ray_session, l7_rgb: Path) -> None:
    # 718 x 791 pixels, 256-pixel chips: 2 x 3 full windows, 3 x 4 with the edges
    drop = ingest.read_chips(str(l7_rgb), 256, max_nodata=1.0).take_all()
    pad = _rows(ingest.read_chips(str(l7_rgb), 256, edge="pad", max_nodata=1.0))
    snap = _rows(ingest.read_chips(str(l7_rgb), 256, edge="snap", max_nodata=1.0))
    assert (len(drop), len(pad), len(snap)) == (6, 12, 12)
    corner = pad[-1]
    assert (corner["row_off"], corner["col_off"]) == (512, 768)
    assert corner["image"].shape == (3, 256, 256)
    assert not corner["image"][:, 718 - 512 :, :].any()  # padded with nodata (0)
    with rasterio.open(l7_rgb) as src:
        expected = src.read(window=Window(768, 512, 791 - 768, 718 - 512))
    np.testing.assert_array_equal(corner["image"][:, : 718 - 512, : 791 - 768], expected)
    assert snap[-1]["row_off"] == 718 - 256
    assert snap[-1]["col_off"] == 791 - 256


def test_nodata_threshold_drops_mostly_empty_chips(ray_session, l7_rgb: Path) -> None:
    every = ingest.read_chips(str(l7_rgb), 64, max_nodata=1.0).take_all()
    strict = ingest.read_chips(str(l7_rgb), 64, max_nodata=0.0).take_all()
    half = ingest.read_chips(str(l7_rgb), 64).take_all()
    assert len(strict) < len(half) < len(every)
    assert all(r["nodata_fraction"] == 0 and (r["image"] != 0).any(axis=0).all() for r in strict)
    assert all(r["nodata_fraction"] <= 0.5 for r in half)
    assert any(r["nodata_fraction"] == 1.0 for r in every)


def test_band_selection_by_name_common_name_and_index(
    base_catalog: ingest.Catalog, l8_dir: Path
) -> None:
    l8 = base_catalog.search(collection="landsat-8")
    by_name = _rows(ingest.read_chips(l8, 128, bands=["B4", "B3", "B2"]))
    by_common = _rows(ingest.read_chips(l8, 128, bands=["red", "green", "blue"]))
    by_index = _rows(ingest.read_chips(l8, 128, bands=[3, 2, 1]))
    assert len(by_name) == (603 // 128) * (627 // 128)
    for a, b, c in zip(by_name, by_common, by_index, strict=True):
        assert a["bands"] == b["bands"] == c["bands"] == ["B4", "B3", "B2"]
        np.testing.assert_array_equal(a["image"], b["image"])
        np.testing.assert_array_equal(a["image"], c["image"])
    row = by_name[5]
    with rasterio.open(l8_dir / "l8_B3.tif") as src:
        band = src.read(1, window=Window(row["col_off"], row["row_off"], 128, 128))
    np.testing.assert_array_equal(row["image"][1], band)
    assert row["image"].dtype == np.uint16
    with pytest.raises(ingest.NothingReadableError, match="has no band 'B99'"):
        ingest.read_chips(l8, 128, bands=["B99"])


def test_multi_file_stacking_resamples_bands_to_a_common_grid(
    base_catalog: ingest.Catalog, l8_dir: Path
) -> None:
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT

    l8 = base_catalog.search(collection="landsat-8")
    rows = _rows(ingest.read_chips(l8, 64, bands=["B4", "B8"], resampling="bilinear"))
    assert all(r["image"].shape == (2, 64, 64) for r in rows)
    row = rows[10]
    with rasterio.open(l8_dir / "l8_B4.tif") as ref, rasterio.open(l8_dir / "l8_B8.tif") as pan:
        window = Window(row["col_off"], row["row_off"], 64, 64)
        np.testing.assert_array_equal(row["image"][0], ref.read(1, window=window))
        with WarpedVRT(
            pan,
            crs=ref.crs,
            transform=ref.transform,
            width=ref.width,
            height=ref.height,
            resampling=Resampling.bilinear,
        ) as vrt:
            np.testing.assert_array_equal(row["image"][1], vrt.read(1, window=window))
        # the 15 m band, brought to 30 m, agrees with a plain 2x2 average of its pixels
        full = pan.read(1, window=Window(2 * row["col_off"], 2 * row["row_off"], 128, 128))
    coarse = full.reshape(64, 2, 64, 2).astype(float).mean(axis=(1, 3))
    assert np.corrcoef(coarse.ravel(), row["image"][1].ravel().astype(float))[0, 1] > 0.95


def test_stacking_at_a_finer_resolution(base_catalog: ingest.Catalog, l8_dir: Path) -> None:
    l8 = base_catalog.search(collection="landsat-8")
    rows = _rows(ingest.read_chips(l8, 128, bands=["B8", "B4"], resolution=15))
    row = rows[3]
    assert row["transform"][0] == 15.0
    assert row["transform"][4] == -15.0
    with rasterio.open(l8_dir / "l8_B8.tif") as pan:
        x, y = Affine(*row["transform"]) @ (0, 0)
        r, c = pan.index(x + 1, y - 1)  # the pan grid is offset by half a 30 m pixel
        assert abs(pan.xy(r, c, offset="ul")[0] - x) <= 7.5
    assert row["image"].shape == (2, 128, 128)


def test_chips_around_labelled_points_and_boxes(base_catalog: ingest.Catalog, l7_rgb: Path) -> None:
    with rasterio.open(l7_rgb) as src:
        x1, y1 = src.xy(300, 400)
        x2, y2 = src.xy(100, 200)
        crs = str(src.crs)
    samples = [
        {"x": x1, "y": y1, "label": "water"},
        {
            "minx": x2 - 3000,
            "miny": y2 - 3000,
            "maxx": x2 + 3000,
            "maxy": y2 + 3000,
            "label": "land",
        },
    ]
    rows = sorted(
        ingest.read_chips(
            base_catalog.search(collection="raster"),
            32,
            samples=samples,
            samples_crs=crs,
            max_nodata=1.0,
        ).take_all(),
        key=lambda r: r["sample"],
    )
    assert [r["label"] for r in rows] == ["water", "land"]
    assert (rows[0]["row_off"], rows[0]["col_off"]) == (300 - 16, 400 - 16)
    assert rows[1]["image"].shape == (3, 32, 32)
    ox, oy = Affine(*rows[0]["transform"]) @ (16.5, 16.5)
    assert (ox, oy) == pytest.approx((x1, y1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 0}, "'size' parameter"),
        ({"size": 64, "edge": "wrap"}, "'edge' parameter"),
        ({"size": 64, "max_nodata": 2}, "'max_nodata' parameter"),
        ({"size": 64, "resampling": "magic"}, "'resampling' parameter"),
        ({"size": (64,)}, "'size' parameter"),
    ],
)
def test_bad_options_are_one_clear_error(l7_rgb: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidOptionError, match=message):
        ingest.read_chips(str(l7_rgb), **kwargs)
