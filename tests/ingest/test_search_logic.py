"""Search building blocks: ranges, boxes, property matching, text ranking (no Ray)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from eo_ray.ingest import InvalidOptionError
from eo_ray.ingest._search import (
    TextIndex,
    bbox_intersects,
    parse_bbox,
    parse_range,
    property_matches,
    time_overlaps,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_date_ranges_are_inclusive_of_whole_days() -> None:
    start, end = parse_range("2015-01-01/2016-12-31")
    assert start == utc(2015, 1, 1)
    assert end.date().isoformat() == "2016-12-31"
    assert end.hour == 23
    assert parse_range("../2016-01-01")[0] is None
    assert parse_range("2015-08-04")[1] > utc(2015, 8, 4, 23)
    assert time_overlaps(utc(2015, 8, 4, 16), None, parse_range("2015-08-04"))
    assert not time_overlaps(utc(2017, 1, 1), None, parse_range("2015-01-01/2016-12-31"))
    # a span overlapping the range start counts
    assert time_overlaps(utc(2014, 12, 31), utc(2015, 1, 2), parse_range("2015-01-01/.."))


@pytest.mark.parametrize("bad", ["2015-13-45", "yesterday", 42])
def test_bad_datetime_is_one_clear_error(bad: object) -> None:
    with pytest.raises(InvalidOptionError, match="'datetime' parameter"):
        parse_range(bad)  # type: ignore[arg-type]


def test_bbox_parsing_and_intersection() -> None:
    assert parse_bbox("-90,29,-87,32") == (-90.0, 29.0, -87.0, 32.0)
    with pytest.raises(InvalidOptionError, match="west <= east"):
        parse_bbox([10, 0, 5, 1])
    with pytest.raises(InvalidOptionError, match="'bbox' parameter"):
        parse_bbox("a,b,c,d")
    assert bbox_intersects([0, 0, 1, 1], (0.5, 0.5, 2, 2))
    assert bbox_intersects([1, 1, 1, 1], (0, 0, 2, 2))  # a point item
    assert not bbox_intersects([0, 0, 1, 1], (2, 2, 3, 3))
    assert not bbox_intersects(None, (0, 0, 1, 1))


def test_property_matching_knows_families_and_lists() -> None:
    assert property_matches("sentinel-1a", "sentinel-1")
    assert property_matches("Tanker", "tanker")
    assert not property_matches("landsat-80", "landsat-8")
    assert not property_matches("B10", "B1")
    assert property_matches(["VV", "VH"], "vh")
    assert property_matches(7396, "7396")
    assert property_matches(5, lambda v: v > 3)
    assert property_matches("GRD", ["SLC", "GRD"])


def test_text_ranking_prefers_more_specific_matches() -> None:
    docs = [
        "Tanker_x1 label Tanker sentinel-1a",
        "Cargo_x2 label Cargo sentinel-1a",
        "Tanker_x3 label Tanker ais:elaborated_type Oil Products Tanker",
        "RGB.byte band_1",
    ]
    scores = TextIndex(docs).score("tanker")
    assert scores[1] == 0
    assert scores[3] == 0
    assert scores[2] > scores[0] > 0
    assert TextIndex(docs).score("tanker oil")[0] == 0  # every word must match
    assert TextIndex(docs).score("sentinel")[1] > 0  # prefix match
