"""Datacubes: the items of one place stacked over time, read as chips of dates × bands × h × w.

``read_cube`` plans in the driver from catalog metadata only (no pixel is read there):
dated items are grouped into series (items whose footprints overlap the first item of a
series by at least half), each series gets one grid (its first item's, or ``crs`` /
``resolution``), and every date becomes an :class:`~eo_ray.ingest._plan.ItemPlan` on that
grid whose files are warped onto it when their own grid differs. The read tasks
(:mod:`eo_ray.ingest._cube_source`) read each window of every date with the chip reader's
:func:`~eo_ray.ingest._strips.read_span`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from eo_ray.ingest._cube_plan import CubeOptions, MaskRead, SeriesPlan
from eo_ray.ingest._plan import FileRead, ItemPlan
from eo_ray.ingest._windows import EDGE_MODES, grid_windows
from eo_ray.ingest.catalog import _ensure_ray
from eo_ray.ingest.chips import (
    RESAMPLING,
    Source,
    _as_items,
    _check_present,
    _grid,
    _pair,
    _same_grid,
    _select_bands,
)
from eo_ray.ingest.errors import RasterInputError, invalid
from eo_ray.ingest.item import Item

if TYPE_CHECKING:
    import ray.data

OWNER = "read_cube"
SAME_PLACE = 0.5  # share of the smaller footprint two items of one series must share
QA_BANDS = {"BQA": "landsat", "QA_PIXEL": "landsat", "SCL": "scl"}


def _day(value: Any, name: str) -> np.datetime64 | None:
    if value is None:
        return None
    try:
        return np.datetime64(value, "D")
    except (TypeError, ValueError):
        raise invalid(name, OWNER, "a date such as '2020-05-01'", value) from None


def cube_options(**kw: Any) -> CubeOptions:
    """Check every argument of :func:`read_cube` once, with one message shape."""
    bands = kw["bands"]
    if bands is not None:
        bands = (bands,) if isinstance(bands, (str, int)) else tuple(bands)
        if not bands or not all(isinstance(b, (str, int)) for b in bands):
            raise invalid("bands", OWNER, "band names or 0-based indexes", kw["bands"])
    start, end = _day(kw["start"], "start"), _day(kw["end"], "end")
    if start is not None and end is not None and start > end:
        raise invalid("end", OWNER, f"on or after start ({start})", str(end))
    if kw["resampling"] not in RESAMPLING:
        raise invalid("resampling", OWNER, f"one of {RESAMPLING}", kw["resampling"])
    if kw["edge"] not in EDGE_MODES:
        raise invalid("edge", OWNER, f"one of {EDGE_MODES}", kw["edge"])
    resolution = kw["resolution"]
    if resolution is not None and not (
        isinstance(resolution, (int, float)) and not isinstance(resolution, bool) and resolution > 0
    ):
        raise invalid("resolution", OWNER, "a positive pixel size", resolution)
    min_dates = kw["min_dates"]
    if not isinstance(min_dates, int) or isinstance(min_dates, bool) or min_dates < 1:
        raise invalid("min_dates", OWNER, "a positive integer", min_dates)
    try:
        size = _pair("chip_size", kw["chip_size"])
    except ValueError:
        raise invalid(
            "chip_size", OWNER, "a positive int or a (height, width) pair", kw["chip_size"]
        ) from None
    return CubeOptions(
        bands, start, end, size, kw["crs"], resolution, kw["resampling"], kw["edge"],
        min_dates, kw["cloud_band"],
    )  # fmt: skip


# -- grouping items into series ----------------------------------------------------------
def _stamp(item: Item) -> np.datetime64:
    return np.datetime64(item.datetime.replace("Z", ""), "s")  # type: ignore[union-attr]


def _dated(items: list[Item], opts: CubeOptions) -> list[Item]:
    undated = [i.href for i in items if not i.datetime]
    if undated:
        shown = ", ".join(undated[:3]) + (
            f" and {len(undated) - 3} more" if len(undated) > 3 else ""
        )
        raise invalid(
            "source", OWNER, "dated items (a date in the product, metadata or file name)",
            f"{len(undated)} undated: {shown}",
        )  # fmt: skip
    ungeo = [i.href for i in items if not i.georeferenced or not i.bbox]
    if ungeo:
        raise invalid("source", OWNER, "georeferenced items", f"no CRS: {', '.join(ungeo[:3])}")
    kept = []
    for item in sorted(items, key=lambda i: (_stamp(i), i.id)):
        day = _stamp(item).astype("datetime64[D]")
        if (opts.start is None or day >= opts.start) and (opts.end is None or day <= opts.end):
            kept.append(item)
    if not kept:
        raise invalid(
            "start", OWNER, "a range holding at least one item's date",
            f"{opts.start}..{opts.end} (items from {_stamp(items[0])} to {_stamp(items[-1])})",
        )  # fmt: skip
    return kept


def _shared(a: Sequence[float], b: Sequence[float]) -> float:
    """Share of the smaller of two WGS84 boxes that the other covers."""
    w, s = max(a[0], b[0]), max(a[1], b[1])
    e, n = min(a[2], b[2]), min(a[3], b[3])
    if e <= w or n <= s:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return (e - w) * (n - s) / smaller if smaller > 0 else 1.0


def group_series(items: list[Item]) -> list[list[Item]]:
    """Items (sorted by date) grouped by place: each joins the first series whose first
    item's footprint it shares by at least :data:`SAME_PLACE`."""
    series: list[list[Item]] = []
    for item in items:
        for members in series:
            if _shared(members[0].bbox, item.bbox) >= SAME_PLACE:  # type: ignore[arg-type]
                members.append(item)
                break
        else:
            series.append([item])
    return series


