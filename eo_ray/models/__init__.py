"""The model registry: ``eo.models.register``, ``get``, ``list``, ``best`` and ``load()``.

Models are stored under the workspace (``models/<name>/<version>/``) in each framework's safe
format (TorchScript, ``.keras``, skops) with metrics and provenance (training dataset,
experiment, training run), so serving can start from ``eo.models.best(name, "accuracy")``.
"""

from __future__ import annotations

from eo_ray.models._formats import FORMATS, ModelFormat, get_format
from eo_ray.models._inputs import InputError, InputSpec, stack_instances
from eo_ray.models._predictors import Predictor, predictor_for
from eo_ray.models._runner import ModelOutputError, ModelRunner
from eo_ray.models._signature import INPUTS, Preprocess, Signature
from eo_ray.models.errors import (
    MetricNotFoundError,
    ModelFormatError,
    ModelNotFoundError,
    ModelRegistryError,
)
from eo_ray.models.registry import ModelVersion, best, get, list_versions, register


def list(name: str | None = None) -> list[ModelVersion]:
    """Every version of ``name`` (``eo.models.list(name)``), or the latest of each model."""
    return list_versions(name)


__all__ = [
    "FORMATS",
    "INPUTS",
    "InputError",
    "InputSpec",
    "MetricNotFoundError",
    "ModelFormat",
    "ModelFormatError",
    "ModelNotFoundError",
    "ModelOutputError",
    "ModelRegistryError",
    "ModelRunner",
    "ModelVersion",
    "Predictor",
    "Preprocess",
    "Signature",
    "best",
    "get",
    "get_format",
    "list",
    "list_versions",
    "predictor_for",
    "register",
    "stack_instances",
]
