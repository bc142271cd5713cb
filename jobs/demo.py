"""The main job of `make demo`: the reference EO pipeline, end to end, on a local Ray.

Verifies the real datasets (sha256, on Ray workers), then runs the Sentinel-1 ship
classification pipeline of jobs/ship_classification.py: catalog -> chips -> feature store ->
feature view -> baselines -> asynchronous HPO -> training -> registry -> Ray Serve -> HTTP
predictions -> drift and analysis reports, and prints where to look.

    python jobs/demo.py [--trials 8] [--folds 5] ...      (the ship pipeline's flags)
    python jobs/demo.py --smoke                            (every stage in seconds; for tests)
    python jobs/demo.py --seed 3 --json      (the run's figures as one JSON object, last line)
    ray job submit --working-dir . -- python jobs/demo.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import ray
from ray import cloudpickle
from rich.console import Console

import eo_ray as eo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ship_classification as ships

cloudpickle.register_pickle_by_value(ships)  # Ray workers receive the steps by value

console = Console()


def _verify(name: str) -> dict:
    from eo_ray.datasets import verify

    return verify(name).to_dict()


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ships.add_config_args(parser)
    parser.add_argument(
        "--json", action="store_true", help="end with the run's figures as one JSON line"
    )
    args = parser.parse_args()
    cfg = ships.config_from_args(args)

    start = time.perf_counter()
    rt = eo.init(log_to_driver=False)
    console.rule("[bold]eo-ray demo: Sentinel-1 ship classification")
    console.print(f"Ray: {rt.resources.get('CPU', 0):g} CPUs · workspace: {rt.workspace.root}")
    task = ray.remote(_verify)
    names = [spec.name for spec in eo.datasets.list()]
    reports = ray.get([task.remote(n) for n in names])
    bad = [r["name"] for r in reports if not r["passed"]]
    if bad:
        console.print(f"[red]Datasets missing or corrupt: {bad}; run `eo-ray datasets verify`.")
        return 1
    files = sum(r["files"] for r in reports)
    console.print(f"datasets: {len(reports)} verified ({files} files, sha256 on Ray workers)")

    def progress(event: str, step) -> None:
        if event in ("running", "succeeded", "failed", "retrying", "skipped"):
            console.print(f"  [dim]{step.name}: {event}[/dim]")

    run = ships.build_pipeline(cfg).run(source="jobs/ship_classification.py", on_event=progress)
    elapsed = time.perf_counter() - start
    ships.print_summary(run, elapsed)
    ws = eo.workspace()
    console.print(
        "Look next: `eo-ray pipeline status "
        f"{run.run_id}`, `eo-ray fs show {ships.GROUP}`, `eo-ray experiments list`, "
        f"`eo-ray models list`, `eo-ray monitor requests {ships.MODEL}`; reports under "
        f"{ws.uri('reports')} and {ws.uri('monitoring')}."
    )
    console.print("Browse it all in the web UI: run `eo-ray ui` and open http://127.0.0.1:8266/")
    if "serve" in run.outputs:
        eo.serving.undeploy(ships.MODEL)
    eo.shutdown()
    if args.json:
        sys.stdout.flush()
        print(json.dumps(ships.summary(run, cfg, elapsed)), flush=True)
    return 0 if run.status == "succeeded" else 1


if __name__ == "__main__":
    raise SystemExit(main())
