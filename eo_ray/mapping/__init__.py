"""Mapping: a registered model run over whole scenes into georeferenced COG maps.

``predict(model, source, out)`` plans windows from the catalog, reads them with the ingest
datasource, runs the model on a Ray Data actor pool (loaded once per actor), blends
overlapping windows, and writes one Cloud-Optimized GeoTIFF per scene on the source grid,
block by block, published atomically. Maps are recorded in a derived catalog
(``list()``, ``get(map_id)``; CLI ``eo-ray map predict|list|show``).
"""

from eo_ray.mapping._predict import MapOutput, MapResult, predict
from eo_ray.mapping._records import MAPS_CATALOG, MapRecord, get_map, list_maps
from eo_ray.mapping.errors import (
    MapFailedError,
    MapNotFoundError,
    MappingError,
    MappingInputError,
)

get = get_map
list = list_maps

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
