"""Feature schemas: Arrow types normalised to what Delta Lake stores, and checks against them.

A feature group's schema is recorded at its first insert (or given at creation) and every
later write must match it; a change is a new version or an explicit, additive evolution.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from eo_ray.featurestore.errors import SchemaError

_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Feature:
    """One column of a feature group: name, Arrow type (as a string) and description."""

    name: str
    type: str
    description: str = ""
    primary: bool = False
    event_time: bool = False
    partition: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in the feature group's metadata."""
        return asdict(self)


@dataclass
class Schema:
    """The ordered features of a feature group, with their Arrow schema."""

    features: list[Feature] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Feature names in table order."""
        return [f.name for f in self.features]

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def get(self, name: str) -> Feature:
        """The feature called ``name``."""
        for feat in self.features:
            if feat.name == name:
                return feat
        raise SchemaError(f"No feature named {name!r}; features are {self.names}.")

    def to_arrow(self) -> pa.Schema:
        """The Arrow schema of the Delta table."""
        return pa.schema([(f.name, type_from_string(f.type)) for f in self.features])

    def to_list(self) -> list[dict[str, Any]]:
        """The JSON form."""
        return [f.to_dict() for f in self.features]

    @classmethod
    def from_list(cls, items: list[dict[str, Any]]) -> Schema:
        """Rebuild from :meth:`to_list`."""
        return cls([Feature(**item) for item in items])


def type_from_string(text: str) -> pa.DataType:
    """Parse an Arrow type string written by ``str(pa.DataType)`` (the types we store)."""
    simple = {
        "bool": pa.bool_(),
        "int8": pa.int8(),
        "int16": pa.int16(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "string": pa.string(),
        "binary": pa.binary(),
        "date32[day]": pa.date32(),
        "timestamp[us, tz=UTC]": _TS,
    }
    if text in simple:
        return simple[text]
    if text.startswith("list<item: ") and text.endswith(">"):
        return pa.list_(type_from_string(text[len("list<item: ") : -1]))
    raise SchemaError(f"Unsupported feature type {text!r}.")


def normalise_type(dtype: pa.DataType, name: str) -> pa.DataType:
    """The Delta-compatible type that values of ``dtype`` are stored as."""
    if pa.types.is_dictionary(dtype):
        return normalise_type(dtype.value_type, name)
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return pa.string()
    if pa.types.is_large_binary(dtype) or pa.types.is_binary_view(dtype):
        return pa.binary()
    if pa.types.is_timestamp(dtype):
        return _TS  # naive times are taken as UTC
    if pa.types.is_date64(dtype):
        return pa.date32()
    if pa.types.is_unsigned_integer(dtype):
        return {8: pa.int16(), 16: pa.int32(), 32: pa.int64(), 64: pa.int64()}[dtype.bit_width]
    if pa.types.is_float16(dtype):
        return pa.float32()
    if pa.types.is_null(dtype):
        return dtype  # all missing: typed by the group's schema (see conform)
    if (
        pa.types.is_list(dtype)
        or pa.types.is_large_list(dtype)
        or pa.types.is_fixed_size_list(dtype)
    ):
        return pa.list_(normalise_type(dtype.value_type, name))
    if (
        pa.types.is_boolean(dtype)
        or pa.types.is_integer(dtype)
        or pa.types.is_floating(dtype)
        or pa.types.is_string(dtype)
        or pa.types.is_binary(dtype)
        or pa.types.is_date32(dtype)
    ):
        return dtype
    raise SchemaError(
        f"Column {name!r} has type {dtype}, which a feature group cannot store; "
        "convert it to a number, string, boolean, timestamp, date or list."
    )


def normalise_table(table: pa.Table) -> pa.Table:
    """Cast ``table`` to the Delta-compatible types of :func:`normalise_type`."""
    target = pa.schema([(f.name, normalise_type(f.type, f.name)) for f in table.schema])
    if target == table.schema.remove_metadata():
        return table.replace_schema_metadata(None)
    return table.replace_schema_metadata(None).cast(target)


def infer_schema(
    table: pa.Table,
    primary_key: list[str],
    event_time: str | None,
    partition_key: list[str],
    descriptions: dict[str, str] | None = None,
) -> Schema:
    """The schema of a feature group whose first data is ``table`` (already normalised)."""
    descriptions = descriptions or {}
    untyped = [f.name for f in table.schema if pa.types.is_null(f.type)]
    if untyped:
        raise SchemaError(
            f"Columns {untyped} have no values, so their types are unknown; first write rows "
            "where they are filled, or create the group with features=[Feature(name, type), ...]."
        )
    return Schema(
        [
            Feature(
                name=f.name,
                type=str(f.type),
                description=descriptions.get(f.name, ""),
                primary=f.name in primary_key,
                event_time=f.name == event_time,
                partition=f.name in partition_key,
            )
            for f in table.schema
        ]
    )


def conform(table: pa.Table, schema: Schema, group: str) -> pa.Table:
    """Reorder and safely cast ``table`` to ``schema``; raise SchemaError on any mismatch."""
    have, want = set(table.column_names), set(schema.names)
    if have != want:
        missing, extra = sorted(want - have), sorted(have - want)
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"unknown columns {extra}")
        raise SchemaError(
            f"Data for feature group {group!r} has {' and '.join(parts)}; insert exactly the "
            "group's features, create a new version, or add features with fg.add_features()."
        )
    table = table.select(schema.names)
    target = schema.to_arrow()
    for name, dtype in zip(schema.names, target.types, strict=True):
        have_type = table.schema.field(name).type
        if have_type == dtype:
            continue
        column = table[name]
        if column.null_count == len(column):  # all missing: pandas could not know its type
            index = table.column_names.index(name)
            table = table.set_column(index, name, pa.nulls(len(column), dtype))
            continue
        if not _safe_cast(have_type, dtype):
            raise SchemaError(
                f"Column {name!r} of feature group {group!r} must be {dtype}, got {have_type}; "
                "convert the column or create a new version of the group."
            )
    try:
        return table.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SchemaError(
            f"Data for feature group {group!r} cannot be stored as its schema: {exc}."
        ) from None


def _safe_cast(have: pa.DataType, want: pa.DataType) -> bool:
    """Casts that never lose information or change meaning (widening numbers)."""
    if pa.types.is_integer(have) and pa.types.is_integer(want):
        return want.bit_width >= have.bit_width
    if pa.types.is_integer(have) and pa.types.is_floating(want):
        return want.bit_width == 64 or have.bit_width <= 16
    if pa.types.is_floating(have) and pa.types.is_floating(want):
        return want.bit_width >= have.bit_width
    return pa.types.is_null(have)
