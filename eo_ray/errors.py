"""The error hierarchy of eo-ray.

Every error a user can cause derives from :class:`EoRayError`; the CLI prints these as
one line instead of a traceback. Each message says what was wrong and what to do.
"""

from __future__ import annotations


class EoRayError(Exception):
    """Base class of every error eo-ray raises for bad input or bad environment."""


class ConfigError(EoRayError, ValueError):
    """A setting (environment variable or argument) has an invalid value."""


class InvalidNameError(EoRayError, ValueError):
    """The name of a user object (feature group, model, experiment, ...) is not allowed."""


class RuntimeConnectionError(EoRayError, ConnectionError):
    """The Ray cluster at the configured address cannot be reached."""


class DatasetError(EoRayError):
    """Base class of dataset loading errors."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A dataset's files are not present locally and cannot be downloaded."""


class ChecksumMismatchError(DatasetError):
    """A dataset file does not have its published sha256: it is refused, never used."""


class UnknownDatasetError(DatasetError, KeyError):
    """No dataset of that name is registered."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it a plain sentence.
        return str(self.args[0]) if self.args else ""
