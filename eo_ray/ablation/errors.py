"""Errors of ablation studies: each says what was wrong and what to do.

``AllTrialsFailedError`` (every trial of a study failed) is the trial runtime's one error,
shared with searches: ``eo_ray.hpo.AllTrialsFailedError`` under this name too.
"""

from __future__ import annotations

from eo_ray.errors import EoRayError
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
