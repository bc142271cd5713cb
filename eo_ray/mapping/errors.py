"""Errors of the mapping stage: each says what was wrong and what to do."""

from __future__ import annotations

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
    """The one message shape of a bad argument of ``eo.mapping.predict``."""
    return MappingInputError(
        f"The {name!r} parameter of predict must be {expected}. Got {got!r} instead."
    )
