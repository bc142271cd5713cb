"""`eo-ray experiments list|show|rerun`: the recorded runs of every stage."""

from __future__ import annotations

from typing import Annotated

import typer

from eo_ray.console import JsonOpt, console, emit_json, stage_app

app = stage_app("Experiment records: every launch, search, ablation and training run.")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


@app.command("list")
def list_(
    kind: Annotated[
        str | None, typer.Option(help="Only runs of this kind (hpo, launch...).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Only runs of this name.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recorded runs, newest first."""
    from rich.table import Table

    from eo_ray.experiments import list_experiments

    records = list_experiments(kind=kind, name=name)
    if as_json:
        emit_json([r.to_dict() for r in records])
        return
    table = Table(title=f"experiments ({len(records)})")
    table.add_column("id", no_wrap=True)
    for col in ("name", "kind", "status", "started", "duration s", "best"):
        table.add_column(col)
    for r in records:
        table.add_row(
            r.id,
            r.name,
            r.kind,
            r.status.value,
            r.started_at[:19].replace("T", " "),
            _fmt(r.duration_s),
            _fmt(r.summary.get("best_value")),
        )
    console.print(table)


@app.command()
def show(
    experiment_id: Annotated[str, typer.Argument(help="The id, as `list` prints it.")],
    as_json: JsonOpt = False,
) -> None:
    """One run: identity, parameters, summary and its trials."""
    from rich.table import Table

    from eo_ray.experiments import get

    record = get(experiment_id)
    trials = record.trials()
    if as_json:
        emit_json({**record.to_dict(), "trials": trials})
        return
    info = Table(title=record.id, show_header=False)
    for key in (
        "name",
        "kind",
        "status",
        "started_at",
        "ended_at",
        "function",
        "source_hash",
        "git_commit",
        "dataset",
        "artifacts_uri",
        "tensorboard_uri",
    ):
        info.add_row(key, _fmt(getattr(record, key)))
    info.add_row("packages", ", ".join(f"{k} {v}" for k, v in record.packages.items()))
    for key, value in record.params.items():
        info.add_row(f"param {key}", _fmt(value))
    for key, value in record.summary.items():
        info.add_row(f"summary {key}", _fmt(value))
    console.print(info)
    if trials:
        table = Table(title=f"trials ({len(trials)})")
        for col in ("trial", "hparams", "value", "status", "reports", "duration s", "worker"):
            table.add_column(col)
        for t in trials:
            start, end = t.get("started_at"), t.get("ended_at")
            table.add_row(
                str(t.get("trial_id")),
                ", ".join(f"{k}={_fmt(v)}" for k, v in (t.get("hparams") or {}).items()),
                _fmt(t.get("value")),
                str(t.get("status", "-")),
                str(len(t.get("reports") or [])),
                _fmt(end - start if start and end else None),
                _fmt(t.get("worker")),
            )
        console.print(table)


@app.command()
def rerun(
    experiment_id: Annotated[str, typer.Argument(help="The id of the run to repeat.")],
    as_json: JsonOpt = False,
) -> None:
    """Run a recorded experiment again (same function, parameters, data reference)."""
    import eo_ray
    from eo_ray.experiments import rerun as do_rerun

    eo_ray.init()
    result = do_rerun(experiment_id)
    summary = result.summary() if hasattr(result, "summary") else {"result": result}
    new_id = getattr(result, "experiment_id", None)
    if as_json:
        emit_json({"experiment_id": new_id, **summary})
    else:
        console.print(f"re-ran {experiment_id} as {new_id}: best {_fmt(summary.get('best_value'))}")
