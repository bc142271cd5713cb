"""Model inputs as a table of scalar features that drift tests can compare.

Tabular instances become one column per feature. Image chips (an instance with two or more
axes, channels first) are summarised per band: mean, standard deviation, 5th and 95th
percentile and median, so drift in brightness, contrast or noise
shows up without comparing millions of pixels.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from eo_ray.monitoring.errors import ReferenceDataError

BAND_STATS = ("mean", "std", "p05", "p50", "p95")


def band_statistics(images: np.ndarray) -> pd.DataFrame:
    """Per-band summary statistics of N images (N×H×W or N×C×H×W, channels first)."""
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:
        raise ReferenceDataError(
            f"Images must be N×H×W or N×C×H×W arrays; got an array of shape {list(x.shape)}."
        )
    flat = x.reshape(x.shape[0], x.shape[1], -1)
    columns: dict[str, np.ndarray] = {}
    for band in range(flat.shape[1]):
        values = flat[:, band]
        p05, p50, p95 = np.nanpercentile(values, [5, 50, 95], axis=1)
        columns[f"b{band}_mean"] = np.nanmean(values, axis=1)
        columns[f"b{band}_std"] = np.nanstd(values, axis=1)
        columns[f"b{band}_p05"] = p05
        columns[f"b{band}_p50"] = p50
        columns[f"b{band}_p95"] = p95
    return pd.DataFrame(columns)


def summarise(instances: Any, feature_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Scalar features of model inputs: an array, a list of instances or a DataFrame."""
    if isinstance(instances, pd.DataFrame):
        return instances.reset_index(drop=True)
    if isinstance(instances, list) and instances and isinstance(instances[0], dict):
        return pd.DataFrame(instances)
    x = np.asarray(instances, dtype=np.float64)
    if x.ndim >= 3:
        return band_statistics(x)
    if x.ndim == 1:
        x = x[:, None]
    names = list(feature_names) if feature_names else [f"f{i}" for i in range(x.shape[1])]
    if len(names) != x.shape[1]:
        raise ReferenceDataError(
            f"{len(names)} feature names given for instances of {x.shape[1]} values."
        )
    return pd.DataFrame(x, columns=names)


def request_inputs(log: pd.DataFrame) -> list[Any]:
    """The inputs of each logged request (a frame of ``eo.monitoring.requests``), decoded.

    Image chips are logged as the array the model received and come back as that array
    (instances × channels × height × width); other inputs are logged as JSON text and come
    back as its value (a list of instances, or of entity keys); None where nothing was kept
    (a body that was not JSON, an unauthorised request).
    """
    from eo_ray.serving.request_log import ARRAY, decode_array

    arrays = log[ARRAY] if ARRAY in log else [None] * len(log)
    out: list[Any] = []
    for text, blob in zip(log["inputs"], arrays, strict=True):
        if isinstance(blob, bytes | bytearray):
            out.append(decode_array(blob))
        else:
            out.append(json.loads(text) if isinstance(text, str) else None)
    return out


def logged_inputs(log: pd.DataFrame) -> tuple[list[Any], list[Any]]:
    """Instances and predictions of successful logged requests, one entry per instance.

    Feature-view deployments log the looked-up features; those are what the model saw.
    """
    instances: list[Any] = []
    predictions: list[Any] = []
    ok = log[log["status"] == 200]
    inputs = request_inputs(ok)
    for batch, features, preds in zip(inputs, ok["features"], ok["predictions"], strict=True):
        instances.extend(json.loads(features) if isinstance(features, str) else batch)
        predictions.extend(json.loads(preds))
    return instances, predictions
