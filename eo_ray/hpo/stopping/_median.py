"""The median stopping rule (Golovin et al., "Google Vizier", 2017; Maggy's default)."""

from __future__ import annotations

import bisect
import math
import statistics

from eo_ray.hpo._trial import History, TrialView
from eo_ray.hpo.errors import SearchConfigError
from eo_ray.hpo.stopping._base import CONTINUE, Action, Decision, StoppingRule


class MedianStoppingRule(StoppingRule):
    """Stop a trial whose best value so far is worse than the median of the others' running
    averages at the same step.

    The exact rule, checked on the heartbeat that carries a running trial ``T``'s ``n``-th
    report, at step ``s``:

    1. It is checked only if ``n >= grace_reports`` and at least ``interval`` reports have
       arrived since ``T`` was last checked (the first check is at ``n = grace_reports``).
    2. The reference trials are the *finished* trials (completed or stopped early; failed
       trials never count) that reported at least once at a step ``<= s``. If there are
       fewer than ``min_trials`` of them, ``T`` continues.
    3. For each reference trial ``j``, ``avg_j`` is the mean of its values reported at
       steps ``<= s``; ``m`` is the median of the ``avg_j``.
    4. ``best_T`` is the best (max for ``mode="max"``, min for ``"min"``) of ``T``'s values
       at steps ``<= s``. ``T`` stops if ``best_T`` is strictly worse than ``m``.

    NaN values are ignored in means and bests; a trial whose values are all NaN stops.
    """

    def __init__(self, min_trials: int = 3, grace_reports: int = 1, interval: int = 1) -> None:
        for name, value in (
            ("min_trials", min_trials),
            ("grace_reports", grace_reports),
            ("interval", interval),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SearchConfigError(
                    f"MedianStoppingRule {name} must be an integer >= 1; got {value!r}."
                )
        self.min_trials = min_trials
        self.grace_reports = grace_reports
        self.interval = interval
        self._checked_at: dict[int, int] = {}
        # Finished trials are immutable: cache their (steps, running averages) once.
        self._curves: dict[int, tuple[list[int], list[float]]] = {}

    def _curve(self, trial: TrialView) -> tuple[list[int], list[float]]:
        curve = self._curves.get(trial.id)
        if curve is None:
            points = sorted((r.step, r.value) for r in trial.reports if not math.isnan(r.value))
            steps, averages, total = [], [], 0.0
            for i, (step, value) in enumerate(points, start=1):
                total += value
                if steps and steps[-1] == step:
                    averages[-1] = total / i
                else:
                    steps.append(step)
                    averages.append(total / i)
            curve = self._curves[trial.id] = (steps, averages)
        return curve

    def running_average(self, trial: TrialView, step: int) -> float | None:
        """Mean of ``trial``'s values at steps ``<= step`` (None if it has none)."""
        steps, averages = self._curve(trial)
        i = bisect.bisect_right(steps, step)
        return averages[i - 1] if i else None

    def decide(self, trial: TrialView, history: History) -> Decision:
        n = len(trial.reports)
        last = self._checked_at.get(trial.id)
        due = n >= self.grace_reports if last is None else n - last >= self.interval
        if not due or trial.last_step is None:
            return CONTINUE
        self._checked_at[trial.id] = n
        step = trial.last_step
        averages = []
        for other in history.finished:
            if other.id != trial.id:
                avg = self.running_average(other, step)
                if avg is not None:
                    averages.append(avg)
        if len(averages) < self.min_trials:
            return CONTINUE
        median = statistics.median(averages)
        values = [v for v in trial.values_up_to(step) if not math.isnan(v)]
        if not values:
            return Decision(Action.STOP, f"no valid value by step {step}")
        best = max(values) if history.mode == "max" else min(values)
        worse = best < median if history.mode == "max" else best > median
        if worse:
            return Decision(
                Action.STOP,
                f"best {best:.6g} by step {step} is worse than the median {median:.6g} "
                f"of {len(averages)} finished trials' running averages",
            )
        return CONTINUE
