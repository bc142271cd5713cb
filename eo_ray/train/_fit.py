"""``eo.train.fit``: validate at the boundary, pick the strategy, record the run."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

from eo_ray._params import invalid, metric_mode, of_type, one_of, positive_int
from eo_ray.storage import validate_name, workspace
from eo_ray.train._data import as_dataset
from eo_ray.train._frameworks import FRAMEWORKS
from eo_ray.train._record import ExperimentRecorder
from eo_ray.train.context import RunSpec
from eo_ray.train.errors import InsufficientResourcesError, TrainConfigError
from eo_ray.train.result import TrainResult, save_run
from eo_ray.train.strategy import Strategy, TrainJob


def _strategies() -> dict[str, type[Strategy]]:
    from eo_ray.train._allreduce import AllReduceStrategy
    from eo_ray.train.parameter_server import ParameterServerStrategy

    return {s.name: s for s in (AllReduceStrategy, ParameterServerStrategy)}


def _check_int(name: str, value: Any, minimum: int) -> int:
    return positive_int(value, name=name, owner="fit", error=TrainConfigError, minimum=minimum)


def _check_resources(num_workers: int, cpus_per_worker: float, use_gpu: bool) -> None:
    import ray

    import eo_ray

    eo_ray.init()
    total = ray.cluster_resources()
    need_cpu = num_workers * cpus_per_worker
    if need_cpu > total.get("CPU", 0):
        raise InsufficientResourcesError(
            f"{num_workers} workers × {cpus_per_worker:g} CPU need {need_cpu:g} CPUs but the Ray "
            f"cluster has {total.get('CPU', 0):g}; use fewer workers or a bigger cluster."
        )
    if use_gpu and num_workers > total.get("GPU", 0):
        raise InsufficientResourcesError(
            f"{num_workers} GPU workers need {num_workers} GPUs but the Ray cluster has "
            f"{total.get('GPU', 0):g}; use fewer workers or use_gpu=False."
        )


def fit(
    train_loop: Callable[..., Any],
    *,
    strategy: str = "allreduce",
    framework: str = "torch",
    num_workers: int = 2,
    use_gpu: bool = False,
    config: dict[str, Any] | None = None,
    data: Any = None,
    checkpoint_every: int = 1,
    max_failures: int = 0,
    name: str | None = None,
    mode: str = "max",
    cpus_per_worker: float = 1.0,
    experiment: str | None = None,
    **strategy_options: Any,
) -> TrainResult:
    """Train with ``train_loop(config, data, reporter)`` on ``num_workers`` workers.

    ``strategy`` is ``"allreduce"`` (Ray Train: torch DDP or TF MultiWorkerMirroredStrategy)
    or ``"parameter_server"`` (parameter-server actors, torch; options ``ps_mode="sync"`` or
    ``"async"``, ``max_staleness`` for async, ``num_servers`` shards of the parameters).
    ``data`` is split into one shard per worker.
    Checkpoints are written every ``checkpoint_every`` reported steps under the workspace and
    a failed worker group restarts from the latest up to ``max_failures`` times. ``mode``
    says whether a higher (``"max"``) or lower reported ``value`` is better.
    """
    strategies = _strategies()
    if not callable(train_loop):
        raise invalid(TrainConfigError, "train_loop", "fit", "a function", train_loop)
    one_of(strategy, strategies, name="strategy", owner="fit", error=TrainConfigError)
    one_of(framework, FRAMEWORKS, name="framework", owner="fit", error=TrainConfigError)
    impl = strategies[strategy]()
    if framework not in impl.frameworks:
        raise TrainConfigError(
            f"The {strategy} strategy supports {list(impl.frameworks)}, not {framework!r}; "
            "use strategy='allreduce' for TensorFlow."
        )
    _check_int("num_workers", num_workers, 1)
    _check_int("checkpoint_every", checkpoint_every, 1)
    _check_int("max_failures", max_failures, 0)
    metric_mode(mode, owner="fit", error=TrainConfigError)
    if config is not None:
        of_type(config, dict, name="config", owner="fit", error=TrainConfigError)
    strategy_options = impl.validate(strategy_options)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    run_id = validate_name(name or f"{strategy}-{framework}-{stamp}-{uuid.uuid4().hex[:6]}", "run")
    _check_resources(num_workers, cpus_per_worker, use_gpu)
    dataset = as_dataset(data)

    ws = workspace()
    spec = RunSpec(
        run_id=run_id,
        root=ws.root,
        strategy=strategy,
        framework=framework,
        num_workers=num_workers,
        checkpoint_every=checkpoint_every,
        use_gpu=use_gpu,
    )
    config = dict(config or {})
    job = TrainJob(
        loop=train_loop,
        config=config,
        spec=spec,
        dataset=dataset,
        max_failures=max_failures,
        cpus_per_worker=cpus_per_worker,
        mode=mode,
        options=dict(strategy_options),
    )
    call = {
        "strategy": strategy,
        "framework": framework,
        "num_workers": num_workers,
        "use_gpu": use_gpu,
        "config": config,
        "checkpoint_every": checkpoint_every,
        "max_failures": max_failures,
        "mode": mode,
        **strategy_options,
    }
    recorder = ExperimentRecorder(
        experiment or run_id,
        train_loop,
        {**call, "run_id": run_id, "dataset": _describe(data)},
        call,
    )
    start = time.perf_counter()
    try:
        outcome = impl.run(job)
    except BaseException as exc:
        recorder.failed(exc)
        raise
    history = outcome.history
    export_uri = ws.uri("train", run_id, "export") if outcome.export_files else None
    result = TrainResult(
        run_id=run_id,
        strategy=strategy,
        framework=framework,
        num_workers=num_workers,
        config=config,
        history=history,
        metrics=dict(history[-1]) if history else {},
        checkpoint=outcome.checkpoint,
        best_checkpoint=outcome.best_checkpoint,
        export_uri=export_uri,
        export_files=outcome.export_files,
        wall_time_s=time.perf_counter() - start,
        root=ws.root,
        experiment_id=recorder.id,
        extra=outcome.extra,
    )
    save_run(result)
    recorder.completed(result.metrics, history)
    return result


def _describe(data: Any) -> Any:
    """A small JSON reference to the training data for the run's provenance."""
    if data is None:
        return None
    if hasattr(data, "td") and hasattr(data, "split"):  # a split of a training dataset
        return {"training_dataset": getattr(data.td, "uri", str(data.td)), "split": data.split}
    if hasattr(data, "name") and hasattr(data, "version"):
        return {"feature_view": str(data.name), "version": getattr(data, "version", None)}
    if isinstance(data, tuple):
        return {"type": "numpy", "shapes": [list(getattr(a, "shape", ())) for a in data]}
    shape = getattr(data, "shape", None)
    if shape is not None:
        return {"type": type(data).__name__, "shape": list(shape)}
    return {"type": type(data).__name__}
