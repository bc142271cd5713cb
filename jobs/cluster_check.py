"""Check a Ray cluster for eo-ray: every node runs eo-ray and writes to the shared workspace.

Run it right after `ray up` / `kubectl apply`, or locally:
    python jobs/cluster_check.py
    ray job submit --working-dir . -- python jobs/cluster_check.py

One task is pinned to each alive node; each reports its host, eo-ray and Ray versions,
its resources and which datasets it can read, and writes that report itself under
``EO_RAY_HOME/cluster_check/<run>/`` (proving the workspace is shared). The driver then
reads every report back from the workspace and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import sys

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
from rich.console import Console
from rich.table import Table

import eo_ray as eo
from eo_ray.storage import Workspace, workspace


@ray.remote(num_cpus=0)
def node_report(root: str, run: str) -> str:
    """Runs on one node: describe it and write the description into the workspace."""
    import eo_ray
    from eo_ray import datasets

    node_id = ray.get_runtime_context().get_node_id()
    report = {
        "node_id": node_id,
        "host": socket.gethostname(),
        "eo_ray": eo_ray.__version__,
        "ray": ray.__version__,
        "python": sys.version.split()[0],
        "datasets": [s.name for s in datasets.list() if datasets.verify(s.name).passed],
    }
    ws = Workspace(root)
    uri = ws.uri("cluster_check", run, f"{node_id}.json")
    ws.write_json(uri, report)
    return uri


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="accepted for the job tests (already seconds long)"
    )
    parser.parse_args()
    eo.init()
    ws = workspace()
    run = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    nodes = [n for n in ray.nodes() if n["Alive"]]
    refs = [
        node_report.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
        ).remote(ws.root, run)
        for n in nodes
    ]
    uris = ray.get(refs)
    reports = [ws.read_json(uri) for uri in uris]
    summary = {"run": run, "workspace": ws.root, "nodes": reports}
    ws.write_json(ws.uri("cluster_check", run, "summary.json"), summary)

    table = Table(title=f"eo-ray cluster check: {len(reports)} node(s), workspace {ws.root}")
    for col in ("node", "host", "eo-ray", "ray", "datasets readable"):
        table.add_column(col)
    for r in reports:
        table.add_row(r["node_id"][:12], r["host"], r["eo_ray"], r["ray"], str(len(r["datasets"])))
    Console().print(table)
    print(json.dumps({"cluster_check": ws.uri("cluster_check", run, "summary.json")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
