"""Georeferenced chips as a Ray Dataset: plan windows from metadata, read them lazily.

``read_chips`` resolves its source to catalog items and plans each item's windows from the
catalog's metadata (in Ray tasks when there are many items, or when ``max_nodata`` < 1
asks for a coarse nodata mask of each file; never a whole scene in the driver). It returns
a Dataset over :class:`ChipDatasource`, whose read tasks open the rasters in workers and
read only their windows.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np

from eo_ray.ingest._failures import FailureSink
from eo_ray.ingest._gdal import GdalOptions, describe_error, gdal_path, is_s3
from eo_ray.ingest._plan import DEFAULT_PROPERTIES, ChipOptions, FileRead, ItemPlan
from eo_ray.ingest._windows import EDGE_MODES, centred_window, grid_windows, inside
from eo_ray.ingest.catalog import Catalog, SearchResult, _ensure_ray, scan_items
from eo_ray.ingest.errors import Failure, NothingReadableError, RasterInputError, invalid
from eo_ray.ingest.item import Item

if TYPE_CHECKING:
    import pandas as pd
    import ray.data

log = logging.getLogger(__name__)

Source = Catalog | SearchResult | Item | Sequence[Item] | str | Path | Sequence[str | Path]
RESAMPLING = ("nearest", "bilinear", "cubic", "average", "mode", "lanczos")
FITS = ("pad", "resize")


class ChipRecord(TypedDict, total=False):
    """One row of a chip Dataset (the contract columns first)."""

    chip_id: str
    source: str  # the raster the chip was read from (first asset of the item)
    row_off: int  # window offset in the item grid
    col_off: int
    height: int
    width: int
    crs: str | None  # e.g. "EPSG:32618"; None for rasters without georeferencing
    transform: np.ndarray  # 6 affine coefficients a, b, c, d, e, f (rasterio order)
    image: np.ndarray  # bands x height x width, in the source dtype
    item_id: str
    collection: str
    datetime: str | None
    bands: list[str]
    nodata: float | None
    nodata_fraction: float
    sample: int  # index of the sample a chip was cut around (-1 for grid chips)


def _pair(name: str, value: Any) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0:
        return int(value), int(value)
    if (
        isinstance(value, Sequence)
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and v > 0 for v in value)
    ):
        return int(value[0]), int(value[1])
    raise invalid(name, "read_chips", "a positive int or a (height, width) pair", value)


def make_options(
    size: int | tuple[int, int],
    stride: int | tuple[int, int] | None,
    bands: Sequence[str | int] | str | int | None,
    **kw: Any,
) -> ChipOptions:
    """Validate every option once, with one message shape."""
    chip = _pair("size", size)
    step = chip if stride is None else _pair("stride", stride)
    if bands is not None:
        bands = (bands,) if isinstance(bands, (str, int)) else tuple(bands)
        if not bands or not all(isinstance(b, (str, int)) for b in bands):
            raise invalid("bands", "read_chips", "band names or 0-based indexes", bands)
    opts = ChipOptions(chip, step, bands, **kw)
    if opts.edge not in EDGE_MODES:
        raise invalid("edge", "read_chips", f"one of {EDGE_MODES}", opts.edge)
    if not isinstance(opts.max_nodata, (int, float)) or not 0.0 <= opts.max_nodata <= 1.0:
        raise invalid("max_nodata", "read_chips", "a fraction between 0 and 1", opts.max_nodata)
    if opts.resampling not in RESAMPLING:
        raise invalid("resampling", "read_chips", f"one of {RESAMPLING}", opts.resampling)
    if opts.fit is not None and opts.fit not in FITS:
        raise invalid("fit", "read_chips", f"None or one of {FITS}", opts.fit)
    if opts.resolution is not None and not (
        isinstance(opts.resolution, (int, float)) and opts.resolution > 0
    ):
        raise invalid("resolution", "read_chips", "a positive pixel size", opts.resolution)
    return opts


# -- planning ------------------------------------------------------------------------------
IN_DRIVER_ITEMS = 2000  # up to this many items, metadata-only planning runs in the driver


def _select_bands(item: Item, wanted: tuple[str | int, ...] | None) -> list[tuple[str, int, str]]:
    """(asset key, 1-based band index, band name) for each selected band."""
    table = [
        (key, i + 1, band, (asset.common_names or [None] * len(asset.bands))[i])
        for key, asset in item.assets.items()
        for i, band in enumerate(asset.bands)
    ]
    if wanted is None:
        return [(k, i, b) for k, i, b, _ in table]
    chosen = []
    for want in wanted:
        if isinstance(want, int):
            if not -len(table) <= want < len(table):
                raise RasterInputError(
                    f"has {len(table)} bands, so band index {want} is out of range"
                )
            k, i, b, _ = table[want]
        else:
            hits = [t for t in table if want.lower() in (t[2].lower(), (t[3] or "").lower())]
            if not hits:
                names = ", ".join(t[2] for t in table)
                raise RasterInputError(f"has no band {want!r} (its bands: {names})")
            k, i, b, _ = hits[0]
        chosen.append((k, i, b))
    return chosen


def _grid(item: Item, resolution: float | None) -> tuple[tuple[float, ...], int, int]:
    t = item.transform
    if resolution is None or not item.georeferenced:
        return tuple(t), item.height, item.width
    sx, sy = resolution if t[0] > 0 else -resolution, -resolution if t[4] < 0 else resolution
    width = math.ceil(item.width * abs(t[0]) / resolution)
    height = math.ceil(item.height * abs(t[4]) / resolution)
    return (sx, t[1], t[2], t[3], sy, t[5]), height, width


def _same_grid(asset: Any, transform: tuple[float, ...], height: int, width: int) -> bool:
    return (
        asset.height == height
        and asset.width == width
        and all(
            abs(a - b) < 1e-6 * max(1.0, abs(b))
            for a, b in zip(asset.transform, transform, strict=True)
        )
    )


def _sample_windows(
    item: Item,
    samples: list[dict[str, Any]],
    samples_crs: str,
    transform: tuple[float, ...],
    height: int,
    width: int,
    opts: ChipOptions,
) -> tuple[list[tuple[int, int, int, int, int]], list[Failure]]:
    """Windows centred on each sample (point or box centre) that falls on this item."""
    from affine import Affine
    from rasterio.warp import transform as warp_points

    xs = [s["x"] if "x" in s else (s["minx"] + s["maxx"]) / 2 for s in samples]
    ys = [s["y"] if "y" in s else (s["miny"] + s["maxy"]) / 2 for s in samples]
    if item.crs and samples_crs != item.crs:
        xs, ys = warp_points(samples_crs, item.crs, xs, ys)
    inverse = ~Affine(*transform)
    windows, failures = [], []
    for n, (x, y) in enumerate(zip(xs, ys, strict=True)):
        col, row = inverse @ (x, y)
        if not (0 <= row < height and 0 <= col < width):
            continue  # the sample is on another item (reported if it is on none)
        size = opts.size
        if "minx" in samples[n]:  # a box: the chip must cover it
            x0, y0 = inverse @ (samples[n]["minx"], samples[n]["maxy"])
            x1, y1 = inverse @ (samples[n]["maxx"], samples[n]["miny"])
            size = (max(size[0], math.ceil(abs(y1 - y0))), max(size[1], math.ceil(abs(x1 - x0))))
        win = centred_window(row, col, size)
        if opts.edge == "drop" and not inside(win, height, width):
            failures.append(
                Failure(
                    item.href,
                    f"sample {samples[n].get('_index', n)}: its window {tuple(win)} extends "
                    f"beyond the raster ({height}x{width}); use edge='pad' to pad it",
                    "chips",
                )
            )
            continue
        windows.append((*win, int(samples[n].get("_index", n))))
    return windows, failures


def _check_present(href: str) -> None:
    """A local file must still be there: a stat, not an open. Its read task opens it (once)
    and reports a file that cannot be read or has changed since the scan."""
    if is_s3(href) or href.startswith(("zip://", "/vsi")):
        return  # remote and archived files are checked by the read task that opens them
    if not Path(href).exists():
        raise RasterInputError("cannot be opened: it does not exist; restore it or scan again")


def _all_nodata(plan: ItemPlan) -> bool:
    """Whether no pixel of the item holds data (coarse mask first, exact when in doubt)."""
    import rasterio
    from rasterio.enums import MaskFlags

    for read in plan.reads:
        with rasterio.open(gdal_path(read.href)) as src:
            if MaskFlags.all_valid in src.mask_flag_enums[0]:
                return False
            scale = max(1, max(src.height, src.width) // 256)
            shape = (max(1, src.height // scale), max(1, src.width // scale))
            if src.dataset_mask(out_shape=shape).any():
                return False
            if scale > 1 and src.dataset_mask().any():
                return False
    return True


def plan_items(
    items: Sequence[Item | dict[str, Any]],
    opts: ChipOptions,
    samples: list[dict[str, Any]] | None,
    samples_crs: str,
    options: GdalOptions,
) -> tuple[list[ItemPlan], list[dict[str, str]], list[int]]:
    """Plan the windows of items: plans, failures and the samples placed.

    Runs in the driver on :class:`Item` objects, or as a Ray task on their dicts.
    """
    from rasterio.errors import RasterioError

    plans, failures, placed = [], [], []
    checked: set[str] = set()  # files shared by several items are checked once
    with options.env():
        for raw in items:
            item = raw if isinstance(raw, Item) else Item.from_dict(raw)
            try:
                plan, fails = _plan_one(item, opts, samples, samples_crs, checked)
            except RasterInputError as exc:
                failures.append(Failure(item.href, str(exc), "chips").to_dict())
                continue
            except RasterioError as exc:  # e.g. an object deleted since the scan
                reason = f"cannot be read ({describe_error(exc)})"
                failures.append(Failure(item.href, reason, "chips").to_dict())
                continue
            failures += [f.to_dict() for f in fails]
            if plan is not None:
                plans.append(plan)
                placed += [w[4] for w in plan.windows if w[4] >= 0]
    return plans, failures, placed


def _plan_one(
    item: Item,
    opts: ChipOptions,
    samples: list[dict] | None,
    samples_crs: str,
    checked: set[str],
) -> tuple[ItemPlan | None, list[Failure]]:
    if not item.georeferenced and not opts.allow_ungeoreferenced:
        raise RasterInputError(
            "has no CRS, so its chips cannot be georeferenced; add a CRS to the file or "
            "pass allow_ungeoreferenced=True"
        )
    selected = _select_bands(item, opts.bands)
    transform, height, width = _grid(item, opts.resolution)
    reads: dict[str, FileRead] = {}
    dtypes, nodatas = [], set()
    for pos, (key, index, _) in enumerate(selected):
        asset = item.assets[key]
        if key not in reads:
            if asset.href not in checked:
                _check_present(asset.href)
                checked.add(asset.href)
            warp = not _same_grid(asset, transform, height, width)
            reads[key] = FileRead(asset.href, [], [], warp, asset.nodata, asset.width, asset.height)
        reads[key].indexes.append(index)
        reads[key].positions.append(pos)
        dtypes.append(asset.dtype)
        nodatas.add(asset.nodata)
    nodata = nodatas.pop() if len(nodatas) == 1 else None
    failures: list[Failure] = []
    out_shape = None
    if opts.fit == "resize":
        windows = [(0, 0, height, width, -1)]
        out_shape = opts.size
    elif opts.fit == "pad":
        windows = [(*centred_window(height / 2, width / 2, opts.size), -1)]
    elif samples is not None:
        windows, failures = _sample_windows(
            item, samples, samples_crs, transform, height, width, opts
        )
    else:
        windows = [(*w, -1) for w in grid_windows(height, width, opts.size, opts.stride, opts.edge)]
        if not windows:
            raise RasterInputError(
                f"is {height}x{width} pixels, smaller than one {opts.size[0]}x{opts.size[1]} "
                "chip; use edge='pad' or a smaller size"
            )
    extra = {p: item.properties.get(p) for p in opts.properties}  # same columns in every block
    plan = ItemPlan(
        item_id=item.id,
        source=item.href,
        collection=item.collection,
        datetime=item.datetime,
        crs=item.crs,
        transform=tuple(transform),
        height=height,
        width=width,
        band_names=[b for _, _, b in selected],
        dtype=str(np.result_type(*dtypes)),
        nodata=nodata,
        reads=list(reads.values()),
        windows=windows,
        extra=extra,
        out_shape=out_shape,
    )
    if windows and opts.max_nodata < 1.0 and _all_nodata(plan):
        raise RasterInputError(
            f"is entirely nodata (nodata={nodata}): it yields no chip; check the file"
        )
    return (plan if windows else None), failures


# -- the reader ----------------------------------------------------------------------------
def _as_items(source: Source) -> tuple[list[Item], list[Failure]]:
    if isinstance(source, Catalog):
        return source.items(), []
    if isinstance(source, SearchResult):
        return list(source.items), []
    if isinstance(source, Item):
        return [source], []
    if isinstance(source, (str, Path)):
        source = [source]
    if isinstance(source, Sequence) and source and all(isinstance(s, Item) for s in source):
        return list(source), []
    if isinstance(source, Sequence) and source and all(isinstance(s, (str, Path)) for s in source):
        items, failures, _ = scan_items([str(s) for s in source])
        return items, failures
    raise invalid(
        "source", "read_chips", "a Catalog, a search result, items, or raster paths", source
    )


def _samples(samples: Any) -> list[dict[str, Any]] | None:
    if samples is None:
        return None
    if hasattr(samples, "to_dict"):
        samples = samples.to_dict("records")
    rows = [dict(s) for s in samples] if isinstance(samples, Sequence) else None
    if rows is None or not all(isinstance(s, Mapping) for s in samples):
        raise invalid("samples", "read_chips", "a DataFrame or a list of dicts", type(samples))
    for n, row in enumerate(rows):
        if not ({"x", "y"} <= row.keys() or {"minx", "miny", "maxx", "maxy"} <= row.keys()):
            raise invalid(
                "samples",
                "read_chips",
                "rows with x, y (points) or minx, miny, maxx, maxy (boxes)",
                f"row {n}: {sorted(row)}",
            )
        row["_index"] = n
    return rows


_SAMPLE_GEOMETRY = frozenset({"x", "y", "minx", "miny", "maxx", "maxy", "_index"})


class ChipReader:
    """Plans the chips of a source and exposes the plan's failures and the Dataset.

    With ``collect_failures`` (the default) the read tasks of its Datasets report what they
    could not read to a small actor that lives while the reader or one of its Datasets is
    referenced; :meth:`close` (or ``with ChipReader(...) as reader``) ends it sooner.
    """

    def __init__(
        self,
        source: Source,
        opts: ChipOptions,
        *,
        samples: Any = None,
        samples_crs: str = "EPSG:4326",
        collect_failures: bool = True,
    ) -> None:
        self.source = source
        self.opts = opts
        self.samples = _samples(samples)
        self.samples_crs = samples_crs
        self.collect_failures = collect_failures
        self.plans: list[ItemPlan] | None = None
        self._plan_failures: list[Failure] = []
        self._sink: FailureSink | None = None

    def __enter__(self) -> ChipReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def failures(self) -> list[Failure]:
        """Inputs that could not be used: found while planning, and (once a Dataset has
        run) files or windows its read tasks could not read."""
        read = self._sink.collect() if self._sink is not None else []
        return list(dict.fromkeys(self._plan_failures + read))

    def close(self) -> None:
        """Release the failure log (:attr:`failures` keeps what was reported so far)."""
        if self._sink is not None:
            self._sink.close()

    def plan(self) -> list[ItemPlan]:
        """Plan every item's windows (cached): in Ray tasks when planning opens files (the
        all-nodata check) or the items are many, else here."""
        import ray

        if self.plans is not None:
            return self.plans
        items, self._plan_failures = _as_items(self.source)
        _ensure_ray()
        options = GdalOptions.from_env()
        args = (self.opts, self.samples, self.samples_crs, options)
        if self.opts.max_nodata >= 1.0 and len(items) <= IN_DRIVER_ITEMS:
            # Metadata only (no file is opened): Ray tasks would cost more than the work.
            results = [plan_items(items, *args)]
        else:
            cpus = max(1, int(ray.available_resources().get("CPU", 1)))
            per_task = max(1, math.ceil(len(items) / (4 * cpus)))
            remote = ray.remote(plan_items).options(num_cpus=1, max_retries=2)
            chunks = [items[k : k + per_task] for k in range(0, len(items), per_task)]
            results = ray.get([remote.remote([i.to_dict() for i in c], *args) for c in chunks])
        plans: list[ItemPlan] = []
        placed: set[int] = set()
        for got, failed, hits in results:
            plans += got
            self._plan_failures += [Failure(**f) for f in failed]
            placed.update(hits)
        for row in self.samples or []:
            if row["_index"] not in placed and not any(
                f.reason.startswith(f"sample {row['_index']}:") for f in self._plan_failures
            ):
                where = (row.get("x"), row.get("y")) if "x" in row else (row["minx"], row["miny"])
                self._plan_failures.append(
                    Failure(
                        f"sample {row['_index']}",
                        f"window around {where} ({self.samples_crs}) is outside every raster",
                        "chips",
                    )
                )
        self.plans = plans
        return plans

    def dataset(self, on_error: Literal["warn", "raise", "ignore"] = "warn") -> ray.data.Dataset:
        """The chips as a lazy Ray Dataset (windows are read by the Dataset's read tasks).

        Files or windows that fail in the read tasks are skipped and added to
        :attr:`failures` (``"warn"``, ``"ignore"``) or stop the Dataset with a
        :class:`ChipReadError` (``"raise"``).
        """
        import ray.data

        from eo_ray.ingest._datasource import ChipDatasource, ReadSettings

        if on_error not in ("warn", "raise", "ignore"):
            raise invalid("on_error", "read_chips", "'warn', 'raise' or 'ignore'", on_error)
        plans = self.plan()
        failed = self._plan_failures
        if failed and on_error == "raise":
            raise NothingReadableError(_summary(failed, "chip inputs failed"))
        if not plans or not any(p.windows for p in plans):
            raise NothingReadableError(
                _summary(failed, "no input yields chips")
                if failed
                else "No chips: the source has no items; scan rasters into the catalog first."
            )
        if failed and on_error == "warn":
            log.warning(_summary(failed, "inputs skipped"))
        fields = {
            row["_index"]: {k: v for k, v in row.items() if k not in _SAMPLE_GEOMETRY}
            for row in self.samples or []
        }
        if self.collect_failures and on_error != "raise" and self._sink is None:
            self._sink = FailureSink()
        sink = self._sink if on_error != "raise" else None  # "raise" stops at the first
        settings = ReadSettings(self.opts, GdalOptions.from_env(), fields, sink, on_error)
        source = ChipDatasource(plans, settings)
        return ray.data.read_datasource(source, override_num_blocks=source.output_blocks())

    def failures_frame(self) -> pd.DataFrame:
        """The failures as a DataFrame (path, reason, stage)."""
        import pandas as pd

        return pd.DataFrame(
            [f.to_dict() for f in self.failures], columns=["path", "reason", "stage"]
        )


def _summary(failures: list[Failure], what: str) -> str:
    shown = "; ".join(f"{f.path} {f.reason}" for f in failures[:3])
    more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
    return f"{len(failures)} {what}: {shown}{more}."


def read_chips(
    source: Source,
    size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    bands: Sequence[str | int] | str | int | None = None,
    *,
    edge: Literal["drop", "pad", "snap"] = "drop",
    max_nodata: float = 0.5,
    resolution: float | None = None,
    resampling: str = "bilinear",
    samples: Any = None,
    samples_crs: str = "EPSG:4326",
    fit: Literal["pad", "resize"] | None = None,
    allow_ungeoreferenced: bool = False,
    properties: Sequence[str] = DEFAULT_PROPERTIES,
    on_error: Literal["warn", "raise", "ignore"] = "warn",
) -> ray.data.Dataset:
    """Chips of ``size`` pixels from a catalog, a search result, items or raster paths.

    Rows follow :class:`ChipRecord`. ``stride`` defaults to ``size`` (no overlap);
    ``bands`` picks bands by name (``"B4"``, or a common name like ``"red"``) or 0-based
    index; multi-file products are stacked on the item grid, or at ``resolution``, with
    ``resampling``. ``edge`` handles the last row/column: ``drop``, ``pad`` (with nodata)
    or ``snap`` (shifted back inside). Chips with more than ``max_nodata`` of nodata
    pixels are dropped. ``samples`` (points ``x, y`` or boxes ``minx .. maxy`` in
    ``samples_crs``; other columns are carried into the rows) gives chips centred on
    labelled locations instead of a grid. ``fit`` makes one chip per whole raster,
    padded/cropped (``"pad"``) or resampled (``"resize"``) to ``size``. Inputs that
    cannot be read are skipped with a warning naming each (``on_error``); use
    :class:`ChipReader` to get them as a list once the Dataset has run.
    """
    opts = make_options(
        size,
        stride,
        bands,
        edge=edge,
        max_nodata=max_nodata,
        resolution=resolution,
        resampling=resampling,
        fit=fit,
        allow_ungeoreferenced=allow_ungeoreferenced,
        properties=tuple(properties),
    )
    if samples is not None and fit is not None:
        raise invalid("fit", "read_chips", "None when samples are given", fit)
    reader = ChipReader(
        source, opts, samples=samples, samples_crs=samples_crs, collect_failures=False
    )
    return reader.dataset(on_error=on_error)
