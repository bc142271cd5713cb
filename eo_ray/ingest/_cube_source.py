"""The Ray Data datasource of :func:`eo_ray.ingest.read_cube`: each read task reads its
windows of one or more series at every date, into one dates × bands × h × w array per chip.

Files are opened once per task (warped onto the series grid when theirs differs, as the
chip reader does); the windows of one row are read as one strip per date and file
(:func:`~eo_ray.ingest._strips.read_span` over their union) and copied out.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
from ray.data import Datasource

from eo_ray.ingest._blocks import STRING_LIST, tensor, transforms
from eo_ray.ingest._cube_plan import CubeOptions, MaskRead, SeriesPlan
from eo_ray.ingest._datasource import MIN_TASK_BYTES, _Source
from eo_ray.ingest._gdal import GdalOptions, describe_error
from eo_ray.ingest._plan import ItemPlan
from eo_ray.ingest._strips import MAX_STRIP_BYTES, plan_runs, read_span
from eo_ray.ingest._windows import Window, overlap
from eo_ray.ingest.errors import ChipReadError
from eo_ray.ingest.preprocess import qa_cloud_mask

SCL_INVALID = (0, 1, 3, 8, 9, 10)  # no data, defective, cloud shadow, clouds, cirrus
MIN_TASK_WINDOWS = 32  # windows per read task before a cube is split further than the CPUs


def _chip_bytes(plan: SeriesPlan) -> int:
    h, w = plan.windows[0][2:4]
    return len(plan.dates) * len(plan.band_names) * h * w * np.dtype(plan.dtype).itemsize


class CubeDatasource(Datasource):
    """Chips of series: each read task reads some windows of a series at every date."""

    def __init__(self, plans: list[SeriesPlan], opts: CubeOptions) -> None:
        super().__init__()
        self.plans = plans
        self.opts = opts
        self.options = GdalOptions.from_env()

    def get_name(self) -> str:
        return "ReadCube"

    def estimate_inmemory_data_size(self) -> int:
        return sum(_chip_bytes(p) * len(p.windows) for p in self.plans)

    def output_blocks(self) -> int:
        """One block per read task: up to four tasks per CPU, none over ``block_bytes``.

        Every task opens each date's files, so a small cube gets one task per CPU unless
        each task still has ``MIN_TASK_WINDOWS`` windows to spread those opens over."""
        import ray

        windows = sum(len(p.windows) for p in self.plans)
        total = self.estimate_inmemory_data_size()
        cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 1
        spread = max(cpus, windows // MIN_TASK_WINDOWS)
        wanted = max(
            math.ceil(total / self.opts.block_bytes),
            min(4 * cpus, spread, total // MIN_TASK_BYTES),
        )
        return max(1, min(windows, wanted))

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
    ) -> list:
        from ray.data import ReadTask
        from ray.data.block import BlockMetadata

        pairs = [(n, k) for n, p in enumerate(self.plans) for k in range(len(p.windows))]
        tasks = max(1, min(parallelism, self.output_blocks(), len(pairs)))
        bounds = np.linspace(0, len(pairs), tasks + 1).astype(int).tolist()
        read_tasks = []
        for lo, hi in itertools.pairwise(bounds):
            if hi <= lo:
                continue
            parts = [
                (self.plans[n], [k for _, k in group])
                for n, group in itertools.groupby(pairs[lo:hi], key=lambda pair: pair[0])
            ]
            meta = BlockMetadata(
                num_rows=hi - lo,
                size_bytes=sum(_chip_bytes(p) * len(ks) for p, ks in parts),
                input_files=tuple(dict.fromkeys(d.source for p, _ in parts for d in p.dates)),
                exec_stats=None,
            )
            fn = functools.partial(read_cube_chunk, parts, self.opts, self.options)
            read_tasks.append(ReadTask(fn, meta, per_task_row_limit=per_task_row_limit))
        return read_tasks


class _Files:
    """The files a task has open: each once per (file, grid, resampling)."""

    def __init__(self) -> None:
        self.opened: dict[tuple, _Source] = {}

    def sources(self, plan: ItemPlan, resampling: Any) -> list[_Source]:
        out = []
        for read in plan.reads:
            alpha = read.warp and read.nodata is None  # no nodata to tell the fill from data
            key = (read.href, plan.crs, plan.transform, resampling, alpha)
            if key not in self.opened:
                self.opened[key] = _Source(plan, read.href, read.warp, resampling, alpha)
            out.append(self.opened[key])
        return out

    def close(self) -> None:
        for source in self.opened.values():
            source.close()


def _footprint(plan: ItemPlan, span: Window, sources: list[_Source], valid: np.ndarray) -> None:
    """Clear ``valid`` where a warped file without nodata has no pixel (its alpha is 0)."""
    from rasterio.windows import Window as RioWindow

    part = overlap(span, plan.height, plan.width)
    if part is None:
        return
    r0, c0 = part.row_off - span.row_off, part.col_off - span.col_off
    window = RioWindow(part.col_off, part.row_off, part.width, part.height)
    for read, source in zip(plan.reads, sources, strict=True):
        if read.warp and read.nodata is None:
            alpha = source.reader.read(source.reader.count, window=window)
            valid[r0 : r0 + part.height, c0 : c0 + part.width] &= alpha > 0


def _clouds(mask: MaskRead, span: Window, sources: list[_Source]) -> np.ndarray:
    """Where the date's QA / cloud band marks clouds (or has no data)."""
    data, present = read_span(mask.plan, span, sources)
    band = data[0]
    if mask.kind == "landsat":
        cloud = qa_cloud_mask(band, mask.scheme)
    elif mask.kind == "scl":
        cloud = np.isin(band, SCL_INVALID)
    else:
        cloud = band != 0
    return cloud if present is None else cloud | ~present


