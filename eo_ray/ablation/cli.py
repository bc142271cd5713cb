"""`eo-ray ablation run|list|show`: ablation studies from the command line."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer

from eo_ray.console import JsonOpt, console, emit_json, stage_app

app = stage_app("Ablation studies (LOCO over features, layers, modules) on the worker actors.")


def print_ranking(rows: list[dict[str, Any]], title: str) -> None:
    """The ranking as a Rich table."""
    from rich.table import Table

    table = Table(title=title)
    for col in ("rank", "component", "kind", "runs", "failed", "mean", "std", "diff"):
        table.add_column(col, justify="left" if col in ("component", "kind") else "right")
    for row in rows:
        cells = [str(row.get(c)) for c in ("rank", "component", "kind", "runs", "failed")]
        cells += [_number(row.get(c), signed=c == "diff") for c in ("mean", "std", "diff")]
        table.add_row(*cells)
    console.print(table)


def _number(value: Any, signed: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


@app.command()
def run(
    target: Annotated[str, typer.Argument(help="The training function: file.py:fn or module:fn.")],
    study: Annotated[
        str, typer.Option(help="A function returning the AblationStudy: file.py:fn or module:fn.")
    ],
    workers: Annotated[
        int | None, typer.Option(help="Worker actors (default: fit the CPUs).")
    ] = None,
    repeats: Annotated[int, typer.Option(help="Runs of each variant, with different seeds.")] = 1,
    metric: Annotated[str, typer.Option(help="The metric the function returns.")] = "accuracy",
    mode: Annotated[str, typer.Option(help="max or min.")] = "max",
    seed: Annotated[int, typer.Option(help="Seed of the first repeat.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Run a study: every variant in parallel; prints the ranking."""
    import eo_ray
    from eo_ray.ablation import AblationStudy, StudyError
    from eo_ray.ablation import run as run_study
    from eo_ray.hpo.cli import load_target

    fn = load_target(target)
    made = load_target(study)()
    if not isinstance(made, AblationStudy):
        raise StudyError(
            f"{study} must return an AblationStudy; it returned {type(made).__name__}."
        )
    eo_ray.init()
    result = run_study(
        fn, made, workers=workers, repeats=repeats, metric=metric, mode=mode, seed=seed
    )
    data = result.to_dict()
    if as_json:
        emit_json(data)
        return
    print_ranking(data["ranking"], f"ablation {made.name} · {metric} ({mode})")
    console.print(
        f"{len(result.trials)} trials on {result.workers} workers in {result.wall_s:.1f} s · "
        f"{len(result.failed)} failed · record {result.experiment_id} · chart "
        f"{result.artifacts.get('html')}"
    )


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """Recorded studies, newest first."""
    from eo_ray.tracking.cli import print_runs

    print_runs(kind="ablation", as_json=as_json)


@app.command()
def show(
    experiment_id: Annotated[str, typer.Argument(help="The study's experiment id.")],
    as_json: JsonOpt = False,
) -> None:
    """One study's ranking (component, kind, mean, std, difference to the base)."""
    from eo_ray.ablation import StudyError
    from eo_ray.tracking import get

    record = get(experiment_id)
    if record.kind != "ablation":
        raise StudyError(f"{experiment_id} is a {record.kind} run, not an ablation study.")
    ranking = record.summary.get("ranking", [])
    if as_json:
        emit_json({"id": record.id, "status": record.status.value, **record.summary})
        return
    metric = record.params.get("metric", "metric")
    print_ranking(ranking, f"{record.name} · {metric} · {record.status.value}")
    if record.summary.get("artifacts"):
        console.print(f"chart {record.summary['artifacts'].get('html')}")
