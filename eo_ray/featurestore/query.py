"""Queries over feature groups: select, join (point-in-time correct), filter, read lazily."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from eo_ray.featurestore import _delta
from eo_ray.featurestore._planner import JoinSpec, Plan, Side, plan
from eo_ray.featurestore._retrieval import Retrieval
from eo_ray.featurestore.errors import QueryError

if TYPE_CHECKING:
    from eo_ray.featurestore.feature_group import FeatureGroup

_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "in": "IN"}


class Condition:
    """A filter: comparisons of features combined with ``&`` and ``|``."""

    def __and__(self, other: Condition) -> Condition:
        return Combined("AND", self, other)

    def __or__(self, other: Condition) -> Condition:
        return Combined("OR", self, other)

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    @staticmethod
    def from_dict(doc: dict[str, Any]) -> Condition:
        """Rebuild a condition from its JSON form."""
        if "and" in doc or "or" in doc:
            op = "AND" if "and" in doc else "OR"
            a, b = doc[op.lower()]
            return Combined(op, Condition.from_dict(a), Condition.from_dict(b))
        ref = FeatureRef(doc["group"], doc["version"], doc["feature"])
        return Filter(ref, doc["op"], doc["value"])


@dataclass(frozen=True)
class FeatureRef:
    """A feature of a group, as used in filters: ``fg["age"] > 30``."""

    group: str
    version: int
    feature: str

    def _cmp(self, op: str, value: Any) -> Filter:
        return Filter(self, op, value)

    def __eq__(self, value: Any) -> Filter:  # type: ignore[override]
        return self._cmp("==", value)

    def __ne__(self, value: Any) -> Filter:  # type: ignore[override]
        return self._cmp("!=", value)

    def __lt__(self, value: Any) -> Filter:
        return self._cmp("<", value)

    def __le__(self, value: Any) -> Filter:
        return self._cmp("<=", value)

    def __gt__(self, value: Any) -> Filter:
        return self._cmp(">", value)

    def __ge__(self, value: Any) -> Filter:
        return self._cmp(">=", value)

    def isin(self, values: list[Any]) -> Filter:
        """Membership in ``values``."""
        return self._cmp("in", list(values))

    __hash__ = object.__hash__


@dataclass(frozen=True, eq=False)
class Filter(Condition):
    """``feature <op> value``."""

    ref: FeatureRef
    op: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        r = self.ref
        return {
            "group": r.group,
            "version": r.version,
            "feature": r.feature,
            "op": self.op,
            "value": value,
        }


@dataclass(frozen=True, eq=False)
class Combined(Condition):
    """Two conditions joined by AND or OR."""

    op: str
    a: Condition
    b: Condition

    def to_dict(self) -> dict[str, Any]:
        return {self.op.lower(): [self.a.to_dict(), self.b.to_dict()]}


def compile_condition(cond: Condition, aliases: dict[tuple[str, int], str]) -> tuple[str, list]:
    """SQL text with ``?`` parameters for ``cond``; ``aliases`` maps (group, version) to alias."""
    from eo_ray.featurestore._duck import quote

    if isinstance(cond, Combined):
        a, pa_ = compile_condition(cond.a, aliases)
        b, pb = compile_condition(cond.b, aliases)
        return f"({a} {cond.op} {b})", pa_ + pb
    if not isinstance(cond, Filter):
        raise QueryError(f"Cannot filter on {cond!r}: build conditions like fg['age'] > 30.")
    key = (cond.ref.group, cond.ref.version)
    if key not in aliases:
        raise QueryError(
            f"Filter on {cond.ref.group!r} v{cond.ref.version}, which is not part of the query."
        )
    if cond.op not in _OPS:
        raise QueryError(f"Unknown filter operator {cond.op!r}; use one of {sorted(_OPS)}.")
    col = f"{aliases[key]}.{quote(cond.ref.feature)}"
    if cond.op == "in":
        marks = ", ".join("?" * len(cond.value)) or "NULL"
        return f"{col} IN ({marks})", list(cond.value)
    return f"{col} {_OPS[cond.op]} ?", [cond.value]


@dataclass
class _Join:
    query: Query
    left_on: list[str]
    right_on: list[str]
    prefix: str
    how: str


class Query:
    """Selected features of a group, joined with other groups' queries, filtered."""

    def __init__(self, group: FeatureGroup, features: list[str]) -> None:
        self.group = group
        self.features = list(features)
        self.joins: list[_Join] = []
        self.condition: Condition | None = None

    def __repr__(self) -> str:
        return f"Query({self.group.name!r}, features={self.features}, joins={len(self.joins)})"

    def join(
        self,
        other: Query | FeatureGroup,
        on: list[str] | str | None = None,
        left_on: list[str] | str | None = None,
        right_on: list[str] | str | None = None,
        prefix: str = "",
        join_type: str = "left",
    ) -> Query:
        """Join ``other`` on ``on`` (default: its primary key), point-in-time when timed."""
        if not isinstance(other, Query):
            other = other.select_all()
        if other.joins:
            raise QueryError(
                "Join a query without joins of its own; chain joins on the left query."
            )
        as_list = lambda v: [v] if isinstance(v, str) else list(v or [])  # noqa: E731
        on_, lo, ro = as_list(on), as_list(left_on), as_list(right_on)
        if on_ and (lo or ro):
            raise QueryError("Pass either on=... or left_on=/right_on=..., not both.")
        if on_:
            lo = ro = on_
        elif not lo and not ro:
            lo = ro = other.group.primary_key
        elif not (lo and ro):
            raise QueryError("left_on and right_on must be given together.")
        self.joins.append(_Join(other, lo, ro, prefix, join_type))
        return self

    def filter(self, condition: Condition) -> Query:
        """Keep rows matching ``condition`` (combined with AND with earlier filters)."""
        self.condition = condition if self.condition is None else self.condition & condition
        return self

    # -- planning ---------------------------------------------------------------------------
    def groups(self) -> list[FeatureGroup]:
        """The feature groups read, left first."""
        return [self.group] + [j.query.group for j in self.joins]

    def _side(self, i: int, q: Query, prefix: str = "") -> Side:
        g = q.group
        if g.schema is None:
            raise QueryError(f"Feature group {g.name!r} has no data yet; insert some first.")
        return Side(
            relation=f"g{i}",
            primary_key=tuple(g.primary_key),
            event_time=g.event_time,
            columns=tuple(g.schema.names),
            features=tuple(q.features),
            prefix=prefix,
        )

    def plan(self, order: bool = True, event_time_as: str | None = None) -> Plan:
        """The SQL plan of this query (``event_time_as``: also output the left event time)."""
        left = self._side(0, self)
        joins = [
            JoinSpec(
                self._side(i + 1, j.query, j.prefix), tuple(j.left_on), tuple(j.right_on), j.how
            )
            for i, j in enumerate(self.joins)
        ]
        where = None
        if self.condition is not None:
            aliases = {(self.group.name, self.group.version): "l"}
            for i, j in enumerate(self.joins):
                aliases.setdefault((j.query.group.name, j.query.group.version), f"r{i}")
            where = compile_condition(self.condition, aliases)
        return plan(left, joins, where, order, event_time_as)

    def read(
        self,
        as_of: int | str | datetime | None = None,
        versions: list[int] | None = None,
        event_time_as: str | None = None,
    ) -> QueryResult:
        """A lazy result, pinned to the groups' table versions now (or ``as_of``/``versions``)."""
        groups = self.groups()
        if versions is None:
            versions = [g.read(as_of).version for g in groups]
        needed = self._columns_needed()
        tables = [
            (g.table_uri, v, _delta.storage_options(g.ws), cols)
            for g, v, cols in zip(groups, versions, needed, strict=True)
        ]
        return QueryResult(self.plan(event_time_as=event_time_as), tables)

    def _columns_needed(self) -> list[list[str]]:
        """Per group, the columns the plan reads: features, join keys, event time, filters."""
        filtered: dict[tuple[str, int], set[str]] = {}
        stack = [self.condition] if self.condition is not None else []
        while stack:
            cond = stack.pop()
            if isinstance(cond, Combined):
                stack += [cond.a, cond.b]
            elif isinstance(cond, Filter):
                filtered.setdefault((cond.ref.group, cond.ref.version), set()).add(cond.ref.feature)
        left = set(self.features) | {c for j in self.joins for c in j.left_on}
        parts = [(self.group, left)] + [
            (j.query.group, set(j.query.features) | set(j.right_on)) for j in self.joins
        ]
        out = []
        for group, cols in parts:
            cols |= set(group.primary_key) | filtered.get((group.name, group.version), set())
            if group.event_time:
                cols.add(group.event_time)
            out.append([c for c in group.schema.names if c in cols])
        return out

    def to_pandas(self):
        """``read().to_pandas()``."""
        return self.read().to_pandas()

    # -- JSON form (stored by feature views) ------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON form: group names, versions, features, joins and filters."""
        return {
            "group": self.group.name,
            "version": self.group.version,
            "features": self.features,
            "joins": [
                {
                    "group": j.query.group.name,
                    "version": j.query.group.version,
                    "features": j.query.features,
                    "left_on": j.left_on,
                    "right_on": j.right_on,
                    "prefix": j.prefix,
                    "join_type": j.how,
                }
                for j in self.joins
            ],
            "filter": None if self.condition is None else self.condition.to_dict(),
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any], get_group) -> Query:
        """Rebuild with ``get_group(name, version)`` returning feature groups."""
        query = cls(get_group(doc["group"], doc["version"]), doc["features"])
        for j in doc["joins"]:
            right = cls(get_group(j["group"], j["version"]), j["features"])
            query.join(
                right,
                left_on=j["left_on"],
                right_on=j["right_on"],
                prefix=j["prefix"],
                join_type=j["join_type"],
            )
        if doc.get("filter"):
            query.filter(Condition.from_dict(doc["filter"]))
        return query


class QueryResult(Retrieval):
    """A planned query over pinned table versions; runs in DuckDB when materialised."""

    def __init__(
        self, plan: Plan, tables: list[tuple[str, int, dict[str, str], list[str]]]
    ) -> None:
        self.plan = plan
        self.tables = tables  # (uri, version, storage options, columns read)

    @property
    def versions(self) -> list[int]:
        """The table versions read, left first."""
        return [t[1] for t in self.tables]

    def to_arrow(self) -> pa.Table:
        from deltalake import DeltaTable

        from eo_ray.featurestore._duck import connect

        # Only the needed columns are read (multi-threaded, by pyarrow) into Arrow tables:
        # DuckDB joins those far faster than it streams from pyarrow dataset scanners.
        relations = {}
        for i, (uri, version, options, columns) in enumerate(self.tables):
            dt = DeltaTable(uri, version=version, storage_options=options)
            relations[f"g{i}"] = dt.to_pyarrow_dataset().to_table(columns=columns)
        con = connect(**relations)
        try:
            return con.sql(self.plan.sql, params=self.plan.params or None).to_arrow_table()
        finally:
            con.close()
