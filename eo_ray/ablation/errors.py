"""Errors of ablation studies: each says what was wrong and what to do."""

from __future__ import annotations

from eo_ray.errors import EoRayError
# Every trial of a study failed: the one error of the trial runtime that studies share with
# searches (``eo_ray.hpo.AllTrialsFailedError``), kept under this name too.
from eo_ray.hpo.errors import AllTrialsFailedError


class AblationError(EoRayError):
    """Base class of the ablation stage's errors."""


class StudyError(AblationError, ValueError):
    """The study definition or the arguments of ``eo.ablation.run`` are invalid."""


class SurgeryError(AblationError, ValueError):
    """A layer or module cannot be removed from the model (unknown name, several inputs or
    outputs, shapes that no longer fit)."""


class DataLeakError(AblationError):
    """A trial's data still holds a feature the trial ablates (raised by the runtime check)."""


__all__ = [
    "AblationError",
    "AllTrialsFailedError",
    "DataLeakError",
    "StudyError",
    "SurgeryError",
]
