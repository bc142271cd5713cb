"""Errors of experiment records and the synchronous Experiment API (defined in tracking)."""

from __future__ import annotations

from eo_ray.tracking.errors import ExperimentError, ExperimentNotFoundError, RerunError

__all__ = ["ExperimentError", "ExperimentNotFoundError", "RerunError"]
