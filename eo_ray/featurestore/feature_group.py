"""A feature group: a versioned, validated, described Delta table of features."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from eo_ray.featurestore import _delta, _write
from eo_ray.featurestore._metadata import MetadataStore
from eo_ray.featurestore._retrieval import TableRead
from eo_ray.featurestore._target import WriteTarget
from eo_ray.featurestore.errors import (
    InvalidParameterError,
    NotFoundError,
    OnlineStoreError,
    SchemaError,
)
from eo_ray.featurestore.expectations import ExpectationSuite, ValidationReport, validate
from eo_ray.featurestore.online import OnlineStore, decode_row, encode_key
from eo_ray.featurestore.schema import Feature, Schema, normalise_type
from eo_ray.featurestore.statistics import Statistics, compute_statistics
from eo_ray.storage import validate_name

if TYPE_CHECKING:
    from eo_ray.featurestore.query import FeatureRef, Query


class FeatureGroup:
    """Features of one entity (keyed by ``primary_key``), versioned by name and version.

    The facade of a group's operations; the work is done by the write path, the statistics
    and expectation engines and the query planner.
    """

    def __init__(self, meta: MetadataStore, doc: dict[str, Any]) -> None:
        self._meta = meta
        self._doc = doc
        self._target = WriteTarget(meta, doc)  # what inserts change; shares the document

    # -- description ------------------------------------------------------------------------
    name = property(lambda self: self._target.name, doc="The group's name.")
    version = property(lambda self: self._target.version, doc="The group's version.")
    primary_key = property(lambda self: self._target.primary_key, doc="Key columns.")
    event_time = property(lambda self: self._target.event_time, doc="Event-time column.")
    partition_key = property(lambda self: self._target.partition_key, doc="Partition columns.")
    online = property(lambda self: self._target.online, doc="Kept online?")
    description = property(lambda self: self._doc.get("description", ""))
    tags = property(lambda self: dict(self._doc.get("tags", {})))
    statistics_enabled = property(lambda self: self._target.statistics_enabled)

    @property
    def ws(self):
        """The workspace the group lives in."""
        return self._target.ws

    @property
    def schema(self) -> Schema | None:
        """The recorded schema (None before the first insert when none was given)."""
        return self._target.schema

    @property
    def features(self) -> list[Feature]:
        """The group's features (empty before its schema is known)."""
        return [] if self.schema is None else self.schema.features

    @property
    def table_uri(self) -> str:
        """URI of the Delta table."""
        return self._target.table_uri

    @property
    def online_table(self) -> str:
        """The online store's table name of this group version."""
        return self._target.online_table

    def __repr__(self) -> str:
        return f"FeatureGroup({self.name!r}, version={self.version})"

    def to_dict(self) -> dict[str, Any]:
        """The stored description (schema, keys, options)."""
        return dict(self._doc)

    def _uri(self, *parts: str) -> str:
        return self._target.uri(*parts)

    # -- writes -----------------------------------------------------------------------------
    def insert(
        self,
        data: Any,
        operation: str = "upsert",
        validation: str = "strict",
        statistics: bool | None = None,
    ) -> _write.InsertReport:
        """Write ``data`` (pandas, Arrow or a Ray Dataset) as one atomic Delta commit.

        ``operation="upsert"`` merges on the primary key (+ event time) and only pays for a
        merge when stored keys can match; ``"insert"`` appends. ``validation="strict"``
        rejects the whole write when an expectation fails; ``"always"`` writes and records.
        """
        return _write.insert(self._target, data, operation, validation, statistics)

    def add_features(self, features: dict[str, str | pa.DataType], descriptions=None) -> None:
        """Additive schema evolution: append nullable features (older rows read as null)."""
        from deltalake import Field

        schema = self.schema
        if schema is None:
            raise SchemaError(f"Feature group {self.name!r} has no schema yet; insert data first.")
        clash = [n for n in features if n in schema]
        if clash:
            raise SchemaError(f"Feature group {self.name!r} already has features {clash}.")
        new = []
        for name, dtype in features.items():
            try:
                arrow = dtype if isinstance(dtype, pa.DataType) else pa.type_for_alias(str(dtype))
            except ValueError:
                raise SchemaError(
                    f"Unknown type {dtype!r} for feature {name!r}; use an Arrow type name such "
                    "as 'int64', 'double', 'string', 'bool' or 'timestamp[us, tz=UTC]'."
                ) from None
            new.append(
                Feature(name, str(normalise_type(arrow, name)), (descriptions or {}).get(name, ""))
            )
        dt = _delta.open_table(self.ws, self.table_uri)
        if dt is not None:
            delta_fields = [Field.from_arrow(pa.field(f.name, _arrow(f))) for f in new]
            dt.alter.add_columns(delta_fields)
        self._doc["schema"] = Schema([*schema.features, *new]).to_list()
        self._target.save()

    # -- reads ------------------------------------------------------------------------------
    def _table(self, as_of: int | str | datetime | None = None):
        dt = _delta.open_table(self.ws, self.table_uri)
        if dt is None:
            raise NotFoundError(f"Feature group {self.name!r} has no data yet; insert some first.")
        if as_of is not None:
            try:
                dt.load_as_version(as_of)
            except Exception as exc:  # noqa: BLE001 - deltalake raises several kinds here
                raise NotFoundError(
                    f"Feature group {self.name!r} has no version at {as_of!r} ({exc})."
                ) from None
        return dt

    def read(
        self, as_of: int | str | datetime | None = None, features: list[str] | None = None
    ) -> TableRead:
        """A lazy read of the group at its latest commit, or ``as_of`` a version or time."""
        dt = self._table(as_of)
        return TableRead(
            self.table_uri,
            dt.version(),
            _delta.storage_options(self.ws),
            features,
            self.schema.to_arrow() if self.schema else None,
        )

    def read_changes(
        self, start: int | str | datetime, end: int | str | datetime | None = None
    ) -> pa.Table:
        """Rows inserted or updated after ``start`` up to ``end`` (versions or times)."""
        dt = self._table()
        kwargs: dict[str, Any] = {}
        for bound, key in ((start, "starting"), (end, "ending")):
            if bound is None:
                continue
            if isinstance(bound, int):
                kwargs[f"{key}_version"] = bound + (1 if key == "starting" else 0)
            else:
                stamp = bound if isinstance(bound, datetime) else datetime.fromisoformat(bound)
                kwargs[f"{key}_timestamp"] = stamp.isoformat()
        import pyarrow.compute as pc

        from eo_ray.featurestore.schema import normalise_table

        changes = normalise_table(pa.table(dt.load_cdf(**kwargs).read_all()))
        keep = pc.is_in(changes["_change_type"], pa.array(["insert", "update_postimage"]))
        return changes.filter(keep)

    @property
    def table_version(self) -> int | None:
        """The latest Delta version (None before the first insert)."""
        dt = _delta.open_table(self.ws, self.table_uri)
        return None if dt is None else dt.version()

    def history(self) -> list[dict[str, Any]]:
        """Every commit, newest first: version, time, operation, rows added/updated/removed."""
        dt = _delta.open_table(self.ws, self.table_uri)
        if dt is None:
            return []
        out = []
        for entry in dt.history():
            metrics = entry.get("operationMetrics", {}) or {}
            op = entry.get("operation")
            inserted = metrics.get("num_target_rows_inserted")
            if inserted is None:
                inserted = metrics.get("num_added_rows", entry.get("eo_ray_rows"))
            out.append(
                {
                    "version": int(entry["version"]),
                    "timestamp": datetime.fromtimestamp(entry["timestamp"] / 1000).isoformat(),
                    "operation": entry.get("eo_ray_operation") or op,
                    "delta_operation": op,
                    "rows_inserted": inserted or 0,
                    "rows_updated": metrics.get("num_target_rows_updated", 0),
                    "rows_deleted": metrics.get("num_target_rows_deleted", 0),
                }
            )
        return out

    # -- statistics -------------------------------------------------------------------------
    def statistics(self, version: int | None = None) -> Statistics:
        """Statistics of the commit that made ``version`` (default: the latest with any)."""
        folder = self._uri("statistics")
        if version is None:
            versions = [int(n[:-5]) for n in self.ws.list_dir(folder) if n[:-5].isdigit()]
            if not versions:
                raise NotFoundError(f"Feature group {self.name!r} has no statistics yet.")
            version = max(versions)
        uri = self._uri("statistics", f"{version}.json")
        if not self.ws.exists(uri):
            raise NotFoundError(
                f"Feature group {self.name!r} has no statistics for version {version}; "
                "statistics were off for that commit, or compute them with compute_statistics()."
            )
        return Statistics.from_dict(self._meta.read(uri))

    def compute_statistics(self, as_of: int | str | datetime | None = None) -> Statistics:
        """Statistics of the whole table at ``as_of`` (stored with scope ``"table"``)."""
        read = self.read(as_of)
        stats = compute_statistics(read.dataset(), self.schema.to_arrow())
        stats.version, stats.scope = read.version, "table"
        self._target.save_statistics(stats)
        return stats

    # -- validation -------------------------------------------------------------------------
    def save_expectation_suite(self, suite: ExpectationSuite | dict | list | str | None) -> None:
        """Attach (or with None, remove) the expectation suite checked on every insert."""
        suite = ExpectationSuite.coerce(suite, f"{self.name}_v{self.version}")
        uri = self._uri("expectations.json")
        if suite is None:
            self.ws.delete(uri)
        else:
            self._meta.write(uri, suite.to_dict())

    def get_expectation_suite(self) -> ExpectationSuite | None:
        """The attached suite, if any."""
        return self._target.expectation_suite()

    def validation_history(self) -> list[ValidationReport]:
        """Every stored validation report, oldest first."""
        return [
            ValidationReport.from_dict(d) for d in self._meta.read_all(self._uri("validations"))
        ]

    def validate(self, data: Any = None, save: bool = False) -> ValidationReport:
        """Run the suite on ``data`` (default: the latest table) without writing anything."""
        suite = self.get_expectation_suite()
        if suite is None:
            raise NotFoundError(f"Feature group {self.name!r} has no expectation suite.")
        if data is None:
            read = self.read()
            source, version = read.dataset(), read.version
            schema = self.schema.to_arrow()
        else:
            from eo_ray.featurestore.schema import normalise_table

            source = normalise_table(_write.to_arrow(data))
            schema, version = source.schema, None
        report = validate(suite, source, schema)
        report.version, report.ingestion = version, "VALIDATED"
        if save:
            self._target.save_validation(report)
        return report

    # -- queries ----------------------------------------------------------------------------
    def __getitem__(self, feature: str) -> FeatureRef:
        from eo_ray.featurestore.query import FeatureRef

        if self.schema is not None and feature not in self.schema:
            raise SchemaError(f"Feature group {self.name!r} has no feature {feature!r}.")
        return FeatureRef(self.name, self.version, feature)

    def select(self, features: list[str]) -> Query:
        """A query of some features of this group (join it, filter it, read it)."""
        from eo_ray.featurestore.query import Query

        return Query(self, list(features))

    def select_all(self) -> Query:
        """A query of every feature."""
        return self.select(self._schema_or_fail().names)

    def select_except(self, features: list[str]) -> Query:
        """A query of every feature but ``features``."""
        return self.select([n for n in self._schema_or_fail().names if n not in set(features)])

    def filter(self, condition: Any) -> Query:
        """``select_all().filter(condition)``."""
        return self.select_all().filter(condition)

    def _schema_or_fail(self) -> Schema:
        if self.schema is None:
            raise SchemaError(f"Feature group {self.name!r} has no schema yet; insert data first.")
        return self.schema

    # -- online -----------------------------------------------------------------------------
    def online_store(self) -> OnlineStore:
        """The online store this group is served from."""
        return self._target.online_store()

    def materialize(self) -> int:
        """Rebuild the online rows from the latest offline table; the number of keys written."""
        if not self.online:
            raise OnlineStoreError(f"Feature group {self.name!r} is not online (online=False).")
        self.online_store().drop(self.online_table)
        return _write.write_online(self._target, self.read().dataset())

    def get_online_rows(self, keys: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """Latest stored rows for primary-key dicts (None where a key is unknown)."""
        encoded = []
        for key in keys:
            missing = [k for k in self.primary_key if k not in key]
            if missing:
                raise InvalidParameterError(
                    f"Key {key!r} lacks primary-key columns {missing} of group {self.name!r}."
                )
            encoded.append(encode_key([key[k] for k in self.primary_key]))
        values = self.online_store().read(self.online_table, encoded)
        return [decode_row(v) for v in values]

    # -- lifecycle --------------------------------------------------------------------------
    def delete(self) -> None:
        """Delete this version: data, metadata and online rows."""
        if self.online:
            self.online_store().drop(self.online_table)
        self.ws.delete(self._uri())


def _arrow(feature: Feature) -> pa.DataType:
    from eo_ray.featurestore.schema import type_from_string

    return type_from_string(feature.type)


def new_group_doc(
    name: str,
    version: int,
    primary_key: list[str],
    event_time: str | None,
    partition_key: list[str],
    online: bool,
    description: str,
    tags: dict[str, Any],
    statistics: bool,
    features: list[Feature] | None,
    feature_descriptions: dict[str, str] | None,
) -> dict[str, Any]:
    """The metadata document of a new feature group version."""
    validate_name(name, "feature group")
    if not primary_key or not all(isinstance(k, str) and k for k in primary_key):
        raise InvalidParameterError(
            f"Feature group {name!r} needs a primary_key: a list of one or more column names."
        )
    return {
        "name": name,
        "version": version,
        "primary_key": list(primary_key),
        "event_time": event_time,
        "partition_key": list(partition_key),
        "online": bool(online),
        "description": description,
        "tags": dict(tags),
        "statistics": bool(statistics),
        "schema": None if features is None else Schema(list(features)).to_list(),
        "feature_descriptions": dict(feature_descriptions or {}),
        "created": time.time(),
    }
