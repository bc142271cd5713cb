"""What one instance of a model's input must look like, and stacking instances into the batch
array the model takes (used by serving, monitoring and analysis alike).

An :class:`InputSpec` says what one instance must look like: a fixed shape and dtype (from the
input example registered with the model), named scalar features (a scikit-learn model fitted
on a DataFrame) or entity keys resolved through a feature view's online store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from eo_ray.models.errors import ModelRegistryError


class InputError(ModelRegistryError, ValueError):
    """Instances do not fit a model's input (shape, dtype, feature names, finite values)."""


@dataclass(frozen=True)
class InputSpec:
    """The shape, dtype and feature names one instance must have (``None``: not checked)."""

    shape: tuple[int, ...] | None = None
    dtype: str = "float32"
    feature_names: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["shape"] = None if self.shape is None else list(self.shape)
        data["feature_names"] = None if self.feature_names is None else list(self.feature_names)
        return data

    @property
    def is_image(self) -> bool:
        """Instances with two or more axes (chips) rather than a vector of features."""
        return self.shape is not None and len(self.shape) >= 2


def stack_instances(instances: list[Any], spec: InputSpec) -> np.ndarray:
    """Stack instances into one array of ``spec``'s dtype and shape; InputError when they do
    not fit."""
    if spec.feature_names is not None and all(isinstance(i, dict) for i in instances):
        instances = [_ordered(i, spec.feature_names, n) for n, i in enumerate(instances)]
    if any(isinstance(i, dict) for i in instances):
        raise InputError(
            "Instances must all be lists of numbers (or all objects of named features)."
        )
    try:
        x = np.asarray(instances, dtype=np.dtype(spec.dtype))
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"Instances must be numbers in nested lists of one shape ({_short(exc)}).",
        ) from None
    if x.ndim == 1 and spec.shape == (1,):
        x = x[:, None]
    if spec.shape is not None and tuple(x.shape[1:]) != spec.shape:
        raise InputError(
            f"Each instance must have shape {list(spec.shape)}; got {list(x.shape[1:])}.",
        )
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise InputError("Instances contain NaN or infinite values.")
    return x


def _ordered(instance: dict[str, Any], names: tuple[str, ...], index: int) -> list[Any]:
    missing = [n for n in names if n not in instance]
    if missing:
        raise InputError(f"Instance {index} lacks the features {missing}.")
    return [instance[n] for n in names]


def _short(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    return text if len(text) < 160 else text[:157] + "..."
