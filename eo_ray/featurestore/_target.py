"""What a write changes for one version of a feature group: its Delta table, its online table
and the metadata stored next to them (schema, statistics, validation reports).

The writer (``_write.py``) works on a :class:`WriteTarget` only; a :class:`FeatureGroup` holds
one and describes itself from it, so the two never reach into each other.
"""

from __future__ import annotations

from typing import Any

from eo_ray.featurestore._metadata import MetadataStore, new_id
from eo_ray.featurestore.expectations import ExpectationSuite, ValidationReport
from eo_ray.featurestore.online import OnlineStore, open_online_store
from eo_ray.featurestore.schema import Feature, Schema
from eo_ray.featurestore.statistics import Statistics
from eo_ray.storage import Workspace


class WriteTarget:
    """One feature group version as the write path sees it (its document is shared with the
    group, so a schema recorded by a write is the group's schema at once)."""

    def __init__(self, meta: MetadataStore, doc: dict[str, Any]) -> None:
        self._meta = meta
        self.doc = doc

    name = property(lambda self: self.doc["name"], doc="The group's name.")
    version = property(lambda self: int(self.doc["version"]), doc="The group's version.")
    primary_key = property(lambda self: list(self.doc["primary_key"]), doc="Key columns.")
    event_time = property(lambda self: self.doc.get("event_time"), doc="Event-time column.")
    partition_key = property(
        lambda self: list(self.doc.get("partition_key", [])), doc="Partition columns."
    )
    online = property(lambda self: bool(self.doc.get("online")), doc="Kept online?")
    statistics_enabled = property(
        lambda self: bool(self.doc.get("statistics", True)), doc="Statistics on each insert?"
    )

    @property
    def merge_keys(self) -> list[str]:
        """The columns an upsert matches rows on: the primary key, then the event time."""
        return [*self.primary_key, *([self.event_time] if self.event_time else [])]

    @property
    def ws(self) -> Workspace:
        """The workspace the group lives in."""
        return self._meta.ws

    @property
    def schema(self) -> Schema | None:
        """The recorded schema (None before the first insert when none was given)."""
        items = self.doc.get("schema")
        return None if items is None else Schema.from_list(items)

    @property
    def table_uri(self) -> str:
        """URI of the Delta table."""
        return self.uri("table")

    @property
    def online_table(self) -> str:
        """The online store's table name of this group version."""
        return f"{self.name}__v{self.version}"

    def uri(self, *parts: str) -> str:
        """URI of a file or folder of this group version."""
        return self._meta.group_uri(self.name, self.version, *parts)

    def save(self) -> None:
        """Store the group's document."""
        self._meta.write(self.uri("group.json"), self.doc)

    def record_schema(self, schema: Schema) -> None:
        """Store ``schema`` as the group's, keeping the feature descriptions given earlier."""
        descriptions = self.doc.get("feature_descriptions", {})
        features = [
            Feature(**{**f.to_dict(), "description": descriptions.get(f.name, f.description)})
            for f in schema.features
        ]
        self.doc["schema"] = Schema(features).to_list()
        self.save()

    def save_statistics(self, stats: Statistics) -> None:
        """Store the statistics of a commit (or, with scope ``table``, of a whole version)."""
        name = f"{stats.version}.json" if stats.scope == "commit" else f"table-{stats.version}.json"
        self._meta.write(self.uri("statistics", name), stats.to_dict())

    def save_validation(self, report: ValidationReport) -> None:
        """Store a validation report (given an id when it has none)."""
        report.id = report.id or new_id()
        self._meta.write(self.uri("validations", f"{report.id}.json"), report.to_dict())

    def expectation_suite(self) -> ExpectationSuite | None:
        """The attached expectation suite, if any."""
        uri = self.uri("expectations.json")
        if not self.ws.exists(uri):
            return None
        return ExpectationSuite.from_dict(self._meta.read(uri))

    def online_store(self) -> OnlineStore:
        """The online store this group is served from."""
        return open_online_store(self.ws)
