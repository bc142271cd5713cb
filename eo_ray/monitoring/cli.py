"""``eo-ray monitor``: the request log and drift reports of served models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from eo_ray.console import JsonOpt, console, emit_json, stage_app

app = stage_app("Monitoring of served models: request log, drift reports, alerts.")


def _reference(path: Path | None, dataset: str | None, rows: int):
    from eo_ray.monitoring import ReferenceDataError

    if (path is None) == (dataset is None):
        raise ReferenceDataError("Give the reference with exactly one of --reference or --dataset.")
    if dataset is not None:
        from eo_ray.datasets import LOADERS

        if dataset not in ("fashion_mnist", "mnist"):
            raise ReferenceDataError("--dataset takes fashion_mnist or mnist (image references).")
        (x, _), _ = LOADERS[dataset]()
        return x[:rows, None].astype("float32") / 255.0
    import numpy as np
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    raise ReferenceDataError(f"{path} is not a .csv, .parquet or .npy file.")


@app.command("drift")
def drift_cmd(
    name: Annotated[str, typer.Argument(help="The deployment.")],
    reference: Annotated[Path | None, typer.Option(help="Reference .csv/.parquet/.npy.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Or a dataset: fashion_mnist.")] = None,
    rows: Annotated[int, typer.Option(help="Reference rows taken from --dataset.")] = 2000,
    window: Annotated[int | None, typer.Option(help="The last N requests.")] = None,
    since: Annotated[str | None, typer.Option(help="Only requests from this time.")] = None,
    drift_share: Annotated[float, typer.Option(help="Share of drifted features to alert.")] = 0.5,
    html: Annotated[Path | None, typer.Option(help="Also write the HTML report here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare deployment NAME's logged inputs and predictions with a reference."""
    from eo_ray.monitoring import drift

    report = drift(
        name, _reference(reference, dataset, rows), window, since=since, drift_share=drift_share
    )
    if html is not None:
        report.save_html(html)
    if as_json:
        emit_json(report.to_dict())
        return
    table = Table(title=f"drift of {name} ({report.current_rows} vs {report.reference_rows} rows)")
    for col in ("column", "method", "score", "threshold", "drifted"):
        table.add_column(col)
    for c in [*report.columns, *([report.prediction] if report.prediction else [])]:
        flag = "[red]yes[/]" if c.drifted else "no"
        table.add_row(c.column, c.method, f"{c.score:.4g}", f"{c.threshold:.3g}", flag)
    console.print(table)
    verdict = f"[red]ALERT[/] {report.alert.message}" if report.alert else "[green]no drift[/]"
    console.print(verdict)


@app.command("requests")
def requests_cmd(
    name: Annotated[str, typer.Argument(help="The deployment.")],
    since: Annotated[str | None, typer.Option(help="Only requests from this time.")] = None,
    limit: Annotated[int, typer.Option(help="The newest N requests.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Logged requests of deployment NAME, newest last."""
    from eo_ray.monitoring import requests

    frame = requests(name, since=since, limit=limit)
    cols = ["request_id", "time", "model_version", "status", "n_instances", "latency_ms", "error"]
    if as_json:
        emit_json(frame[[*cols, "predictions"]].to_dict("records"))
        return
    table = Table(title=f"requests of {name}")
    for col in cols:
        table.add_column(col)
    for row in frame[cols].itertuples(index=False):
        table.add_row(*[f"{v:.1f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)


@app.command("alerts")
def alerts_cmd(
    name: Annotated[str, typer.Argument(help="The deployment.")], as_json: JsonOpt = False
) -> None:
    """Drift alerts recorded for deployment NAME, oldest first."""
    from eo_ray.monitoring import alerts

    found = alerts(name)
    if as_json:
        emit_json([a.to_dict() for a in found])
        return
    table = Table(title=f"alerts of {name}")
    for col in ("time", "metric", "value", "threshold", "report"):
        table.add_column(col)
    for a in found:
        table.add_row(a.time, a.metric, f"{a.value:.3g}", f"{a.threshold:.3g}", a.report)
    console.print(table)
