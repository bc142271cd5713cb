"""Errors of the mapping stage: each says what was wrong and what to do."""

from __future__ import annotations

from eo_ray import _params
from eo_ray.errors import EoRayError


class MappingError(EoRayError):
    """Base class of every mapping error."""


class MappingInputError(MappingError, ValueError):
    """A bad argument, source or model: raised before anything is written."""


class MapNotFoundError(MappingError, LookupError):
    """No map of that id is recorded in the workspace."""


class MapFailedError(MappingError):
    """Every scene of a mapping run failed; the message lists the first reasons."""


def invalid(name: str, expected: str, got: object) -> MappingInputError:
    """A bad argument of ``eo.mapping.predict``, in the one message shape of ``eo_ray._params``."""
    return _params.invalid(MappingInputError, name, "predict", expected, got)
