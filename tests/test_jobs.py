"""Every entry point in ``jobs/`` runs end to end at a tiny size (``--smoke``).

Each job is started as users start it, ``python jobs/X.py --smoke``, in its own process with
its own Ray and its own workspace; a job fails the test when it exits non-zero or does not
print the line that shows its work was done. A new job without an entry in ``SMOKE`` (or an
explicit reason in ``NOT_SMOKED``) fails ``test_every_job_has_a_smoke_run``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
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
# job file -> why it has no smoke run here
NOT_SMOKED: dict[str, str] = {
    "ship_classification.py": "demo.py's smoke run runs its pipeline; its own entry point "
    "then resumes that run (in test_job_smoke_run[demo.py])",
}


def run_job(job: str, *args: str, home: Path, timeout: float = 300) -> tuple[str, float]:
    """Run ``python jobs/<job> <args>`` with its own workspace; its output and wall time."""
    env = {
        **os.environ,
        "EO_RAY_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "COLUMNS": "200",  # Rich wraps at 80 columns when stdout is not a terminal
    }
    env.pop("RAY_ADDRESS", None)  # a job of its own, never the test session's Ray
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
def test_job_smoke_run(job: str, tmp_path: Path):
    args = ["--smoke", "--json"] if job == "demo.py" else ["--smoke"]
    stdout, elapsed = run_job(job, *args, home=tmp_path / "home")
    assert re.search(SMOKE[job], stdout, re.MULTILINE), f"{job} printed:\n{stdout[-6000:]}"
    print(f"{job} --smoke: {elapsed:.1f} s")
    if job == "demo.py":
        _ship_classification_resumes(stdout, home=tmp_path / "home")


def _ship_classification_resumes(demo_stdout: str, home: Path) -> None:
    """``jobs/ship_classification.py --resume`` on the demo's finished run: its own entry
    point loads the run, finds every stage done and prints the summary."""
    run_id = json.loads(demo_stdout.strip().splitlines()[-1])["run_id"]
    stdout, _ = run_job("ship_classification.py", "--resume", run_id, home=home)
    assert re.search(r"ship-classification run \S+: succeeded in \d+ s", stdout), stdout
    assert re.search(r"^\s*train\s+cached\b", stdout, re.MULTILINE), stdout  # nothing redone
