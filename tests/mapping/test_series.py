"""Series models map a time series of dated GeoTIFFs (real Slovenia NDVI dates) on one grid:
the map equals the model's own prediction on each pixel's stacked dates; a series that does
not fit the model gets one sentence."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch

import eo_ray as eo
from eo_ray.mapping import MappingInputError
from eo_ray.train.series_recipes import TempCNN, flatten_series, gradient_boosting

DATES = 4


@pytest.fixture(scope="module")
def ndvi_series(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], np.ndarray]:
    """The NDVI of the four clearest dates of the Slovenia EOPatch as dated GeoTIFFs on the
    patch grid (the date in each file name), and the stack as dates × h × w."""
    patch = eo.datasets.load_s2_slovenia()
    clear = patch.data["mask/IS_DATA"][..., 0].astype(bool) & (patch.data["mask/CLM"][..., 0] == 0)
    picked = np.sort(np.argsort(-clear.mean(axis=(1, 2)), kind="stable")[:DATES])
    folder = tmp_path_factory.mktemp("ndvi_series")
    paths = []
    for d in picked:
        day = patch.timestamps[d][:10]
        ndvi = patch.data["data/NDVI"][d, ..., 0]
        paths.append(patch.to_geotiff(folder / f"slovenia_ndvi_{day}.tif", {"ndvi": ndvi}))
    stack = patch.data["data/NDVI"][picked, ..., 0].astype(np.float32)
    return paths, stack


@pytest.fixture(scope="module")
def lulc() -> np.ndarray:
    return eo.datasets.load_s2_slovenia().data["mask_timeless/LULC"][..., 0]


def _pixels(stack: np.ndarray) -> np.ndarray:
    """dates × h × w as pixels × dates × 1 band, in row-major pixel order."""
    return stack.reshape(len(stack), -1).T[:, :, None].copy()


def _read(path: str) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


@pytest.fixture(scope="module")
def tempcnn(ray_session, ndvi_series, lulc):
    """A small TempCNN trained for a few steps on the series, registered as a series model."""
    _, stack = ndvi_series
    x, y = _pixels(stack), lulc.ravel().astype(np.int64)
    torch.manual_seed(0)
    model = TempCNN(bands=1, dates=DATES, classes=int(y.max()) + 1, filters=8, hidden=16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(30):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    model.eval()
    version = eo.models.register(
        "series-tempcnn",
        model,
        "torch",
        input="series",
        dates=DATES,
        bands=["ndvi"],
        classes=[f"class {c}" for c in range(int(y.max()) + 1)],
    )
    return version, model


def test_a_series_map_equals_the_tempcnn_on_each_pixels_stacked_dates(
    tempcnn, ndvi_series, tmp_path: Path
):
    version, model = tempcnn
    paths, stack = ndvi_series
    shuffled = [str(p) for p in paths[::-1]]  # the dates come in any order

    result = eo.mapping.predict(version, shuffled, tmp_path, chip_size=40, progress=False)

    (output,) = result.outputs
    assert output.status == "written"
    assert output.windows == 9  # 101 × 100 px in 40 px windows
    with torch.inference_mode():
        expected = model(torch.from_numpy(_pixels(stack))).argmax(1).numpy()
    got = _read(output.uri)
    np.testing.assert_array_equal(got, expected.reshape(stack.shape[1:]))
    with rasterio.open(paths[0]) as first, rasterio.open(output.uri) as src:
        assert (src.crs, src.transform, src.shape) == (first.crs, first.transform, first.shape)
    record = eo.mapping.get(Path(output.uri).stem)
    assert record.sources == [str(p) for p in paths]  # every date, in date order
    assert len(record.parameters["dates"]) == DATES


def test_a_series_map_equals_the_gradient_boosting_baseline(
    ray_session, ndvi_series, lulc, tmp_path: Path
):
    paths, stack = ndvi_series
    x = _pixels(stack)
    model = gradient_boosting(x, lulc.ravel(), max_iter=10)
    version = eo.models.register(
        "series-gbm",
        model,
        "sklearn",
        input="series",
        dates=DATES,
        classes=[str(c) for c in range(int(lulc.max()) + 1)],
    )
    result = eo.mapping.predict(version, [str(p) for p in paths], tmp_path, progress=False)
    expected = model.predict(flatten_series(x)).reshape(stack.shape[1:])
    np.testing.assert_array_equal(_read(result.outputs[0].uri), expected)


def test_a_cube_of_one_date_is_refused(tempcnn, ndvi_series, tmp_path: Path):
    version, _ = tempcnn
    paths, _ = ndvi_series
    with pytest.raises(MappingInputError, match=r"cube of one date .* takes a time series of 4"):
        eo.mapping.predict(version, [str(paths[0])], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_a_series_of_another_length_than_the_model_was_trained_on(tempcnn, ndvi_series, tmp_path):
    version, _ = tempcnn
    paths, _ = ndvi_series
    with pytest.raises(MappingInputError, match=r"has 3 dates but .* trained on series of 4"):
        eo.mapping.predict(version, [str(p) for p in paths[:3]], tmp_path / "out", progress=False)


def test_dates_on_different_grids_are_refused(tempcnn, ndvi_series, tmp_path: Path):
    version, _ = tempcnn
    paths, _ = ndvi_series
    cropped = tmp_path / f"{paths[-1].stem}.tif"
    with rasterio.open(paths[-1]) as src:
        profile = {**src.profile, "height": 50}
        window = rasterio.windows.Window(0, 0, src.width, 50)
        with rasterio.open(cropped, "w", **profile) as dst:
            dst.write(src.read(window=window))
            dst.descriptions = src.descriptions
    sources = [str(p) for p in paths[:-1]] + [str(cropped)]
    with pytest.raises(MappingInputError, match="on different grids"):
        eo.mapping.predict(version, sources, tmp_path / "out", progress=False)


def test_undated_items_cannot_form_a_series(tempcnn, ndvi_series, tmp_path: Path):
    version, _ = tempcnn
    paths, _ = ndvi_series
    undated = tmp_path / "slovenia_ndvi.tif"
    shutil.copy(paths[0], undated)
    sources = [str(p) for p in paths[1:]] + [str(undated)]
    with pytest.raises(MappingInputError, match="have no date"):
        eo.mapping.predict(version, sources, tmp_path / "out", progress=False)
