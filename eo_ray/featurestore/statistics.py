"""Descriptive statistics of feature data, computed vectorised by DuckDB over Arrow.

One aggregate query gives count, completeness, distinct count (HyperLogLog), min, max,
mean, std and percentiles (reservoir-sampled) of every feature; a second gives equal-width
histograms of the numeric ones; a third the Pearson correlations between numeric features,
on a Bernoulli sample of about ``CORRELATION_SAMPLE`` rows (quadratic work stays bounded).
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
CORRELATION_SAMPLE = 100_000  # about this many sampled rows give the correlations


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
            if _is_numeric(dtype):
                qs = ", ".join(str(q) for q in PERCENTILES)
                exprs["percentiles"] = f"reservoir_quantile({col}::DOUBLE, [{qs}])"
        for stat, expr in exprs.items():
            plan.append((fld.name, stat, len(aggs)))
            aggs.append(expr)
    row = con.execute(f"SELECT {', '.join(aggs)} FROM src").fetchall()[0]  # noqa: S608 - quoted names
    total = int(row[0])
    features: dict[str, dict[str, Any]] = {f.name: {"type": str(f.type)} for f in schema}
    for name, stat, pos in plan:
        value = row[pos]
        if stat == "percentiles":
            features[name]["percentiles"] = (
                {f"p{round(q * 100)}": _clean(v) for q, v in zip(PERCENTILES, value, strict=True)}
                if value
                else None
            )
        else:
            features[name][stat] = _clean(value)
    for stats in features.values():
        stats["completeness"] = (stats["count"] / total) if total else None
    numeric = [f.name for f in schema if _is_numeric(f.type)]
    if histograms and total:
        _histograms(con, numeric, features)
    corr: dict[str, dict[str, float | None]] = {}
    if correlations and total and len(numeric) > 1:
        corr = _correlations(con, numeric[:MAX_CORRELATED], total)
    con.close()
    return Statistics(row_count=total, features=features, correlations=corr)


def _histograms(con: Any, numeric: list[str], features: dict[str, dict[str, Any]]) -> None:
    """Equal-width histograms between each feature's min and max, in one query."""
    exprs, names = [], []
    for name in numeric:
        lo, hi = features[name].get("min"), features[name].get("max")
        if lo is None or hi is None:
            continue
        width = (float(hi) - float(lo)) / HISTOGRAM_BINS or 1.0
        col = f"{quote(name)}::DOUBLE"
        bucket = f"least(floor(({col} - {float(lo)!r}) / {width!r}), {HISTOGRAM_BINS - 1})::INT"
        exprs.append(f"histogram({bucket}) FILTER (WHERE {col} IS NOT NULL)")
        names.append((name, float(lo), width))
    if not exprs:
        return
    row = con.execute(f"SELECT {', '.join(exprs)} FROM src").fetchall()[0]  # noqa: S608 - quoted names
    for (name, lo, width), counts in zip(names, row, strict=True):
        counts = counts or {}
        features[name]["histogram"] = {
            "edges": [lo + i * width for i in range(HISTOGRAM_BINS + 1)],
            "counts": [int(counts.get(i, 0)) for i in range(HISTOGRAM_BINS)],
        }


def _correlations(con: Any, numeric: list[str], total: int) -> dict[str, dict[str, float | None]]:
    """Pearson correlations of every pair of numeric features (pairwise complete rows).

    DuckDB draws a seeded Bernoulli sample of about ``CORRELATION_SAMPLE`` rows (all rows of
    smaller data); pandas computes the whole matrix in one vectorised call.
    """
    cols = ", ".join(f"{quote(n)}::DOUBLE AS {quote(n)}" for n in numeric)
    percent = min(100.0, 100.0 * CORRELATION_SAMPLE / total)
    sample = "" if percent >= 100 else f"USING SAMPLE {percent:.6f} PERCENT (bernoulli, 42)"
    frame = con.sql(f"SELECT {cols} FROM src {sample}").df()  # noqa: S608 - quoted names
    matrix = frame.corr(method="pearson")
    return {a: {b: _clean(float(matrix.at[a, b])) for b in numeric} for a in numeric}
