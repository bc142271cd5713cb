"""Catalog items: one scene (one file, or one file per band) with STAC-compatible fields."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

STAC_VERSION = "1.0.0"


@dataclass(frozen=True)
class Asset:
    """One raster file of an item, with the grid it is stored on."""

    href: str
    bands: list[str]
    width: int
    height: int
    transform: list[float]  # a, b, c, d, e, f as in rasterio
    dtype: str
    nodata: float | None = None
    crs: str | None = None
    common_names: list[str | None] = field(default_factory=list)

    @property
    def resolution(self) -> tuple[float, float]:
        """Pixel size (x, y) in CRS units."""
        return abs(self.transform[0]), abs(self.transform[4])


@dataclass(frozen=True)
class Item:
    """A scanned raster product: where its files are, its grid, footprint, time and sensor.

    ``bbox`` is in WGS84 (lon/lat) whatever the native ``crs``; ``bounds`` is native.
    The grid (``transform``, ``width``, ``height``) is the one of the finest-resolution
    asset, on which multi-file products are stacked.
    """

    id: str
    collection: str
    assets: dict[str, Asset]
    crs: str | None
    transform: list[float]
    width: int
    height: int
    bounds: list[float] | None
    bbox: list[float] | None
    datetime: str | None
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def href(self) -> str:
        """The path of the item's first asset (the chip ``source``)."""
        return next(iter(self.assets.values())).href

    @property
    def band_names(self) -> list[str]:
        """Every band of the item, in asset order."""
        return [band for asset in self.assets.values() for band in asset.bands]

    @property
    def resolution(self) -> tuple[float, float]:
        """Pixel size (x, y) of the item grid."""
        return abs(self.transform[0]), abs(self.transform[4])

    @property
    def nodata(self) -> float | None:
        """The nodata value shared by the assets (None when unset or mixed)."""
        values = {asset.nodata for asset in self.assets.values()}
        return values.pop() if len(values) == 1 else None

    @property
    def georeferenced(self) -> bool:
        """Whether the item has a CRS (pixels map to the ground)."""
        return self.crs is not None

    def search_text(self) -> str:
        """The text free-text search matches against: names, tags and metadata values."""
        words = [self.id, self.collection, *self.band_names]
        words += [asset.href.rsplit("/", 1)[-1] for asset in self.assets.values()]
        for key, value in self.properties.items():
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                words.append(f"{key} {value}")
            elif isinstance(value, list):
                words.append(f"{key} " + " ".join(str(v) for v in value))
        return " ".join(words)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the form stored in the catalog)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        """Rebuild an item from :meth:`to_dict`."""
        data = dict(data)
        data["assets"] = {k: Asset(**v) for k, v in data["assets"].items()}
        return cls(**data)

    def to_json(self) -> str:
        """The item as compact JSON."""
        return json.dumps(self.to_dict(), default=str)  # keeps asset (band) order

    def to_stac(self) -> dict[str, Any]:
        """The item as a STAC Item (GeoJSON Feature) with projection and eo/raster extensions."""
        props: dict[str, Any] = {"datetime": self.datetime, **self.properties}
        props["proj:epsg"] = _epsg(self.crs)
        if props["proj:epsg"] is None and self.crs:
            props["proj:wkt2"] = self.crs
        props["proj:shape"] = [self.height, self.width]
        props["proj:transform"] = list(self.transform)
        if self.bounds:
            props["proj:bbox"] = list(self.bounds)
        assets = {}
        for key, asset in self.assets.items():
            assets[key] = {
                "href": asset.href,
                "type": "image/tiff; application=geotiff",
                "roles": ["data"],
                "proj:shape": [asset.height, asset.width],
                "proj:transform": list(asset.transform),
                "eo:bands": [
                    {"name": band, **({"common_name": common} if common else {})}
                    for band, common in zip(
                        asset.bands, asset.common_names or [None] * len(asset.bands), strict=False
                    )
                ],
                "raster:bands": [
                    {"data_type": asset.dtype, "nodata": asset.nodata} for _ in asset.bands
                ],
            }
        return {
            "type": "Feature",
            "stac_version": STAC_VERSION,
            "stac_extensions": [
                "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
                "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
                "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
            ],
            "id": self.id,
            "collection": self.collection,
            "bbox": list(self.bbox) if self.bbox else None,
            "geometry": _polygon(self.bbox) if self.bbox else None,
            "properties": props,
            "assets": assets,
            "links": [],
        }


def _epsg(crs: str | None) -> int | None:
    if crs and crs.upper().startswith("EPSG:") and crs[5:].isdigit():
        return int(crs[5:])
    return None


def _polygon(bbox: list[float]) -> dict[str, Any]:
    w, s, e, n = bbox
    if (w, s) == (e, n):
        return {"type": "Point", "coordinates": [w, s]}
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
