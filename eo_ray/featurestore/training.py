"""Training datasets: a feature view's rows at pinned table versions, split and recorded.

A training dataset stores its rows (with their split) as a Delta table and, in ``meta.json``,
the query, the feature-group table versions read, the split definition and seed, the row
counts and the fitted transforms, so it can be read again identically, as pandas, a Ray
Dataset, a ``tf.data.Dataset`` or a torch ``DataLoader``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eo_ray._params import invalid, one_of
from eo_ray.featurestore.errors import InvalidParameterError, NotFoundError

SPLIT, ROW, EVENT_TIME = "__split", "__row", "__event_time"
TRANSFORMS = ("standard_scaler", "min_max_scaler", "label_encoder")


def assign_random(
    n: int, fractions: dict[str, float], seed: int, strata: np.ndarray | None = None
) -> np.ndarray:
    """Split names of ``n`` rows: a seeded permutation cut by ``fractions``; train gets the rest.

    With ``strata`` (one value per row, e.g. the label), each split takes the same share of
    every stratum, and still ``round(n * fraction)`` rows in all (largest remainders).
    """
    for name, frac in fractions.items():
        if not 0 < frac < 1:
            expected = "a number in (0, 1)"
            raise invalid(InvalidParameterError, f"{name}_size", "train_test_split", expected, frac)
    counts = {name: round(n * frac) for name, frac in fractions.items()}
    if sum(fractions.values()) >= 1 or (n and sum(counts.values()) >= n):
        raise InvalidParameterError(
            f"Split sizes {fractions} of {n} rows leave nothing to train on; make them smaller."
        )
    labels = np.full(n, "train", dtype=object)
    rng = np.random.default_rng(seed)
    if strata is None:
        groups = [rng.permutation(n)]
        quotas = {name: [count] for name, count in counts.items()}
    else:
        values, inverse = np.unique(np.asarray(strata).astype(str), return_inverse=True)
        groups = [rng.permutation(np.flatnonzero(inverse == k)) for k in range(len(values))]
        sizes = np.array([len(g) for g in groups])
        quotas = {
            name: _largest_remainders(sizes * frac, counts[name]).tolist()
            for name, frac in fractions.items()
        }
    for k, order in enumerate(groups):
        start = 0
        for name in counts:
            labels[order[start : start + quotas[name][k]]] = name
            start += quotas[name][k]
    return labels


def _largest_remainders(shares: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers near ``shares`` that add up to ``total`` (largest remainders first)."""
    whole = np.floor(shares).astype(np.int64)
    extra = np.argsort(-(shares - whole), kind="stable")[: max(total - int(whole.sum()), 0)]
    whole[extra] += 1
    return whole


def assign_by_time(times: pa.Array, ranges: dict[str, tuple[Any, Any]]) -> np.ndarray:
    """Split names by event-time ranges ``[start, end)``; rows in no range get None."""
    labels = np.full(len(times), None, dtype=object)
    for name, (start, end) in ranges.items():
        mask = pc.and_(
            pc.greater_equal(times, _ts(start)) if start is not None else pa.scalar(True),
            pc.less(times, _ts(end)) if end is not None else pa.scalar(True),
        )
        chosen = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool) & (labels == None)  # noqa: E711
        labels[chosen] = name
    return labels


def _ts(value: Any) -> pa.Scalar:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        from datetime import timezone

        value = value.replace(tzinfo=timezone.utc)
    return pa.scalar(value, type=pa.timestamp("us", tz="UTC"))


