"""The median stopping rule (Golovin et al., "Google Vizier", 2017; Maggy's default)."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from eo_ray._params import positive_int
from eo_ray.hpo._trial import History, TrialStatus, TrialView
from eo_ray.hpo.errors import SearchConfigError
from eo_ray.hpo.stopping._base import CONTINUE, Action, Decision, StoppingRule


@dataclass
class _Curve:
    """What the rule has indexed of one trial: its running average at each reported step."""

    indexed: int = 0  # reports of the trial folded in so far
    total: float = 0.0
    count: int = 0
    last_step: int | None = None
    averages: dict[int, float] = field(default_factory=dict)  # step -> running average


class MedianStoppingRule(StoppingRule):
    """Stop a trial whose best value so far is worse than the median of the other trials'
    running averages at the same step.

    The exact rule, checked on the heartbeat that carries a running trial ``T``'s ``n``-th
    report, at step ``s``:

    1. It is checked only if ``n >= grace_reports``, at least ``interval`` reports have
       arrived since ``T`` was last checked (the first check is at ``n = grace_reports``),
       and at least ``min_finished`` trials of the search have finished (completed or
       stopped; Maggy's ``es_min`` warm-up: the Hopsworks paper's rule "comes into effect
       after the first four trials are completed", ``min_finished=4``; default 0).
    2. The reference trials are the *other* trials, running or finished (completed or
       stopped early; failed trials never count), that have reported at step ``s`` (as far
       as the optimizer has heard: a running trial counts from the heartbeat that carried its
       step-``s`` report). If there are fewer than ``min_trials`` of them, ``T`` continues.
    3. For each reference trial ``j``, ``avg_j`` is the mean of its values reported at
       steps ``<= s``; ``m`` is the median of the ``avg_j``.
    4. ``best_T`` is the best (max for ``mode="max"``, min for ``"min"``) of ``T``'s values
       at steps ``<= s``. ``T`` stops if ``best_T`` is strictly worse than ``m``.

    Steps are expected to increase within a trial (a repeated or earlier step is folded into
    the running average but not indexed again). NaN values are ignored in means and bests; a
    trial whose values are all NaN stops. The rule keeps, per step, the sorted running
    averages of the trials that reported there, so a check costs O(log n) plus an insertion,
    not a scan of every trial; the runtime feeds it through :meth:`observe`.
    """

    def __init__(
        self,
        min_trials: int = 3,
        grace_reports: int = 1,
        interval: int = 1,
        min_finished: int = 0,
    ) -> None:
        for name, value, least in (
            ("min_trials", min_trials, 1),
            ("grace_reports", grace_reports, 1),
            ("interval", interval, 1),
            ("min_finished", min_finished, 0),
        ):
            positive_int(
                value, name=name, owner="MedianStoppingRule", error=SearchConfigError, minimum=least
            )
        self.min_trials = min_trials
        self.grace_reports = grace_reports
        self.interval = interval
        self.min_finished = min_finished
        self._checked_at: dict[int, int] = {}
        self._curves: dict[int, _Curve] = {}
        self._by_step: dict[int, list[float]] = {}  # step -> sorted running averages

    # -- the index -----------------------------------------------------------------------
    def observe(self, trial: TrialView) -> None:
        if trial.status is TrialStatus.FAILED:
            self.forget(trial.id)
            return
        curve = self._curves.setdefault(trial.id, _Curve())
        if len(trial.reports) < curve.indexed:  # re-run from scratch (a worker died)
            self.forget(trial.id)
            curve = self._curves.setdefault(trial.id, _Curve())
        for report in trial.reports[curve.indexed :]:
            if not math.isnan(report.value):
                curve.total += report.value
                curve.count += 1
            if not curve.count or (curve.last_step is not None and report.step <= curve.last_step):
                continue
            average = curve.total / curve.count
            curve.averages[report.step] = average
            curve.last_step = report.step
            bisect.insort(self._by_step.setdefault(report.step, []), average)
        curve.indexed = len(trial.reports)

    def forget(self, trial_id: int) -> None:
        curve = self._curves.pop(trial_id, None)
        self._checked_at.pop(trial_id, None)
        for step, average in (curve.averages if curve else {}).items():
            column = self._by_step[step]
            del column[bisect.bisect_left(column, average)]

    def running_average(self, trial: TrialView, step: int) -> float | None:
        """Mean of ``trial``'s values at steps ``<= step`` (None if it has none)."""
        values = [v for v in trial.values_up_to(step) if not math.isnan(v)]
        return sum(values) / len(values) if values else None

    def median_at(self, step: int, excluding: int | None = None) -> tuple[float, int] | None:
        """The median of the running averages at ``step`` of the trials indexed so far, all
        but ``excluding``, and how many there are; None when fewer than ``min_trials``."""
        column = self._by_step.get(step, [])
        own = self._curves.get(excluding) if excluding is not None else None
        own_avg = own.averages.get(step) if own else None
        n = len(column) - (own_avg is not None)
        if n < max(self.min_trials, 1):
            return None
        skip = bisect.bisect_left(column, own_avg) if own_avg is not None else len(column)

        def at(i: int) -> float:  # the i-th of the column with ``trial_id``'s entry removed
            return column[i if i < skip else i + 1]

        return (at((n - 1) // 2) + at(n // 2)) / 2, n

    # -- the decision --------------------------------------------------------------------
    def decide(self, trial: TrialView, history: History) -> Decision:
        self.observe(trial)
        if self.min_finished and len(history.finished) < self.min_finished:
            return CONTINUE  # the warm-up: not checked, so the first check comes after it
        n = len(trial.reports)
        last = self._checked_at.get(trial.id)
        due = n >= self.grace_reports if last is None else n - last >= self.interval
        if not due or trial.last_step is None:
            return CONTINUE
        self._checked_at[trial.id] = n
        step = trial.last_step
        reference = self.median_at(step, excluding=trial.id)
        if reference is None:
            return CONTINUE
        median, count = reference
        values = [v for v in trial.values_up_to(step) if not math.isnan(v)]
        if not values:
            return Decision(Action.STOP, f"no valid value by step {step}")
        best = max(values) if history.mode == "max" else min(values)
        worse = best < median if history.mode == "max" else best > median
        if worse:
            return Decision(
                Action.STOP,
                f"best {best:.6g} by step {step} is worse than the median {median:.6g} "
                f"of {count} other trials' running averages at that step",
            )
        return CONTINUE
