"""The acquisition date of an item, from wherever the file tells it.

Precedence, first found wins (the winner is kept in ``properties["datetime_source"]``):

1. ``product``: the product's naming and sidecar metadata (Landsat MTL ``DATE_ACQUIRED``,
   the Landsat scene id, the Sentinel-1/-2 product names);
2. ``metadata``: an acquisition tag of the file (``ACQUISITIONDATETIME``,
   ``ACQUISITION_DATE``, ``DATE_ACQUIRED``, ``SENSING_TIME``, ...), else GDAL's
   ``TIFFTAG_DATETIME`` (``YYYY:MM:DD HH:MM:SS``);
3. ``filename``: a date in the file name, as sits reads them: ``YYYY-MM-DD``, ``YYYYMMDD``
   (optionally ``THHMMSS``) or ``YYYYDDD`` (day of year). Only dates bounded by non-digits
   count, with a plausible year (1950-2100) and a real month and day; a date set off by
   separators (``_``, ``-``, ``.``, start or end of name) wins over one glued to letters, and
   the leftmost wins among equals. A 7-digit day-of-year must be set off by separators.

An item none of these dates stays undated (``datetime`` None) and the scan report lists it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# Tags that name the acquisition, most specific first (matched without case).
ACQUISITION_TAGS = (
    "ACQUISITIONDATETIME",
    "ACQUISITION_DATETIME",
    "ACQUISITION_DATE",
    "ACQUISITIONDATE",
    "DATE_ACQUIRED",
    "SENSING_TIME",
    "SENSING_START",
    "START_TIME",
    "DATETIME",
)
_YEARS = range(1950, 2101)

_CANDIDATES = (
    # (regex with groups y, m, d and optional clock, kind)
    (r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?:[T_ ](?P<clock>\d{2}:?\d{2}:?\d{2}))?", "ymd"),
    (r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:T(?P<clock>\d{6}))?", "ymd"),
    (r"(?P<y>\d{4})(?P<doy>\d{3})", "doy"),
)


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_date_text(text: str) -> str | None:
    """An ISO-8601 UTC string from a metadata date value, or None when it is not one.

    Accepts ISO-8601 (``2020-05-01``, ``2020-05-01T10:00:00Z``), TIFF's
    ``2020:05:01 10:00:00`` and ``YYYYMMDD``.
    """
    text = text.strip().strip('"')
    tiff = re.fullmatch(r"(\d{4}):(\d{2}):(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2}))?", text)
    if tiff:
        text = f"{tiff[1]}-{tiff[2]}-{tiff[3]}" + (
            f"T{tiff[4]}:{tiff[5]}:{tiff[6]}" if tiff[4] else ""
        )
    elif re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _iso(value) if value.year in _YEARS else None


def date_from_tags(tags: dict[str, str]) -> str | None:
    """The acquisition date in a raster's metadata tags, else its TIFFTAG_DATETIME."""
    upper = {key.upper(): value for key, value in tags.items()}
    for key in (*ACQUISITION_TAGS, "TIFFTAG_DATETIME"):
        if key in upper:
            parsed = parse_date_text(upper[key])
            if parsed:
                return parsed
    return None


def date_from_name(name: str) -> str | None:
    """The date in a file name (``YYYY-MM-DD``, ``YYYYMMDD[THHMMSS]``, ``YYYYDDD``), or None."""
    stem = name.rsplit("/", 1)[-1]
    stem = re.sub(r"\.[A-Za-z0-9]{2,4}$", "", stem)
    found: list[tuple[int, int, str]] = []  # (not delimited, position, iso)
    for pattern, kind in _CANDIDATES:
        for match in re.finditer(rf"(?<!\d)(?:{pattern})(?!\d)", stem):
            before = stem[match.start() - 1] if match.start() else ""
            after = stem[match.end()] if match.end() < len(stem) else ""
            delimited = not before.isalnum() and not after.isalnum()
            if kind == "doy" and not delimited:
                continue
            iso = _from_groups(match.groupdict(), kind)
            if iso:
                found.append((0 if delimited else 1, match.start(), iso))
    return min(found)[2] if found else None


def _from_groups(groups: dict[str, str | None], kind: str) -> str | None:
    year = int(groups["y"] or 0)
    if year not in _YEARS:
        return None
    try:
        if kind == "doy":
            day = int(groups["doy"] or 0)
            if not 1 <= day <= 366:
                return None
            value = datetime(year, 1, 1) + timedelta(days=day - 1)
            return _iso(value) if value.year == year else None
        value = datetime(year, int(groups["m"] or 0), int(groups["d"] or 0))
        clock = (groups.get("clock") or "").replace(":", "")
        if clock:
            value = value.replace(
                hour=int(clock[:2]), minute=int(clock[2:4]), second=int(clock[4:])
            )
    except ValueError:
        return None
    return _iso(value)


def item_date(
    product_date: str | None, tags: dict[str, str], names: list[str]
) -> tuple[str | None, str | None]:
    """(datetime, source) by the precedence of this module; (None, None) when undated."""
    if product_date:
        return product_date, "product"
    from_tags = date_from_tags(tags)
    if from_tags:
        return from_tags, "metadata"
    for name in names:
        from_name = date_from_name(name)
        if from_name:
            return from_name, "filename"
    return None, None
