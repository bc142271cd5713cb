"""Pure search logic of the catalog: bbox and time intersection, property filters, text rank."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from eo_ray.ingest.errors import invalid

_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lower-case alphanumeric words (``S1A_IW_GRDH`` -> ``s1a``, ``iw``, ``grdh``)."""
    return _TOKEN.findall(text.lower())


def parse_bbox(bbox: Sequence[float] | str | None) -> tuple[float, float, float, float] | None:
    """A WGS84 (west, south, east, north) box from a sequence or ``"w,s,e,n"``."""
    if bbox is None:
        return None
    try:
        values = [float(v) for v in (bbox.split(",") if isinstance(bbox, str) else bbox)]
    except (TypeError, ValueError):
        raise invalid(
            "bbox", "Catalog.search", "4 numbers west, south, east, north", bbox
        ) from None
    if len(values) != 4 or values[0] > values[2] or values[1] > values[3]:
        raise invalid("bbox", "Catalog.search", "4 numbers west <= east, south <= north", bbox)
    return values[0], values[1], values[2], values[3]


def _parse_instant(text: str, end: bool) -> datetime | None:
    text = text.strip()
    if text in ("", ".."):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(
            "datetime", "Catalog.search", "an ISO date or 'start/end' range", text
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    if end and len(text) <= 10:  # a date alone: the whole day
        value += timedelta(days=1) - timedelta(microseconds=1)
    return value


def parse_range(
    value: str | datetime | Sequence[Any] | None,
) -> tuple[datetime | None, datetime | None] | None:
    """``"2015-01-01/2016-12-31"``, ``"2015-08-04"``, ``"../2016"``, or a (start, end) pair."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value, value
    if isinstance(value, str):
        start, sep, stop = value.partition("/")
        if not sep:
            return _parse_instant(start, False), _parse_instant(start, True)
        return _parse_instant(start, False), _parse_instant(stop, True)
    if isinstance(value, Sequence) and len(value) == 2:
        parts = [v.isoformat() if isinstance(v, datetime) else (v or "..") for v in value]
        return _parse_instant(str(parts[0]), False), _parse_instant(str(parts[1]), True)
    raise invalid("datetime", "Catalog.search", "an ISO date or 'start/end' range", value)


def to_datetime(text: str | None) -> datetime | None:
    """An ISO-8601 string as an aware datetime (None stays None)."""
    if not text:
        return None
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def bbox_intersects(item_bbox: Sequence[float] | None, query: Sequence[float]) -> bool:
    """Whether an item's WGS84 bbox touches the query box (points included)."""
    if not item_bbox:
        return False
    w, s, e, n = item_bbox
    return not (e < query[0] or w > query[2] or n < query[1] or s > query[3])


def time_overlaps(
    start: datetime | None, end: datetime | None, query: tuple[datetime | None, datetime | None]
) -> bool:
    """Whether an item's [start, end] time span meets the query range."""
    if start is None:
        return False
    end = end or start
    lo, hi = query
    return (lo is None or end >= lo) and (hi is None or start <= hi)


def property_matches(value: Any, wanted: Any) -> bool:
    """Equality with a little EO sense.

    Strings compare case-insensitively and a family name matches its members
    (``"sentinel-1"`` matches ``"sentinel-1a"``); a list value matches when it contains the
    wanted value (``polarizations="VH"``); a callable is a predicate.
    """
    if callable(wanted):
        return bool(wanted(value))
    if isinstance(value, list):
        return any(property_matches(v, wanted) for v in value)
    if isinstance(wanted, (list, tuple, set)):
        return any(property_matches(value, w) for w in wanted)
    if isinstance(value, str) and isinstance(wanted, str):
        v, w = value.lower(), wanted.lower()
        return v == w or (v.startswith(w) and w[-1:].isalnum() and not v[len(w)].isdigit())
    try:
        return value == wanted or float(value) == float(wanted)
    except (TypeError, ValueError):
        return False


class TextIndex:
    """BM25 ranking of documents for free-text queries (with prefix matches)."""

    def __init__(self, documents: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.docs = [Counter(tokens(d)) for d in documents]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        self.k1, self.b = k1, b
        self.df: Counter[str] = Counter()
        for doc in self.docs:
            self.df.update(doc.keys())

    def score(self, query: str) -> list[float]:
        """The relevance of every document (0 when a query word is missing entirely)."""
        words = tokens(query)
        n = len(self.docs)
        scores = [0.0] * n
        for word in words:
            matches: Callable[[str], bool] = lambda t, w=word: t.startswith(w)  # noqa: E731
            vocab = [t for t in self.df if matches(t)]
            if not vocab:
                return [0.0] * n
            for i, doc in enumerate(self.docs):
                tf = sum(doc[t] * (1.0 if t == word else 0.5) for t in vocab if t in doc)
                if tf == 0:
                    scores[i] = -math.inf  # every query word must match (AND)
                    continue
                df = max(self.df[t] for t in vocab if t in doc)
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / (self.avg or 1))
                scores[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        return [max(s, 0.0) for s in scores]
