"""`eo-ray hpo run|list|show|optimizers`: hyperparameter searches from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from eo_ray.console import JsonOpt, console, emit_json, stage_app

app = stage_app("Asynchronous hyperparameter search (optimizer actor, worker actors).")


def load_target(target: str):
    """``path/to/file.py:fn`` or ``package.module:fn`` → the function."""
    import importlib
    import importlib.util

    from eo_ray.hpo.errors import SearchConfigError

    where, _, attr = target.rpartition(":")
    if not where or not attr:
        raise SearchConfigError(
            f"The training function must be given as file.py:function or module:function; "
            f"got {target!r}."
        )
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise SearchConfigError(f"No file {where!r}: give the path of the training script.")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    fn = getattr(module, attr, None)
    if fn is None:
        raise SearchConfigError(f"{where} has no function {attr!r}.")
    return fn


@app.command()
def run(
    target: Annotated[str, typer.Argument(help="The training function: file.py:fn or module:fn.")],
    space: Annotated[
        str,
        typer.Option(help="The search space as JSON (SearchSpace.to_dict form) or a .json file."),
    ],
    trials: Annotated[int, typer.Option(help="Number of trials.")] = 16,
    optimizer: Annotated[
        str, typer.Option(help="random, grid, tpe, gp, asha, hyperband.")
    ] = "random",
    early_stopping: Annotated[str, typer.Option(help="median or none.")] = "median",
    metric: Annotated[str, typer.Option(help="The optimised metric.")] = "accuracy",
    mode: Annotated[str, typer.Option(help="max or min.")] = "max",
    workers: Annotated[
        int | None, typer.Option(help="Worker actors (default: fit the CPUs).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the optimizer.")] = None,
    name: Annotated[str | None, typer.Option(help="Experiment name (for resume).")] = None,
    resume: Annotated[
        bool, typer.Option(help="Continue the unfinished search of that name.")
    ] = False,
    heartbeat_interval: Annotated[
        float, typer.Option(help="Seconds between a worker's metric heartbeats.")
    ] = 0.5,
    trial_timeout: Annotated[
        float | None,
        typer.Option(help="Kill and re-run a trial still running after this many seconds."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the hyperparameters of a training function; prints the best trial."""
    import eo_ray
    from eo_ray.hpo import SearchSpace, search

    raw = Path(space).read_text() if space.endswith(".json") else space
    try:
        spec = json.loads(raw)
    except json.JSONDecodeError as exc:
        from eo_ray.hpo.errors import SearchSpaceError

        raise SearchSpaceError(f"--space is not valid JSON ({exc.msg}).") from None
    fn = load_target(target)
    eo_ray.init()
    result = search(
        fn,
        SearchSpace.from_dict(spec),
        trials,
        optimizer=optimizer,
        early_stopping=None if early_stopping == "none" else early_stopping,
        metric=metric,
        mode=mode,
        workers=workers,
        seed=seed,
        name=name,
        resume=resume,
        heartbeat_interval=heartbeat_interval,
        trial_timeout=trial_timeout,
    )
    summary = {"experiment_id": result.experiment_id, **result.summary()}
    if as_json:
        emit_json(summary)
        return
    _print_trials(result.to_pandas(), metric)
    console.print(
        f"best {metric} {summary['best_value']} with {summary['best_hparams']} · "
        f"{summary['stopped']} stopped early · {summary['wall_s']:.1f} s · "
        f"record {result.experiment_id}"
    )


def _print_trials(frame, metric: str) -> None:
    from rich.table import Table

    table = Table(title=f"trials ({len(frame)})")
    cols = [c for c in frame.columns if c.startswith("hp.")]
    for col in ("trial", *cols, metric, "status", "duration_s", "worker"):
        table.add_column(col.removeprefix("hp."))
    for _, row in frame.iterrows():
        cells = [
            row["trial"],
            *[row[c] for c in cols],
            row[metric],
            row["status"],
            row["duration_s"],
            row["worker"],
        ]
        table.add_row(*[f"{c:.4g}" if isinstance(c, float) else str(c) for c in cells])
    console.print(table)


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """Recorded searches, newest first."""
    from eo_ray.tracking.cli import print_runs

    print_runs(kind="hpo", as_json=as_json)


@app.command()
def show(
    experiment_id: Annotated[str, typer.Argument(help="The search's experiment id.")],
    as_json: JsonOpt = False,
) -> None:
    """One search: summary and per-trial table."""
    from eo_ray.tracking.cli import print_run

    print_run(experiment_id, as_json=as_json)


@app.command()
def optimizers(as_json: JsonOpt = False) -> None:
    """The built-in optimizers and stopping rules."""
    from eo_ray.hpo.optimizers import OPTIMIZERS
    from eo_ray.hpo.stopping import STOPPING_RULES

    def first_paragraph(obj: object) -> str:
        return " ".join((obj.__doc__ or "").strip().split("\n\n")[0].split())

    data = {
        "optimizers": {k: first_paragraph(v) for k, v in OPTIMIZERS.items()},
        "early_stopping": {k: first_paragraph(v) for k, v in STOPPING_RULES.items()},
    }
    if as_json:
        emit_json(data)
        return
    for group, items in data.items():
        console.print(f"[bold]{group}[/bold]")
        for key, doc in items.items():
            console.print(f"  {key:<10} {doc}")
