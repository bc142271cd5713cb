"""Every entry point in ``jobs/`` runs end to end at a tiny size (``--smoke``).

Each job is started as users start it, ``python jobs/X.py --smoke``, in its own process with
its own workspace: ``demo.py`` on a Ray of its own, as ``make demo`` starts it, the others on
one local cluster (``ray start``) that they join through ``RAY_ADDRESS``, as they would join a
cluster (which also spares each of them a Ray start). A job fails the test when it exits
non-zero or does not print the line that shows its work was done. A new job without an entry
in ``SMOKE`` (or an explicit reason in ``NOT_SMOKED``) fails ``test_every_job_has_a_smoke_run``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port, ray_node_ports, stop_ray_cluster

JOBS = REPO / "jobs"

# job file -> a line its --smoke output must contain (a regular expression)
SMOKE: dict[str, str] = {
    "ablation_mnist.py": r"\d+ trials on \d+ workers in [\d.]+ s · record ",
    "ablation_titanic.py": r"\d+ trials on \d+ workers in [\d.]+ s · record ",
    "cluster_check.py": r'^\{"cluster_check": ".+summary\.json"\}$',
    "crop_map.py": r"TempCNN: overall accuracy \d\.\d{3}, weighted F1 \d\.\d{3} on \d+ held-out",
    # demo.py runs with --json too: its last line is the run's figures
    "demo.py": r'^\{"run_id": .*"status": "succeeded".*"test_accuracy": [\d.]+.*\}\s*\Z',
    "hpo_fashion_mnist.py": r"best accuracy \d\.\d{4} with \{.*\}; \d+ of 4 stopped early",
    "landcover_landsat.py": r"feature group landsat_landcover v1: \d+ rows inserted",
    "landcover_map.py": r"overall accuracy \d\.\d{3}, weighted F1 \d\.\d{3} on \d+ held-out",
    "train_ships.py": r"best: opensarship-cnn v\d+ ",
}
# jobs that start a Ray of their own rather than join the module's cluster
OWN_RAY = {"demo.py"}
# job file -> why it has no smoke run here
NOT_SMOKED: dict[str, str] = {
    "ship_classification.py": "demo.py's smoke run runs its pipeline; its own entry point "
    "then resumes that run (in test_job_smoke_run[demo.py])",
}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # never the session's
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env["COLUMNS"] = "200"  # Rich wraps at 80 columns when stdout is not a terminal
    # Explicit: without it `ray start` and a joining driver disagree once a token file
    # exists in ~/.ray (tests/test_multinode.py's secured cluster leaves one there).
    env["RAY_AUTH_MODE"] = "disabled"
    return {**env, **extra}


@pytest.fixture(scope="module")
def jobs_cluster() -> Iterator[str]:
    """A local Ray cluster with 2 CPUs, started with ``ray start``; yields its address."""
    temp_dir = tempfile.mkdtemp(prefix="eo", dir="/tmp")  # short: unix socket paths
    gcs = free_port()
    cmd = [
        str(Path(sys.executable).parent / "ray"),
        "start",
        "--head",
        f"--port={gcs}",
        "--num-cpus=2",
        "--node-ip-address=127.0.0.1",
        "--include-dashboard=false",
        f"--ray-client-server-port={free_port()}",
        f"--temp-dir={temp_dir}",
        "--disable-usage-stats",
        *ray_node_ports(worker_ports=200),
    ]
    try:
        proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        yield f"127.0.0.1:{gcs}"
    finally:
        stop_ray_cluster(temp_dir, gcs)


def run_job(
    job: str, *args: str, home: Path, address: str | None = None, timeout: float = 300
) -> tuple[str, float]:
    """Run ``python jobs/<job> <args>`` with its own workspace, on the Ray cluster at
    ``address`` or (without one) a Ray of its own; its output and wall time."""
    env = _env(EO_RAY_HOME=str(home), **({"RAY_ADDRESS": address} if address else {}))
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(JOBS / job), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    elapsed = time.perf_counter() - start
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{job} exited {proc.returncode}:\n{output[-6000:]}"
    return proc.stdout, elapsed


def test_every_job_has_a_smoke_run():
    jobs = {path.name for path in JOBS.glob("*.py") if not path.name.startswith("_")}
    missing = jobs - set(SMOKE) - set(NOT_SMOKED)
    assert not missing, f"jobs without a smoke run in tests/test_jobs.py: {sorted(missing)}"
    gone = (set(SMOKE) | set(NOT_SMOKED)) - jobs
    assert not gone, f"smoke entries for jobs that no longer exist: {sorted(gone)}"


@pytest.mark.slow
@pytest.mark.parametrize("job", sorted(SMOKE))
def test_job_smoke_run(job: str, tmp_path: Path, request: pytest.FixtureRequest):
    args = ["--smoke", "--json"] if job == "demo.py" else ["--smoke"]
    address = None if job in OWN_RAY else request.getfixturevalue("jobs_cluster")
    stdout, elapsed = run_job(job, *args, home=tmp_path / "home", address=address)
    assert re.search(SMOKE[job], stdout, re.MULTILINE), f"{job} printed:\n{stdout[-6000:]}"
    print(f"{job} --smoke: {elapsed:.1f} s")
    if job == "demo.py":
        _ship_classification_resumes(stdout, home=tmp_path / "home")


def _ship_classification_resumes(demo_stdout: str, home: Path) -> None:
    """The demo's figures are whole, and ``jobs/ship_classification.py --resume`` on its
    finished run loads the run, finds every stage done and prints the summary."""
    figures = json.loads(demo_stdout.strip().splitlines()[-1])
    low, high = figures["test_accuracy_ci95"]  # how sure one 70-chip split is
    assert low <= figures["test_accuracy"] <= high
    assert 0.0 <= figures["p_beats_majority"] <= 1.0
    for key in ("majority_accuracy", "balanced_accuracy", "rf_accuracy"):
        assert 0.0 <= figures[key] <= 1.0, key
    run_id = figures["run_id"]
    stdout, _ = run_job("ship_classification.py", "--resume", run_id, home=home)
    assert re.search(r"ship-classification run \S+: succeeded in \d+ s", stdout), stdout
    assert re.search(r"^\s*train\s+cached\b", stdout, re.MULTILINE), stdout  # nothing redone
