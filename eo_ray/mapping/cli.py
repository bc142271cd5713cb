"""``eo-ray map``: run a registered model over scenes into COG maps; list and show maps."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from eo_ray.console import JsonOpt, console, emit_json, stage_app

app = stage_app("Maps: a registered model over whole scenes, one COG per scene.")


@app.command("predict")
def predict_cmd(
    model: Annotated[str, typer.Argument(help="A registered model: NAME or NAME:VERSION.")],
    source: Annotated[
        list[str] | None, typer.Argument(help="Raster files, folders or s3:// URIs.")
    ] = None,
    out: Annotated[str, typer.Option(help="Folder (or s3:// URI) for the maps.")] = "maps",
    catalog: Annotated[
        str | None, typer.Option(help="Map every scene of this catalog instead of SOURCE.")
    ] = None,
    chip_size: Annotated[int | None, typer.Option(help="Window size in pixels.")] = None,
    overlap: Annotated[int, typer.Option(help="Overlap of windows, blended (pixels).")] = 0,
    output: Annotated[str, typer.Option(help="class, proba or both.")] = "class",
    nodata: Annotated[float | None, typer.Option(help="The source's nodata value.")] = None,
    workers: Annotated[int | None, typer.Option(help="Inference actors.")] = None,
    num_gpus: Annotated[float | None, typer.Option(help="GPUs per actor.")] = None,
    resume: Annotated[bool, typer.Option(help="Keep maps already finished.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Map every scene of SOURCE (or --catalog) with MODEL; one COG per scene in --out."""
    from eo_ray.ingest import Catalog
    from eo_ray.mapping import MappingInputError, predict

    if (catalog is None) == (not source):
        raise MappingInputError("Give raster paths as SOURCE or a catalog with --catalog (one).")
    result = predict(
        model,
        Catalog.open(catalog) if catalog else source,
        out,
        chip_size=chip_size,
        overlap=overlap,
        output=output,
        nodata=nodata,
        workers=workers,
        num_gpus=num_gpus,
        resume=resume,
        progress=None if not as_json else False,
    )
    if as_json:
        emit_json(result.to_dict())
        return
    table = Table(title=f"maps of {result.model}:{result.model_version} in {result.out}")
    for col in ("scene", "status", "map", "km²", "windows (skipped)", "seconds"):
        table.add_column(col)
    for o in result:
        table.add_row(
            o.item_id,
            o.status,
            o.uri or o.proba_uri or (o.error or "-"),
            f"{o.km2:.1f}",
            f"{o.windows} ({o.skipped_windows})",
            f"{o.seconds:.1f}",
        )
    console.print(table)
    s = result.summary()
    console.print(
        f"{s['maps']} written, {s['resumed']} resumed, {s['failed']} failed: "
        f"{s['km2']:.1f} km² in {s['seconds']:.1f} s ({s['km2_per_s']:.2f} km²/s)"
    )


@app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """Maps recorded in the workspace, newest first."""
    from eo_ray.mapping import list_maps

    records = list_maps()
    if as_json:
        emit_json([r.to_dict() for r in records])
        return
    table = Table(title="maps")
    for col in ("map", "model", "created", "km²", "classes", "uri"):
        table.add_column(col)
    for r in records:
        table.add_row(
            r.map_id,
            f"{r.model}:{r.model_version}",
            r.created_at,
            f"{r.km2:.1f}",
            str(len(r.classes)),
            r.uri,
        )
    console.print(table)


@app.command("show")
def show_cmd(
    map_id: Annotated[str, typer.Argument(help="A map id (see `eo-ray map list`).")],
    as_json: JsonOpt = False,
) -> None:
    """One map: its file, grid, classes and lineage."""
    from eo_ray.mapping import get_map

    record = get_map(map_id)
    if as_json:
        emit_json(record.to_dict())
        return
    table = Table(title=record.map_id, show_header=False)
    for key, value in record.to_dict().items():
        table.add_row(key, "-" if value in (None, "", {}, []) else str(value))
    console.print(table)
