"""Errors of the pipelines stage."""

from __future__ import annotations

from eo_ray.errors import EoRayError


class PipelineError(EoRayError):
    """Base class of pipeline errors."""


class PipelineDefinitionError(PipelineError, ValueError):
    """A pipeline's steps do not form a valid DAG (unknown dependency, cycle, duplicate name)."""


class PipelineRunNotFoundError(PipelineError, LookupError):
    """No run of that id is recorded under the workspace."""


class StepTimeoutError(PipelineError, TimeoutError):
    """A step ran past its timeout and was cancelled."""


class StepFailedError(PipelineError):
    """A step failed on its last attempt (raised by ``PipelineRun.raise_for_status``)."""
