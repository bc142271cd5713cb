"""Drift comparison and input summaries on real tabular data, without Ray."""

from __future__ import annotations

import numpy as np
import pytest

from eo_ray.datasets import load_titanic
from eo_ray.monitoring import ReferenceDataError, band_statistics, compare, summarise


def test_band_statistics_of_channels_first_chips():
    rng = np.random.default_rng(0)
    chips = rng.uniform(0, 1, size=(10, 2, 8, 8))
    stats = band_statistics(chips)
    assert list(stats.columns[:5]) == ["b0_mean", "b0_std", "b0_p05", "b0_p50", "b0_p95"]
    assert stats.shape == (10, 10)
    assert stats["b1_mean"].to_numpy() == pytest.approx(chips[:, 1].mean(axis=(1, 2)))
    with pytest.raises(ReferenceDataError, match="N×H×W"):
        band_statistics(np.zeros((2, 2, 2, 2, 2)))


def test_summarise_tabular_instances_by_name():
    frame = summarise([[1.0, 2.0], [3.0, 4.0]], ["a", "b"])
    assert frame.to_dict("list") == {"a": [1.0, 3.0], "b": [2.0, 4.0]}
    with pytest.raises(ReferenceDataError, match="2 feature names"):
        summarise([[1.0, 2.0, 3.0]], ["a", "b"])


def test_compare_finds_the_shifted_titanic_column():
    df = load_titanic()[["Pclass", "Age", "Fare", "SibSp"]].dropna()
    reference, current = df.iloc[:350], df.iloc[350:].copy()
    same = compare(reference, current, drift_share=0.5)
    assert [c.column for c in same[0]] == ["Pclass", "Age", "Fare", "SibSp"]
    assert same[1] < 0.5
    current["Fare"] = current["Fare"] * 3 + 20
    columns, share, prediction, html = compare(reference, current)
    drifted = {c.column for c in columns if c.drifted}
    assert "Fare" in drifted
    assert "Age" not in drifted
    assert prediction is None
    assert share == pytest.approx(len(drifted) / 4)
    assert "<html" in html.lower()
