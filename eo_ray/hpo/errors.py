"""Errors of hyperparameter search."""

from __future__ import annotations

from eo_ray.errors import EoRayError


class HpoError(EoRayError):
    """Base class of hyperparameter-search errors."""


class SearchSpaceError(HpoError, ValueError):
    """A search space or one of its parameters is invalid."""


class SearchConfigError(HpoError, ValueError):
    """An argument of a search (optimizer, metric, mode, workers...) is invalid."""


class ReportError(HpoError, ValueError):
    """A training function reported or returned something that is not a metric value."""


class AllTrialsFailedError(HpoError):
    """Every trial of a search or an ablation study failed; the message carries the first
    trial's error (also ``eo_ray.ablation.AllTrialsFailedError``)."""
