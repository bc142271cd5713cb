"""Errors of the analysis stage."""

from __future__ import annotations

from eo_ray.errors import EoRayError


class AnalysisError(EoRayError, ValueError):
    """The model or data given to an analysis report cannot be used as given."""
