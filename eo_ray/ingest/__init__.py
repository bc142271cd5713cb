"""Ingest: satellite rasters in, a searchable catalog and georeferenced chips out.

``scan(paths) -> Catalog`` reads headers of GeoTIFF/COG files, zip members and s3://
objects in Ray tasks; ``Catalog.search(bbox, datetime, text, **properties)`` finds items;
``read_chips(source, size, ...)`` returns a lazy ``ray.data.Dataset`` of chips whose
``transform`` maps pixel (0, 0) to the map; ``read_cube(source, ...)`` stacks the items
of each place over time into chips of dates × bands × h × w, which ``interpolate`` and
``composite`` (array level in :mod:`eo_ray.ingest.temporal`) regularise in time.
Preprocessing transforms (and ``target_shape``, the size and backscatter profile of the
bright target at a SAR chip's centre), command jobs and the OpenSARShip labelled chip
dataset build on these; ``arrow_friendly`` keeps the list columns of a user's numpy
``map_batches`` function typed. ``sample(source, samples, label=...)`` reads every item at
labelled points or polygons (vector files) in long form.
"""

from typing import TYPE_CHECKING

from eo_ray import _lazy

if TYPE_CHECKING:
    from eo_ray.ingest._blocks import arrow_friendly
    from eo_ray.ingest._cube import read_cube
    from eo_ray.ingest._sample import SamplesOutsideWarning, sample
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
    from eo_ray.ingest.targets import TargetShape, target_shape
    from eo_ray.ingest.temporal import Composite, Interpolate
    from eo_ray.ingest.temporal import composite_cube as composite
    from eo_ray.ingest.temporal import interpolate_cube as interpolate

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
    "Composite",
    "Failure",
    "IngestError",
    "Interpolate",
    "InvalidOptionError",
    "Item",
    "ItemCollection",
    "NoInputError",
    "Normalize",
    "NothingReadableError",
    "Product",
    "Reproject",
    "SamplesOutsideWarning",
    "ScanReport",
    "SearchResult",
    "SpectralIndex",
    "TargetShape",
    "ToDecibel",
    "add_index",
    "arrow_friendly",
    "band_stats",
    "cloud_mask",
    "composite",
    "get",
    "interpolate",
    "list",
    "list_catalogs",
    "normalize",
    "opensarship_catalog",
    "opensarship_chips",
    "opensarship_classes",
    "products",
    "read_chips",
    "read_cube",
    "register",
    "register_product",
    "reproject",
    "reproject_chips",
    "run_command",
    "sample",
    "scan",
    "spectral_index",
    "target_shape",
    "to_db",
    "to_decibel",
]
