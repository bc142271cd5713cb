"""Trials as plugins see them: specs, reports, read-only views and the history."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from types import MappingProxyType
from typing import Any


class TrialStatus(str, Enum):
    """Where a trial is in its life."""

    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"  # stopped early by the stopping rule; its last value is its result
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        """Whether the trial has ended (completed, stopped or failed)."""
        return self is not TrialStatus.RUNNING


@dataclass(frozen=True)
class TrialSpec:
    """One unit of work for a worker: run the function on ``hparams``."""

    id: int
    hparams: Mapping[str, Any]
    attempt: int = 0


@dataclass(frozen=True)
class Report:
    """One ``reporter.report(value, step, **metrics)`` call; ``time`` is seconds into the trial."""

    step: int
    value: float
    time: float
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialView:
    """A read-only snapshot of one trial: what optimizers and stopping rules may look at."""

    id: int
    hparams: Mapping[str, Any]
    status: TrialStatus
    reports: tuple[Report, ...] = ()
    value: float | None = None  # the trial's result (None while running or when failed)
    worker: int | None = None
    started_at: float | None = None  # wall-clock (epoch seconds) on the worker
    ended_at: float | None = None
    attempts: int = 1
    error: str | None = None
    stop_reason: str | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)  # what the function returned

    @property
    def last_step(self) -> int | None:
        """Step of the latest report (None before the first)."""
        return self.reports[-1].step if self.reports else None

    @property
    def duration_s(self) -> float | None:
        """Seconds the trial ran (None while running)."""
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    def values_up_to(self, step: int) -> list[float]:
        """Reported values at steps ≤ ``step``, in report order."""
        return [r.value for r in self.reports if r.step <= step]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the journal's and the experiment record's)."""
        data = asdict(self)
        data["status"] = self.status.value
        data["hparams"] = dict(self.hparams)
        data["metrics"] = dict(self.metrics)
        data["reports"] = [
            {"step": r.step, "value": r.value, "time": r.time, "metrics": dict(r.metrics)}
            for r in self.reports
        ]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialView:
        """The inverse of :meth:`to_dict`."""
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["status"] = TrialStatus(fields["status"])
        fields["reports"] = tuple(
            Report(r["step"], r["value"], r["time"], r.get("metrics", {}))
            for r in fields.get("reports", ())
        )
        return cls(**fields)

    def evolve(self, **changes: Any) -> TrialView:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


def better(a: float, b: float, mode: str) -> bool:
    """Whether value ``a`` is strictly better than ``b`` under ``mode`` (NaN is never better)."""
    if math.isnan(a):
        return False
    if math.isnan(b):
        return True
    return a > b if mode == "max" else a < b


class History:
    """A read-only view of every trial of a search, in the order they were asked."""

    def __init__(self, trials: dict[int, TrialView], metric: str, mode: str) -> None:
        self._trials = MappingProxyType(trials)  # read-only, not copied: views are frozen
        self.metric = metric
        self.mode = mode

    def __iter__(self) -> Iterator[TrialView]:
        return iter(self._trials.values())

    def __len__(self) -> int:
        return len(self._trials)

    def __getitem__(self, trial_id: int) -> TrialView:
        return self._trials[trial_id]

    def __contains__(self, trial_id: object) -> bool:
        return trial_id in self._trials

    def with_status(self, *statuses: TrialStatus) -> list[TrialView]:
        """The trials in any of ``statuses``."""
        return [t for t in self._trials.values() if t.status in statuses]

    @property
    def finished(self) -> list[TrialView]:
        """Trials that ended with a result (completed or stopped early; not failed)."""
        return self.with_status(TrialStatus.COMPLETED, TrialStatus.STOPPED)

    @property
    def running(self) -> list[TrialView]:
        """Trials still running."""
        return self.with_status(TrialStatus.RUNNING)

    def best(self) -> TrialView | None:
        """The finished trial with the best value, or None."""
        best = None
        for t in self.finished:
            if t.value is not None and (best is None or better(t.value, best.value, self.mode)):
                best = t
        return best
