"""The worker-actor runtime: run trial specs on N long-lived workers, with heartbeats, a
stopping rule and worker replacement. Driven by the trial session (``_session.py``) of searches,
ablation studies and the synchronous Experiment API (``batched=True``: each batch waits for
its slowest trial)."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cloudpickle

from eo_ray._params import invalid
from eo_ray.hpo._reporter import TrainFn, TrialOutcome
from eo_ray.hpo._state import SearchState
from eo_ray.hpo._trial import TrialSpec, TrialStatus
from eo_ray.hpo._worker import DECISION_WAIT, HEARTBEATS, TrialWorker
from eo_ray.hpo.errors import SearchConfigError
from eo_ray.tracking import dumps_by_value


def actor_options(resources: Mapping[str, float]) -> dict[str, Any]:
    """Ray actor options for ``resources_per_worker`` (``CPU``, ``GPU``, ``memory``, custom)."""
    resources = dict(resources)
    for key, value in resources.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            name = f"resources_per_worker[{key!r}]"
            raise invalid(SearchConfigError, name, "search", "a number >= 0", value)
    options: dict[str, Any] = {
        "num_cpus": resources.pop("CPU", 1),
        "num_gpus": resources.pop("GPU", 0),
        "max_restarts": 0,
    }
    if "memory" in resources:
        options["memory"] = resources.pop("memory")
    if resources:
        options["resources"] = resources
    return options


class WorkerPool:
    """N worker actors, each a slot; a dead one is replaced in its slot.

    ``await_decisions=False`` (the search's stopping rule never stops a trial: ablation
    studies, the synchronous baseline) lets reports go out without waiting for an answer."""

    def __init__(
        self,
        train_fn: TrainFn,
        *,
        workers: int,
        resources_per_worker: Mapping[str, float],
        metric: str,
        state: Any,
        builders: Mapping[str, Callable[[], Any]] | None = None,
        heartbeat_interval: float = 0.5,
        await_decisions: bool = True,
        log_root: str | None = None,
    ) -> None:
        import ray

        self._options = actor_options(resources_per_worker)
        self._cls = ray.remote(_Worker)
        self._args = (
            ray.put(dumps_by_value((train_fn, dict(builders or {})))),
            metric,
            heartbeat_interval,
            DECISION_WAIT if await_decisions else 0.0,
            state,
            log_root,
        )
        self.actors = [self._spawn(slot) for slot in range(workers)]
        self.replacements = 0

    def _spawn(self, slot: int) -> Any:
        return self._cls.options(**self._options).remote(*self._args, slot)

    @property
    def size(self) -> int:
        return len(self.actors)

    def warm(self) -> None:
        """Wait until every worker is up and its builders have run."""
        import ray

        ray.get([actor.warm.remote() for actor in self.actors])

    def submit(self, slot: int, spec: TrialSpec) -> Any:
        return self.actors[slot].run.remote(spec)

    def replace(self, slot: int) -> None:
        import ray

        with contextlib.suppress(Exception):  # already dead is fine
            ray.kill(self.actors[slot], no_restart=True)
        self.actors[slot] = self._spawn(slot)
        self.replacements += 1

    def shutdown(self) -> None:
        import ray

        for actor in self.actors:
            with contextlib.suppress(Exception):  # already dead is fine
                ray.kill(actor, no_restart=True)


@dataclass
class RunStats:
    """What the driver loop measured."""

    wall_s: float  # from the moment every worker was ready to the end of the last trial
    busy_s: float  # sum over trials of their run time on a worker
    replacements: int
    started_at: float = 0.0  # epoch seconds when the loop started (every worker ready)

    def utilisation(self, workers: int) -> float:
        """Share of worker time spent running trials (busy / (workers x wall_s)); worker
        start-up is not in it, the drain at the end (fewer trials than workers) is."""
        return self.busy_s / (workers * self.wall_s) if self.wall_s > 0 else 0.0


# Called when a trial ends: (None, its outcome, counts of running / completed / stopped /
# failed trials); the first argument is kept for listeners that want the spec later.
Listener = Callable[[TrialSpec | None, TrialOutcome | None, dict[str, int]], None]


def run_trials(
    state: Any,
    pool: WorkerPool,
    *,
    batched: bool = False,
    listener: Listener | None = None,
    trial_timeout: float | None = None,
) -> RunStats:
    """Drive a search to its end: give every free worker the next trial the optimizer actor
    ``state`` asks for; tell it each outcome; replace a worker that died and re-run its trial
    (bounded by the state's ``max_retries``). ``batched=True`` is the synchronous baseline:
    fill every worker, then wait for the whole batch before asking again.

    The driver never blocks on the optimizer: a worker whose trial ended is handed the
    *reference* to the answer of ``tell_and_ask`` (one call tells the outcome and asks for
    the next trial), which Ray resolves on the way, so the next trial starts one hop after
    the previous one ended. Every completion ready at a wake-up is handled in one pass. A
    worker handed "no trial" returns None and its slot stays free until another trial ends
    (an optimizer may have new work then, e.g. an ASHA promotion). A trial still running
    ``trial_timeout`` seconds after it was handed out (a hung worker: alive, but stuck) has
    its worker killed; it is then replaced and the trial re-run like any worker death.
    """
    import ray
    from ray.exceptions import RayActorError

    start, started_at = time.perf_counter(), time.time()
    free: deque[int] = deque(range(pool.size))
    running: dict[Any, tuple[int, Any]] = {}  # run ref -> (slot, ref of its TrialSpec)
    counts = {"running": 0, "completed": 0, "stopped": 0, "failed": 0}
    busy = 0.0
    starved = False  # the last ask gave nothing: wait for a trial to end before asking again
    watch = _Watchdog(pool, running, trial_timeout)
    while True:
        if not starved and (not batched or not running):
            while free:
                slot = free.popleft()
                spec_ref = state.ask.remote(slot)
                running[pool.submit(slot, spec_ref)] = (slot, spec_ref)
        if not running:
            break
        ready, _ = ray.wait(list(running), num_returns=1, timeout=watch.next_timeout())
        if not ready:
            watch.kill_overdue()
            continue
        if len(running) > 1:  # everything else that is ready too, in one pass
            ready, _ = ray.wait(list(running), num_returns=len(running), timeout=0)
        for ref in ready:
            slot, spec_ref = running.pop(ref)
            try:
                outcome = _outcome(ref, spec_ref)
            except RayActorError as exc:
                reason = watch.reason(ref) or str(exc).splitlines()[0]
                counts["failed"] += _replace(reason, slot, spec_ref, state, pool, running, free)
                continue
            if outcome is None:
                free.append(slot)
                starved = True
                continue
            starved = False
            busy += outcome.ended_at - outcome.started_at
            counts[outcome.status.value] += 1
            if batched:  # the batch's outcomes are told; the next batch asks once all are in
                state.tell.remote(outcome.trial_id, outcome)
                free.append(slot)
            else:  # ordered before this driver's later asks
                next_ref = state.tell_and_ask.remote(outcome.trial_id, outcome, slot)
                running[pool.submit(slot, next_ref)] = (slot, next_ref)
            counts["running"] = len(running)
            if listener:
                listener(None, outcome, counts)
    return RunStats(time.perf_counter() - start, busy, pool.replacements, started_at)


class _Watchdog:
    """Kills the worker of a trial that runs past ``trial_timeout`` seconds (None: never)."""

    def __init__(
        self, pool: WorkerPool, running: dict[Any, tuple[int, Any]], timeout: float | None
    ) -> None:
        self.pool, self.running, self.timeout = pool, running, timeout
        self._since: dict[Any, float] = {}  # run ref -> when the driver first saw it running
        self._killed: dict[Any, str] = {}

    def next_timeout(self) -> float | None:
        """How long the driver may wait before a running trial is overdue."""
        if self.timeout is None:
            return None
        now = time.monotonic()
        for ref in self.running:
            self._since.setdefault(ref, now)
        for ref in [r for r in self._since if r not in self.running]:
            del self._since[ref]
        pending = [t for r, t in self._since.items() if r not in self._killed]
        return max(0.0, min(pending) + self.timeout - now) if pending else None

    def kill_overdue(self) -> None:
        import ray

        now = time.monotonic()
        for ref, since in self._since.items():
            if ref not in self._killed and now - since >= self.timeout:
                slot = self.running[ref][0]
                self._killed[ref] = (
                    f"the trial ran longer than trial_timeout={self.timeout:g} s; its worker "
                    "was killed"
                )
                with contextlib.suppress(Exception):  # already dead is fine
                    ray.kill(self.pool.actors[slot], no_restart=True)

    def reason(self, ref: Any) -> str | None:
        """Why the worker of ``ref`` died, when the watchdog killed it."""
        return self._killed.pop(ref, None)


def _outcome(ref: Any, spec_ref: Any) -> TrialOutcome | None:
    """The outcome of a finished run (None: the worker had nothing to run); an error of the
    worker code itself is deterministic, so it fails the trial."""
    import ray
    from ray.exceptions import RayTaskError

    try:
        return ray.get(ref)
    except RayTaskError as exc:
        now = time.time()
        spec = ray.get(spec_ref)
        return TrialOutcome(
            TrialStatus.FAILED, None, [], now, now, error=str(exc), trial_id=spec.id
        )


def _replace(
    reason: str,
    slot: int,
    spec_ref: Any,
    state: Any,
    pool: WorkerPool,
    running: dict[Any, tuple[int, Any]],
    free: deque[int],
) -> bool:
    """The worker in ``slot`` died: replace it and re-run its trial, or, when the trial has
    used its retries, leave the slot free. Returns whether the trial is now failed."""
    import ray

    pool.replace(slot)
    spec = ray.get(spec_ref)
    retry = None
    if spec is not None:
        retry = ray.get(state.retry.remote(spec.id, reason))
    if retry is not None:
        running[pool.submit(slot, retry)] = (slot, ray.put(retry))
        return False
    free.append(slot)
    return spec is not None


class _Worker(TrialWorker):
    """A :class:`TrialWorker` built from user code pickled by value."""

    def __init__(self, code: bytes, *args: Any) -> None:
        train_fn, builders = cloudpickle.loads(code)
        super().__init__(train_fn, builders, *args)


class _StateActor(SearchState):
    """A :class:`SearchState` built from arguments pickled by value (custom optimizers)."""

    def __init__(self, payload: bytes) -> None:
        super().__init__(**cloudpickle.loads(payload))


def start_state_actor(**kwargs: Any) -> Any:
    """The optimizer actor: a :class:`SearchState` living in its own process (no CPU held).

    Heartbeats are served on their own thread (the ``heartbeats`` concurrency group), so
    that ``ask``/``tell`` from the driver never wait behind a queue of them."""
    import ray

    actor = ray.remote(concurrency_groups={HEARTBEATS: 1})(_StateActor)
    actor = actor.options(num_cpus=0, max_restarts=0)
    return actor.remote(dumps_by_value(kwargs))
