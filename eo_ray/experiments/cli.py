"""`eo-ray experiments list|show|rerun`: the recorded runs of every stage."""

from __future__ import annotations

from typing import Annotated

import typer

from eo_ray.console import JsonOpt, console, emit_json, stage_app

app = stage_app("Experiment records: every launch, search, ablation and training run.")


@app.command("list")
def list_(
    kind: Annotated[
        str | None, typer.Option(help="Only runs of this kind (hpo, launch...).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Only runs of this name.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recorded runs, newest first."""
    from eo_ray.tracking.cli import print_runs

    print_runs(kind=kind, name=name, as_json=as_json)


@app.command()
def show(
    experiment_id: Annotated[str, typer.Argument(help="The id, as `list` prints it.")],
    as_json: JsonOpt = False,
) -> None:
    """One run: identity, parameters, summary and its trials."""
    from eo_ray.tracking.cli import print_run

    print_run(experiment_id, as_json=as_json)


@app.command()
def rerun(
    experiment_id: Annotated[str, typer.Argument(help="The id of the run to repeat.")],
    as_json: JsonOpt = False,
) -> None:
    """Run a recorded experiment again (same function, parameters, data reference)."""
    import eo_ray
    from eo_ray.experiments import rerun as do_rerun
    from eo_ray.tracking.cli import fmt

    eo_ray.init()
    result = do_rerun(experiment_id)
    summary = result.summary() if hasattr(result, "summary") else {"result": result}
    new_id = getattr(result, "experiment_id", None)
    if as_json:
        emit_json({"experiment_id": new_id, **summary})
    else:
        console.print(f"re-ran {experiment_id} as {new_id}: best {fmt(summary.get('best_value'))}")
