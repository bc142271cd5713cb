"""`eo-ray pipeline run|status|list|resume`."""

from __future__ import annotations

from typing import Annotated

import typer

from eo_ray.console import JsonOpt, console, emit_json, stage_app

app = stage_app("Pipelines: run a DAG of steps on Ray, inspect and resume runs.")

_STYLE = {"succeeded": "green", "cached": "cyan", "failed": "red", "skipped": "yellow"}


def _show(record, as_json: bool) -> None:
    if as_json:
        emit_json(record.to_dict())
        return
    from rich.table import Table

    table = Table(title=f"{record.pipeline} run {record.run_id}: {record.status}")
    for col in ("step", "status", "attempts", "seconds", "last error"):
        table.add_column(col)
    for step in record.steps.values():
        last = step.attempts[-1].error if step.attempts else None
        colour = _STYLE.get(step.status.value, "white")
        table.add_row(
            step.name,
            f"[{colour}]{step.status.value}[/{colour}]",
            str(len(step.attempts)),
            f"{step.duration_s:.1f}",
            (last or "")[:80],
        )
    console.print(table)


def _run(ref: str, resume: str | None, as_json: bool) -> None:
    from eo_ray.pipelines import load_pipeline

    pipeline = load_pipeline(ref)

    def progress(event: str, step) -> None:
        if not as_json:
            console.print(f"  {step.name}: {event}")

    result = pipeline.run(resume=resume, source=ref, on_event=progress)
    _show(result.record, as_json)
    if result.status != "succeeded":
        raise typer.Exit(1)


@app.command("run")
def run_cmd(
    ref: Annotated[
        str, typer.Argument(help="file.py:attribute or module:attribute of a Pipeline.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline; exit 1 if a step failed."""
    _run(ref, None, as_json)


@app.command("resume")
def resume_cmd(
    run_id: Annotated[str, typer.Argument(help="The id of the run to resume.")],
    ref: Annotated[
        str | None, typer.Option(help="Pipeline reference, if not the recorded one.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Resume a failed run: finished steps are not run again."""
    from eo_ray.pipelines import PipelineDefinitionError, get_run

    record = get_run(run_id)
    source = ref or record.source
    if not source:
        raise PipelineDefinitionError(
            f"Run {run_id} was started from Python; pass --ref file.py:attribute to resume it here."
        )
    _run(source, run_id, as_json)


@app.command("status")
def status_cmd(run_id: str, as_json: JsonOpt = False) -> None:
    """The steps of one run: status, attempts, durations, errors."""
    from eo_ray.pipelines import get_run

    _show(get_run(run_id), as_json)


@app.command("list")
def list_cmd(
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every recorded run, newest first."""
    from rich.table import Table

    from eo_ray.pipelines import list_runs

    records = list_runs(pipeline)
    if as_json:
        emit_json(
            [
                {
                    "run_id": r.run_id,
                    "pipeline": r.pipeline,
                    "status": r.status,
                    "started": r.started,
                    "ended": r.ended,
                    "trigger": r.trigger,
                    "resumed_from": r.resumed_from,
                }
                for r in records
            ]
        )
        return
    table = Table(title="pipeline runs")
    for col in ("run", "pipeline", "status", "started", "trigger", "resumed from"):
        table.add_column(col)
    for r in records:
        table.add_row(r.run_id, r.pipeline, r.status, r.started, r.trigger, r.resumed_from or "")
    console.print(table)
