"""The main job of `make demo`: runs every stage of eo-ray that has landed, end to end.

Runs as ``python jobs/demo.py`` on a local Ray, or as
``ray job submit --working-dir . -- python jobs/demo.py`` against a running cluster.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

import eo_ray as eo

console = Console()


def _verify_remote(name: str) -> dict:
    from eo_ray.datasets import verify

    return verify(name).to_dict()


def main() -> None:
    start = time.perf_counter()
    rt = eo.init()
    console.rule("[bold]eo-ray demo")
    console.print(f"Ray: {rt.resources.get('CPU', 0):g} CPUs · workspace: {rt.workspace.root}")

    # Stage 0: the real datasets, verified by sha256 in parallel Ray tasks.
    import ray

    task = ray.remote(_verify_remote)
    names = [spec.name for spec in eo.datasets.list_datasets()]
    reports = ray.get([task.remote(n) for n in names])
    table = Table(title="datasets (sha256 verified on Ray workers)")
    for col in ("dataset", "files", "status"):
        table.add_column(col)
    for r in reports:
        table.add_row(r["name"], str(r["files"]), "ok" if r["passed"] else "[red]FAILED[/red]")
    console.print(table)
    if not all(r["passed"] for r in reports):
        raise SystemExit("Some datasets are missing or corrupt: run `eo-ray datasets verify`.")

    (x_train, _), (x_test, _) = eo.datasets.load_fashion_mnist()
    ships = eo.datasets.load_opensarship()
    console.print(
        f"Fashion-MNIST: {len(x_train)} train / {len(x_test)} test images; "
        f"OpenSARShip: {len(ships.manifest)} ship chips in {ships.manifest['zip'].nunique()} "
        f"Sentinel-1 scenes ({', '.join(ships.classes[:3])}, ...)"
    )
    console.rule(f"done in {time.perf_counter() - start:.1f} s")
    eo.shutdown()


if __name__ == "__main__":
    main()
