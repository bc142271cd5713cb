"""A Ray Data datasource that reads planned chip windows in its read tasks (in workers)."""

from __future__ import annotations

import functools
import itertools
import logging
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from ray.data import Datasource

from eo_ray.ingest._gdal import GdalOptions, describe_error, gdal_path
from eo_ray.ingest._windows import Window, overlap
from eo_ray.ingest.chips import ChipOptions, ItemPlan

MIN_WINDOWS_PER_TASK = 128  # a read task opens its files once: amortise that
log = logging.getLogger(__name__)


class ChipDatasource(Datasource):
    """Chips of planned windows; each read task opens its rasters once, reads windows."""

    def __init__(
        self,
        plans: list[ItemPlan],
        opts: ChipOptions,
        options: GdalOptions,
        sample_fields: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.plans = plans
        self.opts = opts
        self.options = options
        self.sample_fields = sample_fields or {}

    def get_name(self) -> str:
        return "ReadChips"

    def _chip_bytes(self, plan: ItemPlan, window: tuple) -> int:
        h, w = plan.out_shape or (window[2], window[3])
        return len(plan.band_names) * h * w * np.dtype(plan.dtype).itemsize

    def estimate_inmemory_data_size(self) -> int:
        return sum(self._chip_bytes(p, w) for p in self.plans for w in p.windows)

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
    ) -> list:
        from ray.data import ReadTask
        from ray.data.block import BlockMetadata

        work = [(n, k) for n, plan in enumerate(self.plans) for k in range(len(plan.windows))]
        tasks = max(1, min(parallelism, math.ceil(len(work) / MIN_WINDOWS_PER_TASK)))
        bounds = np.linspace(0, len(work), tasks + 1).astype(int)
        read_tasks = []
        for lo, hi in itertools.pairwise(bounds):
            if hi <= lo:
                continue
            chunk: dict[int, list[int]] = {}
            for n, k in work[lo:hi]:
                chunk.setdefault(n, []).append(k)
            parts = [(self.plans[n], ks) for n, ks in chunk.items()]
            size = sum(self._chip_bytes(p, p.windows[k]) for p, ks in parts for k in ks)
            fn = functools.partial(read_chunk, parts, self.opts, self.options, self.sample_fields)
            meta = BlockMetadata(
                num_rows=None,
                size_bytes=size,
                input_files=tuple(dict.fromkeys(p.source for p, _ in parts)),
                exec_stats=None,
            )
            read_tasks.append(ReadTask(fn, meta, per_task_row_limit=per_task_row_limit))
        return read_tasks


class _Source:
    """One open file of an item, warped onto the item grid when its own grid differs."""

    def __init__(self, plan: ItemPlan, href: str, warp: bool, resampling: Any) -> None:
        import rasterio
        from affine import Affine
        from rasterio.vrt import WarpedVRT

        self.dataset = rasterio.open(gdal_path(href))
        self.reader = self.dataset
        if warp:
            self.reader = WarpedVRT(
                self.dataset,
                crs=plan.crs,
                transform=Affine(*plan.transform),
                width=plan.width,
                height=plan.height,
                resampling=resampling,
            )

    def close(self) -> None:
        if self.reader is not self.dataset:
            self.reader.close()
        self.dataset.close()


def read_chunk(
    parts: list[tuple[ItemPlan, list[int]]],
    opts: ChipOptions,
    options: GdalOptions,
    sample_fields: dict[int, dict[str, Any]],
) -> Iterator[Any]:
    """The body of one read task: yield blocks of chips for the windows in ``parts``."""
    from rasterio.enums import Resampling
    from rasterio.errors import RasterioError

    resampling = Resampling[opts.resampling]
    rows: list[dict[str, Any]] = []
    with options.env():
        for plan, indexes in parts:
            try:
                sources = [_Source(plan, r.href, r.warp, resampling) for r in plan.reads]
            except RasterioError as exc:
                log.warning("%s: cannot be opened (%s); its chips are skipped.", plan.source, exc)
                continue
            try:
                for k in indexes:
                    try:
                        row = _read_window(plan, plan.windows[k], sources, opts, resampling)
                    except RasterioError as exc:
                        log.warning(
                            "%s: window %s cannot be read (%s); the chip is skipped.",
                            plan.source,
                            plan.windows[k][:4],
                            describe_error(exc),
                        )
                        continue
                    if row is None:
                        continue
                    sample = plan.windows[k][4]
                    if sample >= 0:
                        row.update(sample_fields.get(sample, {}))
                    rows.append(row)
                    if len(rows) >= opts.rows_per_block:
                        yield _to_block(rows)
                        rows = []
            finally:
                for source in sources:
                    source.close()
    if rows:
        yield _to_block(rows)


