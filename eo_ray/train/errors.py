"""Errors of distributed training; each says what was wrong and what to do."""

from __future__ import annotations

from eo_ray.errors import EoRayError


class TrainError(EoRayError):
    """Base class of training errors."""


class TrainConfigError(TrainError, ValueError):
    """An argument of ``eo.train.fit`` has an invalid value."""


class TrainUsageError(TrainError, TypeError):
    """The training loop calls the reporter or optimizer in a way its strategy does not support."""


class InsufficientResourcesError(TrainError):
    """The Ray cluster cannot place the requested workers."""


class TrainLoopError(TrainError):
    """The user's training loop raised; the original error is chained as ``__cause__``."""


class RunNotFoundError(TrainError, LookupError):
    """No training run of that id exists in the workspace."""
