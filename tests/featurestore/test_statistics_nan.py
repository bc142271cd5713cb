"""NaN in float features counts as missing in the statistics (a real chip feature has them)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from eo_ray.featurestore.statistics import compute_statistics


def test_nan_is_missing_not_a_maximum():
    values = np.array([-21.5, np.nan, -18.25, np.nan, -30.0])
    table = pa.table({"vh_mean_db": pa.array(values), "n": pa.array([1, 2, 3, 4, 5])})
    stats = compute_statistics(table, table.schema).features["vh_mean_db"]
    assert stats["count"] == 3
    assert math.isclose(stats["completeness"], 3 / 5)
    assert stats["min"] == -30.0
    assert stats["max"] == -18.25
    assert math.isclose(stats["mean"], np.nanmean(values))
    assert stats["histogram"]["counts"]
    assert sum(stats["histogram"]["counts"]) == 3


def test_all_nan_column_has_no_range():
    table = pa.table({"x": pa.array([np.nan, np.nan])})
    stats = compute_statistics(table, table.schema).features["x"]
    assert stats["count"] == 0
    assert stats["min"] is None
    assert stats["max"] is None
