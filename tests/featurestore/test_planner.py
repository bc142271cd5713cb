"""Point-in-time join planning, tested without storage or Ray (DuckDB over Arrow tables)."""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb
import pyarrow as pa
import pytest

from eo_ray.featurestore import QueryError
from eo_ray.featurestore._planner import JoinSpec, Side, plan


def ts(day: int) -> datetime:
    return datetime(2024, 1, day, tzinfo=timezone.utc)


SPINE = Side("g0", ("id",), "t", ("id", "t", "label"), ("id", "label"))
PRICES = Side("g1", ("id",), "t", ("id", "t", "price"), ("price",))


def test_timed_sides_join_as_of():
    p = plan(SPINE, [JoinSpec(PRICES, ("id",), ("id",))])
    assert "ASOF LEFT JOIN" in p.sql
    assert 'l."t" >= r0."t"' in p.sql
    assert p.columns == ["id", "label", "price"]
    assert p.point_in_time == [True]


def test_untimed_right_side_is_a_key_join_and_untimed_left_takes_latest():
    static = Side("g1", ("id",), None, ("id", "size"), ("size",))
    p = plan(SPINE, [JoinSpec(static, ("id",), ("id",))])
    assert "ASOF" not in p.sql
    assert "LEFT JOIN" in p.sql
    untimed_left = Side("g0", ("id",), None, ("id", "label"), ("id",))
    p = plan(untimed_left, [JoinSpec(PRICES, ("id",), ("id",))])
    assert "row_number()" in p.sql
    assert "ASOF" not in p.sql


def test_name_clash_needs_a_prefix_and_unknown_features_fail():
    other = Side("g1", ("id",), "t", ("id", "t", "label"), ("label",))
    with pytest.raises(QueryError, match="prefix"):
        plan(SPINE, [JoinSpec(other, ("id",), ("id",))])
    prefixed = Side("g1", ("id",), "t", ("id", "t", "label"), ("label",), prefix="o_")
    assert plan(SPINE, [JoinSpec(prefixed, ("id",), ("id",))]).columns == ["id", "label", "o_label"]
    with pytest.raises(QueryError, match="not in"):
        plan(Side("g0", ("id",), None, ("id",), ("nope",)), [])
    with pytest.raises(QueryError, match="not a column"):
        plan(SPINE, [JoinSpec(PRICES, ("nope",), ("id",))])


def test_point_in_time_join_never_leaks_a_future_value():
    # The price of id 1 changes on day 5; a label observed on day 3 must see the day-1 price,
    # while a naive "latest value" join would give it the day-5 price from its future.
    spine = pa.table({"id": [1, 1, 2], "t": [ts(3), ts(6), ts(3)], "label": [0, 1, 1]})
    prices = pa.table({"id": [1, 1, 2], "t": [ts(1), ts(5), ts(4)], "price": [10.0, 50.0, 7.0]})
    p = plan(SPINE, [JoinSpec(PRICES, ("id",), ("id",))])
    con = duckdb.connect()
    con.register("g0", spine)
    con.register("g1", prices)
    rows = con.execute(p.sql).fetchall()
    assert rows == [(1, 0, 10.0), (1, 1, 50.0), (2, 1, None)]  # id 2 has no price yet on day 3
    naive = con.execute(
        "SELECT g0.id, g0.label, p.price FROM g0 LEFT JOIN (SELECT * FROM g1 QUALIFY "
        "row_number() OVER (PARTITION BY id ORDER BY t DESC) = 1) p USING (id) ORDER BY g0.id, g0.t"
    ).fetchall()
    assert naive[0] == (1, 0, 50.0)  # the leak the planner avoids
