"""Errors of the UI (shown as error pages: a missing object is a 404, never a traceback)."""

from __future__ import annotations

from eo_ray.errors import EoRayError


class UIError(EoRayError):
    """Base class of the UI's errors."""


class UIConfigError(UIError, ValueError):
    """An argument of ``create_app``, ``serve`` or ``deploy`` has an invalid value."""


class ObjectNotFoundError(UIError, LookupError):
    """The page's object (deployment, map, item...) does not exist in the workspace."""
