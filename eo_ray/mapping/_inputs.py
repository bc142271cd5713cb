"""Checking what ``predict`` is given, in the driver, before anything is read or written."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eo_ray.ingest import Catalog, Item, SearchResult
from eo_ray.ingest.catalog import scan_items
from eo_ray.ingest.errors import IngestError
from eo_ray.mapping.errors import MappingInputError, invalid
from eo_ray.models import ModelNotFoundError, ModelRunner, ModelVersion, Signature
from eo_ray.models import get as get_model
from eo_ray.storage import Workspace

OUTPUTS = ("class", "proba", "both")
PROBA_DTYPES = ("uint8", "float32")


def resolve_model(model: Any) -> tuple[ModelVersion, Signature]:
    """A registered model (name, ``"name:version"`` or a ModelVersion) and its signature."""
    if isinstance(model, ModelVersion):
        version = model
    elif isinstance(model, str) and model:
        name, _, number = model.partition(":")
        if number and not number.isdigit():
            raise invalid("model", "a model name or 'name:version'", model)
        try:
            version = get_model(name, int(number) if number else None)
        except ModelNotFoundError as exc:
            raise MappingInputError(str(exc)) from None
    else:
        raise invalid("model", "a registered model's name, 'name:version' or a ModelVersion", model)
    signature = Signature.of(version)
    if signature is None:
        raise MappingInputError(
            f"Model {version.name!r} version {version.version} has no signature, so it cannot "
            "be run over scenes; register it with input='pixel' or 'chip' and classes=[...]."
        )
    return version, signature


def resolve_items(source: Any) -> list[Item]:
    """The catalog items of ``source``: a Catalog, a search result, items or raster paths."""
    if isinstance(source, Catalog):
        items = source.items()
    elif isinstance(source, SearchResult):
        items = list(source.items)
    elif isinstance(source, Item):
        items = [source]
    elif isinstance(source, (str, Path)) or (
        isinstance(source, Sequence) and source and all(isinstance(s, (str, Path)) for s in source)
    ):
        paths = [str(source)] if isinstance(source, (str, Path)) else [str(s) for s in source]
        try:
            items, failures, _ = scan_items(paths)
        except IngestError as exc:
            raise MappingInputError(f"The source is not a raster: {exc}") from None
        if failures:
            shown = "; ".join(f"{f.path} {f.reason}" for f in failures[:3])
            raise MappingInputError(
                f"{len(failures)} source file(s) are not rasters GDAL can read: {shown}. "
                "Pass GeoTIFF/COG files, a catalog or a search result."
            )
    elif isinstance(source, Sequence) and source and all(isinstance(s, Item) for s in source):
        items = list(source)
    else:
        raise invalid("source", "a Catalog, a search result, items, or raster paths", source)
    if not items:
        raise MappingInputError("The source holds no scene; scan rasters into a catalog first.")
    return items


def check_items(items: list[Item], signature: Signature) -> None:
    """Every scene is georeferenced, on one CRS, and has the bands the model takes."""
    for item in items:
        if item.crs is None:
            raise MappingInputError(
                f"Scene {item.id} ({item.href}) has no CRS, so its map cannot be placed on the "
                "ground; add a CRS to the file."
            )
        crss = sorted({str(a.crs) for a in item.assets.values()})
        if len(crss) > 1:
            raise MappingInputError(
                f"Scene {item.id} mixes CRSs across its files ({', '.join(crss)}); "
                "reproject its files to one CRS before mapping."
            )
        if signature.bands is None:
            continue
        names = {
            n.lower()
            for a in item.assets.values()
            for n in [*a.bands, *(c for c in a.common_names if c)]
        }
        missing = [b for b in signature.bands if b.lower() not in names]
        if missing:
            raise MappingInputError(
                f"Scene {item.id} lacks the bands the model takes: {', '.join(missing)} (it has "
                f"{', '.join(item.band_names)}); map a source with those bands."
            )
    if signature.bands is None:
        counts = {len(item.band_names) for item in items}
        if len(counts) > 1:
            raise MappingInputError(
                f"The scenes have different numbers of bands ({sorted(counts)}) and the model "
                "names none; register it with bands=[...] so each scene's bands can be picked."
            )


def chip_of(value: Any, signature: Signature, model: ModelVersion) -> tuple[int, int]:
    """The window size: given, else the model's chip size (chip models), else 512."""
    needed = None
    shape = (model.signature or {}).get("shape")
    if signature.input == "chip" and shape and len(shape) == 3:
        needed = (int(shape[1]), int(shape[2]))
    if value is None:
        return needed or (512, 512)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0:
        chip = (int(value), int(value))
    elif (
        isinstance(value, Sequence)
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and v > 0 for v in value)
    ):
        chip = (int(value[0]), int(value[1]))
    else:
        raise invalid("chip_size", "a positive int or a (height, width) pair", value)
    if needed and (chip[0] < needed[0] or chip[1] < needed[1]):
        raise MappingInputError(
            f"A {chip[0]}x{chip[1]} chip is smaller than model {model.name!r} needs "
            f"({needed[0]}x{needed[1]}, from its input example); pass chip_size={needed[0]} or "
            "larger."
        )
    return chip


