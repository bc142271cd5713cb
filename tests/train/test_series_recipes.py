"""The TempCNN and the gradient-boosting baseline on a real Slovenia NDVI series: they learn
(better than the majority class on spatially held-out pixels), train through eo.train.fit,
and tune through eo.hpo.search."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

import eo_ray as eo
from eo_ray.hpo import Discrete, Double, SearchSpace
from eo_ray.train.series_recipes import (
    TempCNN,
    build_tempcnn,
    flatten_series,
    gradient_boosting,
    series_accuracy,
    tempcnn_loop,
    tempcnn_trial,
)

DATES = 8  # the clearest dates of the patch: a small, real series


def slovenia_series(dates: int = DATES, seed: int = 0) -> dict[str, np.ndarray]:
    """NDVI of the ``dates`` clearest dates of the Slovenia EOPatch, pixels × dates × 1, with
    LULC class ids (0..k-1); train / test split by 10 × 10 px blocks (30 % held out)."""
    patch = eo.datasets.load_s2_slovenia()
    clear = patch.data["mask/IS_DATA"][..., 0].astype(bool) & (patch.data["mask/CLM"][..., 0] == 0)
    picked = np.sort(np.argsort(-clear.mean(axis=(1, 2)), kind="stable")[:dates])
    ndvi = patch.data["data/NDVI"][picked, ..., 0]
    lulc = patch.data["mask_timeless/LULC"][..., 0].ravel()
    height, width = patch.shape
    rows, cols = np.mgrid[0:height, 0:width]
    block = ((rows // 10) * (width // 10 + 1) + cols // 10).ravel()
    held = np.random.default_rng(seed).choice(np.unique(block), len(np.unique(block)) * 3 // 10)
    labelled = lulc > 0
    codes, y = np.unique(lulc[labelled], return_inverse=True)
    x = ndvi.reshape(dates, -1).T[labelled, :, None].astype(np.float32)
    test = np.isin(block[labelled], held)
    return {"x": x[~test], "y": y[~test], "xv": x[test], "yv": y[test], "classes": len(codes)}


@pytest.fixture(scope="module")
def series() -> dict[str, np.ndarray]:
    return slovenia_series()


def _majority(y_train: np.ndarray, y_test: np.ndarray) -> float:
    return float((y_test == np.bincount(y_train).argmax()).mean())


def test_tempcnn_is_pelletiers_architecture():
    model = TempCNN(bands=3, dates=12, classes=5, filters=16, hidden=32)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv1d)]
    assert [c.kernel_size for c in convs] == [(5,)] * 3
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules()) == 4
    assert sum(isinstance(m, torch.nn.Dropout) for m in model.modules()) == 4
    model.eval()
    x = torch.randn(7, 12, 3)  # pixels × dates × bands
    assert model(x).shape == (7, 5)
    with pytest.raises(ValueError, match="needs bands, dates"):
        build_tempcnn({"classes": 3})


def test_flatten_series_is_dates_major_as_the_model_runner_passes_series():
    x = np.arange(2 * 3 * 4).reshape(2, 3, 4)  # pixels × dates × bands
    flat = flatten_series(x)
    assert flat[0, 4 * 1 + 2] == x[0, 1, 2]  # date 1, band 2
    with pytest.raises(ValueError, match="pixels × dates × bands"):
        flatten_series(x[0])


def test_gradient_boosting_baseline_beats_the_majority_class(series):
    model = gradient_boosting(series["x"], series["y"], max_iter=30)
    predicted = model.predict(flatten_series(series["xv"]))
    accuracy = float((predicted == series["yv"]).mean())
    assert accuracy > _majority(series["y"], series["yv"]) + 0.03


def test_tempcnn_learns_through_train_fit(ray_session, series):
    config = {
        "bands": 1,
        "dates": DATES,
        "classes": series["classes"],
        "filters": 16,
        "hidden": 32,
        "lr": 3e-3,
        "epochs": 4,
        "eval": (series["xv"], series["yv"]),
    }
    result = eo.train.fit(
        tempcnn_loop,
        num_workers=1,
        config=config,
        data={"x": series["x"], "y": series["y"]},
        name="tempcnn-slovenia",
    )
    assert result.history[-1]["step"] == 3
    assert result.metrics["accuracy"] > _majority(series["y"], series["yv"]) + 0.03
    scripted = torch.jit.load(f"{result.export_uri}/model.torchscript.pt").eval()
    accuracy = series_accuracy(scripted, series["xv"], series["yv"])
    assert accuracy == pytest.approx(result.metrics["accuracy"])  # the export is the model


def _trial_data(series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return series


def test_short_hpo_search_over_tempcnn(ray_session, series):
    space = SearchSpace(lr=Double(1e-3, 1e-2, log=True), filters=Discrete([8, 16]))
    result = eo.hpo.search(
        functools.partial(_with_size, epochs=2, hidden=16, classes=series["classes"]),
        space,
        3,
        early_stopping="none",
        metric="accuracy",
        workers=1,
        seed=0,
        name="tempcnn-hpo",
        builders={"data": functools.partial(_trial_data, series)},
        progress=False,
        plots=False,
    )
    assert len(result.trials) == 3
    assert all(len(t.reports) == 2 for t in result.trials)
    assert result.best_value > _majority(series["y"], series["yv"])


def _with_size(hparams: dict, reporter, **fixed) -> dict[str, float]:
    return tempcnn_trial({**fixed, **hparams}, reporter)
