"""Fixtures of the feature store tests: stores, real data, and the online-store backend matrix."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time

import numpy as np
import pandas as pd
import pytest

from tests.conftest import free_port


@pytest.fixture
def fs(workspace_root):
    """A feature store in a fresh local workspace."""
    from eo_ray.featurestore import FeatureStore

    return FeatureStore(workspace_root)


@pytest.fixture(scope="session")
def titanic() -> pd.DataFrame:
    """The Kaggle Titanic training set (891 rows)."""
    from eo_ray.datasets import load_titanic

    return load_titanic()


def _db(x: np.ndarray) -> np.ndarray:
    return 10 * np.log10(np.clip(x, 1e-6, None))


@pytest.fixture(scope="session")
def chip_features() -> pd.DataFrame:
    """Per-band backscatter statistics (dB) of the 351 OpenSARShip chips, with scene time."""
    from eo_ray.datasets import load_opensarship

    ships = load_opensarship()
    rows = []
    for i, meta in ships.manifest.iterrows():
        chip = ships.read(i).astype(np.float64)
        stamp = re.search(r"_(\d{8}T\d{6})_", meta["scene"]).group(1)
        row = {
            "chip_id": int(i),
            "scene": meta["scene"],
            "ship_class": meta["class"],
            "time": pd.Timestamp(stamp, tz="UTC"),
            "height": int(meta["height"]),
        }
        for b, band in enumerate(("vv", "vh")[: chip.shape[0]]):
            db = _db(chip[b])
            row[f"{band}_mean_db"] = float(db.mean())
            row[f"{band}_std_db"] = float(db.std())
            row[f"{band}_p90_db"] = float(np.percentile(db, 90))
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def redis_url():
    """A real redis-server (the distribution's package) on a free loopback port."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail(
            "redis-server is not installed: `apt-get install -y redis-server` (make test does)."
        )
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start on loopback")
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(params=["sqlite", "redis"])
def online_backend(request, monkeypatch) -> str:
    """The online-store backend matrix: every online test runs on SQLite and on Redis."""
    if request.param == "redis":
        monkeypatch.setenv("EO_RAY_ONLINE", request.getfixturevalue("redis_url"))
    else:
        monkeypatch.setenv("EO_RAY_ONLINE", "sqlite")
    return request.param
