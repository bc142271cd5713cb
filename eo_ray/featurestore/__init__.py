"""The feature store: feature groups on Delta Lake, validation, statistics, views, online serving.

``fs = eo.feature_store()``; ``fg = fs.create_feature_group("ships", primary_key=["chip_id"],
event_time="time")``; ``fg.insert(df)``; ``fg.read(as_of=3).to_pandas()``;
``fv = fs.create_feature_view("v", fg.select_all().join(other.select(["x"])), labels=["y"])``;
``fv.train_test_split(0.2)``; ``fv.get_feature_vector({"chip_id": 7})``; ``fs.search("sar")``.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public names and the modules that define them; imported on first use so that the CLI
# (``eo-ray --help``) does not pay for DuckDB, deltalake and pandas.
_EXPORTS = {
    "Retrieval": "_retrieval",
    "TableRead": "_retrieval",
    "InsertReport": "_write",
    "AlreadyExistsError": "errors",
    "DataError": "errors",
    "FeatureStoreError": "errors",
    "NotFoundError": "errors",
    "OnlineStoreError": "errors",
    "QueryError": "errors",
    "SchemaError": "errors",
    "ValidationFailedError": "errors",
    "Expectation": "expectations",
    "ExpectationSuite": "expectations",
    "ValidationReport": "expectations",
    "FeatureGroup": "feature_group",
    "FeatureView": "feature_view",
    "OnlineStore": "online",
    "open_online_store": "online",
    "Query": "query",
    "QueryResult": "query",
    "Feature": "schema",
    "SearchHit": "search",
    "Statistics": "statistics",
    "FeatureStore": "store",
    "feature_store": "store",
    "TrainingDataset": "training",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"eo_ray.featurestore.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'eo_ray.featurestore' has no attribute {name!r}")


__all__ = [
    "AlreadyExistsError",
    "DataError",
    "Expectation",
    "ExpectationSuite",
    "Feature",
    "FeatureGroup",
    "FeatureStore",
    "FeatureStoreError",
    "FeatureView",
    "InsertReport",
    "NotFoundError",
    "OnlineStore",
    "OnlineStoreError",
    "Query",
    "QueryError",
    "QueryResult",
    "Retrieval",
    "SchemaError",
    "SearchHit",
    "Statistics",
    "TableRead",
    "TrainingDataset",
    "ValidationFailedError",
    "ValidationReport",
    "feature_store",
    "open_online_store",
]
