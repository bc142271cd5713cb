"""The ask/tell core of a search: pure Python, no Ray (the optimizer actor wraps it)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from eo_ray.hpo._reporter import TrialOutcome
from eo_ray.hpo._space import SearchSpace
from eo_ray.hpo._trial import History, Report, TrialSpec, TrialStatus, TrialView
from eo_ray.hpo.optimizers import Optimizer
from eo_ray.hpo.stopping import CONTINUE, Decision, StoppingRule

Journal = Callable[[TrialView], None]


class SearchState:
    """Owns a search: asks the optimizer for trials, feeds heartbeats to the stopping rule,
    tells results back and journals every finished trial.

    ``ask`` → :class:`TrialSpec` (or None: nothing to run now), ``heartbeat`` → a stopping
    :class:`Decision`, ``tell`` with the trial's outcome (``tell_and_ask`` does both in one
    call), ``retry`` when a worker died. Thread-safe: the optimizer actor serves heartbeats
    on their own thread, so that handing out trials never queues behind them.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        stopping: StoppingRule,
        space: SearchSpace,
        *,
        metric: str,
        mode: str,
        num_trials: int,
        seed: int,
        max_retries: int = 2,
        journal: Journal | None = None,
    ) -> None:
        self.optimizer = optimizer
        self.stopping = stopping
        self.num_trials = num_trials
        self.max_retries = max_retries
        self.journal = journal
        self._trials: dict[int, TrialView] = {}
        self.history = History(self._trials, metric, mode)
        self._stops: dict[int, Decision] = {}
        self._exhausted = False
        self._free_id = 0
        self._lock = threading.RLock()
        optimizer.bind(space, mode, seed)

    # -- resume ------------------------------------------------------------------------
    def restore(self, trials: Iterable[TrialView]) -> int:
        """Replay finished trials of a journal (the optimizer observes them); returns how many."""
        with self._lock:
            return self._restore(trials)

    def _restore(self, trials: Iterable[TrialView]) -> int:
        count = 0
        for view in sorted(trials, key=lambda t: t.id):
            if view.status.finished and view.id not in self._trials:
                self._trials[view.id] = view
                self.optimizer.observe(view)
                self.stopping.observe(view)
                count += 1
        return count

    # -- ask ---------------------------------------------------------------------------
    def _next_id(self) -> int:
        """The lowest unused trial id (a resumed search first fills the ids it lost)."""
        while self._free_id in self._trials:
            self._free_id += 1
        return self._free_id

    def ask(self, worker: int | None = None) -> TrialSpec | None:
        """The next trial to run on ``worker``, or None when there is none to run now."""
        with self._lock:
            return self._ask(worker)

    def tell_and_ask(
        self, trial_id: int, outcome: TrialOutcome, worker: int | None = None
    ) -> TrialSpec | None:
        """``tell`` the outcome of the trial that ``worker`` ran, then ``ask`` for its next."""
        with self._lock:
            self._tell(trial_id, outcome)
            return self._ask(worker)

    def _ask(self, worker: int | None) -> TrialSpec | None:
        if self._exhausted or len(self._trials) >= self.num_trials:
            return None
        if self.optimizer.finished(self.history):
            self._exhausted = True
            return None
        trial_id = self._next_id()
        hparams = self.optimizer.suggest(trial_id, self.history)
        if hparams is None:
            if not self.history.running:  # waiting on nothing: the optimizer is done
                self._exhausted = True
            return None
        self._trials[trial_id] = TrialView(
            trial_id, dict(hparams), TrialStatus.RUNNING, worker=worker, started_at=time.time()
        )
        return TrialSpec(trial_id, dict(hparams))

    # -- heartbeats --------------------------------------------------------------------
    def heartbeat(self, trial_id: int, reports: list[Report]) -> Decision:
        """Record reports of a running trial and decide whether it should stop."""
        with self._lock:
            return self._heartbeat(trial_id, reports)

    def _heartbeat(self, trial_id: int, reports: list[Report]) -> Decision:
        view = self._trials.get(trial_id)
        if view is None or view.status.finished:
            return CONTINUE
        if trial_id in self._stops:
            return self._stops[trial_id]
        view = self._trials[trial_id] = view.evolve(reports=view.reports + tuple(reports))
        decision = self.stopping.decide(view, self.history)
        if decision.stop:
            self._stops[trial_id] = decision
        return decision

    # -- tell --------------------------------------------------------------------------
    def tell(self, trial_id: int, outcome: TrialOutcome) -> TrialView:
        """The trial ended: record its outcome, let the optimizer learn, journal it."""
        with self._lock:
            return self._tell(trial_id, outcome)

    def _tell(self, trial_id: int, outcome: TrialOutcome) -> TrialView:
        view = self._trials[trial_id]
        value = outcome.value
        if value is not None and not math.isnan(value) and outcome.status.finished:
            value = float(value)
        view = self._trials[trial_id] = view.evolve(
            status=outcome.status,
            value=value,
            reports=tuple(outcome.reports),
            started_at=outcome.started_at,
            ended_at=outcome.ended_at,
            error=outcome.error,
            stop_reason=outcome.stop_reason,
            metrics=dict(outcome.metrics),
        )
        self._stops.pop(trial_id, None)
        self.optimizer.observe(view)
        self.stopping.observe(view)
        if self.journal is not None:
            self.journal(view)
        return view

    def retry(self, trial_id: int, error: str) -> TrialSpec | None:
        """The worker running ``trial_id`` died: the spec to run again, or None when the trial
        has used its retries (it is then marked failed)."""
        with self._lock:
            return self._retry(trial_id, error)

    def _retry(self, trial_id: int, error: str) -> TrialSpec | None:
        view = self._trials[trial_id]
        if view.attempts > self.max_retries:
            now = time.time()
            self._tell(
                trial_id,
                TrialOutcome(
                    status=TrialStatus.FAILED,
                    value=None,
                    reports=list(view.reports),
                    started_at=view.started_at or now,
                    ended_at=now,
                    error=f"the worker died {view.attempts} times running this trial; "
                    f"last error: {error}",
                ),
            )
            return None
        self._stops.pop(trial_id, None)
        self.stopping.forget(trial_id)
        self._trials[trial_id] = view.evolve(
            attempts=view.attempts + 1, reports=(), started_at=time.time()
        )
        return TrialSpec(trial_id, dict(view.hparams), attempt=view.attempts)

    # -- inspection --------------------------------------------------------------------
    def trials(self) -> list[TrialView]:
        """Every trial, by id."""
        with self._lock:
            return [self._trials[k] for k in sorted(self._trials)]

    def close(self) -> None:
        """Wait until the journal has written every finished trial."""
        close = getattr(self.journal, "close", None)
        if close is not None:
            close()

    def summary(self) -> dict[str, Any]:
        """Counts by status."""
        counts = {s.value: 0 for s in TrialStatus}
        with self._lock:
            for view in self._trials.values():
                counts[view.status.value] += 1
        return counts
