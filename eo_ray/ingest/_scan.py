"""Scanning: turn paths into catalog items, reading metadata only (never pixels).

The driver expands paths (folders, s3:// prefixes) and groups one-file-per-band products;
each group, zip archive or batch of single files is then inspected by one Ray task.
"""

from __future__ import annotations

import hashlib
import math
import os
import posixpath
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eo_ray.ingest._dates import item_date
from eo_ray.ingest._gdal import (
    ARCHIVE_SUFFIXES,
    RASTER_SUFFIXES,
    GdalOptions,
    describe_error,
    gdal_path,
    is_s3,
    open_binary,
    s3_filesystem,
    split_zip_uri,
    zip_member_uri,
)
from eo_ray.ingest.errors import Failure, RasterInputError
from eo_ray.ingest.item import Asset, Item
from eo_ray.ingest.products import Product, identify

FILES_PER_TASK = 16


@dataclass(frozen=True)
class ScanUnit:
    """The work of one scan task: a zip archive, one multi-file product, or single files."""

    kind: str  # "archive" | "group" | "files"
    paths: tuple[str, ...]


# -- driver side: expanding paths into units ---------------------------------------------
def _is_candidate(name: str) -> bool:
    return name.lower().endswith(RASTER_SUFFIXES + ARCHIVE_SUFFIXES)


def expand_paths(paths: list[str], options: GdalOptions) -> tuple[list[str], list[Failure]]:
    """Files named by ``paths`` (folders and s3:// prefixes listed recursively)."""
    files: list[str] = []
    failures: list[Failure] = []
    for raw in paths:
        path = str(raw)
        if is_s3(path):
            found, failure = _list_s3(path, options)
            files += found
            failures += [failure] if failure else []
            continue
        local = Path(path).expanduser()
        if local.is_dir():
            files += sorted(
                str(p.resolve()) for p in local.rglob("*") if p.is_file() and _is_candidate(p.name)
            )
        elif local.is_file():
            files.append(str(local.resolve()))
        elif path.startswith("zip://"):
            files.append(path)
        else:
            failures.append(Failure(path, "does not exist: check the path"))
    return list(dict.fromkeys(files)), failures


def _list_s3(uri: str, options: GdalOptions) -> tuple[list[str], Failure | None]:
    import pyarrow.fs as pafs

    fs = s3_filesystem(options)
    key = uri[len("s3://") :]
    try:
        info = fs.get_file_info(key.rstrip("/"))
        if info.type == pafs.FileType.File:
            return [uri], None
        selector = pafs.FileSelector(key.rstrip("/"), recursive=True, allow_not_found=True)
        found = [
            f"s3://{i.path}"
            for i in fs.get_file_info(selector)
            if i.type == pafs.FileType.File and _is_candidate(i.path)
        ]
    except OSError as exc:
        return [], Failure(uri, f"cannot be listed on S3 ({describe_error(exc)})")
    if not found:
        return [], Failure(uri, "is not an S3 object or a prefix holding rasters")
    return sorted(found), None


def plan_units(files: list[str]) -> list[ScanUnit]:
    """Group files into scan tasks: archives alone, multi-file products together."""
    units: list[ScanUnit] = []
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    singles: list[str] = []
    for path in files:
        if path.lower().endswith(ARCHIVE_SUFFIXES) and not path.startswith("zip://"):
            units.append(ScanUnit("archive", (path,)))
            continue
        folder, name = posixpath.split(path)
        product, found = identify(name)
        if product.separate_files and "scene" in found:
            groups[(folder, product.name, found["scene"])].append(path)
        else:
            singles.append(path)
    units += [ScanUnit("group", tuple(sorted(g))) for g in groups.values()]
    for start in range(0, len(singles), FILES_PER_TASK):
        units.append(ScanUnit("files", tuple(singles[start : start + FILES_PER_TASK])))
    return units


# -- task side: inspecting rasters ---------------------------------------------------------
@dataclass
class _Raster:
    """What one raster file's header says."""

    href: str
    crs: str | None
    transform: list[float]
    width: int
    height: int
    count: int
    dtype: str
    nodata: float | None
    tags: dict[str, str]
    descriptions: list[str | None]


