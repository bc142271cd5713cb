"""``eo-ray models``: list, show and pick the best registered model."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from eo_ray.console import JsonOpt, console, emit_json, stage_app

app = stage_app("Model registry: versions, metrics, provenance.")


def _metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items()))


def _table(title: str, versions: list) -> Table:
    table = Table(title=title)
    for col in ("name", "version", "framework", "metrics", "created", "experiment"):
        table.add_column(col)
    for mv in versions:
        table.add_row(
            mv.name,
            str(mv.version),
            mv.framework,
            _metrics(mv.metrics),
            mv.created_at,
            mv.experiment or "-",
        )
    return table


@app.command("list")
def list_cmd(
    name: Annotated[str | None, typer.Argument(help="A model: list its versions.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Registered models (latest version of each), or every version of NAME."""
    from eo_ray.models import list_versions

    versions = list_versions(name)
    if as_json:
        emit_json([mv.to_dict() for mv in versions])
        return
    console.print(_table(f"versions of {name}" if name else "models", versions))


@app.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(help="The model name.")],
    version: Annotated[int | None, typer.Option(help="A version (default: latest).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One model version with its metrics and provenance."""
    from eo_ray.models import get

    mv = get(name, version)
    if as_json:
        emit_json(mv.to_dict())
        return
    table = Table(title=f"{mv.name} v{mv.version}", show_header=False)
    for key, value in mv.to_dict().items():
        shown = _metrics(value) if key == "metrics" else value
        table.add_row(key, "-" if shown in (None, "", {}) else str(shown))
    console.print(table)


@app.command("best")
def best_cmd(
    name: Annotated[str, typer.Argument(help="The model name.")],
    metric: Annotated[str, typer.Option(help="The metric to rank by.")] = "accuracy",
    mode: Annotated[str, typer.Option(help="'max' or 'min'.")] = "max",
    as_json: JsonOpt = False,
) -> None:
    """The version of NAME with the best METRIC."""
    from eo_ray.models import best

    mv = best(name, metric, mode)
    if as_json:
        emit_json(mv.to_dict())
        return
    console.print(_table(f"best {name} by {metric} ({mode})", [mv]))
