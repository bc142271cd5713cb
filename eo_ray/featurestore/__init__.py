"""The feature store: feature groups on Delta Lake, validation, statistics, views, online serving.

``fs = eo.feature_store()``; ``fg = fs.create_feature_group("ships", primary_key=["chip_id"],
event_time="time")``; ``fg.insert(df)``; ``fg.read(as_of=3).to_pandas()``;
``fv = fs.create_feature_view("v", fg.select_all().join(other.select(["x"])), labels=["y"])``;
``fv.train_test_split(0.2)``; ``fv.get_feature_vector({"chip_id": 7})``; ``fs.search("sar")``;
``fv.get_series(shape="wide" | "array")`` for time series labelled point in time.
``eo.featurestore.get(name, version=None)`` and ``eo.featurestore.list()`` look groups up
as every stage's ``get`` and ``list`` do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eo_ray import _lazy

# Public names are imported on first use so that the CLI (``eo-ray --help``) does not pay
# for DuckDB, deltalake and pandas.
if TYPE_CHECKING:
    from eo_ray.featurestore._retrieval import Retrieval, TableRead
    from eo_ray.featurestore._series import SeriesData
    from eo_ray.featurestore._write import InsertReport
    from eo_ray.featurestore.errors import (
        AlreadyExistsError,
        DataError,
        FeatureStoreError,
        InvalidParameterError,
        NotFoundError,
        OnlineStoreError,
        QueryError,
        SchemaError,
        ValidationFailedError,
    )
    from eo_ray.featurestore.expectations import Expectation, ExpectationSuite, ValidationReport
    from eo_ray.featurestore.feature_group import FeatureGroup
    from eo_ray.featurestore.feature_view import FeatureView
    from eo_ray.featurestore.online import OnlineStore, open_online_store
    from eo_ray.featurestore.query import Query, QueryResult
    from eo_ray.featurestore.schema import Feature
    from eo_ray.featurestore.search import SearchHit
    from eo_ray.featurestore.statistics import Statistics
    from eo_ray.featurestore.store import FeatureStore, feature_store, get
    from eo_ray.featurestore.store import groups as list
    from eo_ray.featurestore.training import TrainingDataset

__getattr__, __dir__ = _lazy.attach(__name__, __file__)


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
    "InvalidParameterError",
    "NotFoundError",
    "OnlineStore",
    "OnlineStoreError",
    "Query",
    "QueryError",
    "QueryResult",
    "Retrieval",
    "SchemaError",
    "SearchHit",
    "SeriesData",
    "Statistics",
    "TableRead",
    "TrainingDataset",
    "ValidationFailedError",
    "ValidationReport",
    "feature_store",
    "get",
    "list",
    "open_online_store",
]
