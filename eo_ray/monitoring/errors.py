"""Errors of the monitoring stage."""

from __future__ import annotations

from eo_ray.errors import EoRayError


class MonitoringError(EoRayError):
    """Base class of monitoring errors."""


class NoRequestsError(MonitoringError, LookupError):
    """The request log of a deployment is empty (for the window asked)."""


class ReferenceDataError(MonitoringError, ValueError):
    """The reference data cannot be compared with the logged inputs."""
