"""The online store extension point: a key-value store of the latest row per primary key.

An implementation stores, per table (one per feature group version), an encoded key, the
row's event time and the row encoded as text; a write keeps the row with the later event
time when a key is written twice. Row and key encoding is done here, once, for all stores.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any


class OnlineStore(ABC):
    """Base class of online stores (SQLite, Redis, ...)."""

    @abstractmethod
    def write(self, table: str, rows: Iterable[tuple[str, float, str]]) -> None:
        """Store ``(key, event_time, value)`` rows, keeping the later event time per key."""

    @abstractmethod
    def read(self, table: str, keys: Sequence[str]) -> list[str | None]:
        """The stored values of ``keys`` (None where absent), in order."""

    @abstractmethod
    def drop(self, table: str) -> None:
        """Remove every row of ``table``."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def encode_key(values: Sequence[Any]) -> str:
    """A canonical text form of a primary-key tuple (numbers normalised, so 1 == 1.0 != '1')."""
    out = []
    for value in values:
        if hasattr(value, "item"):
            value = value.item()  # numpy scalars
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        out.append(value)
    return json.dumps(out, separators=(",", ":"))


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return {"$t": value.isoformat()}
    if isinstance(value, bytes):
        return {"$b": value.hex()}
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} online")


def encode_row(row: dict[str, Any]) -> str:
    """A row as JSON text (timestamps and bytes tagged so they decode to the same values)."""
    return json.dumps(row, default=_default, separators=(",", ":"), allow_nan=True)


def _hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$t" in obj:
            text = obj["$t"]
            return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
        if "$b" in obj:
            return bytes.fromhex(obj["$b"])
    return obj


def decode_row(text: str | None) -> dict[str, Any] | None:
    """The row stored by :func:`encode_row`."""
    return None if text is None else json.loads(text, object_hook=_hook)
