"""``eo-ray serve``: deploy, list, undeploy and query served models."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from eo_ray.console import JsonOpt, console, emit_json, err_console, stage_app

app = stage_app("Model serving on Ray Serve: deploy, list, undeploy, predict.")


@app.command("deploy")
def deploy_cmd(
    model: Annotated[str, typer.Argument(help="A registered model.")],
    version: Annotated[str | None, typer.Option(help="A version, 'best' or latest.")] = None,
    name: Annotated[str | None, typer.Option(help="Deployment name (default: model).")] = None,
    min_replicas: Annotated[int, typer.Option(help="Fewest replicas.")] = 1,
    max_replicas: Annotated[int, typer.Option(help="Most replicas.")] = 4,
    batch_size: Annotated[int | None, typer.Option(help="Dynamic batch size.")] = None,
    batch_wait_ms: Annotated[
        float, typer.Option(help="Longest wait for a batch to fill, in milliseconds.")
    ] = 5.0,
    num_cpus: Annotated[
        float, typer.Option(help="CPUs reserved per replica (also its model threads).")
    ] = 0.5,
    feature_view: Annotated[
        str | None, typer.Option(help="Feature view 'name[:version]': take entity keys.")
    ] = None,
    auth_token: Annotated[
        str | None, typer.Option(envvar="EO_RAY_SERVE_TOKEN", help="Require this bearer token.")
    ] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port when Serve starts here.")] = None,
    block: Annotated[
        bool | None,
        typer.Option(help="Keep serving until Ctrl-C (default: yes on a local Ray)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Serve MODEL at POST /<name>/predict."""
    from eo_ray.serving import deploy

    dep = deploy(
        model,
        version=version,
        name=name,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        batch_size=batch_size,
        batch_wait_s=batch_wait_ms / 1000.0,
        num_cpus=num_cpus,
        feature_view=feature_view,
        auth_token=auth_token,
        port=port,
    )
    if as_json:
        emit_json(dep.to_dict())
    else:
        console.print(f"[green]Serving[/] {dep.model} v{dep.version} at {dep.url}/predict")
    if block if block is not None else not os.environ.get("RAY_ADDRESS"):
        err_console.print("Local Ray: serving until Ctrl-C (use a cluster to detach).")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """Running deployments."""
    from eo_ray.serving import statuses

    rows = statuses()
    if as_json:
        emit_json([{**dep.to_dict(), "status": status} for dep, status in rows])
        return
    table = Table(title="deployments")
    for col in ("name", "model", "version", "replicas", "batch", "status", "url"):
        table.add_column(col)
    for dep, status in rows:
        table.add_row(
            dep.name,
            dep.model,
            str(dep.version),
            f"{dep.min_replicas}-{dep.max_replicas}",
            str(dep.batch_size or "-"),
            status,
            dep.url,
        )
    console.print(table)


@app.command("undeploy")
def undeploy_cmd(
    name: Annotated[str, typer.Argument(help="The deployment.")], as_json: JsonOpt = False
) -> None:
    """Stop deployment NAME (its request log is flushed)."""
    from eo_ray.serving import undeploy

    undeploy(name)
    if as_json:
        emit_json({"undeployed": name})
    else:
        console.print(f"Undeployed {name}.")


@app.command("predict")
def predict_cmd(
    name: Annotated[str, typer.Argument(help="The deployment.")],
    instances: Annotated[
        str | None, typer.Option(help='JSON list of instances, e.g. "[[1, 2.5]]".')
    ] = None,
    file: Annotated[Path | None, typer.Option(help="A JSON file of instances.")] = None,
    token: Annotated[str | None, typer.Option(envvar="EO_RAY_SERVE_TOKEN")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Send instances to deployment NAME and print the predictions."""
    from eo_ray.serving import DeploymentConfigError, get

    if (instances is None) == (file is None):
        raise DeploymentConfigError("Give the instances with exactly one of --instances or --file.")
    text = instances if instances is not None else file.read_text()
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DeploymentConfigError(f"The instances are not valid JSON ({exc}).") from None
    if isinstance(payload, dict):
        payload = payload.get("instances", [])
    out = get(name).predict(payload, token=token)
    if as_json:
        emit_json(out)
        return
    console.print(f"{out['model']} v{out['version']}: {out['predictions']}")
