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


def decide(rule, t, *others, mode="max"):
    """What ``rule`` decides for ``t`` once the optimizer has heard of ``others`` (as the
    search state feeds it: every heartbeat and every end goes through ``observe``)."""
    for other in others:
        rule.observe(other)
    return rule.decide(t, history(*others, t, mode=mode))


# Finished trials: running averages at step 2 are A 0.55, B 0.35, C 0.85 → median 0.55.
A = trial(0, [0.5, 0.6, 0.7])
B = trial(1, [0.3, 0.4, 0.5])
C = trial(2, [0.8, 0.9, 0.95])


def test_stops_when_best_is_below_the_median_of_running_averages():
    t = trial(3, [0.2, 0.45], TrialStatus.RUNNING)
    decision = decide(MedianStoppingRule(min_trials=3), t, A, B, C)
    assert decision.action is Action.STOP
    assert "0.45" in decision.reason
    assert "0.55" in decision.reason


def test_continues_when_best_equals_or_beats_the_median():
    # Best by step 2 is 0.55, equal to the median 0.55: not strictly worse, so it continues.
    t = trial(3, [0.55, 0.1], TrialStatus.RUNNING)
    assert decide(MedianStoppingRule(min_trials=3), t, A, B, C).action is Action.CONTINUE


def test_uses_only_values_up_to_the_trials_step():
    # At step 1 the running averages are 0.5, 0.3, 0.8 → median 0.5; 0.45 < 0.5 stops,
    # although A's later values (0.6, 0.7) would give a higher median.
    t = trial(3, [0.45], TrialStatus.RUNNING)
    assert decide(MedianStoppingRule(min_trials=3), t, A, B, C).stop
    t = trial(4, [0.51], TrialStatus.RUNNING)
    assert not decide(MedianStoppingRule(min_trials=3), t, A, B, C).stop


def test_needs_min_trials_with_a_report_at_that_step():
    t = trial(3, [0.0, 0.0], TrialStatus.RUNNING)
    failed = trial(6, [0.9, 0.9], TrialStatus.FAILED)
    assert not decide(MedianStoppingRule(min_trials=3), t, A, B, failed).stop
    late = trial(7, [0.9], steps=[5])  # no report at step 2
    assert not decide(MedianStoppingRule(min_trials=3), t, A, B, late).stop
    assert decide(MedianStoppingRule(min_trials=2), t, A, B, late).stop


def test_running_trials_count_with_their_running_average_at_the_step():
    # Running R has reported steps 1-2 (0.9, 0.7 → average 0.8 at step 2). With A 0.55 and
    # B 0.35 the step-2 averages are 0.35, 0.55, 0.8 → median 0.55: 0.5 stops, 0.6 not.
    running = trial(5, [0.9, 0.7], TrialStatus.RUNNING)
    t = trial(3, [0.2, 0.5], TrialStatus.RUNNING)
    decision = decide(MedianStoppingRule(min_trials=3), t, A, B, running)
    assert decision.stop
    assert "median 0.55 of 3 other trials" in decision.reason
    t = trial(4, [0.6, 0.1], TrialStatus.RUNNING)
    assert not decide(MedianStoppingRule(min_trials=3), t, A, B, running).stop


def test_a_running_trial_counts_only_at_steps_it_has_reached():
    # R has reached step 1 only. At step 2 only A and B count (0.55, 0.35): too few for
    # min_trials 3; with min_trials 2 the median is 0.45 and 0.4 stops.
    running = trial(5, [0.9], TrialStatus.RUNNING)
    t = trial(3, [0.1, 0.4], TrialStatus.RUNNING)
    assert not decide(MedianStoppingRule(min_trials=3), t, A, B, running).stop
    assert decide(MedianStoppingRule(min_trials=2), t, A, B, running).stop
    # At step 1 R counts: 0.5, 0.3, 0.9 → median 0.5; 0.45 stops.
    t = trial(4, [0.45], TrialStatus.RUNNING)
    assert decide(MedianStoppingRule(min_trials=3), t, A, B, running).stop


def test_a_failed_or_rerun_trial_is_taken_out_of_the_index():
    rule = MedianStoppingRule(min_trials=3)
    high = trial(5, [0.9, 0.9], TrialStatus.RUNNING)
    for other in (A, B, high):
        rule.observe(other)
    assert rule.median_at(2) == (pytest.approx(0.55), 3)  # 0.35, 0.55, 0.9
    rule.observe(high.evolve(status=TrialStatus.FAILED))
    assert rule.median_at(2) is None  # two trials left at step 2
    rule.observe(C)
    assert rule.median_at(2) == (pytest.approx(0.55), 3)  # 0.35, 0.55, 0.85
    assert rule.median_at(2, excluding=C.id) is None
    rule.forget(C.id)  # its worker died: it is re-run from scratch
    assert rule.median_at(2) is None


