"""Mapping: a registered model run over whole scenes into georeferenced COG maps.

``predict(model, source, out)`` plans windows from the catalog, reads them with the ingest
datasource, runs the model on a Ray Data actor pool (loaded once per actor), blends
overlapping windows, and writes one Cloud-Optimized GeoTIFF per scene on the source grid,
block by block, published atomically. Maps are recorded in a derived catalog
(``list()``, ``get(map_id)``; CLI ``eo-ray map predict|list|show``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eo_ray import _lazy

if TYPE_CHECKING:
    from eo_ray.mapping._predict import MapOutput, MapResult, predict
    from eo_ray.mapping._records import MAPS_CATALOG, MapRecord, get_map, list_maps
    from eo_ray.mapping.errors import (
        MapFailedError,
        MapNotFoundError,
        MappingError,
        MappingInputError,
    )

__getattr__, __dir__ = _lazy.attach(__name__, __file__)


def get(map_id: str, catalog: str = "maps") -> MapRecord:
    """The map ``map_id`` of the workspace's map catalog."""
    from eo_ray.mapping._records import get_map

    return get_map(map_id, catalog)


def list(catalog: str = "maps") -> list[MapRecord]:
    """Every map recorded in the workspace, newest first."""
    from eo_ray.mapping._records import list_maps

    return list_maps(catalog)


__all__ = [
    "MAPS_CATALOG",
    "MapFailedError",
    "MapNotFoundError",
    "MapOutput",
    "MapRecord",
    "MapResult",
    "MappingError",
    "MappingInputError",
    "get",
    "get_map",
    "list",
    "list_maps",
    "predict",
]