def crs_string(crs: Any) -> str | None:
    """``EPSG:nnnn`` when the CRS has an EPSG code, else its WKT; None when absent."""
    if not crs:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def inspect_raster(href: str, size: int | None = None) -> _Raster:
    """Open ``href`` and read its header; raise RasterInputError with the reason."""
    import rasterio
    from rasterio.errors import RasterioError

    try:
        with rasterio.open(gdal_path(href)) as src:
            if src.count == 0:
                raise RasterInputError("has no raster bands")
            if size is not None:
                _check_complete(src, size)
            dtypes = set(src.dtypes)
            return _Raster(
                href=href,
                crs=crs_string(src.crs) if src.crs else None,
                transform=list(src.transform)[:6],
                width=src.width,
                height=src.height,
                count=src.count,
                dtype=src.dtypes[0] if len(dtypes) == 1 else max(dtypes),
                nodata=float(src.nodata) if src.nodata is not None else None,
                tags=dict(src.tags()),
                descriptions=list(src.descriptions),
            )
    except RasterioError as exc:
        message = describe_error(exc)
        if "not recognized as" in message or "not recognised" in message:
            raise RasterInputError("is not a raster GDAL can read") from None
        if "TIFFReadDirectory" in message or "TIFFFetch" in message or "IReadBlock" in message:
            raise RasterInputError(f"is truncated or corrupt ({message})") from None
        if "does not exist" in message or "No such file" in message:
            raise RasterInputError(f"cannot be opened: it does not exist ({message})") from None
        raise RasterInputError(f"cannot be opened ({message})") from None


def _check_complete(src: Any, size: int) -> None:
    """A TIFF whose last block ends beyond the end of the file is truncated (header only)."""
    if src.driver != "GTiff":
        return
    bh, bw = src.block_shapes[0]
    last = f"{math.ceil(src.width / bw) - 1}_{math.ceil(src.height / bh) - 1}"
    end = 0
    for bidx in {1, src.count}:
        offset = src.get_tag_item(f"BLOCK_OFFSET_{last}", "TIFF", bidx=bidx)
        length = src.get_tag_item(f"BLOCK_SIZE_{last}", "TIFF", bidx=bidx)
        if offset and length:
            end = max(end, int(offset) + int(length))
    if end > size:
        raise RasterInputError(
            f"is truncated: its pixel data ends at byte {end} but the file has {size} bytes"
        )


def _wgs84_bbox(crs: str, bounds: list[float]) -> list[float]:
    from rasterio.warp import transform_bounds

    return [round(v, 9) for v in transform_bounds(crs, "EPSG:4326", *bounds, densify_pts=21)]


def _native_bounds(transform: list[float], width: int, height: int) -> list[float]:
    from affine import Affine

    aff = Affine(*transform)
    corners = [aff @ (c, r) for c, r in ((0, 0), (width, 0), (0, height), (width, height))]
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    return [min(xs), min(ys), max(xs), max(ys)]


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]  # noqa: S324 - an id, not security


