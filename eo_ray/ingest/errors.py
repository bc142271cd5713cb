"""Errors of the ingest stage: each says what was wrong with which input and what to do.

Inputs that fail without stopping a scan or a read are kept as :class:`Failure` records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from eo_ray import _params
from eo_ray.errors import EoRayError


class IngestError(EoRayError):
    """Base class of every ingest error."""


class NoInputError(IngestError, FileNotFoundError):
    """Nothing to ingest: the paths given name no raster file."""


class CatalogNotFoundError(IngestError, LookupError):
    """The named catalog does not exist in the workspace."""


class InvalidOptionError(IngestError, ValueError):
    """An argument of scan / search / read_chips / run_command has an invalid value."""


class NothingReadableError(IngestError):
    """Every input failed: the message lists the reasons of the first few."""


class ChipReadError(IngestError):
    """A file or window failed inside a read task of ``read_chips(..., on_error="raise")``."""


class RasterInputError(IngestError):
    """One input file cannot be used; raised per file inside tasks and turned into a Failure."""


@dataclass(frozen=True)
class Failure:
    """One input that could not be used, and why (one sentence); ``stage`` says where
    (``scan``, ``plan`` or ``read``)."""

    path: str
    reason: str
    stage: str = "scan"

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready form."""
        return asdict(self)


def invalid(name: str, owner: str, expected: str, got: object) -> InvalidOptionError:
    """A bad argument of an ingest function, in the one message shape of ``eo_ray._params``."""
    return _params.invalid(InvalidOptionError, name, owner, expected, got)
