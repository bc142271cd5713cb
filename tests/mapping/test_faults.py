"""Resume, one scene failing, and a worker killed mid-map: never a partial map in place."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio

import eo_ray as eo
from tests.mapping.conftest import L8_BANDS


def test_resume_leaves_a_finished_map_untouched(l8_forest, l8_dir: Path, tmp_path: Path):
    version, _ = l8_forest
    first = eo.mapping.predict(version, [str(l8_dir)], tmp_path, progress=False)
    path = Path(first.outputs[0].uri)
    stat, data = path.stat(), path.read_bytes()

    again = eo.mapping.predict(version, [str(l8_dir)], tmp_path, progress=False)

    assert again.outputs[0].status == "resumed"
    assert again.summary()["maps"] == 0
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    assert path.read_bytes() == data
    other = eo.mapping.predict(version, [str(l8_dir)], tmp_path, chip_size=128, progress=False)
    assert other.outputs[0].status == "written"  # other parameters: the map is made again
    redo = eo.mapping.predict(version, [str(l8_dir)], tmp_path, resume=False, progress=False)
    assert redo.outputs[0].status == "written"


def test_one_scene_failing_does_not_lose_the_others(l7_segmenter, l7_rgb: Path, tmp_path):
    version, _ = l7_segmenter
    broken = tmp_path / "src" / "broken.tif"
    broken.parent.mkdir()
    shutil.copyfile(l7_rgb, broken)
    items = eo.ingest.scan([str(l7_rgb), str(broken)], "map-one-broken").items()
    broken.write_bytes(broken.read_bytes()[:4096])  # damaged after it was catalogued

    result = eo.mapping.predict(version, items, tmp_path / "out", chip_size=128, progress=False)

    status = {Path(o.source).name: o.status for o in result}
    assert status == {"RGB.byte.tif": "written", "broken.tif": "failed"}
    failed = result.failed[0]
    assert "windows could not be read" in failed.error
    assert not any(p.name.startswith("broken") for p in (tmp_path / "out").iterdir())
    assert Path(next(o for o in result if o.status == "written").uri).exists()


@pytest.fixture
def big_l8(l8_dir: Path, tmp_path: Path) -> Path:
    """A 2,412 × 2,508 four-band raster made by tiling the real Landsat 8 bands 4 × 4."""
    bands = [rasterio.open(l8_dir / f"l8_{b}.tif").read(1) for b in L8_BANDS]
    with rasterio.open(l8_dir / "l8_B4.tif") as src:
        profile = src.profile
    tiled = np.stack([np.tile(b, (4, 4)) for b in bands])
    path = tmp_path / "src" / "l8_tiled.tif"
    path.parent.mkdir()
    profile.update(
        count=4, height=tiled.shape[1], width=tiled.shape[2], tiled=True, blockxsize=256,
        blockysize=256,
    )  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(tiled)
        dst.descriptions = tuple(L8_BANDS)
    return path


def _map_workers() -> list[int]:
    """PIDs of the inference actors (Ray titles their processes ``ray::MapWorker(...)``)."""
    import psutil

    pids = []
    for proc in psutil.process_iter(["cmdline"]):
        title = " ".join(proc.info["cmdline"] or [])
        if title.startswith("ray::MapWorker") and "WindowPredictor" in title:
            pids.append(proc.pid)
    return pids


def test_a_worker_killed_mid_map_leaves_no_partial_map(
    l8_forest, big_l8: Path, tmp_path: Path
) -> None:
    version, forest = l8_forest
    out = tmp_path / "out"
    seen: dict[str, object] = {"killed": None, "final_before_end": False}
    done = threading.Event()

    def kill_one_worker() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not done.is_set():
            work = list(out.glob(".eo-ray-work-*/*/class.tif"))  # windows are being written
            pids = _map_workers()
            if work and pids:
                os.kill(pids[0], signal.SIGKILL)
                seen["killed"] = pids[0]
                seen["final_before_end"] = bool(list(out.glob("*.tif")))
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    try:
        result = eo.mapping.predict(
            version, [str(big_l8)], out, chip_size=256, workers=2, progress=False
        )
    except eo.mapping.MappingError:
        result = None
    finally:
        done.set()
        killer.join()

    assert seen["killed"], "no map worker was running to be killed"
    assert seen["final_before_end"] is False
    assert not list(out.glob(".*.partial"))
    assert not list(out.glob(".eo-ray-work-*"))
    if result is None or result.failed:  # the run stopped: nothing half-written is in place
        assert not list(out.glob("*.tif"))
        return
    # Ray restarted the actor and retried its windows: the map is whole and exact
    with rasterio.open(result.outputs[0].uri) as src:
        got = src.read(1)
    with rasterio.open(big_l8) as src:
        pixels = src.read().reshape(4, -1).T.astype(np.float32) * np.float32(1e-4)
    np.testing.assert_array_equal(got.ravel(), forest.predict(pixels))
