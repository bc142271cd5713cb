"""``eo-ray ingest``: scan rasters into a catalog, search it, cut chips, run command jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from eo_ray.console import JsonOpt, console, emit_json, err_console, progress, stage_app

app = stage_app("Ingest rasters: scan into a searchable catalog, chips, command jobs.")

CatalogOpt = Annotated[str, typer.Option("--catalog", "-c", help="Catalog name.")]
BboxOpt = Annotated[
    str | None, typer.Option(help="WGS84 box 'west,south,east,north' the items must touch.")
]
TimeOpt = Annotated[
    str | None, typer.Option("--datetime", help="ISO date or range 'start/end' ('..' = open).")
]
TextOpt = Annotated[str | None, typer.Option(help="Free text, ranked (every word must match).")]
WhereOpt = Annotated[
    list[str] | None, typer.Option("--where", "-w", help="Property filter KEY=VALUE (repeat).")
]


def _where(pairs: list[str] | None) -> dict[str, Any]:
    from eo_ray.ingest.errors import invalid

    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise invalid("--where", "eo-ray ingest", "KEY=VALUE", pair)
        out[key.strip()] = value.strip()
    return out


def _failures_table(failures: list[Any]) -> None:
    if not failures:
        return
    table = Table(title=f"{len(failures)} input(s) skipped", title_style="yellow")
    table.add_column("path", overflow="fold")
    table.add_column("reason", overflow="fold")
    for failure in failures[:50]:
        table.add_row(failure.path, failure.reason)
    err_console.print(table)


def _undated_table(paths: list[str]) -> None:
    if not paths:
        return
    table = Table(
        title=f"{len(paths)} item(s) without a date (none in product name, metadata or file name)",
        title_style="yellow",
    )
    table.add_column("path", overflow="fold")
    for path in paths[:50]:
        table.add_row(path)
    err_console.print(table)


@app.command()
def scan(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, zips or s3:// URIs.")],
    catalog: CatalogOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Read raster headers (never pixels) into the catalog; re-scans update in place."""
    from eo_ray.ingest.catalog import scan as run_scan

    with progress() as bar:
        task = bar.add_task("scanning", total=None)
        cat = run_scan(
            paths,
            catalog,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    report = cat.last_scan
    if report is None:  # scan() always sets it; keeps type checkers honest
        raise typer.Exit(1)
    if as_json:
        emit_json({"catalog": cat.name, "items_total": len(cat), **report.to_dict()})
        return
    table = Table(title=f"catalog {cat.name}", show_header=False)
    for key, value in (
        ("files", report.files),
        ("items found", report.items),
        ("added", report.added),
        ("updated", report.updated),
        ("failed", len(report.failures)),
        ("undated", len(report.undated)),
        ("items in catalog", len(cat)),
    ):
        table.add_row(key, str(value))
    console.print(table)
    _failures_table(report.failures)
    _undated_table(report.undated)


@app.command()
def search(
    catalog: CatalogOpt = "default",
    bbox: BboxOpt = None,
    datetime: TimeOpt = None,
    text: TextOpt = None,
    where: WhereOpt = None,
    limit: Annotated[int, typer.Option(help="At most this many items.")] = 50,
    stac: Annotated[bool, typer.Option(help="With --json, print STAC Items.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Find items by WGS84 bbox, time range, properties and ranked free text."""
    from eo_ray.ingest.catalog import Catalog

    result = Catalog.open(catalog).search(
        bbox=bbox, datetime=datetime, text=text, limit=limit, **_where(where)
    )
    if as_json:
        if stac:
            emit_json({"type": "FeatureCollection", "features": [i.to_stac() for i in result]})
        else:
            emit_json(result.to_pandas().to_dict("records"))
        return
    table = Table(title=f"{len(result)} item(s) in {catalog}")
    for column in ("id", "collection", "datetime", "platform", "bands", "score"):
        table.add_column(column, overflow="fold")
    for row in result.to_pandas().to_dict("records"):
        bands = ",".join(row["bands"][:6]) + ("…" if len(row["bands"]) > 6 else "")
        score = f"{row['score']:.2f}" if row["score"] is not None else ""
        table.add_row(
            row["id"], row["collection"], row["datetime"] or "", row["platform"] or "", bands, score
        )
    console.print(table)


@app.command()
def chips(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the chips to.")],
    paths: Annotated[
        list[str] | None, typer.Argument(help="Rasters to chip (default: the catalog).")
    ] = None,
    catalog: CatalogOpt = "default",
    bbox: BboxOpt = None,
    datetime: TimeOpt = None,
    text: TextOpt = None,
    where: WhereOpt = None,
    size: Annotated[int, typer.Option(help="Chip size in pixels.")] = 256,
    stride: Annotated[int | None, typer.Option(help="Step between chips (default size).")] = None,
    bands: Annotated[str | None, typer.Option(help="Comma-separated band names.")] = None,
    edge: Annotated[str, typer.Option(help="drop, pad or snap the last row/column.")] = "drop",
    max_nodata: Annotated[float, typer.Option(help="Drop chips with more nodata.")] = 0.5,
    fmt: Annotated[str, typer.Option("--format", help="parquet or delta.")] = "parquet",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Cut georeferenced chips and write them as Parquet or Delta (all or nothing)."""
    from eo_ray.ingest.catalog import Catalog
    from eo_ray.ingest.chips import ChipReader, make_options
    from eo_ray.ingest.writer import write_chips

    filters = _where(where)
    if paths:
        source: Any = paths
    elif any(v is not None for v in (bbox, datetime, text)) or filters:
        source = Catalog.open(catalog).search(bbox=bbox, datetime=datetime, text=text, **filters)
    else:
        source = Catalog.open(catalog)
    opts = make_options(
        size,
        stride,
        [b.strip() for b in bands.split(",")] if bands else None,
        edge=edge,
        max_nodata=max_nodata,
    )
    reader = ChipReader(source, opts)
    with progress() as bar:
        task = bar.add_task("writing chips", total=None)
        summary = write_chips(reader, out, fmt=fmt, overwrite=overwrite)
        bar.update(task, completed=summary["chips"], total=summary["chips"])
    summary["failures"] = [f.to_dict() for f in reader.failures]
    if as_json:
        emit_json(summary)
        return
    table = Table(title="chips written", show_header=False)
    for key in ("out", "format", "chips", "items", "megabytes", "seconds"):
        table.add_row(key, str(summary[key]))
    console.print(table)
    _failures_table(reader.failures)


@app.command("run-command")
def run_command_cmd(
    command: Annotated[list[str], typer.Argument(help="The command; use {input}, {output}.")],
    inputs: Annotated[list[str], typer.Option("--input", "-i", help="An input file (repeat).")],
    output_dir: Annotated[
        Path | None, typer.Option(help="Where {output} files are moved on success.")
    ] = None,
    output_name: Annotated[str, typer.Option(help="Output name from {stem}{suffix}.")] = (
        "{stem}{suffix}"
    ),
    retries: Annotated[int, typer.Option(help="Retries of a failing input.")] = 1,
    timeout: Annotated[float | None, typer.Option(help="Seconds per attempt.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run an executable once per input as Ray tasks; exit 1 if any input failed.

    Example: eo-ray ingest run-command -i a.tif -i b.tif --output-dir cogs --
    gdal_translate -of COG {input} {output}
    """
    from eo_ray.ingest.commands import run_command

    with progress() as bar:
        task = bar.add_task("running", total=len(inputs))
        results = run_command(
            command,
            inputs,
            output_dir=output_dir,
            output_name=output_name,
            retries=retries,
            timeout=timeout,
            on_progress=lambda done, total: bar.update(task, completed=done),
        )
    if as_json:
        emit_json([r.to_dict() for r in results.results])
    else:
        table = Table(title=f"{len(results.succeeded)}/{len(results)} succeeded")
        for column in ("input", "ok", "exit", "attempts", "seconds", "error / stderr"):
            table.add_column(column, overflow="fold")
        for r in results.results:
            detail = r.error or ""
            if not r.ok and r.stderr.strip():
                detail += f": {r.stderr.strip().splitlines()[-1]}"
            table.add_row(
                r.input,
                "[green]yes[/green]" if r.ok else "[red]no[/red]",
                "" if r.returncode is None else str(r.returncode),
                str(r.attempts),
                f"{r.seconds:.2f}",
                detail,
            )
        console.print(table)
    if results.failed:
        raise typer.Exit(1)


@app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """The catalogs of the workspace and their item counts."""
    from eo_ray.ingest.catalog import Catalog, list_catalogs

    rows = [{"catalog": name, "items": len(Catalog(name))} for name in list_catalogs()]
    if as_json:
        emit_json(rows)
        return
    table = Table(title="catalogs")
    table.add_column("catalog")
    table.add_column("items")
    for row in rows:
        table.add_row(row["catalog"], str(row["items"]))
    console.print(table)