# -- planning one series -----------------------------------------------------------------
def series_grid(ref: Item, opts: CubeOptions) -> tuple[str, tuple[float, ...], int, int]:
    """(crs, transform, height, width) of a series: its first item's grid, or ``crs`` /
    ``resolution``."""
    if opts.crs is None or opts.crs == ref.crs:
        transform, height, width = _grid(ref, opts.resolution)
        return str(ref.crs), tuple(transform), height, width
    from rasterio.crs import CRS
    from rasterio.errors import CRSError
    from rasterio.warp import calculate_default_transform

    try:
        target = CRS.from_user_input(opts.crs)
    except CRSError:
        raise invalid("crs", OWNER, "a CRS such as 'EPSG:4326'", opts.crs) from None
    transform, width, height = calculate_default_transform(
        ref.crs, target, ref.width, ref.height, *ref.bounds, resolution=opts.resolution
    )
    return opts.crs, tuple(transform)[:6], int(height), int(width)


def _on_grid(
    item: Item,
    selected: list[tuple[str, int, str]],
    grid: tuple[str, tuple[float, ...], int, int],
) -> ItemPlan:
    """One date's reads on the series grid (warped where the file's grid differs)."""
    crs, transform, height, width = grid
    reads: dict[str, FileRead] = {}
    dtypes, nodatas = [], set()
    for pos, (key, index, _) in enumerate(selected):
        asset = item.assets[key]
        if key not in reads:
            _check_present(asset.href)
            warp = asset.crs != crs or not _same_grid(asset, transform, height, width)
            reads[key] = FileRead(asset.href, [], [], warp, asset.nodata, asset.width, asset.height)
        reads[key].indexes.append(index)
        reads[key].positions.append(pos)
        dtypes.append(asset.dtype)
        nodatas.add(asset.nodata)
    nodata = nodatas.pop() if len(nodatas) == 1 else None
    return ItemPlan(
        item_id=item.id, source=item.href, collection=item.collection, datetime=item.datetime,
        crs=crs, transform=transform, height=height, width=width,
        band_names=[b for _, _, b in selected], dtype=str(np.result_type(*dtypes)),
        nodata=nodata, reads=list(reads.values()), windows=[],
    )  # fmt: skip


def _mask(item: Item, grid: tuple, opts: CubeOptions) -> MaskRead | None:
    names = item.band_names
    band = opts.cloud_band
    if band is None:
        band = next((b for b in names if b.upper() in QA_BANDS), None)
        if band is None:
            return None
        kind = QA_BANDS[band.upper()]
    else:
        kind = "nonzero"
        if band not in names:
            raise invalid("cloud_band", OWNER, f"a band of every item ({names})", band)
    plan = _on_grid(item, _select_bands(item, (band,)), grid)
    return MaskRead(plan, kind, str(item.properties.get("landsat:qa_scheme", "collection-2")))


def _fmt_bands(names: list[str]) -> str:
    return "[" + ", ".join(names) + "]"


