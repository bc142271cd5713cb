"""Errors of the serving stage."""

from __future__ import annotations

from eo_ray.errors import EoRayError


class ServingError(EoRayError):
    """Base class of serving errors."""


class DeploymentConfigError(ServingError, ValueError):
    """An argument of ``deploy`` is invalid."""


class DeploymentNotFoundError(ServingError, LookupError):
    """No deployment of that name is running."""


class PredictionRequestError(ServingError):
    """The server refused a prediction request (a 4xx answer); carries the status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class RequestError(Exception):
    """A bad HTTP request, answered with ``status`` and ``message`` (never a 500).

    Raised inside a replica only; it is not an EoRayError because it never reaches a user's
    Python code, only an HTTP client.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