def build_item(
    item_id: str,
    product: type[Product],
    groups: dict[str, Any],
    sidecar: dict[str, Any],
    rasters: list[tuple[_Raster, list[str]]],
) -> Item:
    """One item from the rasters of a product (one, or one per band)."""
    product = product.resolve(groups, sidecar)
    props = product.properties(groups, sidecar)
    crss = {r.crs for r, _ in rasters}
    if len(crss) > 1:
        raise RasterInputError(f"mixes CRSs across its band files ({sorted(map(str, crss))})")
    crs = crss.pop()
    if crs is None and product.georeferenced:
        raise RasterInputError(
            "has no CRS (not georeferenced): add a CRS (e.g. gdal_edit.py -a_srs) to use it"
        )
    assets: dict[str, Asset] = {}
    for raster, bands in rasters:
        key = bands[0] if len(rasters) > 1 else "data"
        assets[key] = Asset(
            href=raster.href,
            bands=bands,
            width=raster.width,
            height=raster.height,
            transform=raster.transform,
            dtype=raster.dtype,
            nodata=raster.nodata,
            crs=raster.crs,
            common_names=[product.common_names.get(b) for b in bands],
        )
    # The item grid: the most common resolution among assets, the finest on a tie.
    res = Counter(round(abs(r.transform[0]), 9) for r, _ in rasters)
    best = min(res, key=lambda v: (-res[v], v))
    ref = next(r for r, _ in rasters if round(abs(r.transform[0]), 9) == best)
    bounds = _native_bounds(ref.transform, ref.width, ref.height) if crs else None
    bbox = _wgs84_bbox(crs, bounds) if crs and bounds else None
    if bbox is None and product.location(props):
        lon, lat = product.location(props)
        bbox = [lon, lat, lon, lat]
    all_tags = {k: v for r, _ in rasters for k, v in r.tags.items()}
    tags = {k: v for k, v in all_tags.items() if len(v) < 200}
    if tags:
        props["tags"] = tags
    props["product"] = product.name
    date, source = item_date(props.pop("datetime", None), all_tags, _file_names(rasters))
    if source:
        props["datetime_source"] = source
    return Item(
        id=item_id,
        collection=product.name,
        assets=assets,
        crs=crs,
        transform=ref.transform,
        width=ref.width,
        height=ref.height,
        bounds=bounds,
        bbox=bbox,
        datetime=date,
        properties=props,
    )


def _file_names(rasters: list[tuple[_Raster, list[str]]]) -> list[str]:
    """The names a date may be read from: each file's name, then its archive's."""
    names, archives = [], []
    for raster, _ in rasters:
        parts = split_zip_uri(raster.href)
        names.append(posixpath.basename(parts[1] if parts else raster.href))
        if parts:
            archives.append(posixpath.basename(parts[0]))
    return list(dict.fromkeys(names + archives))


def _bands(product: type[Product], groups: dict, raster: _Raster) -> list[str]:
    names = product.band_names(groups, raster.count)
    if all(raster.descriptions) and len(set(raster.descriptions)) == raster.count:
        names = [str(d) for d in raster.descriptions]
    return names


def _file_size(href: str) -> int | None:
    if is_s3(href) or href.startswith(("zip://", "/vsi")):
        return None
    return os.path.getsize(href)


def _shared_parts(a: str, b: str) -> int:
    """How many leading folders two archive member paths share."""
    shared = 0
    for x, y in zip(a.split("/"), b.split("/"), strict=False):
        if x != y:
            break
        shared += 1
    return shared


class _Sidecars:
    """Reads and parses sidecar files once per task (e.g. Ship.xml for 100 chips)."""

    def __init__(self, options: GdalOptions, archive: zipfile.ZipFile | None = None) -> None:
        self.options = options
        self.archive = archive
        self.cache: dict[tuple[str, str], dict[str, Any]] = {}

    def load(self, product: type[Product], groups: dict, href: str) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for name in product.sidecar_names(groups):
            key = (product.name, self._locate(name, href) or "")
            if key not in self.cache:
                self.cache[key] = self._parse(product, name, key[1])
            merged.update(self.cache[key])
        return merged

    def _locate(self, name: str, href: str) -> str | None:
        if self.archive is not None:
            member = split_zip_uri(href)[1] if split_zip_uri(href) else href
            candidates = [m for m in self.archive.namelist() if posixpath.basename(m) == name]
            candidates.sort(key=lambda m: -_shared_parts(m, member))
            return candidates[0] if candidates else None
        return posixpath.join(posixpath.dirname(href), name)

    def _parse(self, product: type[Product], name: str, where: str) -> dict[str, Any]:
        if not where:
            return {}
        try:
            if self.archive is not None:
                data = self.archive.read(where)
            else:
                with open_binary(where, self.options) as fh:
                    data = fh.read()
        except (OSError, KeyError):
            return {}
        return product.parse_sidecar(name, data)