def plan_series(members: list[Item], opts: CubeOptions) -> SeriesPlan:
    """The plan of one series: its grid, each date's reads and masks, its windows."""
    grid = series_grid(members[0], opts)
    dates, masks = [], []
    first_bands: list[str] | None = None
    for item in members:
        try:
            selected = _select_bands(item, opts.bands)
        except RasterInputError as exc:
            raise invalid("bands", OWNER, "bands every item has", f"{item.href} {exc}") from None
        if opts.cloud_band is not None and opts.bands is None:
            selected = [s for s in selected if s[2] != opts.cloud_band]
        names = [b for _, _, b in selected]
        if first_bands is None:
            first_bands = names
        elif names != first_bands:
            raise invalid(
                "source", OWNER, "items with the same bands at every date (or pass bands=[...])",
                f"{_fmt_bands(first_bands)} on {members[0].datetime} but {_fmt_bands(names)} "
                f"on {item.datetime}",
            )  # fmt: skip
        dates.append(_on_grid(item, selected, grid))
        masks.append(_mask(item, grid, opts))
    if len(dates) < opts.min_dates:
        raise invalid(
            "source", OWNER, f"a series of at least min_dates={opts.min_dates} dates per place",
            f"{len(dates)} date(s) at {members[0].href}",
        )  # fmt: skip
    crs, transform, height, width = grid
    windows = [(*w, -1) for w in grid_windows(height, width, opts.size, opts.size, opts.edge)]
    if not windows:
        raise invalid(
            "chip_size", OWNER, f"at most the {height}x{width} grid (or edge='pad')", opts.size
        )
    nodatas = {d.nodata for d in dates}
    nodata = nodatas.pop() if len(nodatas) == 1 else None
    return SeriesPlan(
        series=members[0].id, crs=crs, transform=transform, height=height, width=width,
        band_names=first_bands or [], dtype=str(np.result_type(*(d.dtype for d in dates))),
        nodata=nodata,
        collection=members[0].collection, times=[str(_stamp(i)) for i in members],
        dates=dates, masks=masks, windows=windows,
    )  # fmt: skip


def plan_cube(source: Source, opts: CubeOptions) -> list[SeriesPlan]:
    """Every series of ``source`` planned (metadata only; runs in the driver)."""
    items, failures = _as_items(source)
    if failures:
        first = failures[0]
        raise invalid("source", OWNER, "readable rasters", f"{first.path} {first.reason}")
    if not items:
        raise invalid("source", OWNER, "a source with items", "nothing")
    return [plan_series(members, opts) for members in group_series(_dated(items, opts))]


def read_cube(
    source: Source,
    *,
    bands: Sequence[str | int] | str | int | None = None,
    start: Any = None,
    end: Any = None,
    chip_size: int | tuple[int, int] = 256,
    crs: str | None = None,
    resolution: float | None = None,
    resampling: Literal["nearest", "bilinear", "cubic", "average", "mode", "lanczos"] = "nearest",
    edge: Literal["drop", "pad", "snap"] = "pad",
    min_dates: int = 1,
    cloud_band: str | None = None,
) -> ray.data.Dataset:
    """Time series of chips: the items of each place stacked over time, as a Ray Dataset.

    ``source`` is a catalog, a search result, items or raster paths; every item needs a
    date (see :func:`eo_ray.ingest.scan`) and only those from ``start`` to ``end`` (days,
    both included) are used. Items whose footprints overlap form one series, on the grid
    of its first (oldest) item, or in ``crs`` at ``resolution``; items on other grids are
    warped onto it with ``resampling``. Each row is one ``chip_size`` window of a series:
    ``image`` dates × bands × h × w, ``times`` (datetime64[s], ascending), ``valid``
    dates × h × w (False at nodata, beyond a file's footprint, and where the product's QA
    band (Landsat BQA/QA_PIXEL, Sentinel-2 SCL) or ``cloud_band`` (non-zero = cloud) marks
    clouds), ``crs``, ``transform`` (pixel (0, 0) of the chip), ``series``, ``item_ids``,
    ``bands``. ``edge`` handles the last row/column as in :func:`read_chips`; a series of
    fewer than ``min_dates`` dates, mixed band sets or undated items are refused.
    """
    import ray.data

    from eo_ray.ingest._cube_source import CubeDatasource

    opts = cube_options(
        bands=bands, start=start, end=end, chip_size=chip_size, crs=crs, resolution=resolution,
        resampling=resampling, edge=edge, min_dates=min_dates, cloud_band=cloud_band,
    )  # fmt: skip
    plans = plan_cube(source, opts)
    _ensure_ray()
    datasource = CubeDatasource(plans, opts)
    return ray.data.read_datasource(datasource, override_num_blocks=datasource.output_blocks())