def _read_date(
    series: SeriesPlan,
    t: int,
    windows: list[tuple[int, ...]],
    files: _Files,
    masks: _Files,
    opts: CubeOptions,
    image: np.ndarray,
    valid: np.ndarray,
) -> None:
    """Date ``t`` of every window: the windows of a row are read as one strip per file
    (:func:`~eo_ray.ingest._strips.plan_runs`) and copied out, as the chip reader does."""
    from rasterio.enums import Resampling

    date, mask = series.dates[t], series.masks[t]
    sources = files.sources(date, Resampling[opts.resampling])
    mask_sources = masks.sources(mask.plan, Resampling.nearest) if mask else []
    height, width = windows[0][2], windows[0][3]
    column_bytes = len(date.band_names) * height * np.dtype(date.dtype).itemsize
    for span, members in plan_runs(windows, max(width, MAX_STRIP_BYTES // column_bytes)):
        strip, present = read_span(date, span, sources)
        ok = np.ones((span.height, span.width), dtype=bool) if present is None else present
        _footprint(date, span, sources, ok)
        if mask is not None:
            ok &= ~_clouds(mask, span, mask_sources)
        for k in members:
            c0 = windows[k][1] - span.col_off  # a run's windows share their rows
            image[k, t] = strip[:, :, c0 : c0 + width]
            valid[k, t] = ok[:, c0 : c0 + width]


def read_cube_chunk(
    parts: list[tuple[SeriesPlan, list[int]]], opts: CubeOptions, options: GdalOptions
) -> Iterator[pa.Table]:
    """The body of one read task: blocks of cube chips for the windows in ``parts``."""
    from rasterio.errors import RasterioError

    files, masks = _Files(), _Files()
    with options.env():
        try:
            for series, indexes in parts:
                per_block = max(1, opts.block_bytes // _chip_bytes(series))
                for lo in range(0, len(indexes), per_block):
                    windows = [series.windows[k] for k in indexes[lo : lo + per_block]]
                    _, _, h, w, _ = windows[0]
                    shape = (len(windows), len(series.dates), len(series.band_names), h, w)
                    image = np.empty(shape, dtype=series.dtype)
                    valid = np.ones((shape[0], shape[1], h, w), dtype=bool)
                    for t in range(len(series.dates)):
                        try:
                            _read_date(series, t, windows, files, masks, opts, image, valid)
                        except RasterioError as exc:
                            raise ChipReadError(
                                f"{series.dates[t].source} cannot be read for the cube "
                                f"({describe_error(exc)}); fix or remove the file and retry."
                            ) from None
                    yield cube_table(series, np.asarray(windows, dtype=np.int64), image, valid)
        finally:
            files.close()
            masks.close()


def cube_table(
    series: SeriesPlan, windows: np.ndarray, image: np.ndarray, valid: np.ndarray
) -> pa.Table:
    """The chips of ``windows`` of one series as one table."""
    n = len(windows)
    times = np.array(series.times, dtype="datetime64[s]")

    def repeat(value: Any, type_: pa.DataType) -> pa.Array:
        return pa.array([value] * n, type=type_)

    return pa.table(
        {
            "chip_id": pa.array(
                [f"{series.series}@{r},{c}" for r, c in windows[:, :2].tolist()], pa.string()
            ),
            "series": repeat(series.series, pa.string()),
            "row_off": pa.array(windows[:, 0], pa.int64()),
            "col_off": pa.array(windows[:, 1], pa.int64()),
            "height": pa.array(windows[:, 2], pa.int64()),
            "width": pa.array(windows[:, 3], pa.int64()),
            "crs": repeat(series.crs, pa.string()),
            "transform": tensor(transforms(series.transform, windows, None)),
            "image": tensor(image),
            "times": tensor(np.broadcast_to(times, (n, len(times))).copy()),
            "valid": tensor(valid),
            "bands": repeat(list(series.band_names), STRING_LIST),
            "item_ids": repeat([d.item_id for d in series.dates], STRING_LIST),
            "collection": repeat(series.collection, pa.string()),
            "nodata": repeat(series.nodata, pa.float64()),
        }
    )
