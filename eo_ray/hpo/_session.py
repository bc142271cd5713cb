"""One trial session: the optimizer actor, the worker pool, the progress bar and the record of
a run of trials, from start to clean-up.

``eo.hpo.search`` (and through it the synchronous baseline: launch, grid and random search)
and ``eo.ablation.run`` each open one; they differ only in what they plan and how they rank::

    ensure_ray()
    outcome = run_session(record, train_fn, SessionPlan(...), progress=SearchProgress(...))
    ... build a result and a summary from outcome.trials ...
    finish(record, outcome.trials, summary, what=f"{name!r}")  # or AllTrialsFailedError
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from eo_ray.hpo._reporter import TrainFn
from eo_ray.hpo._runtime import Listener, RunStats, WorkerPool, run_trials, start_state_actor
from eo_ray.hpo._space import SearchSpace
from eo_ray.hpo._trial import TrialStatus, TrialView
from eo_ray.hpo.errors import AllTrialsFailedError
from eo_ray.hpo.optimizers import Optimizer
from eo_ray.hpo.stopping import StoppingRule
from eo_ray.tracking import ExperimentRecord, Run, RunStatus

_NO_TRIALS = {"running": 0, "completed": 0, "stopped": 0, "failed": 0}


class TrialJournal:
    """Writes each finished trial to the experiment record (the resume journal); called in
    the optimizer actor.

    Writes happen on a background thread so that the optimizer actor answers the next ``ask``
    without waiting for storage; :meth:`close` waits for every pending write.
    """

    def __init__(self, run: Run) -> None:
        self.run = run
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future] = []

    def __getstate__(self) -> dict[str, Any]:
        return {"run": self.run}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["run"])

    def __call__(self, view: TrialView) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(self._pool.submit(self.run.log_trial, view.id, **view.to_dict()))

    def close(self) -> None:
        """Wait until every journaled trial is written."""
        for future in self._pending:
            future.result()
        self._pending = []


def load_journal(record: ExperimentRecord) -> list[TrialView]:
    """The finished trials journaled in ``record``."""
    views = [TrialView.from_dict(row) for row in record.trials()]
    return [v for v in views if v.status.finished]


def ensure_ray() -> None:
    """Connect to (or start) Ray unless this process already has."""
    from eo_ray.runtime import init, is_initialized

    if not is_initialized():
        init()


def default_workers(resources_per_worker: Mapping[str, float]) -> int:
    """As many workers as the cluster's CPUs (and GPUs) fit, at least one."""
    import ray

    total = ray.cluster_resources()
    fits = []
    for key in ("CPU", "GPU"):
        need = resources_per_worker.get(key, 1 if key == "CPU" else 0)
        if need:
            fits.append(int(total.get(key, 0) // need))
    return max(1, min(fits) if fits else 1)


@dataclass(frozen=True)
class SessionPlan:
    """What a session runs: the trials (an optimizer over a space, a stopping rule) and the
    workers that run them."""

    optimizer: Optimizer
    stopping: StoppingRule
    space: SearchSpace | None
    metric: str
    mode: str
    num_trials: int
    seed: int
    workers: int
    resources: Mapping[str, float]
    max_retries: int
    builders: Mapping[str, Callable[[], Any]] | None = None
    heartbeat_interval: float = 0.5
    trial_timeout: float | None = None
    batched: bool = False  # the synchronous baseline: each batch waits for its slowest trial
    log_root: str | None = None  # where workers write TensorBoard logs (None: nowhere)


class Progress(Protocol):
    """A progress display: a context manager that is a :data:`Listener` of the trials."""

    def __enter__(self) -> Listener: ...

    def __exit__(self, *exc: object) -> None: ...


@dataclass(frozen=True)
class SessionOutcome:
    """What a session ran: every trial, the driver's measurements and the workers' start-up."""

    trials: tuple[TrialView, ...]
    stats: RunStats
    startup_s: float


def run_session(
    record: Run,
    train_fn: TrainFn,
    plan: SessionPlan,
    *,
    progress: Progress,
    journaled: Iterable[TrialView] = (),
) -> SessionOutcome:
    """Run ``plan``'s trials of ``train_fn`` on long-lived Ray workers, journaling each finished
    trial in ``record`` (trials ``journaled`` before, when resuming, are not run again).

    On any error, Ctrl-C included, ``record`` is closed as failed (interrupted) and the error
    raised; the optimizer actor and the workers are always killed at the end. Ray must be up
    (:func:`ensure_ray`).
    """
    import ray

    state = start_state_actor(
        optimizer=plan.optimizer,
        stopping=plan.stopping,
        space=plan.space,
        metric=plan.metric,
        mode=plan.mode,
        num_trials=plan.num_trials,
        seed=plan.seed,
        max_retries=plan.max_retries,
        journal=TrialJournal(record),
    )
    pool = None
    try:
        ray.get(state.restore.remote(list(journaled)))
        startup = time.perf_counter()
        pool = WorkerPool(
            train_fn,
            workers=plan.workers,
            resources_per_worker=plan.resources,
            metric=plan.metric,
            state=state,
            builders=plan.builders,
            heartbeat_interval=plan.heartbeat_interval,
            await_decisions=plan.stopping.stops_trials,
            log_root=plan.log_root,
        )
        pool.warm()
        startup = time.perf_counter() - startup
        with progress as listener:
            listener(None, None, dict(_NO_TRIALS))
            stats = run_trials(
                state,
                pool,
                batched=plan.batched,
                listener=listener,
                trial_timeout=plan.trial_timeout,
            )
        ray.get(state.close.remote())
        trials = tuple(ray.get(state.trials.remote()))
    except BaseException as exc:
        status = RunStatus.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        record.finish(status, {"error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        if pool is not None:
            pool.shutdown()
        with contextlib.suppress(Exception):  # already dead is fine
            ray.kill(state, no_restart=True)
    return SessionOutcome(trials, stats, startup)


def finish(
    record: Run,
    trials: tuple[TrialView, ...],
    summary: dict[str, Any],
    *,
    what: str,
    label: Callable[[TrialView], str] = lambda view: "",
) -> None:
    """Close ``record`` with ``summary``: completed, or failed when every trial failed, then
    raising :class:`AllTrialsFailedError` quoting the first failure (``what`` names the run
    in the message, ``label`` adds to the trial's id, e.g. `` (component)``)."""
    if trials and all(t.status is TrialStatus.FAILED for t in trials):
        record.finish(RunStatus.FAILED, summary)
        first = min(trials, key=lambda t: t.id)
        lines = (first.error or "").strip().splitlines()
        raise AllTrialsFailedError(
            f"All {len(trials)} trials of {what} failed; trial {first.id}{label(first)} "
            f"failed with: {lines[-1] if lines else 'unknown error'}"
        )
    record.finish(RunStatus.COMPLETED, summary)
