"""Distributed training: ring all-reduce on Ray Train and parameter servers on Ray actors.

``eo.train.fit(train_loop, strategy="allreduce" | "parameter_server", framework="torch" |
"tensorflow", num_workers=2, use_gpu=False, config={...}, data=...) -> TrainResult``.
The loop is ``train_loop(config, data, reporter)``; see :mod:`eo_ray.train.context`.
"""

from typing import TYPE_CHECKING

from eo_ray import _lazy

if TYPE_CHECKING:
    from eo_ray.train._data import Shard, as_dataset
    from eo_ray.train._fit import fit
    from eo_ray.train.context import RunSpec, TrainContext
    from eo_ray.train.errors import (
        InsufficientResourcesError,
        RunNotFoundError,
        TrainConfigError,
        TrainError,
        TrainLoopError,
        TrainUsageError,
    )
    from eo_ray.train.result import TrainResult, list_runs, load_run
    from eo_ray.train.result import list_runs as list
    from eo_ray.train.result import load_run as get
    from eo_ray.train.strategy import Strategy, StrategyOutcome, TrainJob

__getattr__, __dir__ = _lazy.attach(__name__, __file__)

__all__ = [
    "InsufficientResourcesError",
    "RunNotFoundError",
    "RunSpec",
    "Shard",
    "Strategy",
    "StrategyOutcome",
    "TrainConfigError",
    "TrainContext",
    "TrainError",
    "TrainJob",
    "TrainLoopError",
    "TrainResult",
    "TrainUsageError",
    "as_dataset",
    "fit",
    "get",
    "list",
    "list_runs",
    "load_run",
]
