"""Long-lived worker actors: warm once (imports, data, GPU context), then run trial after trial."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from eo_ray.hpo._reporter import Reporter, TrainFn, TrialOutcome, execute_trial
from eo_ray.hpo._trial import Report, TrialSpec, TrialStatus
from eo_ray.hpo.stopping import Decision

HEARTBEATS = "heartbeats"  # the optimizer actor's concurrency group for heartbeats
DECISION_WAIT = 0.01  # s a report waits for its heartbeat's answer (the optimizer takes ~1 ms)


class HeartbeatReporter(Reporter):
    """Sends reports to the optimizer actor in batches, at most every ``interval`` seconds
    and with at most one heartbeat in flight, so the optimizer's load grows with time, not
    with how often functions report.

    The answer to a heartbeat is awaited for up to ``decision_wait`` seconds (the optimizer
    answers in about a millisecond), so a stop usually takes effect at the report whose
    heartbeat decided it; a later answer is picked up, without blocking, at the next report.
    With ``decision_wait=0`` (a search whose rule never stops trials) reports never wait.
    """

    def __init__(
        self,
        state: Any,
        trial_id: int,
        interval: float,
        decision_wait: float = DECISION_WAIT,
        **kwargs: Any,
    ) -> None:
        super().__init__(trial_id=trial_id, **kwargs)
        self._state = state
        self._interval = interval
        self._decision_wait = decision_wait
        self._buffer: list[Report] = []
        self._pending: Any = None
        self._last_sent = -float("inf")
        self.heartbeats = 0

    def _answer(self, timeout: float) -> Decision | None:
        import ray

        ready, _ = ray.wait([self._pending], timeout=timeout)
        if not ready:
            return None
        self._pending = None
        return ray.get(ready[0])

    def _after_report(self, report: Report) -> Decision | None:
        self._buffer.append(report)
        if self._pending is not None:
            decision = self._answer(0)
            if decision is not None and decision.stop:
                return decision
        now = time.monotonic()
        if self._pending is None and now - self._last_sent >= self._interval:
            call = self._state.heartbeat.options(concurrency_group=HEARTBEATS)
            self._pending = call.remote(self.trial_id, self._buffer)
            self._buffer, self._last_sent = [], now
            self.heartbeats += 1
            if self._decision_wait > 0:
                return self._answer(self._decision_wait)
        return None


class TrialWorker:
    """One worker slot of a search (a Ray actor): runs the builders once, then trials.

    ``builders`` maps names to zero-argument callables (load the data, build a model
    factory); their results are kept for the worker's life and handed to every trial as
    ``reporter.context``.
    """

    def __init__(
        self,
        train_fn: TrainFn,
        builders: Mapping[str, Callable[[], Any]] | None,
        metric: str,
        heartbeat_interval: float,
        decision_wait: float,
        state: Any,
        log_root: str | None,
        slot: int,
    ) -> None:
        self.train_fn = train_fn
        self.builders = dict(builders or {})
        self.metric = metric
        self.heartbeat_interval = heartbeat_interval
        self.decision_wait = decision_wait
        self.state = state
        self.log_root = log_root
        self.slot = slot
        self._context: dict[str, Any] | None = None

    def _build(self) -> dict[str, Any]:
        if self._context is None:
            self._context = {name: build() for name, build in self.builders.items()}
        return self._context

    def warm(self) -> int:
        """Run the builders now (so the first trial does not pay for them); returns the pid."""
        import os

        self._build()
        return os.getpid()

    def run(self, spec: TrialSpec | None) -> TrialOutcome | None:
        """Run one trial; every way it ends is an outcome (the worker dying is the caller's).
        ``None`` (the optimizer had nothing to run) gives None back."""
        if spec is None:
            return None
        try:
            context = self._build()
        except Exception as exc:  # noqa: BLE001 - a broken builder fails the trial, not the pool
            now = time.time()
            return TrialOutcome(
                TrialStatus.FAILED,
                None,
                [],
                now,
                now,
                error=f"a builder failed: {exc!r}",
                trial_id=spec.id,
            )
        log_dir = f"{self.log_root}/trial_{spec.id}" if self.log_root else None
        reporter = HeartbeatReporter(
            self.state,
            spec.id,
            self.heartbeat_interval,
            decision_wait=self.decision_wait,
            context=context,
            log_dir=log_dir,
        )
        return execute_trial(self.train_fn, spec.hparams, reporter, self.metric)
