"""Descriptive statistics of feature data, computed vectorised by DuckDB and pandas over Arrow.

One DuckDB aggregate pass gives the exact count, completeness, distinct count (HyperLogLog),
min, max, mean and std of every feature. Percentiles, histograms and the Pearson correlations
between numeric features come from one seeded Bernoulli sample of about
``SAMPLE_ROWS`` rows (all rows of smaller data, so they are exact there), computed by pandas
and numpy in a few vectorised calls; histogram counts are scaled to the full row count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from eo_ray.featurestore._duck import connect, quote

PERCENTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
HISTOGRAM_BINS = 20
MAX_CORRELATED = 32  # correlations are quadratic in the number of numeric features
SAMPLE_ROWS = 100_000  # about this many sampled rows give percentiles, histograms, correlations


@dataclass
class Statistics:
    """Statistics of one commit (or of a whole table version)."""

    row_count: int
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    correlations: dict[str, dict[str, float | None]] = field(default_factory=dict)
    version: int | None = None
    scope: str = "commit"  # "commit": the rows of that write; "table": the whole version

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored per commit."""
        return {
            "row_count": self.row_count,
            "features": self.features,
            "correlations": self.correlations,
            "version": self.version,
            "scope": self.scope,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Statistics:
        """Rebuild from :meth:`to_dict`."""
        return cls(**doc)

    def to_pandas(self):
        """One row per feature (histograms left out)."""
        import pandas as pd

        rows = [
            {"feature": name, **{k: v for k, v in s.items() if k != "histogram"}}
            for name, s in self.features.items()
        ]
        return pd.DataFrame(rows)


def _is_numeric(dtype: pa.DataType) -> bool:
    return pa.types.is_integer(dtype) or pa.types.is_floating(dtype)


def _clean(value: Any) -> Any:
    """JSON-safe scalars: NaN/inf become None, timestamps become ISO strings."""
    if value is None:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return None
    return value


def compute_statistics(
    source: Any, schema: pa.Schema, *, correlations: bool = True, histograms: bool = True
) -> Statistics:
    """Statistics of ``source`` (an Arrow table, dataset or reader whose schema is ``schema``)."""
    con = connect(src=source)
    aggs: list[str] = ["count(*)"]
    plan: list[tuple[str, str, int]] = []  # (feature, stat, position)
    for fld in schema:
        col, dtype = quote(fld.name), fld.type
        if pa.types.is_floating(dtype):  # NaN is a missing value, as in pandas: not min/max/mean
            col = f"(CASE WHEN isnan({col}) THEN NULL ELSE {col} END)"
        if pa.types.is_list(dtype) or pa.types.is_binary(dtype):
            exprs = {"count": f"count({col})"}
        else:
            exprs = {
                "count": f"count({col})",
                "distinct": f"approx_count_distinct({col})",
            }
            if not pa.types.is_boolean(dtype):
                exprs |= {"min": f"min({col})", "max": f"max({col})"}
            if _is_numeric(dtype) or pa.types.is_boolean(dtype):
                num = f"{col}::DOUBLE"
                exprs |= {"mean": f"avg({num})", "std": f"stddev_samp({num})"}
        for stat, expr in exprs.items():
            plan.append((fld.name, stat, len(aggs)))
            aggs.append(expr)
    row = con.execute(f"SELECT {', '.join(aggs)} FROM src").fetchall()[0]  # noqa: S608 - quoted names
    total = int(row[0])
    features: dict[str, dict[str, Any]] = {f.name: {"type": str(f.type)} for f in schema}
    for name, stat, pos in plan:
        features[name][stat] = _clean(row[pos])
    for stats in features.values():
        stats["completeness"] = (stats["count"] / total) if total else None
    numeric = [f.name for f in schema if _is_numeric(f.type)]
    corr: dict[str, dict[str, float | None]] = {}
    if total and numeric:
        sample = _sample(con, numeric, total)
        for name in numeric:
            _describe_sample(sample[name], features[name], histograms)
        if correlations and len(numeric) > 1:
            corr = _correlations(sample[numeric[:MAX_CORRELATED]])
    con.close()
    return Statistics(row_count=total, features=features, correlations=corr)


def _sample(con: Any, numeric: list[str], total: int):
    """A pandas frame of the numeric features on a seeded sample of about SAMPLE_ROWS rows."""
    cols = ", ".join(f"{quote(n)}::DOUBLE AS {quote(n)}" for n in numeric)
    percent = 100.0 * SAMPLE_ROWS / total
    sample = "" if percent >= 100 else f"USING SAMPLE {percent:.6f} PERCENT (bernoulli, 42)"
    return con.sql(f"SELECT {cols} FROM src {sample}").df()  # noqa: S608 - quoted names


def _describe_sample(values, stats: dict[str, Any], histograms: bool) -> None:
    """Percentiles and an equal-width histogram (between the exact min and max) of a column."""
    import numpy as np

    arr = values.to_numpy(dtype="float64")
    arr = arr[~np.isnan(arr)]
    if not len(arr):
        stats["percentiles"] = None
        return
    qs = np.quantile(arr, PERCENTILES)
    stats["percentiles"] = {
        f"p{round(q * 100)}": _clean(float(v)) for q, v in zip(PERCENTILES, qs, strict=True)
    }
    if not histograms or stats.get("min") is None:
        return
    lo, hi = float(stats["min"]), float(stats["max"])
    counts, edges = np.histogram(arr, bins=HISTOGRAM_BINS, range=(lo, hi if hi > lo else lo + 1))
    scale = stats["count"] / len(arr)  # 1 unless sampled
    stats["histogram"] = {
        "edges": [float(e) for e in edges],
        "counts": [round(float(c) * scale) for c in counts],
        "sampled": len(arr) < stats["count"],
    }


def _correlations(frame) -> dict[str, dict[str, float | None]]:
    """Pearson correlations of every pair of numeric features (pairwise complete rows)."""
    matrix = frame.corr(method="pearson")
    names = list(frame.columns)
    return {a: {b: _clean(float(matrix.at[a, b])) for b in names} for a in names}
