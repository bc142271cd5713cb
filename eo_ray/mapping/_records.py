"""Maps as records: a sidecar JSON beside each map, and an item in a derived catalog.

The catalog (``maps`` by default) makes maps searchable like any other raster (bbox,
datetime, text, properties) and exportable as STAC; each item's properties carry the
lineage: model name and version, source items, parameters, time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any

from eo_ray.ingest import Catalog, Item
from eo_ray.ingest.catalog import list_catalogs, scan_items
from eo_ray.mapping.errors import MapNotFoundError
from eo_ray.storage import Workspace, workspace

MAPS_CATALOG = "maps"
PREFIX = "eo_ray:"


@dataclass(frozen=True)
class MapRecord:
    """One map: where it is, what made it, from what, and on which grid."""

    map_id: str
    uri: str
    model: str
    model_version: int
    sources: list[str]
    source_item: str
    classes: list[str]
    colors: list[str]
    created_at: str
    parameters: dict[str, Any]
    width: int
    height: int
    crs: str
    transform: list[float]
    km2: float
    seconds: float
    skipped_windows: int = 0
    windows: int = 0
    proba_uri: str | None = None
    datetime: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MapRecord:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def lineage(self) -> dict[str, Any]:
        """The record as catalog item properties (``eo_ray:`` keys)."""
        data = self.to_dict()
        return {f"{PREFIX}{k}": v for k, v in data.items() if k not in ("extra",)}


def sidecar_uri(map_uri: str) -> str:
    """The JSON record beside a map (``scene.tif`` -> ``scene.map.json``)."""
    return map_uri[: -len(".tif")] + ".map.json" if map_uri.endswith(".tif") else map_uri + ".json"


def read_sidecar(ws: Workspace, map_uri: str) -> MapRecord | None:
    """The record of a finished map, or None when the map or its record is missing."""
    uri = sidecar_uri(map_uri)
    if not (ws.exists(map_uri) and ws.exists(uri)):
        return None
    try:
        return MapRecord.from_dict(ws.read_json(uri))
    except (ValueError, TypeError, KeyError):
        return None  # an unreadable record: the map is made again


def add_to_catalog(records: list[MapRecord], catalog: str) -> Catalog:
    """Scan the maps of ``records`` into the derived catalog with their lineage."""
    cat = Catalog(catalog)
    if not records:
        return cat
    by_uri = {r.uri: r for r in records}
    items, _, _ = scan_items(list(by_uri))
    tagged = []
    for item in items:
        record = by_uri.get(item.href)
        if record is None:
            continue
        props = {**item.properties, **record.lineage(), "label": "map"}
        tagged.append(
            dataclasses.replace(
                item,
                id=record.map_id,
                collection="eo-ray-map",
                datetime=record.datetime or item.datetime,
                properties=props,
            )
        )
    cat.add(tagged)
    return cat


def _record_of(item: Item) -> MapRecord:
    data = {k[len(PREFIX) :]: v for k, v in item.properties.items() if k.startswith(PREFIX)}
    return MapRecord.from_dict(data)


def list_maps(catalog: str = MAPS_CATALOG) -> list[MapRecord]:
    """Every map recorded in the workspace's map catalog, newest first."""
    ws = workspace()
    if catalog not in list_catalogs(ws):
        return []
    records = [_record_of(i) for i in Catalog.open(catalog).items()]
    return sorted(records, key=lambda r: r.created_at, reverse=True)


def get_map(map_id: str, catalog: str = MAPS_CATALOG) -> MapRecord:
    """The map ``map_id`` (a clear error names how to find the known ones)."""
    for record in list_maps(catalog):
        if record.map_id == map_id:
            return record
    raise MapNotFoundError(
        f"No map {map_id!r} in catalog {catalog!r} of {workspace().root}; see `eo-ray map list`."
    )
