"""Ingest: satellite rasters in, a searchable catalog and georeferenced chips out.

``scan(paths) -> Catalog`` reads headers of GeoTIFF/COG files, zip members and s3://
objects in Ray tasks; ``Catalog.search(bbox, datetime, text, **properties)`` finds items;
``read_chips(source, size, ...)`` returns a lazy ``ray.data.Dataset`` of chips whose
``transform`` maps pixel (0, 0) to the map. Preprocessing transforms, command jobs and
the OpenSARShip labelled chip dataset build on these; ``arrow_friendly`` keeps the list
columns of a user's numpy ``map_batches`` function typed.
"""

from typing import TYPE_CHECKING

from eo_ray import _lazy

if TYPE_CHECKING:
    from eo_ray.ingest._blocks import arrow_friendly
    from eo_ray.ingest.catalog import (
        Catalog,
        ItemCollection,
        ScanReport,
        SearchResult,
        get,
        list_catalogs,
        scan,
    )
    from eo_ray.ingest.catalog import catalogs as list
    from eo_ray.ingest.chips import ChipOptions, ChipReader, ChipRecord, read_chips
    from eo_ray.ingest.commands import CommandResult, CommandResults, run_command
    from eo_ray.ingest.errors import (
        CatalogNotFoundError,
        ChipReadError,
        Failure,
        IngestError,
        InvalidOptionError,
        NoInputError,
        NothingReadableError,
    )
    from eo_ray.ingest.item import Asset, Item
    from eo_ray.ingest.opensarship import (
        opensarship_catalog,
        opensarship_chips,
        opensarship_classes,
    )
    from eo_ray.ingest.preprocess import (
        INDICES,
        BandStats,
        CloudMask,
        Normalize,
        Reproject,
        SpectralIndex,
        ToDecibel,
        add_index,
        band_stats,
        cloud_mask,
        normalize,
        reproject,
        reproject_chips,
        spectral_index,
        to_db,
        to_decibel,
    )
    from eo_ray.ingest.products import Product, products, register, register_product

__getattr__, __dir__ = _lazy.attach(__name__, __file__)

__all__ = [
    "INDICES",
    "Asset",
    "BandStats",
    "Catalog",
    "CatalogNotFoundError",
    "ChipOptions",
    "ChipReadError",
    "ChipReader",
    "ChipRecord",
    "CloudMask",
    "CommandResult",
    "CommandResults",
    "Failure",
    "IngestError",
    "InvalidOptionError",
    "Item",
    "ItemCollection",
    "NoInputError",
    "Normalize",
    "NothingReadableError",
    "Product",
    "Reproject",
    "ScanReport",
    "SearchResult",
    "SpectralIndex",
    "ToDecibel",
    "add_index",
    "arrow_friendly",
    "band_stats",
    "cloud_mask",
    "get",
    "list",
    "list_catalogs",
    "normalize",
    "opensarship_catalog",
    "opensarship_chips",
    "opensarship_classes",
    "products",
    "read_chips",
    "register",
    "register_product",
    "reproject",
    "reproject_chips",
    "run_command",
    "scan",
    "spectral_index",
    "to_db",
    "to_decibel",
]