def fit_transforms(train: pa.Table, transforms: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Fit each transform on the training split; the parameters are stored with the dataset."""
    fitted = {}
    for col, kind in transforms.items():
        one_of(
            kind,
            TRANSFORMS,
            name=f"transforms[{col!r}]",
            owner="create_feature_view",
            error=InvalidParameterError,
        )
        if col not in train.column_names:
            raise InvalidParameterError(
                f"Transform of {col!r}: no such column in the feature view."
            )
        values = train[col]
        if kind == "label_encoder":
            classes = sorted(v for v in pc.unique(values).to_pylist() if v is not None)
            fitted[col] = {"kind": kind, "classes": classes}
        elif kind == "standard_scaler":
            mean = pc.mean(values).as_py()
            std = pc.stddev(values, ddof=0).as_py() or 1.0
            fitted[col] = {"kind": kind, "mean": mean, "std": std}
        else:
            mm = pc.min_max(values).as_py()
            fitted[col] = {"kind": kind, "min": mm["min"], "max": mm["max"]}
    return fitted


def apply_transforms(table: pa.Table, fitted: dict[str, dict[str, Any]]) -> pa.Table:
    """Apply fitted transforms (vectorised)."""
    for col, p in fitted.items():
        if col not in table.column_names:
            continue
        values = table[col]
        if p["kind"] == "label_encoder":
            out = pc.index_in(values, value_set=pa.array(p["classes"], type=values.type))
        elif p["kind"] == "standard_scaler":
            out = pc.divide(pc.subtract(pc.cast(values, pa.float64()), p["mean"]), p["std"])
        else:
            span = (p["max"] - p["min"]) or 1.0
            out = pc.divide(pc.subtract(pc.cast(values, pa.float64()), p["min"]), span)
        table = table.set_column(table.column_names.index(col), col, out)
    return table


class SplitData:
    """One split of a training dataset, in the format a framework wants."""

    def __init__(self, td: TrainingDataset, split: str | None) -> None:
        self.td, self.split = td, split

    def to_arrow(self) -> pa.Table:
        """Features and labels (transformed), in the stored row order."""
        table = self.td._rows()
        if self.split is not None:
            table = table.filter(pc.equal(table[SPLIT], self.split))
        table = table.sort_by(ROW).drop_columns(
            [c for c in (SPLIT, ROW, EVENT_TIME) if c in table.column_names]
        )
        return apply_transforms(table, self.td.meta["transforms"])

    def to_pandas(self):
        """``(X, y)`` as pandas DataFrames (y is empty of columns when the view has no labels)."""
        df = self.to_arrow().to_pandas()
        labels = self.td.labels
        return df.drop(columns=labels), df[labels]

    def to_ray(self):
        """A Ray Dataset of features and labels."""
        import ray.data

        return ray.data.from_arrow(self.to_arrow())

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.to_pandas()
        bad = [
            c for c in x.columns if not np.issubdtype(x[c].dtype, np.number) and x[c].dtype != bool
        ]
        if bad:
            raise InvalidParameterError(
                f"Features {bad} are not numeric; encode them with transforms="
                "{'col': 'label_encoder'} or select numeric features for tensors."
            )
        return x.to_numpy(dtype=np.float32), y.to_numpy()

    def to_tf(self, batch_size: int = 32, shuffle: bool = False, seed: int | None = None):
        """A batched ``tf.data.Dataset`` of ``(features, labels)``."""
        import tensorflow as tf

        x, y = self._arrays()
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed)
        return ds.batch(batch_size)

    def to_torch(self, batch_size: int = 32, shuffle: bool = False, seed: int | None = None):
        """A torch ``DataLoader`` of ``(features, labels)`` tensors."""
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        x, y = self._arrays()
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        dataset = TensorDataset(
            torch.from_numpy(x), torch.from_numpy(np.asarray(y, dtype=np.float32))
        )
        return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


class TrainingDataset:
    """A recorded, versioned training dataset of a feature view."""

    def __init__(self, uri: str, meta: dict[str, Any], storage_options: dict[str, str]) -> None:
        self.uri, self.meta = uri, meta
        self._options = storage_options
        self._cache: pa.Table | None = None

    version = property(lambda self: int(self.meta["version"]))
    labels = property(lambda self: list(self.meta["labels"]))
    splits = property(lambda self: dict(self.meta["row_counts"]))

    def __repr__(self) -> str:
        view = f"{self.meta['view']!r} v{self.meta['view_version']}"
        return f"TrainingDataset({view}, version={self.version})"

    def _rows(self) -> pa.Table:
        if self._cache is None:
            from deltalake import DeltaTable

            self._cache = DeltaTable(
                f"{self.uri}/data", storage_options=self._options
            ).to_pyarrow_table()
        return self._cache

    def split(self, name: str | None = None) -> SplitData:
        """One split (``"train"``, ``"validation"``, ``"test"``), or every row with None."""
        if name is not None and name not in self.splits:
            raise NotFoundError(
                f"Training dataset {self.version} has no split {name!r}; "
                f"splits: {list(self.splits)}."
            )
        return SplitData(self, name)


def write_training_dataset(
    uri: str,
    table: pa.Table,
    split: np.ndarray,
    meta: dict[str, Any],
    storage_options: dict[str, str],
    write_json,
) -> None:
    """Store the rows (Delta) then the metadata (last: a dataset without meta is incomplete)."""
    from deltalake import write_deltalake

    keep = np.array([s is not None for s in split], dtype=bool)
    table = table.append_column(SPLIT, pa.array(split, type=pa.string()))
    table = table.append_column(ROW, pa.array(np.arange(len(split), dtype=np.int64)))
    table = table.filter(pa.array(keep))
    write_deltalake(f"{uri}/data", table, mode="overwrite", storage_options=storage_options)
    counts = pc.value_counts(table[SPLIT]).to_pylist()
    meta["row_counts"] = {c["values"]: int(c["counts"]) for c in counts}
    write_json(f"{uri}/meta.json", meta)
