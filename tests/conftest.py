"""Shared fixtures: one Ray instance per session, real data, a real S3 server on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("EO_RAY_DATA", str((REPO.parent / "shared" / "data").resolve()))
os.environ.setdefault("EO_RAY_DOWNLOAD", "0")  # tests use the local copies, never the network
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.pop("RAY_ADDRESS", None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Ship test modules to Ray workers by value: workers cannot import them by name."""
    from ray import cloudpickle

    for module in {item.module for item in items if getattr(item, "module", None)}:
        cloudpickle.register_pickle_by_value(module)


_HANDED_OUT: set[int] = set()  # ports free_port gave, or reserve_ports took, this session


def free_port() -> int:
    """A free TCP port on loopback, never one handed out before in this test session.

    The kernel may offer a port again as soon as the probe socket is closed, so two
    components given ports back to back could otherwise get the same one.
    """
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def reserve_ports(ports: range) -> range:
    """Keep ``free_port`` from handing out any of ``ports`` (e.g. a worker port range)."""
    _HANDED_OUT.update(ports)
    return ports


def ray_node_ports(worker_ports: int = 41) -> list[str]:
    """``ray start`` options that put every port of a node on a free one (several Ray
    instances run on this machine at once): its own range of ``worker_ports`` worker ports."""
    names = [
        "node-manager-port",
        "object-manager-port",
        "dashboard-agent-listen-port",
        "dashboard-agent-grpc-port",
        "metrics-export-port",
        "runtime-env-agent-port",
    ]
    low = free_port() // 10 * 10
    workers = reserve_ports(range(low, low + worker_ports))  # first: none of the rest inside
    args = [f"--{name}={free_port()}" for name in names]
    return [*args, f"--min-worker-port={workers.start}", f"--max-worker-port={workers.stop - 1}"]


def stop_ray_cluster(temp_dir: str, gcs: int) -> None:
    """Stop exactly the processes of the cluster started with ``--temp-dir=temp_dir`` and
    GCS port ``gcs`` (never `ray stop`: other Ray instances run on this machine)."""
    import contextlib

    import psutil

    def ours(proc: psutil.Process) -> bool:
        try:
            cmd = " ".join(proc.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False
        return temp_dir in cmd or f":{gcs}" in cmd

    procs = [p for p in psutil.process_iter() if p.pid != os.getpid() and ours(p)]
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=3)  # some Ray processes ignore SIGTERM
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=10)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of the real datasets (EO_RAY_DATA)."""
    path = Path(os.environ["EO_RAY_DATA"])
    if not path.is_dir():
        pytest.fail(f"EO_RAY_DATA={path} does not exist: the tests need the real datasets.")
    return path


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workspace root shared by the Ray workers of the session."""
    return tmp_path_factory.mktemp("eo_ray_home")


@pytest.fixture(scope="session")
def ray_session(session_home: Path):
    """One local Ray instance for the whole test session (Ray start costs seconds)."""
    import eo_ray as eo

    info = eo.init(home=str(session_home), num_cpus=2)
    yield info
    eo.shutdown()


@pytest.fixture
def workspace_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh local workspace for one test (for code that does not need Ray workers).

    The workspace is ``EO_RAY_HOME``, which monkeypatch restores after the test.
    """
    from eo_ray.storage import Workspace

    monkeypatch.setenv("EO_RAY_HOME", str(tmp_path / "ws"))
    return Workspace(str(tmp_path / "ws"))


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 endpoint (moto server) on 127.0.0.1, with credentials in the environment."""
    port = free_port()
    # The moto of this environment (a system-wide moto_server on PATH may be another version).
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("moto_server did not start on loopback")
            time.sleep(0.2)
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield endpoint
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    """A new, empty bucket on the session's S3 server; returns its name."""
    import uuid

    import boto3

    name = f"eo-ray-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=name)
    return name


# -- serving, monitoring and analysis (issue 8) ------------------------------------------------
@pytest.fixture(scope="session")
def serve_instance(ray_session):
    """Ray Serve on 127.0.0.1 and a free port, shared by the session (its start is slow)."""
    from ray import serve

    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    yield port
    serve.shutdown()


@pytest.fixture(scope="session")
def fashion():
    """Fashion-MNIST (x_train, y_train), (x_test, y_test)."""
    from eo_ray.datasets import load_fashion_mnist

    return load_fashion_mnist()


@pytest.fixture(scope="session")
def fashion_cnn(ray_session, fashion):
    """A small torch CNN trained on 6,000 Fashion-MNIST images, registered as fashion-cnn."""
    import numpy as np
    import torch

    import eo_ray as eo
    from eo_ray.train.recipes import torch_cnn

    (x_train, y_train), (x_test, y_test) = fashion
    torch.manual_seed(0)
    model = torch_cnn(1, 28, 28, 10, filters=8)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    x = torch.as_tensor(x_train[:6000, None].astype(np.float32) / 255.0)
    y = torch.as_tensor(y_train[:6000].astype(np.int64))
    for _ in range(2):
        for i in range(0, len(x), 128):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[i : i + 128]), y[i : i + 128])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        xt = torch.as_tensor(x_test[:1000, None].astype(np.float32) / 255.0)
        accuracy = float((model(xt).argmax(1).numpy() == y_test[:1000]).mean())
    return eo.models.register(
        "fashion-cnn",
        model,
        "torch",
        metrics={"accuracy": accuracy},
        input_example=x[:1].numpy(),
        training_dataset="fashion_mnist[:6000]",
    )
