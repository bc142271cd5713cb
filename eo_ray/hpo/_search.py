"""``eo.hpo.search``: a thin facade over the state actor, the worker pool and the record."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from eo_ray._params import invalid, metric_mode, positive_int
from eo_ray.hpo._progress import SearchProgress
from eo_ray.hpo._result import SearchResult
from eo_ray.hpo._runtime import actor_options
from eo_ray.hpo._session import (
    SessionPlan,
    default_workers,
    ensure_ray,
    finish,
    load_journal,
    run_session,
)
from eo_ray.hpo._space import SearchSpace
from eo_ray.hpo._trial import TrialView
from eo_ray.hpo.errors import SearchConfigError
from eo_ray.hpo.optimizers import GridSearch, Optimizer, TrialList, make_optimizer
from eo_ray.hpo.stopping import StoppingRule, make_stopping_rule
from eo_ray.storage import validate_name, workspace
from eo_ray.tracking import ExperimentRecord, Run, RunStatus, list_experiments
from eo_ray.tracking import start as start_record

ENTRY_POINT = "eo_ray.hpo:search"  # what re-runs a search of any kind


def _check(
    train_fn: Any,
    space: Any,
    num_trials: Any,
    metric: Any,
    mode: Any,
    workers: Any,
    heartbeat_interval: Any,
    max_retries: Any,
    fixed: bool,
) -> None:
    def bad(name: str, expected: str, got: object) -> SearchConfigError:
        return invalid(SearchConfigError, name, "search", expected, got)

    if not callable(train_fn):
        raise bad("train_fn", "a function train_fn(hparams, reporter)", train_fn)
    if not isinstance(space, SearchSpace) and not (space is None and fixed):
        raise bad("space", "an eo_ray.hpo.SearchSpace", type(space).__name__)
    if num_trials is not None:
        positive_int(num_trials, name="num_trials", owner="search", error=SearchConfigError)
    if not isinstance(metric, str) or not metric:
        raise bad("metric", "a non-empty string", metric)
    metric_mode(mode, owner="search", error=SearchConfigError)
    if workers is not None:
        positive_int(workers, name="workers", owner="search", error=SearchConfigError)
    if not isinstance(heartbeat_interval, int | float) or heartbeat_interval < 0:
        raise bad("heartbeat_interval", "a number of seconds >= 0", heartbeat_interval)
    positive_int(
        max_retries, name="max_retries", owner="search", error=SearchConfigError, minimum=0
    )


def _resumable(name: str, kind: str) -> ExperimentRecord | None:
    """The newest record of that name and kind that did not complete, if any."""
    for record in list_experiments(kind=kind, name=name):
        if record.status is not RunStatus.COMPLETED:
            return record
    return None


def _describe(obj: Any) -> Any:
    """A plugin argument as JSON: its name when given by name, else its class name."""
    return obj if obj is None or isinstance(obj, str) else type(obj).__name__


def _open_record(
    name: str, kind: str, train_fn: Any, call: dict[str, Any], resume: bool
) -> tuple[Run, list[TrialView], int]:
    """The record to journal into (a new one, or the unfinished one to resume), the trials
    already journaled in it, and the seed to use."""
    previous = _resumable(name, kind) if resume else None
    if previous is not None:
        run = Run(previous.root, previous.id)
        run.update(status=RunStatus.RUNNING.value, ended_at=None)
        return run, load_journal(previous), previous.params.get("seed", call["seed"])
    space = call["space"]
    params = {
        **{k: v for k, v in call.items() if k not in ("builders", "dataset")},
        "space": space.to_dict() if space is not None else None,
        "optimizer": _describe(call["optimizer"]),
        "early_stopping": _describe(call["early_stopping"]),
    }
    run = start_record(
        name,
        kind,
        fn=train_fn,
        params=params,
        dataset=call["dataset"],
        entry_point=ENTRY_POINT,
        call=call,
    )
    return run, [], call["seed"]


def search(
    train_fn: Callable[[dict, Any], Any],
    space: SearchSpace | None,
    num_trials: int | None = None,
    optimizer: str | Optimizer = "random",
    early_stopping: str | StoppingRule | None = "median",
    metric: str = "accuracy",
    mode: str = "max",
    workers: int | None = None,
    resources_per_worker: Mapping[str, float] | None = None,
    seed: int | None = None,
    name: str | None = None,
    *,
    builders: Mapping[str, Callable[[], Any]] | None = None,
    heartbeat_interval: float = 0.5,
    max_retries: int = 2,
    trial_timeout: float | None = None,
    resume: bool = False,
    dataset: Any = None,
    batched: bool = False,
    kind: str = "hpo",
    progress: bool | None = None,
    plots: bool = True,
) -> SearchResult:
    """Search hyperparameters of ``train_fn`` asynchronously on long-lived Ray workers.

    An optimizer actor owns the search (ask/tell); ``workers`` actors (default: as many as
    ``resources_per_worker`` fit in the cluster) run trial after trial, keeping what
    ``builders`` built warm, and send heartbeats every ``heartbeat_interval`` seconds; the
    ``early_stopping`` rule stops poor trials at their next report. A worker that dies is
    replaced and its trial re-run up to ``max_retries`` times; so is a hung one: a trial still
    running after ``trial_timeout`` seconds has its worker killed. A trial whose function
    raises fails at once. Every finished trial is journaled in the experiment record ``name``, so
    ``resume=True`` continues the newest unfinished search of that name without redoing its
    finished trials. ``num_trials`` may be None for a grid (its size); ``space`` may be None
    with a :class:`TrialList` optimizer (fixed trials, as in ablation studies).
    ``batched=True`` is the synchronous baseline (see ``eo.experiments.grid_search``).
    """
    resources = dict(resources_per_worker or {"CPU": 1})
    opt = make_optimizer(optimizer)
    _check(
        train_fn,
        space,
        num_trials,
        metric,
        mode,
        workers,
        heartbeat_interval,
        max_retries,
        fixed=isinstance(opt, TrialList),
    )
    actor_options(resources)
    if trial_timeout is not None and (
        isinstance(trial_timeout, bool)
        or not isinstance(trial_timeout, int | float)
        or trial_timeout <= 0
    ):
        expected = "a number of seconds > 0 or None"
        raise invalid(SearchConfigError, "trial_timeout", "search", expected, trial_timeout)
    rule = make_stopping_rule(early_stopping)
    if num_trials is None:
        if not isinstance(opt, GridSearch):
            raise SearchConfigError("num_trials is required unless optimizer='grid'.")
        num_trials = space.grid_size(opt.points)
    name = validate_name(name or getattr(train_fn, "__name__", "search"), "experiment")
    ensure_ray()
    workers = workers or default_workers(resources)
    seed = seed if seed is not None else secrets.randbelow(2**31)
    call = {
        "space": space,
        "num_trials": num_trials,
        "optimizer": optimizer,
        "early_stopping": early_stopping,
        "metric": metric,
        "mode": mode,
        "workers": workers,
        "resources_per_worker": resources,
        "seed": seed,
        "builders": builders,
        "heartbeat_interval": heartbeat_interval,
        "max_retries": max_retries,
        "trial_timeout": trial_timeout,
        "dataset": dataset,
        "batched": batched,
    }
    run, journaled, seed = _open_record(name, kind, train_fn, call, resume)
    plan = SessionPlan(
        optimizer=opt,
        stopping=rule,
        space=space,
        metric=metric,
        mode=mode,
        num_trials=num_trials,
        seed=seed,
        workers=workers,
        resources=resources,
        max_retries=max_retries,
        builders=builders,
        heartbeat_interval=heartbeat_interval,
        trial_timeout=trial_timeout,
        batched=batched,
        log_root=f"{run.artifacts_uri}/tensorboard" if workspace().is_local else None,
    )
    label = f"{'batched' if batched else 'search'} {name}"
    progress_bar = SearchProgress(num_trials, mode, label, enabled=progress)
    outcome = run_session(run, train_fn, plan, progress=progress_bar, journaled=journaled)
    trials, stats = outcome.trials, outcome.stats
    result = SearchResult(
        experiment_id=run.id,
        metric=metric,
        mode=mode,
        trials=trials,
        wall_s=stats.wall_s,
        workers=workers,
        utilisation=stats.utilisation(workers),
        worker_replacements=stats.replacements,
        artifacts_uri=run.artifacts_uri,
        startup_s=outcome.startup_s,
        started_at=stats.started_at,
    )
    if plots and any(t.reports for t in trials):
        result = dataclasses.replace(result, plots=tuple(result.plot()))
    finish(run, trials, result.summary(), what=f"{name!r}")
    return result
