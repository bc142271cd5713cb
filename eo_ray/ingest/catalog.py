"""The EO catalog: scanned items persisted as a Delta table under the workspace, searchable.

``scan(paths)`` inspects rasters in parallel Ray tasks (headers only) and merges the
items into ``<workspace>/catalogs/<name>`` keyed on item id, so a re-scan updates rather
than duplicates. ``Catalog.search`` filters by WGS84 bbox, time range, properties and
ranked free text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from eo_ray._params import renamed_keywords
from eo_ray.ingest import _search
from eo_ray.ingest._gdal import GdalOptions
from eo_ray.ingest._scan import ScanUnit, expand_paths, plan_units, scan_unit
from eo_ray.ingest.errors import CatalogNotFoundError, Failure, NoInputError, invalid
from eo_ray.ingest.item import Item
from eo_ray.storage import Workspace, as_workspace, validate_name

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

DEFAULT_CATALOG = "default"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ScanReport:
    """What one scan did: files seen, items found, added and updated, files that failed,
    and the items no date was found for (their paths: see ``eo_ray.ingest._dates``)."""

    files: int
    items: int
    added: int
    updated: int
    failures: list[Failure] = field(default_factory=list)
    undated: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "files": self.files,
            "items": self.items,
            "added": self.added,
            "updated": self.updated,
            "failures": [f.to_dict() for f in self.failures],
            "undated": list(self.undated),
        }


@dataclass
class ItemCollection:
    """Items matching a search, best first when a text query ranked them (a STAC item
    collection; ``SearchResult`` is its former name, kept as an alias for one release)."""

    items: list[Item]
    scores: list[float] | None = None

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __getitem__(self, index: int) -> Item:
        return self.items[index]

    @property
    def ids(self) -> list[str]:
        """The ids of the items, in result order."""
        return [i.id for i in self.items]

    def to_pandas(self) -> pd.DataFrame:
        """One row per item: id, collection, datetime, platform, bbox, crs, href, score."""
        import pandas as pd

        rows = []
        for n, item in enumerate(self.items):
            rows.append(
                {
                    "id": item.id,
                    "collection": item.collection,
                    "datetime": item.datetime,
                    "platform": item.properties.get("platform"),
                    "bbox": item.bbox,
                    "crs": item.crs,
                    "bands": item.band_names,
                    "href": item.href,
                    "score": self.scores[n] if self.scores else None,
                }
            )
        return pd.DataFrame(rows)


SearchResult = ItemCollection  # the former name (hpo.SearchResult is a search's result)


def _ensure_ray() -> None:
    import ray

    if not ray.is_initialized():
        from eo_ray.runtime import init

        init()


LOCAL_SCAN_FILES = 8  # at most this many local files are scanned in the calling process


def _scan_here(units: list[ScanUnit], files: list[str]) -> bool:
    """Whether to read the headers in this process: one unit of a few local files. A Ray
    task costs about a second to start; reading a local header takes milliseconds."""
    return len(units) == 1 and len(files) <= LOCAL_SCAN_FILES and not any("://" in f for f in files)


def scan_items(
    paths: str | Sequence[str], *, on_progress: Progress | None = None
) -> tuple[list[Item], list[Failure], int]:
    """Scan ``paths`` into items without storing them: (items, failures, files seen)."""
    import ray

    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        raise invalid("paths", "scan", "one or more files, folders or s3:// URIs", paths)
    options = GdalOptions.from_env()
    files, failures = expand_paths([str(p) for p in paths], options)
    if not files:
        reasons = "; ".join(f"{f.path} {f.reason}" for f in failures[:3])
        raise NoInputError(f"No raster files found in {list(paths)[:3]}: {reasons or 'empty'}.")
    units = plan_units(files)
    if _scan_here(units, files):
        found, failed = scan_unit(units[0], options)
        if on_progress:
            on_progress(1, 1)
        items = [Item.from_dict(d) for d in found]
        return items, failures + [Failure(**f) for f in failed], len(files)
    _ensure_ray()
    remote = ray.remote(scan_unit).options(num_cpus=1, max_retries=2)
    pending = {remote.remote(u, options): u for u in units}
    items: dict[str, Item] = {}
    done = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            unit: ScanUnit = pending.pop(ref)
            try:
                found, failed = ray.get(ref)
            except ray.exceptions.RayError as exc:  # a crashed worker: report, continue
                failures += [Failure(p, f"could not be scanned ({exc})") for p in unit.paths]
                continue
            items.update({d["id"]: Item.from_dict(d) for d in found})
            failures += [Failure(**f) for f in failed]
            done += 1
            if on_progress:
                on_progress(done, len(units))
    return list(items.values()), failures, len(files)


@renamed_keywords(workspace="ws")
def scan(
    paths: str | Sequence[str],
    catalog: str = DEFAULT_CATALOG,
    *,
    ws: Workspace | str | None = None,
    on_progress: Progress | None = None,
) -> Catalog:
    """Scan rasters (GeoTIFF/COG, zip archives, s3:// URIs) into the catalog ``catalog``.

    Files that cannot be used are listed with their reason in ``catalog.last_scan``; the
    others are stored. Items whose date neither the product, the file's metadata nor its
    name tells are stored undated and listed in ``catalog.last_scan.undated``. Scanning the
    same files again updates their items in place.
    """
    cat = Catalog(catalog, ws=ws)
    items, failures, files = scan_items(paths, on_progress=on_progress)
    added, updated = cat.add(items)
    undated = sorted(i.href for i in items if i.datetime is None)
    cat.last_scan = ScanReport(files, len(items), added, updated, failures, undated)
    cat.ws.write_json(cat.ws.uri("catalogs", cat.name, "_last_scan.json"), cat.last_scan.to_dict())
    return cat


def _items_table(items: list[Item]) -> pa.Table:
    import pyarrow as pa

    now = datetime.now(timezone.utc)
    cols: dict[str, list] = {k: [] for k in _COLUMNS}
    for item in items:
        bbox = item.bbox or [None] * 4
        cols["id"].append(item.id)
        cols["collection"].append(item.collection)
        cols["href"].append(item.href)
        cols["crs"].append(item.crs)
        for key, value in zip(("west", "south", "east", "north"), bbox, strict=True):
            cols[key].append(value)
        cols["datetime"].append(_search.to_datetime(item.datetime))
        cols["end_datetime"].append(_search.to_datetime(item.properties.get("end_datetime")))
        cols["platform"].append(item.properties.get("platform"))
        cols["text"].append(item.search_text())
        cols["item"].append(item.to_json())
        cols["scanned_at"].append(now)
    return pa.table(cols, schema=_schema())


_COLUMNS = (
    "id",
    "collection",
    "href",
    "crs",
    "west",
    "south",
    "east",
    "north",
    "datetime",
    "end_datetime",
    "platform",
    "text",
    "item",
    "scanned_at",
)


def _schema() -> pa.Schema:
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    types = {
        "west": pa.float64(),
        "south": pa.float64(),
        "east": pa.float64(),
        "north": pa.float64(),
        "datetime": ts,
        "end_datetime": ts,
        "scanned_at": ts,
    }
    return pa.schema([(c, types.get(c, pa.string())) for c in _COLUMNS])


class Catalog:
    """A named, persistent collection of items in the workspace (a Delta table)."""

    @renamed_keywords(workspace="ws")
    def __init__(self, name: str = DEFAULT_CATALOG, *, ws: Workspace | str | None = None) -> None:
        self.name = validate_name(name, "catalog")
        self.ws = as_workspace(ws)
        self.uri = self.ws.uri("catalogs", self.name, "items")
        self.last_scan: ScanReport | None = None
        self._cache: tuple[int, list[Item]] | None = None

    def __repr__(self) -> str:
        return f"Catalog({self.name!r}, items={len(self) if self.exists() else 0})"

    @classmethod
    @renamed_keywords(workspace="ws")
    def open(cls, name: str = DEFAULT_CATALOG, *, ws: Workspace | str | None = None) -> Catalog:
        """An existing catalog; a clear error names the known ones otherwise."""
        cat = cls(name, ws=ws)
        if not cat.exists():
            known = ", ".join(list_catalogs(cat.ws)) or "none yet"
            raise CatalogNotFoundError(
                f"No catalog {name!r} in workspace {cat.ws.root} (catalogs: {known}); "
                "create it with eo.ingest.scan(paths, catalog=name)."
            )
        return cat

    def exists(self) -> bool:
        """Whether the catalog has been written."""
        from deltalake import DeltaTable

        return DeltaTable.is_deltatable(self.uri, storage_options=self.ws.storage_options)

    def add(self, items: list[Item]) -> tuple[int, int]:
        """Insert or update ``items`` by id; returns (added, updated)."""
        from deltalake import DeltaTable, write_deltalake

        if not items:
            return 0, 0
        table = _items_table(items)
        if not self.exists():
            write_deltalake(self.uri, table, mode="append", storage_options=self.ws.storage_options)
            return len(items), 0
        dt = DeltaTable(self.uri, storage_options=self.ws.storage_options)
        metrics = (
            dt.merge(table, predicate="t.id = s.id", source_alias="s", target_alias="t")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )
        self._cache = None
        return int(metrics.get("num_target_rows_inserted", 0)), int(
            metrics.get("num_target_rows_updated", 0)
        )

    def _table(self, columns: list[str] | None = None) -> pa.Table:
        from deltalake import DeltaTable

        if not self.exists():
            raise CatalogNotFoundError(
                f"Catalog {self.name!r} is empty: scan files into it with "
                f"eo.ingest.scan(paths, catalog={self.name!r})."
            )
        dt = DeltaTable(self.uri, storage_options=self.ws.storage_options)
        return dt.to_pyarrow_table(columns=columns)

    def items(self) -> list[Item]:
        """Every item of the catalog."""
        from deltalake import DeltaTable

        version = DeltaTable(self.uri, storage_options=self.ws.storage_options).version()
        if self._cache is None or self._cache[0] != version:
            raw = self._table(["item"]).column("item").to_pylist()
            self._cache = (version, [Item.from_dict(json.loads(r)) for r in raw])
        return list(self._cache[1])

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items())

    def __len__(self) -> int:
        return self._table(["id"]).num_rows

    def get(self, item_id: str) -> Item:
        """The item with id ``item_id``."""
        for item in self.items():
            if item.id == item_id:
                return item
        raise CatalogNotFoundError(f"Catalog {self.name!r} has no item {item_id!r}.")

    def to_pandas(self) -> pd.DataFrame:
        """The catalog's flat columns (no JSON) as a DataFrame."""
        return self._table([c for c in _COLUMNS if c not in ("item", "text")]).to_pandas()

    def search(
        self,
        bbox: Sequence[float] | str | None = None,
        datetime: str | Any = None,
        text: str | None = None,
        *,
        limit: int | None = None,
        **properties: Any,
    ) -> ItemCollection:
        """Items intersecting ``bbox`` (WGS84) and ``datetime``, matching ``text`` and properties.

        ``datetime`` is an ISO date, a ``"start/end"`` range (``..`` open-ended) or a pair;
        ``text`` ranks items by BM25 over names, band names, tags and metadata (every word
        must match); each property (``platform="sentinel-1"``, ``label="Tanker"``,
        ``collection="landsat-8"``) filters on item fields or properties.
        """
        box = _search.parse_bbox(bbox)
        span = _search.parse_range(datetime)
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise invalid("limit", "Catalog.search", "a positive integer or None", limit)
        candidates = []
        for item in self.items():
            if box is not None and not _search.bbox_intersects(item.bbox, box):
                continue
            if span is not None and not _search.time_overlaps(
                _search.to_datetime(item.datetime or item.properties.get("start_datetime")),
                _search.to_datetime(item.properties.get("end_datetime")),
                span,
            ):
                continue
            if all(_match_property(item, k, v) for k, v in properties.items()):
                candidates.append(item)
        if not text:
            return ItemCollection(candidates[:limit] if limit else candidates)
        scores = _search.TextIndex([i.search_text() for i in candidates]).score(text)
        ranked = sorted(
            ((s, i) for s, i in zip(scores, candidates, strict=True) if s > 0),
            key=lambda pair: -pair[0],
        )[:limit]
        return ItemCollection([i for _, i in ranked], [s for s, _ in ranked])


def _match_property(item: Item, key: str, wanted: Any) -> bool:
    if key in ("id", "collection", "crs"):
        return _search.property_matches(getattr(item, key), wanted)
    if key in ("bands", "band_names"):
        return _search.property_matches(item.band_names, wanted)
    # Python names cannot hold ':' -> sar_polarizations matches "sar:polarizations".
    for name in (key, key.replace("__", ":"), key.replace("_", ":", 1)):
        if name in item.properties:
            return _search.property_matches(item.properties[name], wanted)
    if key == "platform":
        return _search.property_matches(item.properties.get("constellation"), wanted)
    return False


def get(name: str = DEFAULT_CATALOG, *, ws: Workspace | str | None = None) -> Catalog:
    """The existing catalog ``name`` (``eo.ingest.get``, like every stage's ``get``)."""
    return Catalog.open(name, ws=ws)


def catalogs(ws: Workspace | str | None = None) -> list[Catalog]:
    """Every catalog of the workspace (``eo.ingest.list``, like every stage's ``list``)."""
    return [Catalog(name, ws=ws) for name in list_catalogs(ws)]


def list_catalogs(ws: Workspace | str | None = None) -> list[str]:
    """Names of the catalogs in the workspace."""
    ws = as_workspace(ws)
    return [n for n in ws.list_dir(ws.uri("catalogs")) if not n.startswith((".", "_"))]
