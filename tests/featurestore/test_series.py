"""Time series in the feature store: Slovenia samples (long form, event time = observation
date) joined point in time with labels that have their own event time, as model inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eo_ray import datasets, ingest
from eo_ray.featurestore import QueryError, SeriesData

DATES = slice(0, 68, 12)  # six of the 68 dates


@pytest.fixture(scope="module")
def observations(ray_session, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """``ingest.sample`` of eight points on six Slovenia dates (bands NDVI and CLP)."""
    patch = datasets.load_s2_slovenia()
    root = tmp_path_factory.mktemp("series")
    for t in range(68)[DATES]:
        bands = {
            "NDVI": patch.data["data/NDVI"][t, ..., 0],
            "CLP": patch.data["data/CLP"][t, ..., 0],
        }
        patch.to_geotiff(root / f"s2_{patch.timestamps[t][:10]}.tif", bands)
    a, _, c, _, e, f = patch.transform
    rows, cols = np.arange(5, 95, 12)[:8], np.arange(3, 99, 12)[:8]
    points = pd.DataFrame(
        {"id": [f"f{n}" for n in range(8)], "x": c + (cols + 0.5) * a, "y": f + (rows + 0.5) * e}
    )
    return ingest.sample(root, points, crs=patch.crs)


@pytest.fixture
def series_view(fs, observations: pd.DataFrame):
    """A series group, a label group with two label events per field, and their view."""
    series = fs.create_feature_group("s2_series", primary_key=["id", "x", "y"], event_time="time")
    series.insert(observations.drop(columns=["crs"]))
    days = pd.DatetimeIndex(sorted(observations["time"].unique()))
    labels = pd.DataFrame(
        {
            "id": [f"f{n}" for n in range(8)] * 2,
            "observed": [days[2] + pd.Timedelta(days=1)] * 8
            + [days[-1] + pd.Timedelta(days=1)] * 8,
            "crop": ["maize"] * 8 + ["wheat"] * 8,
        }
    )
    group = fs.create_feature_group("crops", primary_key=["id"], event_time="observed")
    group.insert(labels)
    query = series.select(["NDVI", "CLP"]).join(group.select(["crop"]), on=["id"])
    return fs.create_feature_view("crop_series", query, labels=["crop"]), labels, days


def _naive(days: pd.DatetimeIndex) -> np.ndarray:
    return days.tz_convert(None).to_numpy("datetime64[us]")


def _expected(observations: pd.DataFrame, field: str, until: pd.Timestamp) -> pd.DataFrame:
    rows = observations[(observations["id"] == field) & (observations["time"] <= until)]
    return rows.sort_values("time")


def test_wide_series_hold_only_observations_up_to_each_label(series_view, observations) -> None:
    view, labels, _ = series_view
    got = view.get_series()
    assert isinstance(got, SeriesData)
    assert list(got.X.columns) == [f"{b}_{k}" for b in ("NDVI", "CLP") for k in range(6)]
    assert len(got.X) == len(got.y) == len(got.keys) == 16
    for n, key in got.keys.iterrows():
        label = labels[(labels["id"] == key["id"]) & (labels["observed"] == key["label_time"])]
        assert got.y["crop"][n] == label["crop"].item()
        want = _expected(observations, key["id"], key["label_time"])
        count = 3 if got.y["crop"][n] == "maize" else 6  # the maize label is dated after day 3
        assert len(want) == count
        row = got.X.iloc[n]
        assert np.array_equal(row[[f"NDVI_{k}" for k in range(count)]], want["NDVI"])
        assert np.array_equal(row[[f"CLP_{k}" for k in range(count)]], want["CLP"])
        assert row[[f"NDVI_{k}" for k in range(count, 6)]].isna().all()  # nothing from later


def test_array_series_on_a_shared_dates_axis(series_view, observations) -> None:
    view, _, days = series_view
    got = view.get_series(shape="array", dates="date")
    assert got.X.shape == (16, 6, 2)
    assert got.X.dtype == np.float32
    assert np.array_equal(got.times, _naive(days))
    maize = np.flatnonzero(got.y["crop"] == "maize")
    assert np.isnan(got.X[maize, 3:]).all()
    assert not np.isnan(got.X[maize, :3]).any()
    first = got.keys.index[0]
    want = _expected(observations, got.keys["id"][first], got.keys["label_time"][first])
    assert np.array_equal(got.X[first, : len(want)], want[["NDVI", "CLP"]].to_numpy())
    wide = view.get_series(dates="date")
    assert f"NDVI_{str(days[0])[:10]}" in wide.X.columns


def test_window_keeps_observations_shortly_before_the_label(series_view) -> None:
    view, _, days = series_view
    span = pd.Timedelta(days[-1] - days[-3]) + pd.Timedelta(days=1)  # the last three dates
    got = view.get_series(shape="array", window=f"{span.days + 1}D")
    wheat = np.flatnonzero(got.y["crop"] == "wheat")
    assert got.X.shape[1] == 3
    assert not np.isnan(got.X[wheat]).any()
    assert (got.times[wheat, 0] == _naive(days)[-3]).all()


def test_timeless_labels_label_every_observation(fs, observations) -> None:
    series = fs.create_feature_group("obs", primary_key=["id", "x", "y"], event_time="time")
    series.insert(observations.drop(columns=["crs"]))
    group = fs.create_feature_group("lulc", primary_key=["id"])
    group.insert(pd.DataFrame({"id": [f"f{n}" for n in range(8)], "lulc": list(range(8))}))
    view = fs.create_feature_view(
        "lulc_series", series.select(["NDVI"]).join(group.select(["lulc"])), labels=["lulc"]
    )
    got = view.get_series(shape="array")
    assert got.X.shape == (8, 6, 1)
    assert got.keys["label_time"].isna().all()
    assert list(got.y["lulc"]) == list(range(8))


def test_a_series_view_needs_labels_from_a_joined_group(fs, observations) -> None:
    series = fs.create_feature_group("obs2", primary_key=["id", "x", "y"], event_time="time")
    series.insert(observations.drop(columns=["crs"]))
    view = fs.create_feature_view("no_labels", series.select(["NDVI"]), labels=[])
    with pytest.raises(QueryError, match="needs labels"):
        view.get_series()
    with pytest.raises(QueryError, match="shape must be one of"):
        view.get_series(shape="long")
