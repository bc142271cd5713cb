"""The median stopping rule on hand-computed cases (no Ray, no training)."""

from __future__ import annotations

import math

import pytest

from eo_ray.hpo import (
    Action,
    History,
    MedianStoppingRule,
    NoStopping,
    Report,
    SearchConfigError,
    TrialStatus,
    TrialView,
)


def trial(trial_id, values, status=TrialStatus.COMPLETED, steps=None):
    steps = steps or range(1, len(values) + 1)
    reports = tuple(Report(s, v, float(s)) for s, v in zip(steps, values, strict=True))
    value = values[-1] if status is not TrialStatus.RUNNING else None
    return TrialView(trial_id, {}, status, reports, value)


def history(*trials, mode="max"):
    return History({t.id: t for t in trials}, "acc", mode)


# Finished trials: running averages at step 2 are A 0.55, B 0.35, C 0.85 → median 0.55.
A = trial(0, [0.5, 0.6, 0.7])
B = trial(1, [0.3, 0.4, 0.5])
C = trial(2, [0.8, 0.9, 0.95])


def test_stops_when_best_is_below_the_median_of_running_averages():
    t = trial(3, [0.2, 0.45], TrialStatus.RUNNING)
    decision = MedianStoppingRule(min_trials=3).decide(t, history(A, B, C, t))
    assert decision.action is Action.STOP
    assert "0.45" in decision.reason
    assert "0.55" in decision.reason


def test_continues_when_best_equals_or_beats_the_median():
    # Best by step 2 is 0.55, equal to the median 0.55: not strictly worse, so it continues.
    t = trial(3, [0.55, 0.1], TrialStatus.RUNNING)
    assert MedianStoppingRule(min_trials=3).decide(t, history(A, B, C, t)).action is Action.CONTINUE


def test_uses_only_values_up_to_the_trials_step():
    # At step 1 the running averages are 0.5, 0.3, 0.8 → median 0.5; 0.45 < 0.5 stops,
    # although A's later values (0.6, 0.7) would give a higher median.
    t = trial(3, [0.45], TrialStatus.RUNNING)
    assert MedianStoppingRule(min_trials=3).decide(t, history(A, B, C, t)).stop
    t = trial(4, [0.51], TrialStatus.RUNNING)
    assert not MedianStoppingRule(min_trials=3).decide(t, history(A, B, C, t)).stop


def test_needs_min_trials_finished_with_reports_by_that_step():
    t = trial(3, [0.0, 0.0], TrialStatus.RUNNING)
    running = trial(5, [0.9, 0.9], TrialStatus.RUNNING)
    failed = trial(6, [0.9, 0.9], TrialStatus.FAILED)
    assert not MedianStoppingRule(min_trials=3).decide(t, history(A, B, running, failed, t)).stop
    late = trial(7, [0.9], steps=[5])  # finished, but no report at a step <= 2
    assert not MedianStoppingRule(min_trials=3).decide(t, history(A, B, late, t)).stop
    assert MedianStoppingRule(min_trials=2).decide(t, history(A, B, late, t)).stop


def test_stopped_trials_count_as_finished():
    stopped = trial(8, [0.1, 0.1], TrialStatus.STOPPED)
    # Averages at step 2: A 0.55, B 0.35, stopped 0.1 → median 0.35; 0.4 is not worse.
    t = trial(3, [0.4, 0.2], TrialStatus.RUNNING)
    assert not MedianStoppingRule(min_trials=3).decide(t, history(A, B, stopped, t)).stop


def test_minimisation_flips_the_comparison():
    a, b, c = trial(0, [1.0, 0.8]), trial(1, [2.0, 1.6]), trial(2, [0.6, 0.4])
    # Averages at step 2: 0.9, 1.8, 0.5 → median 0.9. Best (min) 1.0 > 0.9 stops; 0.85 not.
    t = trial(3, [1.2, 1.0], TrialStatus.RUNNING)
    assert MedianStoppingRule().decide(t, history(a, b, c, t, mode="min")).stop
    t = trial(4, [1.2, 0.85], TrialStatus.RUNNING)
    assert not MedianStoppingRule().decide(t, history(a, b, c, t, mode="min")).stop


def test_grace_and_interval():
    rule = MedianStoppingRule(min_trials=3, grace_reports=2, interval=2)
    bad = [0.0, 0.0, 0.0, 0.0, 0.0]
    h = lambda n: history(A, B, C, trial(3, bad[:n], TrialStatus.RUNNING))  # noqa: E731
    decisions = [rule.decide(h(n)[3], h(n)).stop for n in range(1, 6)]
    # Checked at the 2nd report (grace), then every 2nd: reports 2 and 4 only.
    assert decisions == [False, True, False, True, False]


def test_nan_values_are_ignored_and_all_nan_stops():
    t = trial(3, [math.nan, 0.9], TrialStatus.RUNNING)
    assert not MedianStoppingRule().decide(t, history(A, B, C, t)).stop
    t = trial(4, [math.nan], TrialStatus.RUNNING)
    assert MedianStoppingRule().decide(t, history(A, B, C, t)).stop


def test_no_stopping_never_stops():
    t = trial(3, [0.0, 0.0], TrialStatus.RUNNING)
    assert NoStopping().decide(t, history(A, B, C, t)).action is Action.CONTINUE


@pytest.mark.parametrize("kwargs", [{"min_trials": 0}, {"interval": 1.5}, {"grace_reports": True}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(SearchConfigError, match="must be an integer >= 1"):
        MedianStoppingRule(**kwargs)
