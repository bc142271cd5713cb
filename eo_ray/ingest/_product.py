"""The product base class and its registry (the sensors register into it; lookups are in
``products.py``)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, ClassVar


class Product:
    """Base class of a recognised EO product; subclasses only declare class attributes.

    ``filename_regex`` is searched in a file name (a zip member's path, or the archive's
    own name for ``container_regex``); its named groups ``date``/``start``/``stop`` are
    parsed with ``date_format`` and ``band`` names the band of a one-file-per-band product.
    """

    name: ClassVar[str] = "raster"
    filename_regex: ClassVar[str] = r".*"
    container_regex: ClassVar[str | None] = None  # product names that hold the rasters (zip)
    date_format: ClassVar[str] = "%Y%m%dT%H%M%S"
    platform: ClassVar[str | None] = None
    constellation: ClassVar[str | None] = None
    instrument: ClassVar[str | None] = None
    product_type: ClassVar[str | None] = None
    all_bands: ClassVar[tuple[str, ...]] = ()
    rgb_bands: ClassVar[tuple[str, ...]] = ()
    common_names: ClassVar[dict[str, str]] = {}  # band -> STAC eo:common_name
    separate_files: ClassVar[bool] = False  # one file per band, grouped into one item
    georeferenced: ClassVar[bool] = True  # False: rasters carry no CRS by design

    @classmethod
    def match(cls, filename: str, container: str | None = None) -> dict[str, Any] | None:
        """The named groups of the file name (and container name) when this product fits."""
        groups: dict[str, Any] = {}
        if cls.container_regex is not None:
            found = re.search(cls.container_regex, container or "", re.IGNORECASE)
            if found is None:
                return None
            groups.update({k: v for k, v in found.groupdict().items() if v is not None})
        found = re.search(cls.filename_regex, filename, re.IGNORECASE)
        if found is None:
            return None
        groups.update({k: v for k, v in found.groupdict().items() if v is not None})
        return groups

    @classmethod
    def properties(cls, groups: dict[str, Any], sidecar: dict[str, Any]) -> dict[str, Any]:
        """STAC-style properties from the matched groups and parsed sidecar metadata."""
        props: dict[str, Any] = {
            "platform": cls.platform,
            "constellation": cls.constellation,
            "instruments": [cls.instrument] if cls.instrument else [],
            "product_type": cls.product_type,
        }
        for key, target in (("date", "datetime"), ("start", "start_datetime")):
            if key in groups:
                props[target] = parse_datetime(groups[key], cls.date_format)
        if "stop" in groups:
            props["end_datetime"] = parse_datetime(groups["stop"], cls.date_format)
        if "start_datetime" in props and "datetime" not in props:
            props["datetime"] = props["start_datetime"]
        return {k: v for k, v in props.items() if v not in (None, [], "")}

    @classmethod
    def resolve(cls, groups: dict[str, Any], sidecar: dict[str, Any]) -> type[Product]:
        """The most specific product once sidecar metadata is known (e.g. which Landsat)."""
        return cls

    @classmethod
    def location(cls, props: dict[str, Any]) -> tuple[float, float] | None:
        """A (lon, lat) for products whose rasters carry no CRS but whose metadata does."""
        return None

    @classmethod
    def sidecar_names(cls, groups: dict[str, Any]) -> tuple[str, ...]:
        """Names of metadata files next to the raster (or in the same archive) to parse."""
        return ()

    @classmethod
    def parse_sidecar(cls, name: str, data: bytes) -> dict[str, Any]:
        """Parse one sidecar file into a dict handed to :meth:`properties`."""
        return {}

    @classmethod
    def band_names(cls, groups: dict[str, Any], count: int) -> list[str]:
        """Names of the bands of one file of this product (``B1``.., or ``band_1``..)."""
        if "band" in groups:
            return [groups["band"].upper()]
        if len(cls.all_bands) == count:
            return list(cls.all_bands)
        return [f"band_{i}" for i in range(1, count + 1)]


def parse_datetime(text: str, fmt: str) -> str:
    """``text`` parsed with ``fmt`` as an ISO-8601 UTC string (STAC's datetime form)."""
    value = datetime.strptime(text, fmt)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


REGISTRY: list[type[Product]] = []  # registered products, most specific first


def register_product(product: type[Product]) -> type[Product]:
    """Add a product class to the ones the scanner tries (most specific first); a decorator."""
    if product not in REGISTRY:
        REGISTRY.insert(0, product)
    return product


register = register_product  # the former name (eo.models.register registers models)