def _read_window(
    plan: ItemPlan,
    spec: tuple[int, int, int, int, int],
    sources: list[_Source],
    opts: ChipOptions,
    resampling: Any,
) -> dict[str, Any] | None:
    from affine import Affine
    from rasterio.windows import Window as RioWindow

    window = Window(*spec[:4])
    out_h, out_w = plan.out_shape or (window.height, window.width)
    fill = plan.nodata if plan.nodata is not None else 0
    part = overlap(window, plan.height, plan.width)
    if part is None:
        return None
    padded = part != window and not plan.out_shape
    shape = (len(plan.band_names), out_h, out_w)
    image = np.full(shape, fill, dtype=plan.dtype) if padded else np.empty(shape, plan.dtype)
    r0, c0 = part.row_off - window.row_off, part.col_off - window.col_off
    rows = slice(r0, r0 + part.height) if not plan.out_shape else slice(0, out_h)
    cols = slice(c0, c0 + part.width) if not plan.out_shape else slice(0, out_w)
    rio_window = RioWindow(part.col_off, part.row_off, part.width, part.height)
    # Pixels of a read without nodata are all valid: only reads with nodata cost a mask.
    valid_part: np.ndarray | None = None
    all_valid = False
    for read, source in zip(plan.reads, sources, strict=True):
        kwargs = {}
        if plan.out_shape:
            kwargs = {"out_shape": (len(read.indexes), out_h, out_w), "resampling": resampling}
        data = source.reader.read(read.indexes, window=rio_window, **kwargs)
        image[_positions(read.positions), rows, cols] = data
        if all_valid:
            continue
        band_valid = _valid(data, read.nodata)
        if band_valid is None:
            all_valid = True
        else:
            valid_part = band_valid if valid_part is None else valid_part | band_valid
    inside = (out_h * out_w) if plan.out_shape else part.height * part.width
    good = inside if all_valid or valid_part is None else int(valid_part.sum())
    nodata_fraction = 1.0 - good / (out_h * out_w)
    if nodata_fraction > opts.max_nodata:
        return None
    transform = Affine(*plan.transform) @ Affine.translation(window.col_off, window.row_off)
    if plan.out_shape:
        transform = transform @ Affine.scale(window.width / out_w, window.height / out_h)
    return {
        "chip_id": f"{plan.item_id}@{window.row_off},{window.col_off}"
        + (f"#{spec[4]}" if spec[4] >= 0 else ""),
        "source": plan.source,
        "row_off": window.row_off,
        "col_off": window.col_off,
        "height": out_h,
        "width": out_w,
        "crs": plan.crs,
        "transform": np.array(transform[:6], dtype=np.float64),
        "image": image,
        "item_id": plan.item_id,
        "collection": plan.collection,
        "datetime": plan.datetime,
        "bands": list(plan.band_names),
        "nodata": plan.nodata,
        "nodata_fraction": nodata_fraction,
        "sample": spec[4],
        **plan.extra,
    }


def _positions(positions: list[int]) -> slice | list[int]:
    """Contiguous chip bands as a slice (a view), else a list (fancy indexing)."""
    if positions == list(range(positions[0], positions[0] + len(positions))):
        return slice(positions[0], positions[0] + len(positions))
    return positions


def _valid(data: np.ndarray, nodata: float | None) -> np.ndarray | None:
    """Pixels where at least one band holds data; None when every pixel does."""
    if nodata is None:
        if data.dtype.kind == "f":
            return ~np.isnan(data).all(axis=0)
        return None
    if math.isnan(nodata):
        return ~np.isnan(data).all(axis=0)
    return (data != nodata).any(axis=0)


def _to_block(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa
    from ray.data.extensions import ArrowTensorArray

    columns: dict[str, Any] = {}
    for key in dict.fromkeys(k for row in rows for k in row):
        values = [row.get(key) for row in rows]
        if key in ("image", "transform"):
            shapes = {v.shape for v in values}
            if len(shapes) == 1:
                columns[key] = ArrowTensorArray.from_numpy(np.stack(values))
            else:
                ragged = np.empty(len(values), dtype=object)
                for n, v in enumerate(values):
                    ragged[n] = v
                columns[key] = ArrowTensorArray.from_numpy(ragged)
        else:
            columns[key] = pa.array(values)
    return pa.table(columns)
