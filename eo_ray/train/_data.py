"""Training data: normalise what users pass into a Ray Dataset, and the per-worker shard view.

``fit(data=...)`` accepts a ``ray.data.Dataset``, a pandas DataFrame, numpy arrays (one
array, an ``(x, y)`` tuple or a ``{column: array}`` dict), a feature view (its training data
is created and recorded) or any object with a ``to_ray()`` or ``to_pandas()`` method (a split
of a feature view's training dataset). Each worker sees only its own
:class:`Shard`, which counts the rows it hands out so throughput needs no user code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from eo_ray.train.errors import TrainConfigError


def _arrow_table(columns: dict[str, np.ndarray]):
    import pyarrow as pa
    from ray.data.extensions import ArrowTensorArray

    lengths = {name: len(arr) for name, arr in columns.items()}
    if len(set(lengths.values())) > 1:
        raise TrainConfigError(
            f"The data arrays have different lengths {lengths}; give one row per sample in each."
        )
    arrays = {
        name: ArrowTensorArray.from_numpy(np.ascontiguousarray(arr))
        if np.asarray(arr).ndim > 1
        else pa.array(np.asarray(arr))
        for name, arr in columns.items()
    }
    return pa.table(arrays)


def as_dataset(data: Any):
    """Turn ``data`` into a ``ray.data.Dataset`` (``None`` stays ``None``)."""
    import pandas as pd
    import ray.data

    if data is None or isinstance(data, ray.data.Dataset):
        return data
    if hasattr(data, "create_training_data"):  # a feature view: record its training data
        data = data.create_training_data().split("train")
    if hasattr(data, "to_ray") and callable(data.to_ray):
        return data.to_ray()
    if isinstance(data, pd.DataFrame):
        return ray.data.from_pandas(data)
    if hasattr(data, "to_pandas") and callable(data.to_pandas):
        return ray.data.from_pandas(data.to_pandas())
    if isinstance(data, np.ndarray):
        return ray.data.from_arrow(_arrow_table({"x": data}))
    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(a, np.ndarray) for a in data):
        return ray.data.from_arrow(_arrow_table({"x": data[0], "y": data[1]}))
    if isinstance(data, dict) and data and all(isinstance(a, np.ndarray) for a in data.values()):
        return ray.data.from_arrow(_arrow_table(dict(data)))
    raise TrainConfigError(
        f"Cannot train on data of type {type(data).__name__}: pass a ray.data.Dataset, a pandas "
        "DataFrame, numpy arrays (x, (x, y) or {column: array}) or a feature view's data."
    )


class Shard:
    """One worker's part of the training data, read batch by batch.

    Wraps a Ray ``DataIterator`` (what ``ray.train.get_dataset_shard`` returns) and counts
    the rows it yields, so the reporter can compute samples/s per epoch.
    """

    def __init__(self, iterator: Any) -> None:
        self._iterator = iterator
        self.rows_seen = 0

    def iter_batches(
        self, batch_size: int = 256, *, shuffle: bool = False, drop_last: bool = False
    ) -> Iterator[dict[str, np.ndarray]]:
        """Batches as ``{column: numpy array}``; one pass over the shard (one epoch)."""
        kwargs: dict[str, Any] = {"batch_size": batch_size, "drop_last": drop_last}
        if shuffle:
            kwargs["local_shuffle_buffer_size"] = max(batch_size * 4, 1024)
        for batch in self._iterator.iter_batches(batch_format="numpy", **kwargs):
            self.rows_seen += len(next(iter(batch.values())))
            yield batch

    def iter_torch_batches(
        self, batch_size: int = 256, *, shuffle: bool = False, device: Any = None
    ) -> Iterator[dict[str, Any]]:
        """Batches as ``{column: torch tensor}`` on ``device``."""
        import torch

        for batch in self.iter_batches(batch_size, shuffle=shuffle):
            yield {k: torch.as_tensor(v, device=device) for k, v in batch.items()}

    def to_numpy(self) -> dict[str, np.ndarray]:
        """The whole shard as ``{column: array}`` (counts as one pass for throughput)."""
        parts: dict[str, list[np.ndarray]] = {}
        for batch in self.iter_batches(4096):
            for name, arr in batch.items():
                parts.setdefault(name, []).append(arr)
        return {name: np.concatenate(arrs) for name, arrs in parts.items()}

    def to_tf(self, features: str, label: str, batch_size: int = 256):
        """The shard as a batched ``tf.data.Dataset`` of ``(features, label)``."""
        arrays = self.to_numpy()
        return tf_dataset(arrays[features], arrays[label], batch_size)


def tf_dataset(x: np.ndarray, y: np.ndarray, batch_size: int):
    """A batched ``tf.data.Dataset`` of one worker's rows, auto-sharding off: the rows are
    already this worker's shard, and MultiWorkerMirroredStrategy must not shard them again."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).with_options(options)
