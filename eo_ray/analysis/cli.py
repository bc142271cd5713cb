"""``eo-ray analyze``: a static model-analysis report on labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eo_ray.console import JsonOpt, console, emit_json, stage_app

app = stage_app("Model analysis: performance by slice, curves, counterfactuals, galleries.")


@app.command("report")
def report_cmd(
    model: Annotated[str, typer.Argument(help="A registered model, 'name' or 'name:version'.")],
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("analysis.html"),
    data: Annotated[Path | None, typer.Option(help="Labelled .csv or .parquet.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Or fashion_mnist (test split).")] = None,
    label: Annotated[str, typer.Option(help="The label column.")] = "label",
    slice_: Annotated[
        list[str] | None, typer.Option("--slice", help="A column to slice by (repeatable).")
    ] = None,
    rows: Annotated[int, typer.Option(help="Rows analysed (sampled).")] = 2000,
    as_json: JsonOpt = False,
) -> None:
    """Write an HTML analysis of MODEL on labelled data."""
    import pandas as pd

    from eo_ray.analysis import AnalysisError, report

    kwargs = {}
    if (data is None) == (dataset is None):
        raise AnalysisError("Give the data with exactly one of --data or --dataset.")
    if dataset is not None:
        if dataset != "fashion_mnist":
            raise AnalysisError("--dataset takes fashion_mnist; pass other data with --data.")
        from eo_ray.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist

        _, (x, y) = load_fashion_mnist()
        chips = list(x[:rows, None].astype("float32") / 255.0)
        frame = pd.DataFrame({"image": chips, "label": y[:rows]})
        frame["brightness"] = [c.mean() for c in chips]
        kwargs = {"image": "image", "class_names": FASHION_MNIST_CLASSES}
    elif data.suffix.lower() == ".csv":
        frame = pd.read_csv(data)
    elif data.suffix.lower() == ".parquet":
        frame = pd.read_parquet(data)
    else:
        raise AnalysisError(f"{data} is not a .csv or .parquet file.")
    result = report(model, frame, label, slices=slice_ or (), sample=rows, path=out, **kwargs)
    if as_json:
        emit_json({"path": str(out), **result.metrics})
        return
    console.print(
        f"{result.title}: accuracy {result.metrics['accuracy']:.4f}, "
        f"macro F1 {result.metrics['macro_f1']:.4f} on {result.metrics['rows']} rows -> {out}"
    )
