"""Expectation suites in the Great Expectations JSON form, evaluated vectorised by DuckDB.

A suite is portable: ``{"expectation_suite_name": ..., "expectations": [{"expectation_type":
"expect_column_values_to_be_between", "kwargs": {"column": "age", "min_value": 0, ...}}]}``
is what Great Expectations writes and reads. Evaluation compiles every expectation into one
aggregate of a single SQL query (plus a small query for example values of failures).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from eo_ray._params import invalid, one_of
from eo_ray.featurestore._duck import connect, quote
from eo_ray.featurestore.errors import InvalidParameterError

EXAMPLES = 5


@dataclass
class Expectation:
    """One expectation: a Great Expectations type name and its keyword arguments."""

    expectation_type: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        kind, error = self.expectation_type, InvalidParameterError
        one_of(kind, _RULES, name="expectation_type", owner="Expectation", error=error)
        needs_column = self.expectation_type != "expect_table_row_count_to_be_between"
        if needs_column and not isinstance(self.kwargs.get("column"), str):
            raise InvalidParameterError(
                f"Expectation {self.expectation_type} needs kwargs['column'] naming a feature."
            )

    @property
    def column(self) -> str | None:
        """The feature it checks (None for table-level expectations)."""
        return self.kwargs.get("column")

    def to_dict(self) -> dict[str, Any]:
        """The Great Expectations JSON form."""
        return {"expectation_type": self.expectation_type, "kwargs": self.kwargs, "meta": self.meta}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Expectation:
        """Parse the Great Expectations JSON form (``type`` is accepted for GE 1.x)."""
        kind = doc.get("expectation_type") or doc.get("type")
        if not kind:
            raise InvalidParameterError(f"Expectation {doc!r} has no 'expectation_type'.")
        return cls(kind, dict(doc.get("kwargs", {})), dict(doc.get("meta", {})))


@dataclass
class ExpectationSuite:
    """A named list of expectations attached to a feature group."""

    expectation_suite_name: str
    expectations: list[Expectation] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def add_expectation(self, expectation: Expectation | dict[str, Any]) -> ExpectationSuite:
        """Append an expectation (an :class:`Expectation` or its JSON form)."""
        if isinstance(expectation, dict):
            expectation = Expectation.from_dict(expectation)
        self.expectations.append(expectation)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The Great Expectations JSON form."""
        return {
            "expectation_suite_name": self.expectation_suite_name,
            "expectations": [e.to_dict() for e in self.expectations],
            "meta": self.meta,
        }

    def to_json(self) -> str:
        """JSON text loadable by Great Expectations."""
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ExpectationSuite:
        """Parse the JSON form (``name`` is accepted for GE 1.x)."""
        name = doc.get("expectation_suite_name") or doc.get("name") or "suite"
        return cls(
            name,
            [Expectation.from_dict(e) for e in doc.get("expectations", [])],
            dict(doc.get("meta", {})),
        )

    @classmethod
    def coerce(cls, value: Any, default_name: str) -> ExpectationSuite | None:
        """A suite from a suite, its JSON form (dict or text) or a list of expectations."""
        if value is None or isinstance(value, ExpectationSuite):
            return value
        if isinstance(value, str):
            value = json.loads(value)
        if isinstance(value, dict):
            return cls.from_dict(value)
        if isinstance(value, (list, tuple)):
            suite = cls(default_name)
            for item in value:
                suite.add_expectation(item)
            return suite
        expected = "an ExpectationSuite, its JSON form or a list of expectations"
        raise invalid(InvalidParameterError, "expectations", "ExpectationSuite", expected, value)


@dataclass
class ExpectationResult:
    """The outcome of one expectation (field names as in Great Expectations results)."""

    expectation: Expectation
    success: bool
    observed_value: Any = None
    element_count: int = 0
    unexpected_count: int = 0
    unexpected_percent: float = 0.0
    partial_unexpected_list: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "expectation_config": self.expectation.to_dict(),
            "success": self.success,
            "result": {
                "observed_value": self.observed_value,
                "element_count": self.element_count,
                "unexpected_count": self.unexpected_count,
                "unexpected_percent": self.unexpected_percent,
                "partial_unexpected_list": self.partial_unexpected_list,
            },
        }


