"""A real two-node Ray cluster on this machine: `ray start` twice, then `ray job submit`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port, ray_node_ports, stop_ray_cluster

RAY = str(Path(sys.executable).parent / "ray")


@pytest.fixture
def two_node_cluster(tmp_path):
    """A head and a worker node as separate `ray start` processes, 1 CPU each."""
    temp_dir = tempfile.mkdtemp(prefix="eo", dir="/tmp")  # short: unix socket paths
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_ADDRESS")}
    env["RAY_AUTH_MODE"] = "token"  # a secured cluster: nodes and job submission share the token
    env["PATH"] = (
        f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # as if activated
    )
    gcs, dashboard = free_port(), free_port()
    head = [
        RAY,
        "start",
        "--head",
        f"--port={gcs}",
        "--num-cpus=1",
        "--node-ip-address=127.0.0.1",
        "--include-dashboard=true",
        "--dashboard-host=127.0.0.1",
        f"--dashboard-port={dashboard}",
        f"--ray-client-server-port={free_port()}",
        f"--temp-dir={temp_dir}",
        "--disable-usage-stats",
        *ray_node_ports(),
    ]
    worker = [
        RAY,
        "start",
        f"--address=127.0.0.1:{gcs}",
        "--num-cpus=1",
        "--node-ip-address=127.0.0.1",
        *ray_node_ports(),
    ]
    try:
        for cmd in (head, worker):
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        yield {"gcs": f"127.0.0.1:{gcs}", "dashboard": f"http://127.0.0.1:{dashboard}", "env": env}
    finally:
        stop_ray_cluster(temp_dir, gcs)


def test_job_submitted_to_two_nodes_runs_on_both(two_node_cluster, tmp_path, data_dir):
    home = tmp_path / "shared-workspace"
    runtime_env = {"env_vars": {"EO_RAY_HOME": str(home), "EO_RAY_DATA": str(data_dir)}}
    deadline = time.time() + 60
    while True:  # the job server starts a little after `ray start` returns
        status = subprocess.run(
            [RAY, "job", "list", "--address", two_node_cluster["dashboard"]],
            env=two_node_cluster["env"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if status.returncode == 0 or time.time() > deadline:
            break
        time.sleep(2)
    proc = subprocess.run(
        [
            RAY,
            "job",
            "submit",
            "--address",
            two_node_cluster["dashboard"],
            "--working-dir",
            str(REPO),
            "--runtime-env-json",
            json.dumps(runtime_env),
            "--",
            "python",
            "jobs/cluster_check.py",
        ],
        env=two_node_cluster["env"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "succeeded" in output
    summary_uri = json.loads(re.search(r'\{"cluster_check": .*\}', output).group(0))[
        "cluster_check"
    ]
    summary = json.loads(Path(summary_uri).read_text())
    assert summary_uri.startswith(str(home))
    node_ids = {n["node_id"] for n in summary["nodes"]}
    assert len(node_ids) == 2  # work ran on both nodes
    for node in summary["nodes"]:
        assert (home / "cluster_check" / summary["run"] / f"{node['node_id']}.json").is_file()
        assert "fashion_mnist" in node["datasets"]
