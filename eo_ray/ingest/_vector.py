"""Labelled samples from vector files or tables, as one GeoDataFrame with ``id`` and label.

:func:`load_samples` accepts a vector file (GeoPackage, GeoJSON, Shapefile; read with
pyogrio), a GeoDataFrame, or a DataFrame with ``longitude``/``latitude`` (WGS84) or ``x``/``y``
plus a CRS, and checks it once: geometry present, CRS known, label column present.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from eo_ray.ingest.errors import InvalidOptionError, invalid

if TYPE_CHECKING:
    import geopandas as gpd

OWNER = "sample"
ID = "id"


def load_samples(
    samples: Any, label: str | None = None, crs: str | None = None
) -> gpd.GeoDataFrame:
    """The samples as a GeoDataFrame with an ``id`` column (kept, else 0, 1, …), the
    ``label`` column when asked, a geometry and a CRS; bad input raises one sentence."""
    import geopandas as gpd
    import pandas as pd

    if isinstance(samples, (str, Path)):
        frame = _read_file(Path(samples))
        where = f"Vector file {str(samples)!r}"
    elif isinstance(samples, gpd.GeoDataFrame):
        frame, where = samples, "The samples GeoDataFrame"
    elif isinstance(samples, pd.DataFrame):
        frame, where = _points_from_table(samples, crs), "The samples DataFrame"
    else:
        raise invalid(
            "samples", OWNER, "a vector file path, a GeoDataFrame or a DataFrame", type(samples)
        )
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise InvalidOptionError(
            f"{where} has no geometry column: give points or polygons (or a table with "
            "longitude/latitude or x/y columns)."
        )
    if frame.crs is None and crs is not None:
        frame = frame.set_crs(crs)
    if frame.crs is None:
        raise InvalidOptionError(
            f"{where} has no CRS, so its coordinates cannot be placed on the rasters: set one "
            "(e.g. GeoDataFrame.set_crs('EPSG:4326')) or pass crs=..."
        )
    if label is not None and label not in frame.columns:
        columns = [c for c in frame.columns if c != frame.geometry.name]
        raise invalid("label", OWNER, f"a column of the samples (one of {columns})", label)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    kinds = set(frame.geometry.geom_type)
    if not kinds <= {"Point", "Polygon", "MultiPolygon"}:
        raise invalid("samples", OWNER, "points or polygons", f"geometries of type {sorted(kinds)}")
    ids = frame[ID] if ID in frame.columns else pd.RangeIndex(len(frame))
    columns = {ID: list(ids)} | ({label: frame[label].to_list()} if label else {})
    return gpd.GeoDataFrame(columns, geometry=list(frame.geometry), crs=frame.crs)


def _read_file(path: Path) -> Any:
    import pyogrio

    if not path.exists():
        raise invalid("samples", OWNER, "an existing vector file", str(path))
    try:
        info = pyogrio.read_info(path)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises several kinds for non-vector files
        raise InvalidOptionError(
            f"Vector file {str(path)!r} cannot be read as GeoPackage, GeoJSON or Shapefile ({exc})."
        ) from None
    if not info.get("geometry_type"):
        raise InvalidOptionError(
            f"Vector file {str(path)!r} has no geometry column: give points or polygons."
        )
    if info.get("crs") is None:
        raise InvalidOptionError(
            f"Vector file {str(path)!r} has no CRS, so its coordinates cannot be placed on the "
            "rasters: write it with a CRS (e.g. GeoDataFrame.set_crs('EPSG:4326'))."
        )
    import geopandas as gpd

    return gpd.read_file(path, engine="pyogrio")


def _points_from_table(table: Any, crs: str | None) -> gpd.GeoDataFrame:
    import geopandas as gpd

    if {"longitude", "latitude"} <= set(table.columns):
        xs, ys, crs = table["longitude"], table["latitude"], "EPSG:4326"
    elif {"x", "y"} <= set(table.columns):
        if crs is None and "crs" in table.columns and table["crs"].nunique() == 1:
            crs = str(table["crs"].iloc[0])
        if crs is None:
            raise InvalidOptionError(
                "The samples DataFrame has x/y columns but no CRS: pass crs='EPSG:…' or use "
                "longitude/latitude columns (WGS84)."
            )
        xs, ys = table["x"], table["y"]
    else:
        raise InvalidOptionError(
            "The samples DataFrame has no coordinates: give longitude/latitude columns "
            f"(WGS84) or x/y columns with crs=...; its columns are {list(table.columns)}."
        )
    rest = table.drop(columns=[c for c in ("x", "y", "longitude", "latitude", "crs") if c in table])
    return gpd.GeoDataFrame(rest, geometry=gpd.points_from_xy(xs, ys), crs=crs)
