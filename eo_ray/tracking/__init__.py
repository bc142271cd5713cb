"""Run recording: every launch, search, ablation study and training run, as a record.

The base that the stages running user code (``hpo``, ``ablation``, ``train``, ``experiments``)
record into; ``eo.experiments`` re-exports it for users::

    run = start("my-run", "train", fn=train_fn, params={...}, dataset={...})
    run.log_trial(0, params={...}, metrics={...}, status="completed")
    run.finish("completed", summary={...})

Reading: :func:`list_experiments`, :func:`get`; the recorded code: :func:`load_function`,
:func:`load_call`; pickling user code by value for Ray workers: :func:`dumps_by_value`.
"""

from __future__ import annotations

from eo_ray.tracking._code import dumps_by_value
from eo_ray.tracking._records import (
    ExperimentRecord,
    Run,
    RunStatus,
    get,
    list_experiments,
    load_call,
    load_function,
    start,
)
from eo_ray.tracking._stage_runs import get_of_kind, list_of_kind
from eo_ray.tracking.errors import ExperimentError, ExperimentNotFoundError, RerunError

__all__ = [
    "ExperimentError",
    "ExperimentNotFoundError",
    "ExperimentRecord",
    "RerunError",
    "Run",
    "RunStatus",
    "dumps_by_value",
    "get",
    "get_of_kind",
    "list_experiments",
    "list_of_kind",
    "load_call",
    "load_function",
    "start",
]
