"""Feature views: a query plus labels, giving training data offline and vectors online."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from eo_ray._params import invalid
from eo_ray.featurestore import _delta
from eo_ray.featurestore._metadata import MetadataStore
from eo_ray.featurestore.errors import InvalidParameterError, NotFoundError, OnlineStoreError
from eo_ray.featurestore.query import Query
from eo_ray.featurestore.training import (
    EVENT_TIME,
    TrainingDataset,
    apply_transforms,
    assign_by_time,
    assign_random,
    fit_transforms,
    write_training_dataset,
)

if TYPE_CHECKING:
    from eo_ray.featurestore._series import SeriesData
    from eo_ray.featurestore.feature_group import FeatureGroup

    # How a view finds the groups its query reads: (name, version) -> FeatureGroup.
    GroupLookup = Callable[[str, int | None], FeatureGroup]


class FeatureView:
    """The features (and labels) a model uses, defined once by a query over feature groups."""

    def __init__(self, meta: MetadataStore, doc: dict[str, Any], groups: GroupLookup) -> None:
        self._meta = meta
        self._groups = groups
        self._doc = doc
        self._query: Query | None = None

    name = property(lambda self: self._doc["name"], doc="The view's name.")
    version = property(lambda self: int(self._doc["version"]), doc="The view's version.")
    labels = property(lambda self: list(self._doc["labels"]), doc="Label columns.")
    description = property(lambda self: self._doc.get("description", ""))
    transforms = property(lambda self: dict(self._doc.get("transforms", {})))

    def __repr__(self) -> str:
        return f"FeatureView({self.name!r}, version={self.version})"

    def to_dict(self) -> dict[str, Any]:
        """The stored description."""
        return dict(self._doc)

    @property
    def query(self) -> Query:
        """The view's query (groups at the versions it was defined on)."""
        if self._query is None:
            self._query = Query.from_dict(self._doc["query"], self._groups)
        return self._query

    @property
    def features(self) -> list[str]:
        """Output feature names (labels excluded)."""
        return [c for c in self.query.plan().columns if c not in self.labels]

    def _uri(self, *parts: str) -> str:
        return self._meta.view_uri(self.name, self.version, *parts)

    # -- training data ----------------------------------------------------------------------
    def _create(
        self,
        fractions: dict[str, float] | None,
        ranges: dict[str, tuple[Any, Any]] | None,
        seed: int | None,
        description: str,
        stratify: str | None = None,
    ) -> TrainingDataset:
        result = self.query.read(event_time_as=EVENT_TIME)
        table = result.to_arrow()
        seed = random.SystemRandom().randrange(2**31) if seed is None else int(seed)
        if ranges:
            if EVENT_TIME not in table.column_names:
                raise InvalidParameterError(
                    f"Feature view {self.name!r} has no event time; split by size instead."
                )
            split = assign_by_time(table[EVENT_TIME], ranges)
        else:
            if stratify is not None and stratify not in table.column_names:
                raise invalid(
                    InvalidParameterError,
                    "stratify",
                    "create_train_test_split",
                    f"a column of feature view {self.name!r}",
                    stratify,
                )
            strata = None if stratify is None else table[stratify].to_numpy(zero_copy_only=False)
            split = assign_random(table.num_rows, fractions or {}, seed, strata)
        import numpy as np
        import pyarrow as pa

        train = table.filter(pa.array(np.asarray(split == "train", dtype=bool)))
        fitted = fit_transforms(train, self.transforms)
        folder = self._uri("training")
        existing = [int(n) for n in self._meta.ws.list_dir(folder) if n.isdigit()]
        version = max(existing, default=0) + 1
        uri = self._uri("training", str(version))
        meta = {
            "version": version,
            "view": self.name,
            "view_version": self.version,
            "query": self._doc["query"],
            "sql": result.plan.sql,
            "group_versions": [
                {"group": g.name, "version": g.version, "table_version": v}
                for g, v in zip(self.query.groups(), result.versions, strict=True)
            ],
            "labels": self.labels,
            "split": {
                "fractions": fractions,
                "ranges": _jsonable(ranges),
                "seed": seed,
                "stratify": stratify,
            },
            "transforms": fitted,
            "description": description,
            "created": time.time(),
        }
        write_training_dataset(
            uri, table, split, meta, _delta.storage_options(self._meta.ws), self._meta.write
        )
        return TrainingDataset(uri, meta, _delta.storage_options(self._meta.ws))

    def create_training_data(
        self, seed: int | None = None, description: str = ""
    ) -> TrainingDataset:
        """Record all rows of the view as one training dataset (split ``"train"``)."""
        return self._create({}, None, seed, description)

    def create_train_test_split(
        self,
        test_size: float | None = None,
        train_start=None,
        train_end=None,
        test_start=None,
        test_end=None,
        seed: int | None = None,
        description: str = "",
        stratify: str | None = None,
    ) -> TrainingDataset:
        """Record a train/test split: random by ``test_size`` and ``seed`` (the same share of
        each value of column ``stratify``, e.g. the label, when given), or by time ranges."""
        if test_size is None and test_start is None and test_end is None:
            raise InvalidParameterError(
                "Give test_size=0.2 or time ranges (test_start/test_end) to train_test_split."
            )
        if test_size is not None:
            return self._create({"test": test_size}, None, seed, description, stratify)
        ranges = {"train": (train_start, train_end), "test": (test_start, test_end)}
        return self._create(None, ranges, seed, description)

    def create_train_validation_test_split(
        self,
        validation_size: float | None = None,
        test_size: float | None = None,
        train_start=None,
        train_end=None,
        validation_start=None,
        validation_end=None,
        test_start=None,
        test_end=None,
        seed: int | None = None,
        description: str = "",
    ) -> TrainingDataset:
        """Record a train/validation/test split, by sizes or by time ranges."""
        if validation_size is not None and test_size is not None:
            fractions = {"validation": validation_size, "test": test_size}
            return self._create(fractions, None, seed, description)
        ranges = {
            "train": (train_start, train_end),
            "validation": (validation_start, validation_end),
            "test": (test_start, test_end),
        }
        return self._create(None, ranges, seed, description)

    def training_data(self, seed: int | None = None, description: str = ""):
        """``(X, y)`` of every row, recorded as a training dataset."""
        return self.create_training_data(seed, description).split("train").to_pandas()

    def train_test_split(self, test_size: float | None = None, seed: int | None = None, **kw):
        """``X_train, X_test, y_train, y_test`` (pandas), recorded as a training dataset."""
        td = self.create_train_test_split(test_size, seed=seed, **kw)
        (x_train, y_train), (x_test, y_test) = (td.split(s).to_pandas() for s in ("train", "test"))
        return x_train, x_test, y_train, y_test

    def train_validation_test_split(
        self,
        validation_size: float | None = None,
        test_size: float | None = None,
        seed: int | None = None,
        **kw,
    ):
        """``X_train, X_val, X_test, y_train, y_val, y_test`` (pandas), recorded."""
        td = self.create_train_validation_test_split(validation_size, test_size, seed=seed, **kw)
        parts = [td.split(s).to_pandas() for s in ("train", "validation", "test")]
        return (*(x for x, _ in parts), *(y for _, y in parts))

    def get_series(
        self,
        shape: Literal["wide", "array"] = "wide",
        dates: Literal["index", "date"] = "index",
        window: str | None = None,
    ) -> SeriesData:
        """Time series as model inputs, one per (entity, label event), point in time.

        The view's query selects band features of a long-form group (one row per entity and
        observation date, its event time) joined with a label group; each label row gets its
        entity's observations at or before the label's event time (within ``window``, e.g.
        ``"365D"``, when given). ``shape="wide"``: columns ``<band>_<k>`` (``dates="index"``,
        the k-th observation) or ``<band>_<date>`` (``dates="date"``); ``"array"``: series ×
        dates × bands. Missing observations are NaN.
        """
        from eo_ray.featurestore._series import read_series

        return read_series(self.query, self.labels, shape, dates, window)

    def get_training_dataset(self, version: int | None = None) -> TrainingDataset:
        """A recorded training dataset (default: the latest)."""
        versions = self.training_dataset_versions()
        if not versions:
            raise NotFoundError(f"Feature view {self.name!r} has no training datasets yet.")
        version = versions[-1] if version is None else version
        if version not in versions:
            raise NotFoundError(
                f"Feature view {self.name!r} has no training dataset {version}; "
                f"versions: {versions}."
            )
        uri = self._uri("training", str(version))
        meta = self._meta.read(f"{uri}/meta.json")
        return TrainingDataset(uri, meta, _delta.storage_options(self._meta.ws))

    def training_dataset_versions(self) -> list[int]:
        """Versions of the complete training datasets of this view."""
        ws = self._meta.ws
        folder = self._uri("training")
        return sorted(
            int(n)
            for n in ws.list_dir(folder)
            if n.isdigit() and ws.exists(f"{folder}/{n}/meta.json")
        )

    # -- online -----------------------------------------------------------------------------
    def get_feature_vector(
        self, entry: dict[str, Any], training_dataset_version: int | None = None
    ) -> dict[str, Any] | None:
        """The view's features for one entity from the online store (None if unknown)."""
        return self.get_feature_vectors([entry], training_dataset_version)[0]

    def get_feature_vectors(
        self, entries: list[dict[str, Any]], training_dataset_version: int | None = None
    ) -> list[dict[str, Any] | None]:
        """Feature vectors for many entities (labels excluded), in order.

        ``training_dataset_version`` applies the transforms fitted for that training dataset.
        """
        query = self.query
        offline = [g for g in query.groups() if not g.online]
        if offline:
            names = [g.name for g in offline]
            raise OnlineStoreError(
                f"Feature view {self.name!r} reads groups {names} that are not online; "
                "create them with online=True (and materialize())."
            )
        left = query.group.get_online_rows(entries)
        rights = []
        for join in query.joins:
            keys = [
                None
                if row is None
                else dict(zip(join.right_on, [row[c] for c in join.left_on], strict=True))
                for row in left
            ]
            present = [k for k in keys if k is not None]
            found = iter(join.query.group.get_online_rows(present)) if present else iter(())
            rights.append([None if k is None else next(found) for k in keys])
        out: list[dict[str, Any] | None] = []
        for i, row in enumerate(left):
            if row is None:
                out.append(None)
                continue
            vector = {f: row.get(f) for f in query.features}
            for join, rows in zip(query.joins, rights, strict=True):
                right = rows[i] or {}
                vector.update({f"{join.prefix}{f}": right.get(f) for f in join.query.features})
            out.append({k: v for k, v in vector.items() if k not in self.labels})
        if training_dataset_version is not None:
            out = self._transform(out, training_dataset_version)
        return out

    def _transform(self, vectors, td_version):
        import pyarrow as pa

        fitted = self.get_training_dataset(td_version).meta["transforms"]
        rows = [v for v in vectors if v is not None]
        if not rows:
            return vectors
        table = apply_transforms(pa.Table.from_pylist(rows), fitted).to_pylist()
        it = iter(table)
        return [None if v is None else next(it) for v in vectors]

    def delete(self) -> None:
        """Delete this version of the view and its training datasets."""
        self._meta.ws.delete(self._uri())


def _jsonable(ranges):
    if not ranges:
        return None
    return {
        k: [None if v is None else (v.isoformat() if hasattr(v, "isoformat") else v) for v in r]
        for k, r in ranges.items()
    }
