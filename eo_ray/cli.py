"""The ``eo-ray`` command: one sub-command group per stage, ``--json`` on every verb.

User errors (:class:`eo_ray.errors.EoRayError`) are printed as one line, never a traceback.
"""

from __future__ import annotations

import importlib
import platform
import sys
from importlib import metadata
from typing import Annotated, Any

import typer
from rich.table import Table

from eo_ray.console import JsonOpt, console, emit_json, err_console, progress
from eo_ray.errors import EoRayError

app = typer.Typer(
    name="eo-ray",
    help="eo-ray: scalable AI for Earth-observation data on Ray.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
datasets_app = typer.Typer(help="Public datasets: list and verify.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")

# Each stage contributes `eo_ray/<stage>/cli.py` with a Typer `app`; modules must import
# lightly (heavy imports inside the commands) so that `eo-ray --help` stays fast.
STAGE_COMMANDS = (
    ("ingest", "ingest"),
    ("featurestore", "fs"),
    ("hpo", "hpo"),
    ("experiments", "experiments"),
    ("ablation", "ablation"),
    ("train", "train"),
    ("models", "models"),
    ("mapping", "map"),
    ("serving", "serve"),
    ("monitoring", "monitor"),
    ("analysis", "analyze"),
    ("pipelines", "pipeline"),
)
for _stage, _command in STAGE_COMMANDS:
    try:
        _module = importlib.import_module(f"eo_ray.{_stage}.cli")
    except ModuleNotFoundError as _exc:
        if _exc.name not in (f"eo_ray.{_stage}", f"eo_ray.{_stage}.cli"):
            raise
        continue
    app.add_typer(_module.app, name=_command)

_PACKAGES = (
    "ray",
    "torch",
    "tensorflow",
    "keras",
    "rasterio",
    "pyarrow",
    "deltalake",
    "evidently",
    "pandas",
    "numpy",
    "duckdb",
    "optuna",
)


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def _format_resources(resources: dict[str, float]) -> str:
    parts = []
    for key, value in sorted(resources.items()):
        if "memory" in key:
            parts.append(f"{key}={value / 2**30:.1f} GiB")
        else:
            parts.append(f"{key}={value:g}")
    return ", ".join(parts)


@app.command()
def info(
    as_json: JsonOpt = False,
    connect: Annotated[bool, typer.Option(help="Connect to Ray to list its resources.")] = True,
) -> None:
    """Versions, Ray resources and the workspace root."""
    import eo_ray
    from eo_ray.config import get_settings
    from eo_ray.storage import workspace

    settings = get_settings()
    result: dict[str, Any] = {
        "eo_ray": eo_ray.__version__,
        "python": platform.python_version(),
        "packages": {pkg: _version(pkg) for pkg in _PACKAGES},
        "workspace": workspace().root,
        "data_dir": str(settings.data_dir) if settings.data_dir else None,
        "online_store": settings.online,
    }
    if connect:
        rt = eo_ray.init()
        result["ray"] = {"address": rt.address, "resources": rt.resources}
    if as_json:
        emit_json(result)
        return
    table = Table(title=f"eo-ray {result['eo_ray']}", show_header=False)
    table.add_row("python", result["python"])
    table.add_row("workspace", result["workspace"])
    table.add_row("data dir", result["data_dir"] or "(EO_RAY_DATA not set)")
    table.add_row("online store", result["online_store"])
    if "ray" in result:
        res = result["ray"]["resources"]
        table.add_row("ray", result["ray"]["address"] or "local")
        table.add_row("resources", _format_resources(res))
    for pkg, version in result["packages"].items():
        table.add_row(pkg, version or "[red]not installed[/red]")
    console.print(table)


@datasets_app.command("list")
def datasets_list(as_json: JsonOpt = False) -> None:
    """The public datasets eo-ray knows, with where they are found."""
    from eo_ray import datasets

    rows = []
    for spec in datasets.list():
        report = datasets.verify(spec.name)
        rows.append(
            {
                "name": spec.name,
                "title": spec.title,
                "files": len(spec.files),
                "present": report.files - len(report.missing),
                "folder": report.folder,
                "license": spec.license,
                "homepage": spec.homepage,
                "description": spec.description,
            }
        )
    if as_json:
        emit_json(rows)
        return
    table = Table(title="datasets")
    for col in ("name", "title", "files", "folder", "license"):
        table.add_column(col)
    for row in rows:
        present = f"{row['present']}/{row['files']}"
        table.add_row(row["name"], row["title"], present, row["folder"] or "-", row["license"])
    console.print(table)


@datasets_app.command("verify")
def datasets_verify(
    names: Annotated[
        list[str] | None, typer.Argument(help="Datasets to verify (default: all).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the sha256 of every file of each dataset; exit 1 if any is missing or wrong."""
    from eo_ray import datasets

    specs = [datasets.get(n) for n in names] if names else datasets.list()
    reports = []
    with progress() as bar:
        task = bar.add_task("verifying", total=len(specs))
        for spec in specs:
            reports.append(datasets.verify(spec.name))
            bar.advance(task)
    if as_json:
        emit_json([r.to_dict() for r in reports])
    else:
        table = Table(title="dataset verification")
        for col in ("dataset", "files", "ok", "missing", "wrong hash", "status"):
            table.add_column(col)
        for r in reports:
            status = "[green]ok[/green]" if r.passed else "[red]FAILED[/red]"
            table.add_row(
                r.name, str(r.files), str(r.ok), str(len(r.missing)), str(len(r.mismatched)), status
            )
        console.print(table)
        for r in reports:
            for rel in r.mismatched:
                err_console.print(f"[red]wrong sha256[/red] {r.name}/{rel}")
            if r.missing:
                err_console.print(
                    f"[yellow]missing[/yellow] {r.name}: {len(r.missing)} file(s), "
                    f"e.g. {r.missing[0]}"
                )
    if not all(r.passed for r in reports):
        raise typer.Exit(1)


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8266,
    token: Annotated[
        str | None,
        typer.Option(help="Require this token (default: EO_RAY_UI_TOKEN; none: no login)."),
    ] = None,
) -> None:
    """Serve the read-only web interface over the workspace until stopped (Ctrl-C)."""
    import os

    from eo_ray.storage import workspace
    from eo_ray.ui import serve

    token = token or os.environ.get("EO_RAY_UI_TOKEN") or None
    if host not in ("127.0.0.1", "localhost", "::1") and token is None:
        err_console.print(
            f"[yellow]warning:[/yellow] serving on {host} without a token: anyone who can "
            "reach this port can browse the workspace; pass --token or set EO_RAY_UI_TOKEN."
        )
    shown = f"[{host}]" if ":" in host else host
    console.print(f"eo-ray UI over {workspace().root} at http://{shown}:{port}/ (Ctrl-C stops it)")
    serve(host=host, port=port, token=token)


def main() -> None:
    """Entry point: run the app, turning user errors into one line on stderr."""
    try:
        app()  # standalone: click prints usage errors and exits with their code
    except EoRayError as exc:
        # Raised in a Ray task, it comes wrapped with the remote traceback: show the cause only.
        cause = getattr(exc, "cause", None)
        message = cause if isinstance(cause, EoRayError) else exc
        err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
