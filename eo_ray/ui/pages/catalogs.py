"""``/catalogs``: the catalogs; ``/catalogs/<name>``: items with search (bbox, datetime, text)
and footprints on a map; ``/catalogs/<name>/items/<id>``: STAC JSON and a quicklook."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from eo_ray.storage import validate_name
from eo_ray.ui._pages import add_page

router = APIRouter()

PAGE_SIZE = 100
ItemId = Path(..., min_length=1, max_length=512)


def _open(name: str) -> Any:
    from eo_ray import ingest

    validate_name(name, "catalog")
    return ingest.Catalog.open(name)


def catalogs_index() -> dict[str, Any]:
    """Every catalog with its number of items."""
    from eo_ray import ingest

    rows = [{"name": n, "items": len(ingest.Catalog(n))} for n in ingest.list_catalogs()]
    return {"catalogs": rows}


def _item_row(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "collection": item.collection,
        "datetime": item.datetime,
        "crs": item.crs,
        "bands": item.band_names,
        "width": item.width,
        "height": item.height,
        "bbox": item.bbox,
        "platform": item.properties.get("platform") or item.properties.get("constellation"),
    }


def _footprints(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The items' WGS84 boxes and the extent that holds them (with a margin)."""
    boxes = [r["bbox"] for r in rows if r["bbox"]]
    if not boxes:
        return None
    w, s = min(b[0] for b in boxes), min(b[1] for b in boxes)
    e, n = max(b[2] for b in boxes), max(b[3] for b in boxes)
    pad = max(e - w, n - s, 0.01) * 0.1
    return {
        "extent": [w - pad, s - pad, e + pad, n + pad],
        "boxes": [{"id": r["id"], "bbox": r["bbox"]} for r in rows if r["bbox"]],
    }


def catalog_detail(
    name: str,
    bbox: str | None = Query(None, max_length=200),
    datetime: str | None = Query(None, max_length=100),
    text: str | None = Query(None, max_length=200),
    page: int = Query(1, ge=1, le=1_000_000),
) -> dict[str, Any]:
    """The catalog's items matching the search, one page of them, and their footprints."""
    catalog = _open(name)
    result = catalog.search(bbox=bbox or None, datetime=datetime or None, text=text or None)
    rows = [_item_row(i) for i in result]
    start = (page - 1) * PAGE_SIZE
    return {
        "name": name,
        "total": len(catalog),
        "matching": len(rows),
        "search": {"bbox": bbox, "datetime": datetime, "text": text},
        "items": rows[start : start + PAGE_SIZE],
        "page": page,
        "pages": max(1, math.ceil(len(rows) / PAGE_SIZE)),
        "footprints": _footprints(rows),
    }


def catalog_item(name: str, item_id: str = ItemId) -> dict[str, Any]:
    """One item: its fields and its STAC JSON."""
    item = _open(name).get(item_id)
    return {"catalog": name, "item": _item_row(item), "stac": item.to_stac()}


@router.get("/catalogs/{name}/items/{item_id}/quicklook.png", include_in_schema=False)
def quicklook(name: str, item_id: str = ItemId) -> Response:
    """A small PNG of the item (true colour when red, green and blue are known)."""
    from eo_ray.ui._images import quicklook_png

    item = _open(name).get(item_id)
    return Response(quicklook_png(item), media_type="image/png")


add_page(router, "/catalogs", "catalogs.html", catalogs_index)
add_page(router, "/catalogs/{name}", "catalog.html", catalog_detail)
add_page(router, "/catalogs/{name}/items/{item_id}", "catalog_item.html", catalog_item)