def check_options(output: str, proba_dtype: str, overlap: Any, chip: tuple[int, int]) -> int:
    """Validate the simple options; returns the overlap."""
    if output not in OUTPUTS:
        raise invalid("output", f"one of {set(OUTPUTS)}", output)
    if proba_dtype not in PROBA_DTYPES:
        raise invalid("proba_dtype", f"one of {set(PROBA_DTYPES)}", proba_dtype)
    if not isinstance(overlap, (int, np.integer)) or isinstance(overlap, bool) or overlap < 0:
        raise invalid("overlap", "a non-negative number of pixels", overlap)
    if 2 * overlap >= min(chip):
        raise MappingInputError(
            f"An overlap of {overlap} px leaves no centre in a {chip[0]}x{chip[1]} chip; use an "
            f"overlap below {min(chip) // 2}."
        )
    return int(overlap)


def check_nodata(nodata: Any) -> float | None:
    if nodata is None:
        return None
    if isinstance(nodata, bool) or not isinstance(nodata, (int, float, np.number)):
        raise invalid("nodata", "a number", nodata)
    return float(nodata)


def probe(
    model: ModelVersion, signature: Signature, bands: int, chip: tuple[int, int], dates: int = 1
) -> None:
    """Run the model once on a tiny input so a model whose output does not match its
    signature fails here, before any scene is read."""
    runner = ModelRunner.load(model)
    shape = {"pixel": (2, bands), "series": (2, dates, bands), "chip": (1, bands, *chip)}
    x = np.zeros(shape[signature.input], np.float32)
    try:
        out = runner.predict_proba(x)
    except MappingInputError:
        raise
    except ValueError as exc:
        raise MappingInputError(f"Model {model.name!r} cannot be run on its input: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a framework's own error on a wrong input shape
        raise MappingInputError(
            f"Model {model.name!r} failed on an input shaped {x.shape} (its signature: "
            f"input={signature.input!r}, {bands} bands"
            + (f", {dates} dates" if signature.input == "series" else "")
            + f"): {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from None
    if signature.input == "chip" and out.ndim == 4 and out.shape[2:] != chip:
        raise MappingInputError(
            f"Model {model.name!r} gives {out.shape[2]}x{out.shape[3]} outputs for "
            f"{chip[0]}x{chip[1]} chips; a segmentation model must keep the chip's size."
        )


def check_writable(out: str) -> Workspace:
    """The output folder as a workspace, after checking something can be written there."""
    if not isinstance(out, (str, Path)) or not str(out):
        raise invalid("out", "a folder path or s3:// URI", out)
    ws = Workspace(str(out))
    probe_uri = ws.uri(f".eo-ray-write-check-{uuid.uuid4().hex[:8]}")
    try:
        ws.makedirs(ws.root)
        ws.write_bytes(probe_uri, b"")
        ws.delete(probe_uri)
    except OSError as exc:
        raise MappingInputError(
            f"Cannot write maps to {out} ({type(exc).__name__}: {exc}); pass a writable folder."
        ) from None
    return ws


def map_name(item_id: str) -> str:
    """A file-name-safe stem for the map of ``item_id``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", item_id).strip(".") or "map"


def km2(item: Item | Any, pixels: int | None = None) -> float:
    """Area covered by ``pixels`` of the scene's grid (all of them by default), in km²."""
    from rasterio.crs import CRS

    t = item.transform
    count = int(item.width) * int(item.height) if pixels is None else pixels
    crs = CRS.from_user_input(item.crs)
    if crs.is_projected:
        factor = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
        return abs(t[0] * t[4] - t[1] * t[3]) * factor**2 * count / 1e6
    lat = t[5] + t[4] * int(item.height) / 2  # a geographic grid: degrees at the centre
    deg = 111.32
    return abs(t[0] * t[4]) * deg * deg * math.cos(math.radians(lat)) * count
