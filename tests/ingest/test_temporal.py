"""Temporal preprocessing at array level on real Slovenia NDVI pixels (no Ray)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from eo_ray.datasets import load_s2_slovenia
from eo_ray.ingest import InvalidOptionError
from eo_ray.ingest.temporal import composite, interpolate, spectral_index_values, time_grid

DATES = 12  # the first twelve dates of the patch


@pytest.fixture(scope="module")
def patch():
    return load_s2_slovenia()


@pytest.fixture(scope="module")
def series(patch):
    """NDVI (dates × h × w × 1), its validity (data and no cloud) and times, 12 dates."""
    ndvi = patch.data["data/NDVI"][:DATES]
    valid = (patch.data["mask/IS_DATA"][:DATES] == 1) & (patch.data["mask/CLM"][:DATES] == 0)
    times = np.array(patch.timestamps[:DATES], dtype="datetime64[s]")
    return ndvi, valid, times


def _days(a: str, b: str) -> float:
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 86400


def test_time_grid_periods() -> None:
    assert time_grid("2020-01-05", "2020-02-22", "16D").astype(str).tolist() == [
        "2020-01-05",
        "2020-01-21",
        "2020-02-06",
        "2020-02-22",
    ]
    assert time_grid("2020-01-05", "2020-04-01", "1MS").astype(str).tolist() == [
        "2020-02-01",
        "2020-03-01",
        "2020-04-01",
    ]
    assert len(time_grid("2020-01-01", "2020-01-29", "1W")) == 5
    with pytest.raises(InvalidOptionError, match="'every' parameter of time_grid"):
        time_grid("2020-01-01", "2020-02-01", "fortnightly")
    with pytest.raises(InvalidOptionError, match="'end' parameter of time_grid"):
        time_grid("2020-02-01", "2020-01-01", "1D")


def test_interpolation_matches_hand_computed_values(patch, series) -> None:
    ndvi, valid, times = series
    r, c = 40, 60  # clear on 07-11, 08-30, 09-09 and 12-18; cloudy on 07-31, 08-20, 09-19..12-08
    assert valid[:DATES, r, c, 0].tolist() == [1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1]
    grid = np.array(["2015-07-01", "2015-08-10", "2015-10-01", "2016-02-01"], "datetime64[D]")
    out = interpolate(ndvi, times, valid, grid)
    assert out.shape == (4, 101, 100, 1)
    assert out.dtype == np.float32
    v0, v3, v4, v9 = (float(ndvi[k, r, c, 0]) for k in (0, 3, 4, 9))
    stamps = patch.timestamps
    # before the first valid observation: the first valid value
    assert out[0, r, c, 0] == pytest.approx(v0)
    # 2015-08-10 lies between 07-11 (valid) and 08-30 (valid); 07-31 and 08-20 are cloudy
    w = _days(stamps[0], "2015-08-10T00:00:00") / _days(stamps[0], stamps[3])
    assert out[1, r, c, 0] == pytest.approx(v0 + w * (v3 - v0), rel=1e-5)
    # 2015-10-01 lies between 09-09 and 12-18: five cloudy dates are skipped
    w = _days(stamps[4], "2015-10-01T00:00:00") / _days(stamps[4], stamps[9])
    assert out[2, r, c, 0] == pytest.approx(v4 + w * (v9 - v4), rel=1e-5)
    # after the last valid observation (2016-01-07): the last valid value
    assert out[3, r, c, 0] == pytest.approx(float(ndvi[11, r, c, 0]))


def test_pixels_without_valid_observation_are_nan(series) -> None:
    ndvi, valid, times = series
    none = valid.copy()
    none[:, 10, 10] = False
    out = interpolate(ndvi, times, none, np.array(["2015-08-01"], "datetime64[D]"))
    assert np.isnan(out[0, 10, 10, 0])
    assert not np.isnan(out[0, 11, 11, 0])
    # one flag per date broadcasts over the pixels
    per_date = valid[:, 0, 0, 0]
    same = interpolate(ndvi, times, per_date, np.array(["2015-08-01"], "datetime64[D]"))
    np.testing.assert_array_equal(
        same, interpolate(ndvi, times, valid, np.array(["2015-08-01"], "datetime64[D]"))
    )


def test_unsorted_times_are_refused_in_one_sentence(series) -> None:
    ndvi, valid, times = series
    shuffled = times[[1, 0, *range(2, DATES)]]
    for call in (
        lambda: interpolate(ndvi, shuffled, valid, times),
        lambda: composite(ndvi, shuffled, valid, "1MS"),
    ):
        with pytest.raises(InvalidOptionError) as info:
            call()
        message = str(info.value)
        assert "must be ascending" in message
        assert "\n" not in message
        assert message.count(". ") <= 1


def test_composites_are_per_period_statistics_of_valid_observations(series) -> None:
    ndvi, valid, times = series
    masked = np.where(valid, ndvi, np.nan)
    for how, reduce in (("median", np.nanmedian), ("mean", np.nanmean), ("max", np.nanmax)):
        values, starts = composite(ndvi, times, valid, "1MS", how)
        assert starts.astype(str).tolist() == [
            "2015-07-01", "2015-08-01", "2015-09-01", "2015-10-01",
            "2015-11-01", "2015-12-01", "2016-01-01",
        ]  # fmt: skip
        # September: 09-09 (clear), 09-19 and 09-29 (cloudy)
        np.testing.assert_allclose(values[2], reduce(masked[4:7], axis=0), rtol=1e-6)
        assert np.isnan(values[3]).all()  # no date in October
        assert np.isnan(values[4]).all()  # nor in November
    values, _ = composite(ndvi, times, valid, "1MS", "max")
    assert values[0, 40, 60, 0] == pytest.approx(float(ndvi[0, 40, 60, 0]))  # 07-31 is cloudy


def test_spectral_index_per_date_on_the_reference_scenes(patch) -> None:
    scenes = np.moveaxis(patch.reference_scenes, -1, 1)  # dates × 13 bands × h × w
    bands = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10"]
    bands += ["B11", "B12"]
    ndvi = spectral_index_values(scenes, bands, "NDVI")
    red, nir = scenes[:, 3].astype(np.float32), scenes[:, 7].astype(np.float32)
    assert ndvi.shape == (5, 101, 100)
    np.testing.assert_allclose(ndvi, (nir - red) / (nir + red), rtol=1e-6)
    formula = spectral_index_values(scenes, bands, "(B8A - B11) / (B8A + B11)")
    np.testing.assert_allclose(
        formula, (scenes[:, 8] - scenes[:, 11]) / (scenes[:, 8] + scenes[:, 11]), rtol=1e-5
    )
    with pytest.raises(InvalidOptionError, match="common_names"):
        spectral_index_values(scenes[:, :2], ["B4", "B5"], "NDVI")
    assert np.allclose(
        spectral_index_values(
            scenes[:, [3, 7]], ["B4", "B5"], "NDVI", common_names={"red": "B4", "nir": "B5"}
        ),
        ndvi,
    )
    with pytest.raises(InvalidOptionError, match="not a band"):
        spectral_index_values(scenes, bands, "B99 - B04")
    with pytest.raises(InvalidOptionError, match="may only use"):
        spectral_index_values(scenes, bands, "__import__('os')")
