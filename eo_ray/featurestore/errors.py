"""Errors of the feature store: each says what was wrong and what to do."""

from __future__ import annotations

from eo_ray.errors import EoRayError


class FeatureStoreError(EoRayError):
    """Base class of the feature store's user errors."""


class InvalidParameterError(FeatureStoreError, ValueError):
    """An argument of a feature-store call has an invalid value."""


class NotFoundError(FeatureStoreError, LookupError):
    """A feature group, feature view or training dataset does not exist."""


class AlreadyExistsError(FeatureStoreError):
    """An object with that name and version exists already."""


class SchemaError(FeatureStoreError, ValueError):
    """Data does not match the feature group's schema (columns, types, keys)."""


class DataError(FeatureStoreError, ValueError):
    """Data breaks a rule of the feature group (null or duplicate keys, unsupported input)."""


class ValidationFailedError(FeatureStoreError):
    """A strict insert failed its expectation suite; nothing was written."""

    def __init__(self, message: str, report: object) -> None:
        super().__init__(message)
        self.report = report


class QueryError(FeatureStoreError, ValueError):
    """A query or feature view cannot be planned (unknown features, no join key, ...)."""


class OnlineStoreError(FeatureStoreError):
    """The online store is not configured for this use or cannot be reached."""
