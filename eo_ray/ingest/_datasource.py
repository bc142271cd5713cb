"""A Ray Data datasource that reads planned chip windows in its read tasks (in workers).

Each read task opens the files of its items once, reads their windows as row strips
(:mod:`eo_ray.ingest._strips`) and yields blocks built from whole arrays
(:mod:`eo_ray.ingest._blocks`). Files or windows that cannot be read are skipped and
reported to the driver through a :class:`FailureSink` (when a reader asked for them), or
raise with ``on_error="raise"``.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ray.data import Datasource

from eo_ray.ingest._blocks import ChipRows, chip_table, fits, property_kinds
from eo_ray.ingest._failures import FailureSink
from eo_ray.ingest._gdal import GdalOptions, describe_error, gdal_path
from eo_ray.ingest._plan import ChipOptions, ItemPlan
from eo_ray.ingest._strips import (
    MAX_STRIP_BYTES,
    SMALL_CHIP_BYTES,
    good_counts,
    plan_runs,
    read_resized,
    read_span,
    valid_count,
)
from eo_ray.ingest.errors import ChipReadError, Failure

MIN_TASK_BYTES = 8 * 2**20  # a read task opens its files once: amortise that
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadSettings:
    """What every read task needs besides its windows (small, picklable)."""

    opts: ChipOptions
    options: GdalOptions
    sample_fields: dict[int, dict[str, Any]]
    sink: FailureSink | None  # None: failures are only logged (nobody asks for them)
    on_error: str = "warn"

    @property
    def sample_keys(self) -> list[str]:
        return list(dict.fromkeys(k for row in self.sample_fields.values() for k in row))


def chip_bytes(plan: ItemPlan, window: Sequence[int]) -> int:
    """Bytes of the image of one chip of ``plan``."""
    return int(chips_bytes(plan, [window])[0])


def chips_bytes(plan: ItemPlan, windows: Sequence[Sequence[int]]) -> np.ndarray:
    """Bytes of the images of the chips of ``windows`` of ``plan`` (one array op)."""
    if plan.out_shape is not None:
        area = np.full(len(windows), plan.out_shape[0] * plan.out_shape[1], dtype=np.int64)
    else:
        shapes = np.asarray(windows, dtype=np.int64).reshape(len(windows), 5)[:, 2:4]
        area = shapes[:, 0] * shapes[:, 1]
    return area * (len(plan.band_names) * np.dtype(plan.dtype).itemsize)


class ChipDatasource(Datasource):
    """Chips of planned windows; each read task opens its rasters once, reads windows."""

    def __init__(self, plans: list[ItemPlan], settings: ReadSettings) -> None:
        super().__init__()
        self.plans = plans
        self.settings = settings

    def get_name(self) -> str:
        return "ReadChips"

    @functools.cached_property
    def _window_bytes(self) -> np.ndarray:
        """Bytes of every window's chip, all plans in order (computed once, with numpy)."""
        return np.concatenate(
            [np.zeros(0, dtype=np.int64), *(chips_bytes(p, p.windows) for p in self.plans)]
        )

    def estimate_inmemory_data_size(self) -> int:
        return int(self._window_bytes.sum())

    def output_blocks(self) -> int:
        """Blocks to ask Ray Data for: one per read task (each at most ``block_bytes``).

        Without it Ray Data splits every read task's output until the read has 200 blocks
        (``DataContext.read_op_min_num_blocks``): about 1.6 MB blocks for 600 MB of chips,
        which halves throughput; and each split of a task's output costs another pass over
        it (benchmarks/RESULTS.md, "Ingest throughput").
        """
        windows = len(self._window_bytes)
        return self._task_count(max(1, windows), windows, self.estimate_inmemory_data_size())

    def _task_count(self, parallelism: int, windows: int, total: int) -> int:
        """Four tasks per CPU (at least ``MIN_TASK_BYTES`` each), none over ``block_bytes``."""
        import ray

        cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 1
        largest = self.settings.opts.block_bytes
        wanted = max(math.ceil(total / largest), min(4 * cpus, total // MIN_TASK_BYTES))
        return max(1, min(parallelism, windows, wanted))

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
    ) -> list:
        from ray.data import ReadTask
        from ray.data.block import BlockMetadata

        sizes = self._window_bytes
        tasks = self._task_count(parallelism, len(sizes), int(sizes.sum()))
        counts = [len(plan.windows) for plan in self.plans]
        starts = np.concatenate([[0], np.cumsum(counts)])  # first global window of each plan
        bounds = np.linspace(0, len(sizes), tasks + 1).astype(int)
        read_tasks = []
        for lo, hi in itertools.pairwise(bounds.tolist()):
            if hi <= lo:
                continue
            first = int(np.searchsorted(starts, lo, side="right")) - 1
            last = int(np.searchsorted(starts, hi - 1, side="right")) - 1
            parts = []
            for n in range(first, last + 1):
                begin, end = max(lo, starts[n]) - starts[n], min(hi, starts[n + 1]) - starts[n]
                if end > begin:
                    parts.append((self.plans[n], list(range(int(begin), int(end)))))
            meta = BlockMetadata(
                num_rows=None,
                size_bytes=int(sizes[lo:hi].sum()),
                input_files=tuple(dict.fromkeys(p.source for p, _ in parts)),
                exec_stats=None,
            )
            fn = functools.partial(read_chunk, parts, self.settings)
            read_tasks.append(ReadTask(fn, meta, per_task_row_limit=per_task_row_limit))
        return read_tasks


class _Source:
    """One open file of an item, warped onto the item grid when its own grid differs
    (with ``alpha``, an alpha band tells the warped pixels that fall off the file)."""

    def __init__(
        self, plan: ItemPlan, href: str, warp: bool, resampling: Any, alpha: bool = False
    ) -> None:
        import rasterio
        from affine import Affine
        from rasterio.vrt import WarpedVRT

        self.dataset = rasterio.open(gdal_path(href))
        self.reader = self.dataset
        self.warped = warp
        if warp:
            self.reader = WarpedVRT(
                self.dataset,
                crs=plan.crs,
                transform=Affine(*plan.transform),
                width=plan.width,
                height=plan.height,
                resampling=resampling,
                add_alpha=alpha,
            )

    def close(self) -> None:
        if self.reader is not self.dataset:
            self.reader.close()
        self.dataset.close()


class _Blocks:
    """Blocks of about ``target`` bytes: the chips' images written by the readers straight
    into one array, so joining them costs no copy, and one metadata table per block."""

    def __init__(self, target: int, windows: int, settings: ReadSettings) -> None:
        self.target = target
        self.remaining = windows  # the most chips still to come in this task
        self.settings = settings
        self.rows: list[ChipRows] = []
        self.kinds: dict[str, str | None] = {}  # of the item properties in this block
        self.images: np.ndarray | None = None
        self.start = self.used = 0  # the current block is images[start:used]

    def room(self, n: int, shape: tuple[int, ...], dtype: Any) -> Iterator[Any]:
        """Make room for ``n`` chips of ``shape``: flush a block of other chips, or a full one."""
        images = self.images
        if images is not None and (
            images.shape[1:] != shape or images.dtype != dtype or self.used + n > len(images)
        ):
            yield from self.flush()
        if self.images is None:
            per_chip = max(1, int(np.prod(shape)) * np.dtype(dtype).itemsize)
            rows = max(n, min(self.remaining, self.target // per_chip))
            self.images = np.empty((rows, *shape), dtype=np.dtype(dtype))  # never reused

    def slots(self, n: int) -> np.ndarray:
        """Where the next ``n`` chips go (the kept ones first, see :meth:`add`)."""
        assert self.images is not None
        self.remaining -= n
        return self.images[self.used : self.used + n]

    def add(self, rows: ChipRows) -> Iterator[Any]:
        """The metadata of the chips now at the front of the last slots."""
        kinds = property_kinds(rows.plan)
        if self.rows and not fits(self.kinds, kinds):
            yield from self._block()  # properties of other types: another block
        if self.rows:
            kinds = {key: self.kinds[key] or kind for key, kind in kinds.items()}
        self.kinds = kinds
        self.rows.append(rows)
        self.used += len(rows.windows)
        if self.images is not None and (self.used - self.start) * self.images[0].nbytes >= (
            self.target
        ):
            yield from self.flush()

    def whole(self, rows: ChipRows, images: list[np.ndarray]) -> Iterator[Any]:
        """Chips of several shapes, with their own images: a block alone."""
        yield from self.flush()
        yield self._table([rows], images)

    def flush(self) -> Iterator[Any]:
        yield from self._block()
        self.images, self.start, self.used = None, 0, 0

    def _block(self) -> Iterator[Any]:
        if self.rows and self.images is not None and self.used > self.start:
            yield self._table(self.rows, self.images[self.start : self.used])
        self.rows, self.start = [], self.used

    def _table(self, rows: list[ChipRows], images: Any) -> Any:
        settings = self.settings
        return chip_table(rows, images, settings.sample_fields, settings.sample_keys)


def read_chunk(parts: list[tuple[ItemPlan, list[int]]], settings: ReadSettings) -> Iterator[Any]:
    """The body of one read task: yield blocks of chips for the windows in ``parts``."""
    from rasterio.enums import Resampling
    from rasterio.errors import RasterioError

    opts = settings.opts
    resampling = Resampling[opts.resampling]
    blocks = _Blocks(opts.block_bytes, sum(len(indexes) for _, indexes in parts), settings)
    failures: list[Failure] = []
    opened: dict[tuple, _Source] = {}  # each file is opened once per task
    with settings.options.env():
        try:
            for plan, indexes in parts:
                try:
                    sources = _open(plan, resampling, opened)
                except (RasterioError, _ChangedError) as exc:
                    changed = isinstance(exc, _ChangedError)
                    reason = str(exc) if changed else f"cannot be opened ({describe_error(exc)})"
                    failures.append(_failed(plan.source, reason))
                    _check(failures, settings)
                    blocks.remaining -= len(indexes)
                    continue
                per_block = max(1, opts.block_bytes // chip_bytes(plan, plan.windows[indexes[0]]))
                for lo in range(0, len(indexes), per_block):
                    specs = [plan.windows[k] for k in indexes[lo : lo + per_block]]
                    shape = _chip_shape(plan, specs)
                    if shape is None:  # chips of several shapes: their own block
                        blocks.remaining -= len(specs)
                        read = _read_windows(plan, specs, sources, settings, resampling, failures)
                        _check(failures, settings)
                        if read is not None:
                            yield from blocks.whole(*read)
                        continue
                    yield from blocks.room(len(specs), shape, np.dtype(plan.dtype))
                    out = blocks.slots(len(specs))
                    read = _read_windows(plan, specs, sources, settings, resampling, failures, out)
                    _check(failures, settings)
                    if read is not None:
                        yield from blocks.add(read[0])
        finally:
            for source in opened.values():
                source.close()
    yield from blocks.flush()
    if failures and settings.sink is not None:
        settings.sink.report(failures)


def _chip_shape(plan: ItemPlan, specs: list[tuple[int, ...]]) -> tuple[int, ...] | None:
    """bands x height x width shared by the chips of ``specs``, or None when they differ."""
    if plan.out_shape is not None:
        return (len(plan.band_names), *plan.out_shape)
    sizes = {(spec[2], spec[3]) for spec in specs}
    return (len(plan.band_names), *sizes.pop()) if len(sizes) == 1 else None


class _ChangedError(Exception):
    """A file whose size differs from the one its catalog item was scanned with."""


def _open(plan: ItemPlan, resampling: Any, opened: dict[tuple, _Source]) -> list[_Source]:
    """The sources of ``plan``, reusing files this task has open on the same grid."""
    sources = []
    for read in plan.reads:
        grid = (plan.crs, plan.transform, plan.height, plan.width) if read.warp else None
        key = (read.href, grid)
        if key not in opened:
            opened[key] = _Source(plan, read.href, read.warp, resampling)
        file = opened[key].dataset
        if read.width and (file.width, file.height) != (read.width, read.height):
            raise _ChangedError("changed since it was scanned: scan it again")
        sources.append(opened[key])
    return sources


def _failed(path: str, reason: str) -> Failure:
    log.warning("%s %s; its chips are skipped.", path, reason)
    return Failure(path, reason, "chips")


def _check(failures: list[Failure], settings: ReadSettings) -> None:
    if failures and settings.on_error == "raise":
        first = failures[0]
        raise ChipReadError(f"{first.path} {first.reason}; fix or remove the file and retry.")


def _read_windows(
    plan: ItemPlan,
    specs: list[tuple[int, int, int, int, int]],
    sources: list[_Source],
    settings: ReadSettings,
    resampling: Any,
    failures: list[Failure],
    out: np.ndarray | None = None,
) -> tuple[ChipRows, Any] | None:
    """One item's kept chips: their metadata and images (None when every chip is dropped
    or unreadable). With ``out`` (a slot per window) the images are written to its first
    rows; without, they are one new array, or a list when their shapes differ."""
    from rasterio.errors import RasterioError

    n = len(specs)
    windows = np.asarray(specs, dtype=np.int64).reshape(n, 5)
    good = np.zeros(n, dtype=np.int64)
    readable = np.ones(n, dtype=bool)
    pieces: list[tuple[np.ndarray, list[int], np.ndarray]] = []  # strip, members, offsets
    if plan.out_shape is not None:
        for m, spec in enumerate(specs):
            try:
                image, valid = read_resized(plan, spec, sources, resampling)
            except RasterioError as exc:
                failures.append(_window_failure(plan, spec, exc))
                readable[m] = False
                continue
            good[m] = int(valid.sum())
            pieces.append((image[None], [m], np.zeros(1, dtype=np.int64)))
        area = np.full(n, plan.out_shape[0] * plan.out_shape[1], dtype=np.int64)
    else:
        row_bytes = np.dtype(plan.dtype).itemsize * len(plan.band_names) * windows[:, 2].max()
        max_cols = max(int(windows[:, 3].max()), MAX_STRIP_BYTES // int(row_bytes))
        merge = not any(s.warped for s in sources)  # warped pixels depend on the request
        small = chip_bytes(plan, specs[0]) <= SMALL_CHIP_BYTES
        runs = plan_runs(specs, max_cols, merge, gaps=small)
        if len(runs) == n and len({(s[2], s[3]) for s in specs}) == 1:
            return _read_direct(plan, specs, windows, runs, sources, settings, failures, out)
        for span, members in runs:
            try:
                strip, valid = read_span(plan, span, sources)
            except RasterioError as exc:
                if len(members) > 1:  # read its windows one by one: keep the good ones
                    for m in members:
                        try:
                            one = read_span(plan, _window(specs[m]), sources)
                        except RasterioError as exc1:
                            failures.append(_window_failure(plan, specs[m], exc1))
                            readable[m] = False
                            continue
                        good[m] = valid_count(one[1], specs[m][2:4])
                        pieces.append((one[0], [m], np.zeros(1, dtype=np.int64)))
                    continue
                failures.append(_window_failure(plan, specs[members[0]], exc))
                readable[members[0]] = False
                continue
            offsets = windows[members, 1] - span.col_off
            good[members] = good_counts(valid, offsets, windows[members, 3], span.height)
            pieces.append((strip, members, offsets))
        area = windows[:, 2] * windows[:, 3]
    fractions = 1.0 - good / area
    keep = readable & (fractions <= settings.opts.max_nodata) & _overlaps(plan, windows)
    if not keep.any():
        return None
    images = _gather(plan, windows, keep, pieces, out)
    return ChipRows(plan, windows[keep], fractions[keep]), images


def _read_direct(
    plan: ItemPlan,
    specs: list[tuple[int, int, int, int, int]],
    windows: np.ndarray,
    runs: list,
    sources: list[_Source],
    settings: ReadSettings,
    failures: list[Failure],
    out: np.ndarray | None = None,
) -> tuple[ChipRows, np.ndarray] | None:
    """Windows that share no pixels, each read by GDAL straight into the block's array."""
    from rasterio.errors import RasterioError

    n, (_, _, h, w, _) = len(specs), specs[0]
    images = np.empty((n, len(plan.band_names), h, w), dtype=plan.dtype) if out is None else out
    good = np.zeros(n, dtype=np.int64)
    readable = np.ones(n, dtype=bool)
    for span, (m,) in runs:
        try:
            _, valid = read_span(plan, span, sources, out=images[m])
        except RasterioError as exc:
            failures.append(_window_failure(plan, specs[m], exc))
            readable[m] = False
            continue
        good[m] = valid_count(valid, (h, w))
    fractions = 1.0 - good / (h * w)
    keep = readable & (fractions <= settings.opts.max_nodata) & _overlaps(plan, windows)
    if not keep.any():
        return None
    kept = int(keep.sum())
    if kept < n:
        images[:kept] = images[keep]  # the kept chips first
    return ChipRows(plan, windows[keep], fractions[keep]), images[:kept]


def _window(spec: Sequence[int]) -> Any:
    from eo_ray.ingest._windows import Window

    return Window(*spec[:4])


def _window_failure(plan: ItemPlan, spec: Sequence[int], exc: BaseException) -> Failure:
    return _failed(plan.source, f"window {tuple(spec[:4])} cannot be read ({describe_error(exc)})")


def _overlaps(plan: ItemPlan, windows: np.ndarray) -> np.ndarray:
    """Windows with at least one pixel on the raster (the others are never chips)."""
    rows, cols, h, w = (windows[:, k] for k in range(4))
    return (rows < plan.height) & (cols < plan.width) & (rows + h > 0) & (cols + w > 0)


def _gather(
    plan: ItemPlan,
    windows: np.ndarray,
    keep: np.ndarray,
    pieces: list[tuple[np.ndarray, list[int], np.ndarray]],
    into: np.ndarray | None = None,
) -> np.ndarray | list[np.ndarray]:
    """Copy the kept chips out of their strips: into the first rows of ``into`` when
    given, else one new array, or a list when shapes differ."""
    position = np.cumsum(keep) - 1
    kept = int(keep.sum())
    shapes = {(h, w) for h, w in windows[keep][:, 2:4].tolist()}
    if plan.out_shape is not None:
        shapes = {tuple(plan.out_shape)}
    if into is not None:
        out: Any = into[:kept]
    elif len(shapes) == 1:
        h, w = shapes.pop()
        out = np.empty((kept, len(plan.band_names), h, w), dtype=plan.dtype)
    else:
        out = [None] * kept
    for strip, members, offsets in pieces:
        for m, offset in zip(members, offsets.tolist(), strict=True):
            if not keep[m]:
                continue
            if plan.out_shape is not None:
                out[position[m]] = strip[0]
                continue
            width = int(windows[m, 3])
            chip = strip[:, :, offset : offset + width]
            out[position[m]] = chip if isinstance(out, np.ndarray) else chip.copy()
    return out
