"""Errors of run records (tracking) and of re-running them."""

from __future__ import annotations

from eo_ray.errors import EoRayError


class ExperimentError(EoRayError):
    """Base class of experiment errors."""


class ExperimentNotFoundError(ExperimentError, KeyError):
    """No experiment record has that id."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it a plain sentence.
        return str(self.args[0]) if self.args else ""


class RerunError(ExperimentError):
    """A recorded experiment cannot be re-run (its function or entry point is gone)."""