def test_index_agrees_with_a_brute_force_median():
    import random
    import statistics

    rng = random.Random(4)
    rule = MedianStoppingRule(min_trials=1)
    trials = []
    for i in range(60):
        n = rng.randint(1, 6)
        status = rng.choice([TrialStatus.RUNNING, TrialStatus.COMPLETED, TrialStatus.FAILED])
        trials.append(trial(i, [round(rng.random(), 2) for _ in range(n)], status))
    for t in trials:
        rule.observe(t)
    for t in trials:
        if t.status is TrialStatus.FAILED:
            continue
        step = t.last_step
        others = [
            statistics.mean(o.values_up_to(step))
            for o in trials
            if o.id != t.id and o.status is not TrialStatus.FAILED and o.last_step >= step
        ]
        median, count = rule.median_at(step, excluding=t.id)
        assert count == len(others)
        assert median == pytest.approx(statistics.median(others))


def test_stopped_trials_count_as_finished():
    stopped = trial(8, [0.1, 0.1], TrialStatus.STOPPED)
    # Averages at step 2: A 0.55, B 0.35, stopped 0.1 → median 0.35; 0.4 is not worse.
    t = trial(3, [0.4, 0.2], TrialStatus.RUNNING)
    assert not decide(MedianStoppingRule(min_trials=3), t, A, B, stopped).stop


def test_minimisation_flips_the_comparison():
    a, b, c = trial(0, [1.0, 0.8]), trial(1, [2.0, 1.6]), trial(2, [0.6, 0.4])
    # Averages at step 2: 0.9, 1.8, 0.5 → median 0.9. Best (min) 1.0 > 0.9 stops; 0.85 not.
    t = trial(3, [1.2, 1.0], TrialStatus.RUNNING)
    assert decide(MedianStoppingRule(), t, a, b, c, mode="min").stop
    t = trial(4, [1.2, 0.85], TrialStatus.RUNNING)
    assert not decide(MedianStoppingRule(), t, a, b, c, mode="min").stop


def test_grace_and_interval():
    rule = MedianStoppingRule(min_trials=3, grace_reports=2, interval=2)
    others = [trial(10 + i, [v] * 5) for i, v in enumerate((0.4, 0.5, 0.6))]  # median 0.5
    for other in others:
        rule.observe(other)
    bad = [0.0, 0.0, 0.0, 0.0, 0.0]
    h = lambda n: history(*others, trial(3, bad[:n], TrialStatus.RUNNING))  # noqa: E731
    decisions = [rule.decide(h(n)[3], h(n)).stop for n in range(1, 6)]
    # Checked at the 2nd report (grace), then every 2nd: reports 2 and 4 only.
    assert decisions == [False, True, False, True, False]


def test_nan_values_are_ignored_and_all_nan_stops():
    t = trial(3, [math.nan, 0.9], TrialStatus.RUNNING)
    assert not decide(MedianStoppingRule(), t, A, B, C).stop
    t = trial(4, [math.nan], TrialStatus.RUNNING)
    assert decide(MedianStoppingRule(), t, A, B, C).stop


def test_no_stopping_never_stops():
    t = trial(3, [0.0, 0.0], TrialStatus.RUNNING)
    assert NoStopping().decide(t, history(A, B, C, t)).action is Action.CONTINUE


@pytest.mark.parametrize("kwargs", [{"min_trials": 0}, {"interval": 1.5}, {"grace_reports": True}])
def test_bad_settings_are_refused(kwargs):
    message = "parameter of MedianStoppingRule must be a positive int"
    with pytest.raises(SearchConfigError, match=message):
        MedianStoppingRule(**kwargs)


def test_min_finished_holds_the_rule_until_that_many_trials_have_finished():
    """The paper's warm-up: no stop before four trials are completed."""
    t = trial(4, [0.2, 0.45], TrialStatus.RUNNING)
    running = trial(5, [0.9, 0.9], TrialStatus.RUNNING)
    rule = MedianStoppingRule(min_trials=3, min_finished=4)
    assert not decide(rule, t, A, B, C, running).stop  # three finished: not yet
    D = trial(6, [0.6, 0.7, 0.8])
    assert decide(MedianStoppingRule(min_trials=3, min_finished=4), t, A, B, C, D).stop


def test_min_finished_must_be_a_non_negative_integer():
    match = r"The 'min_finished' parameter of MedianStoppingRule must be an int >= 0; got -1\."
    with pytest.raises(SearchConfigError, match=match):
        MedianStoppingRule(min_finished=-1)
