"""``/maps``: maps made by the mapping stage, with a preview, a legend and their lineage.

The mapping stage (``eo_ray.mapping``) is optional: without it, or before any map is made,
the page says there are no maps yet.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from eo_ray.storage import validate_name
from eo_ray.ui._pages import add_page
from eo_ray.ui.errors import ObjectNotFoundError

router = APIRouter()
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def list_maps() -> list[dict[str, Any]]:
    """Every map record (``MapRecord.to_dict()``), newest first; empty without the stage."""
    try:
        from eo_ray import mapping
    except ImportError:
        return []
    maps = [m.to_dict() for m in mapping.list()]
    return sorted(maps, key=lambda m: str(m.get("created_at") or ""), reverse=True)


def maps_index() -> dict[str, Any]:
    """Every map with its legend (class, colour) and lineage (model, sources, parameters)."""
    maps = list_maps()
    for m in maps:
        m["legend"] = [
            {"class": c, "color": color if _COLOR.match(str(color)) else "#808080"}
            for c, color in zip(m.get("classes") or [], m.get("colors") or [], strict=False)
        ]
    return {"maps": maps}


@router.get("/maps/{map_id}/preview.png", include_in_schema=False)
def preview(map_id: str) -> Response:
    """The map's overview as PNG, each class in its colour."""
    from eo_ray.ui._images import class_map_png

    validate_name(map_id, "map")
    for m in list_maps():
        if m["map_id"] == map_id:
            return Response(class_map_png(m["uri"], m["colors"]), media_type="image/png")
    raise ObjectNotFoundError(f"No map {map_id!r}; see /maps for the maps made so far.")


add_page(router, "/maps", "maps.html", maps_index)