@dataclass
class ValidationReport:
    """The results of a suite on one batch of data, stored with the feature group."""

    suite: str
    success: bool
    results: list[ExpectationResult]
    row_count: int
    validation_time: float = field(default_factory=time.time)
    ingestion: str = "INGESTED"  # or "REJECTED"
    version: int | None = None
    id: str = ""

    @property
    def failures(self) -> list[ExpectationResult]:
        """The expectations that failed."""
        return [r for r in self.results if not r.success]

    def summary(self) -> str:
        """One line per failing expectation, with counts and examples."""
        lines = []
        for r in self.failures:
            col = r.expectation.column
            where = f" on {col!r}" if col else ""
            lines.append(
                f"{r.expectation.expectation_type}{where}: {r.unexpected_count} of "
                f"{r.element_count} unexpected, observed {r.observed_value!r}, "
                f"e.g. {r.partial_unexpected_list}"
            )
        return "; ".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (close to a Great Expectations validation result)."""
        return {
            "id": self.id,
            "suite": self.suite,
            "success": self.success,
            "ingestion": self.ingestion,
            "row_count": self.row_count,
            "validation_time": self.validation_time,
            "version": self.version,
            "statistics": {
                "evaluated_expectations": len(self.results),
                "successful_expectations": len(self.results) - len(self.failures),
                "unsuccessful_expectations": len(self.failures),
            },
            "results": [r.to_dict() for r in self.results],
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ValidationReport:
        """Rebuild from :meth:`to_dict`."""
        results = [
            ExpectationResult(
                Expectation.from_dict(r["expectation_config"]), r["success"], **r["result"]
            )
            for r in doc["results"]
        ]
        return cls(
            suite=doc["suite"],
            success=doc["success"],
            results=results,
            row_count=doc["row_count"],
            validation_time=doc["validation_time"],
            ingestion=doc["ingestion"],
            version=doc.get("version"),
            id=doc.get("id", ""),
        )


# -- rules: each expectation type as SQL ----------------------------------------------------
# A "map" rule gives a SQL condition that valid non-null values satisfy; an "aggregate" rule
# gives a SQL aggregate whose value must fall in [min_value, max_value].


def _between(expr: str, kw: dict[str, Any]) -> str:
    lo, hi = kw.get("min_value"), kw.get("max_value")
    parts = []
    if lo is not None:
        parts.append(f"{expr} {'>' if kw.get('strict_min') else '>='} {_literal(lo)}")
    if hi is not None:
        parts.append(f"{expr} {'<' if kw.get('strict_max') else '<='} {_literal(hi)}")
    return " AND ".join(parts) or "TRUE"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _in_set(col: str, kw: dict[str, Any]) -> str:
    values = list(kw.get("value_set") or [])
    if not values:
        return "FALSE"
    return f"{col} IN ({', '.join(_literal(v) for v in values)})"


_MAP_RULES = {
    "expect_column_values_to_be_between": lambda c, kw: _between(c, kw),
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_match_regex": lambda c, kw: (
        f"regexp_matches({c}::VARCHAR, {_literal(kw['regex'])})"
    ),
    "expect_column_values_to_not_match_regex": lambda c, kw: (
        f"NOT regexp_matches({c}::VARCHAR, {_literal(kw['regex'])})"
    ),
}
_AGG_RULES = {
    "expect_column_mean_to_be_between": lambda c: f"avg({c}::DOUBLE)",
    "expect_column_max_to_be_between": lambda c: f"max({c})",
    "expect_column_min_to_be_between": lambda c: f"min({c})",
    "expect_column_stdev_to_be_between": lambda c: f"stddev_samp({c}::DOUBLE)",
    "expect_column_median_to_be_between": lambda c: f"median({c}::DOUBLE)",
    "expect_column_unique_value_count_to_be_between": lambda c: f"count(DISTINCT {c})",
    "expect_table_row_count_to_be_between": lambda c: "count(*)",
}
_OTHER = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_be_of_type",
    "expect_column_to_exist",
}
_RULES = set(_MAP_RULES) | set(_AGG_RULES) | _OTHER
_TYPE_ALIASES = {
    "int": "int64",
    "integer": "int64",
    "long": "int64",
    "float": "double",
    "float64": "double",
    "float32": "float",
    "str": "string",
    "object": "string",
    "bool": "bool",
    "boolean": "bool",
    "datetime": "timestamp[us, tz=UTC]",
    "timestamp": "timestamp[us, tz=UTC]",
}


def _mostly_ok(unexpected: int, nonnull: int, kw: dict[str, Any]) -> bool:
    if nonnull == 0:
        return True
    mostly = float(kw.get("mostly", 1.0))
    return (nonnull - unexpected) / nonnull >= mostly - 1e-12


def validate(suite: ExpectationSuite, source: Any, schema: pa.Schema) -> ValidationReport:
    """Evaluate ``suite`` on ``source`` (an Arrow table/dataset/reader with ``schema``)."""
    con = connect(src=source)
    names = set(schema.names)
    aggs: list[str] = ["count(*)"]
    slots: list[tuple[Expectation, dict[str, int]]] = []
    for exp in suite.expectations:
        kind, kw = exp.expectation_type, exp.kwargs
        slot: dict[str, int] = {}
        if exp.column is not None and exp.column not in names:
            slots.append((exp, slot))
            continue
        col = quote(exp.column) if exp.column else ""

        def add(key: str, expr: str, _slot: dict[str, int] = slot) -> None:
            _slot[key] = len(aggs)
            aggs.append(expr)

        if kind in _MAP_RULES:
            add("nonnull", f"count({col})")
            add(
                "bad",
                f"count(*) FILTER (WHERE {col} IS NOT NULL AND NOT ({_MAP_RULES[kind](col, kw)}))",
            )
        elif kind in _AGG_RULES:
            add("value", _AGG_RULES[kind](col))
            if col:
                add("nonnull", f"count({col})")
        elif kind == "expect_column_values_to_not_be_null":
            add("nonnull", f"count({col})")
        elif kind == "expect_column_values_to_be_unique":
            add("nonnull", f"count({col})")
            add("distinct", f"count(DISTINCT {col})")
        slots.append((exp, slot))
    row = con.execute(f"SELECT {', '.join(aggs)} FROM src").fetchall()[0]  # noqa: S608 - quoted names
    total = int(row[0])
    results = [_decide(con, exp, slot, row, total, schema) for exp, slot in slots]
    con.close()
    return ValidationReport(
        suite=suite.expectation_suite_name,
        success=all(r.success for r in results),
        results=results,
        row_count=total,
    )


def _decide(
    con: Any,
    exp: Expectation,
    slot: dict[str, int],
    row: tuple,
    total: int,
    schema: pa.Schema,
) -> ExpectationResult:
    kind, kw, column = exp.expectation_type, exp.kwargs, exp.column
    if column is not None and column not in schema.names:
        ok = False
        return ExpectationResult(exp, ok, observed_value=f"column {column!r} is missing")
    if kind == "expect_column_to_exist":
        return ExpectationResult(exp, True, observed_value=column, element_count=total)
    if kind == "expect_column_values_to_be_of_type":
        have = str(schema.field(column).type)
        want = str(kw.get("type_", ""))
        ok = have == _TYPE_ALIASES.get(want.lower(), want)
        return ExpectationResult(exp, ok, observed_value=have, element_count=total)
    col = quote(column) if column else ""
    if kind in _AGG_RULES:
        value = row[slot["value"]]
        value = value.isoformat() if hasattr(value, "isoformat") else value
        ok = value is not None and _in_range(value, kw)
        return ExpectationResult(exp, ok, observed_value=value, element_count=total)
    nonnull = int(row[slot["nonnull"]])
    if kind == "expect_column_values_to_not_be_null":
        bad = total - nonnull
        ok = _mostly_ok(bad, total, kw)
        examples: list[Any] = [None] * min(bad, EXAMPLES) if not ok else []
        return _map_result(exp, ok, total, bad, total, examples)
    if kind == "expect_column_values_to_be_unique":
        bad = nonnull - int(row[slot["distinct"]])
        ok = bad == 0
        examples = []
        if not ok:
            sql = f"SELECT {col} FROM src WHERE {col} IS NOT NULL GROUP BY 1 HAVING count(*) > 1"  # noqa: S608
            examples = [_json(v[0]) for v in con.execute(f"{sql} LIMIT {EXAMPLES}").fetchall()]
        return _map_result(exp, ok, total, bad, nonnull, examples)
    bad = int(row[slot["bad"]])
    ok = _mostly_ok(bad, nonnull, kw)
    examples = []
    if bad:
        cond = _MAP_RULES[kind](col, kw)
        sql = f"SELECT {col} FROM src WHERE {col} IS NOT NULL AND NOT ({cond}) LIMIT {EXAMPLES}"  # noqa: S608
        examples = [_json(v[0]) for v in con.execute(sql).fetchall()]
    return _map_result(exp, ok, total, bad, nonnull, examples)


def _map_result(
    exp: Expectation, ok: bool, total: int, bad: int, nonnull: int, examples: list[Any]
) -> ExpectationResult:
    percent = 100.0 * bad / nonnull if nonnull else 0.0
    return ExpectationResult(
        exp,
        ok,
        observed_value=f"{bad} unexpected",
        element_count=total,
        unexpected_count=bad,
        unexpected_percent=percent,
        partial_unexpected_list=examples,
    )


def _in_range(value: Any, kw: dict[str, Any]) -> bool:
    lo, hi = kw.get("min_value"), kw.get("max_value")
    if lo is not None and (value <= lo if kw.get("strict_min") else value < lo):
        return False
    return not (hi is not None and (value >= hi if kw.get("strict_max") else value > hi))


def _json(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    return value
