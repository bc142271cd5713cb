"""Errors of the model registry; each says what was wrong and what to do."""

from __future__ import annotations

from eo_ray.errors import EoRayError


class ModelRegistryError(EoRayError):
    """Base class of model-registry errors."""


class ModelNotFoundError(ModelRegistryError, LookupError):
    """No model (or no such version) of that name is registered."""


class ModelFormatError(ModelRegistryError, ValueError):
    """The model or file cannot be stored or loaded in a safe format for its framework."""


class MetricNotFoundError(ModelRegistryError, LookupError):
    """No version of the model has the metric asked for."""
