"""Printing run records in the terminal, shared by the stage CLIs (experiments, hpo, ablation)."""

from __future__ import annotations

from eo_ray.console import console, emit_json

_IDENTITY = (
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
)


def fmt(value: object) -> str:
    """A value as a table cell: floats to 4 significant digits, None as ``-``."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def print_runs(*, kind: str | None = None, name: str | None = None, as_json: bool = False) -> None:
    """The recorded runs (of one ``kind`` or ``name``), newest first, as a table or JSON."""
    from rich.table import Table

    from eo_ray.tracking import list_experiments

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
            fmt(r.duration_s),
            fmt(r.summary.get("best_value")),
        )
    console.print(table)


def print_run(experiment_id: str, *, as_json: bool = False) -> None:
    """One run: identity, parameters, summary and its trials, as tables or JSON."""
    from rich.table import Table

    from eo_ray.tracking import get

    record = get(experiment_id)
    trials = record.trials()
    if as_json:
        emit_json({**record.to_dict(), "trials": trials})
        return
    info = Table(title=record.id, show_header=False)
    for key in _IDENTITY:
        info.add_row(key, fmt(getattr(record, key)))
    info.add_row("packages", ", ".join(f"{k} {v}" for k, v in record.packages.items()))
    for key, value in record.params.items():
        info.add_row(f"param {key}", fmt(value))
    for key, value in record.summary.items():
        info.add_row(f"summary {key}", fmt(value))
    console.print(info)
    if trials:
        table = Table(title=f"trials ({len(trials)})")
        for col in ("trial", "hparams", "value", "status", "reports", "duration s", "worker"):
            table.add_column(col)
        for t in trials:
            start, end = t.get("started_at"), t.get("ended_at")
            table.add_row(
                str(t.get("trial_id")),
                ", ".join(f"{k}={fmt(v)}" for k, v in (t.get("hparams") or {}).items()),
                fmt(t.get("value")),
                str(t.get("status", "-")),
                str(len(t.get("reports") or [])),
                fmt(end - start if start and end else None),
                fmt(t.get("worker")),
            )
        console.print(table)
