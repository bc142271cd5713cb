"""``eo-ray train``: list and show recorded training runs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from eo_ray.console import JsonOpt, console, emit_json, stage_app

app = stage_app("Distributed training runs (all-reduce, parameter server).")


def _fmt(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """Every training run recorded in the workspace."""
    from eo_ray.train import list_runs

    runs = list_runs()
    if as_json:
        emit_json([r.to_dict() for r in runs])
        return
    table = Table(title="training runs")
    for col in ("run", "strategy", "framework", "workers", "steps", "value", "samples/s"):
        table.add_column(col)
    for r in runs:
        table.add_row(
            r.run_id,
            r.strategy,
            r.framework,
            str(r.num_workers),
            str(len(r.history)),
            _fmt(r.metrics.get("value", "-")),
            _fmt(r.metrics.get("samples_per_s", "-")),
        )
    console.print(table)


@app.command("show")
def show_cmd(
    run_id: Annotated[str, typer.Argument(help="The run id (see `eo-ray train list`).")],
    as_json: JsonOpt = False,
) -> None:
    """One run: its metrics per step, checkpoints and exported model."""
    from eo_ray.train import load_run

    run = load_run(run_id)
    if as_json:
        emit_json(run.to_dict())
        return
    info = Table(title=f"run {run.run_id}", show_header=False)
    for key in ("strategy", "framework", "num_workers", "wall_time_s", "best_checkpoint"):
        info.add_row(key, _fmt(getattr(run, key)))
    info.add_row("export", run.model_uri or "-")
    info.add_row("experiment", run.experiment_id or "-")
    console.print(info)
    keys = sorted({k for rec in run.history for k in rec} - {"step"})
    steps = Table(title="history")
    steps.add_column("step")
    for key in keys:
        steps.add_column(key)
    for rec in run.history:
        steps.add_row(str(rec.get("step")), *(_fmt(rec.get(k, "")) for k in keys))
    console.print(steps)
