"""Planning of feature queries into one DuckDB SQL statement (pure: no storage, no Ray).

Point-in-time correctness: when both sides of a join have an event time, each left row gets
the right row with the same key and the latest event time *at or before* its own (DuckDB's
``ASOF LEFT JOIN ... AND l.t >= r.t``), so no feature value from the future leaks into a
training row. A right side without event time joins on keys; a right side with event time
joined to a left side without one contributes its latest row per key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eo_ray.featurestore._duck import quote
from eo_ray.featurestore.errors import QueryError


@dataclass(frozen=True)
class Side:
    """One feature group in a query: its relation name and what is selected from it."""

    relation: str
    primary_key: tuple[str, ...]
    event_time: str | None
    columns: tuple[str, ...]  # every column of the group
    features: tuple[str, ...]  # the selected ones
    prefix: str = ""


@dataclass(frozen=True)
class JoinSpec:
    """How a right side joins the left one."""

    right: Side
    left_on: tuple[str, ...]
    right_on: tuple[str, ...]
    how: str = "left"  # "left" or "inner"


@dataclass
class Plan:
    """The planned statement, its parameters and the names of the output columns."""

    sql: str
    params: list[Any] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    point_in_time: list[bool] = field(default_factory=list)


def output_names(left: Side, joins: list[JoinSpec]) -> list[tuple[str, str, str]]:
    """``(alias, feature, output name)`` of every selected feature; clashes are errors."""
    out, seen = [], {}
    sides = [("l", left)] + [(f"r{i}", j.right) for i, j in enumerate(joins)]
    for alias, side in sides:
        for feat in side.features:
            if feat not in side.columns:
                raise QueryError(
                    f"Feature {feat!r} is not in {side.relation!r}; its features are "
                    f"{list(side.columns)}."
                )
            name = f"{side.prefix}{feat}"
            if name in seen:
                raise QueryError(
                    f"Feature name {name!r} is selected from both {seen[name]!r} and "
                    f"{side.relation!r}; pass prefix='...' to join() or select fewer features."
                )
            seen[name] = side.relation
            out.append((alias, feat, name))
    return out


def plan(
    left: Side,
    joins: list[JoinSpec],
    where: tuple[str, list[Any]] | None = None,
    order: bool = True,
    event_time_as: str | None = None,
) -> Plan:
    """The SQL of ``left`` joined with ``joins`` (relations are named by ``Side.relation``).

    ``event_time_as`` adds the left event time as an extra output column of that name.
    """
    outputs = output_names(left, joins)
    if event_time_as and left.event_time:
        outputs.append(("l", left.event_time, event_time_as))
    select = ", ".join(f"{a}.{quote(f)} AS {quote(n)}" for a, f, n in outputs)
    sql = [f"SELECT {select}", f"FROM {quote(left.relation)} AS l"]
    pit = []
    for i, join in enumerate(joins):
        alias, right = f"r{i}", join.right
        if len(join.left_on) != len(join.right_on) or not join.left_on:
            raise QueryError(
                f"Join with {right.relation!r} needs as many left_on as right_on columns "
                f"(got {list(join.left_on)} and {list(join.right_on)})."
            )
        for col in join.left_on:
            if col not in left.columns:
                raise QueryError(
                    f"Join key {col!r} is not a column of {left.relation!r}; use left_on=..."
                )
        for col in join.right_on:
            if col not in right.columns:
                raise QueryError(
                    f"Join key {col!r} is not a column of {right.relation!r}; use right_on=..."
                )
        if join.how not in ("left", "inner"):
            raise QueryError(f"join_type must be 'left' or 'inner'; got {join.how!r}.")
        keys = " AND ".join(
            f"l.{quote(a)} = {alias}.{quote(b)}"
            for a, b in zip(join.left_on, join.right_on, strict=True)
        )
        asof = bool(left.event_time and right.event_time)
        pit.append(asof)
        kind = "LEFT " if join.how == "left" else ""
        if asof:
            cond = f"{keys} AND l.{quote(left.event_time)} >= {alias}.{quote(right.event_time)}"
            sql.append(f"ASOF {kind}JOIN {quote(right.relation)} AS {alias} ON {cond}")
        elif right.event_time:
            part = ", ".join(quote(c) for c in join.right_on)
            latest = (
                f"(SELECT * FROM {quote(right.relation)} QUALIFY row_number() OVER "  # noqa: S608
                f"(PARTITION BY {part} ORDER BY {quote(right.event_time)} DESC) = 1)"
            )
            sql.append(f"{kind}JOIN {latest} AS {alias} ON {keys}")
        else:
            sql.append(f"{kind}JOIN {quote(right.relation)} AS {alias} ON {keys}")
    params: list[Any] = []
    if where:
        sql.append(f"WHERE {where[0]}")
        params = list(where[1])
    if order:
        keys = [*left.primary_key, *([left.event_time] if left.event_time else [])]
        sql.append("ORDER BY " + ", ".join(f"l.{quote(k)}" for k in keys))
    return Plan("\n".join(sql), params, [n for _, _, n in outputs], pit)