def scan_unit(unit: ScanUnit, options: GdalOptions) -> tuple[list[dict], list[dict]]:
    """Inspect one unit (runs as a Ray task); returns item dicts and failure dicts."""
    with options.env():
        if unit.kind == "archive":
            items, failures = _scan_archive(unit.paths[0], options)
        elif unit.kind == "group":
            items, failures = _scan_group(list(unit.paths), options)
        else:
            items, failures = [], []
            for path in unit.paths:
                got, failed = _scan_single(path, options)
                items += got
                failures += failed
    return [i.to_dict() for i in items], [f.to_dict() for f in failures]


def _scan_single(
    href: str, options: GdalOptions, sidecars: _Sidecars | None = None, size: int | None = None
) -> tuple[list[Item], list[Failure]]:
    zip_parts = split_zip_uri(href)
    container = posixpath.basename(zip_parts[0]) if zip_parts else None
    name = zip_parts[1] if zip_parts else posixpath.basename(href)
    product, groups = identify(name, container)
    try:
        raster = inspect_raster(href, size if size is not None else _file_size(href))
        sidecar = (sidecars or _Sidecars(options)).load(product, groups, href)
        if zip_parts:
            archive_stem = posixpath.splitext(container or "")[0]
            member = posixpath.splitext(name)[0]
            member = member.removeprefix(archive_stem + "/")
            item_id = f"{archive_stem}:{member}"
        else:
            item_id = f"{posixpath.splitext(name)[0]}-{_short_hash(href)}"
        return [
            build_item(
                item_id, product, groups, sidecar, [(raster, _bands(product, groups, raster))]
            )
        ], []
    except RasterInputError as exc:
        return [], [Failure(href, str(exc))]


def _scan_group(paths: list[str], options: GdalOptions) -> tuple[list[Item], list[Failure]]:
    first = posixpath.basename(paths[0])
    product, groups = identify(first)
    sidecar = _Sidecars(options).load(product, groups, paths[0])
    rasters, failures = [], []
    for path in paths:
        _, found = identify(posixpath.basename(path))
        try:
            raster = inspect_raster(path, _file_size(path))
            rasters.append((raster, _bands(product, found, raster)))
        except RasterInputError as exc:
            failures.append(Failure(path, str(exc)))
    if not rasters:
        return [], failures
    scene = sidecar.get("LANDSAT_SCENE_ID") or groups["scene"]
    item_id = scene if sidecar else f"{scene}-{_short_hash(posixpath.dirname(paths[0]))}"
    order = {b: i for i, b in enumerate(product.resolve(groups, sidecar).all_bands)}
    rasters.sort(key=lambda rb: (order.get(rb[1][0], len(order)), _natural(rb[1][0])))
    try:
        return [build_item(item_id, product, groups, sidecar, rasters)], failures
    except RasterInputError as exc:
        return [], [
            *failures,
            Failure(posixpath.dirname(paths[0]) + f"/{groups['scene']}_*", str(exc)),
        ]


def _natural(name: str) -> tuple:
    digits = "".join(c for c in name if c.isdigit())
    return (int(digits) if digits else 0, name)


def _scan_archive(archive: str, options: GdalOptions) -> tuple[list[Item], list[Failure]]:
    try:
        fh = open_binary(archive, options)
    except OSError as exc:
        return [], [Failure(archive, f"cannot be opened ({describe_error(exc)})")]
    try:
        with fh, zipfile.ZipFile(fh) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir() and _is_candidate(i.filename)]
            infos = [i for i in infos if i.filename.lower().endswith(RASTER_SUFFIXES)]
            if not infos:
                return [], [Failure(archive, "holds no raster files (.tif, .tiff, .jp2, ...)")]
            sidecars = _Sidecars(options, zf)
            items, failures = [], []
            for info in infos:
                href = zip_member_uri(archive, info.filename)
                got, failed = _scan_single(href, options, sidecars, size=info.file_size)
                items += got
                failures += failed
            return items, failures
    except zipfile.BadZipFile as exc:
        return [], [Failure(archive, f"is not a valid zip archive ({exc})")]
