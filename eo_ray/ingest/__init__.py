"""Ingest: satellite rasters in, a searchable catalog and georeferenced chips out.

``scan(paths) -> Catalog`` reads headers of GeoTIFF/COG files, zip members and s3://
objects in Ray tasks; ``Catalog.search(bbox, datetime, text, **properties)`` finds items;
``read_chips(source, size, ...)`` returns a lazy ``ray.data.Dataset`` of chips whose
``transform`` maps pixel (0, 0) to the map. Preprocessing transforms, command jobs and
the OpenSARShip labelled chip dataset build on these.
"""

from eo_ray.ingest._scan import Failure
from eo_ray.ingest.catalog import Catalog, ScanReport, SearchResult, list_catalogs, scan
from eo_ray.ingest.chips import ChipOptions, ChipReader, ChipRecord, read_chips
from eo_ray.ingest.errors import (
    CatalogNotFoundError,
    IngestError,
    InvalidOptionError,
    NoInputError,
    NothingReadableError,
)
from eo_ray.ingest.item import Asset, Item
from eo_ray.ingest.products import Product, products, register

__all__ = [
    "Asset",
    "Catalog",
    "CatalogNotFoundError",
    "ChipOptions",
    "ChipReader",
    "ChipRecord",
    "Failure",
    "IngestError",
    "InvalidOptionError",
    "Item",
    "NoInputError",
    "NothingReadableError",
    "Product",
    "ScanReport",
    "SearchResult",
    "list_catalogs",
    "products",
    "read_chips",
    "register",
    "scan",
]
