"""Experiment records, and the synchronous Experiment API (the baseline of async search).

Recording (kept by :mod:`eo_ray.tracking`, re-exported here; used by every stage that runs
user code: launch, hpo, ablation, train)::

    run = eo.experiments.start("my-run", "train", fn=train_fn, params={...}, dataset={...})
    run.log_trial(0, params={...}, metrics={...}, status="completed")
    run.finish("completed", summary={...})

Reading: :func:`list_experiments` (also ``eo.experiments.list``), :func:`get`, :func:`rerun`.

The synchronous baseline: :func:`launch` (one run), :func:`grid_search`, :func:`random_search`
(batches of ``workers`` trials, each batch waiting for its slowest; no early stopping).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eo_ray import _lazy

if TYPE_CHECKING:
    from eo_ray.experiments._baseline import grid_search, launch, random_search
    from eo_ray.experiments._rerun import rerun
    from eo_ray.tracking import (
        ExperimentRecord,
        Run,
        RunStatus,
        get,
        list_experiments,
        load_call,
        load_function,
        start,
    )
    from eo_ray.tracking.errors import ExperimentError, ExperimentNotFoundError, RerunError

__getattr__, __dir__ = _lazy.attach(__name__, __file__)


def list(*, kind: str | None = None, name: str | None = None, ws: Any = None) -> Any:
    """Every recorded run, newest first (``eo.experiments.list()``); see list_experiments."""
    from eo_ray.tracking import list_experiments

    return list_experiments(kind=kind, name=name, ws=ws)


__all__ = [
    "ExperimentError",
    "ExperimentNotFoundError",
    "ExperimentRecord",
    "RerunError",
    "Run",
    "RunStatus",
    "get",
    "grid_search",
    "launch",
    "list",
    "list_experiments",
    "load_call",
    "load_function",
    "random_search",
    "rerun",
    "start",
]
