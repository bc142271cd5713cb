"""The ask/tell core without Ray: heartbeats, stop decisions, retries, journal, restore."""

from __future__ import annotations

import time

from eo_ray.hpo import (
    MedianStoppingRule,
    RandomSearch,
    Report,
    SearchState,
    TrialOutcome,
    TrialStatus,
)
from eo_ray.hpo.testing import SPACE


def make_state(**kwargs):
    defaults = {"metric": "acc", "mode": "max", "num_trials": 6, "seed": 1}
    defaults.update(kwargs)
    return SearchState(RandomSearch(), MedianStoppingRule(min_trials=2), SPACE, **defaults)


def done(value, reports=()):
    now = time.time()
    return TrialOutcome(TrialStatus.COMPLETED, value, list(reports), now, now)


def curve(*values):
    return [Report(i + 1, v, float(i)) for i, v in enumerate(values)]


def test_heartbeats_feed_the_stopping_rule_and_the_decision_sticks():
    journal = []
    state = make_state(journal=journal.append)
    for value in (0.8, 0.6):
        spec = state.ask(0)
        state.tell(spec.id, done(value, curve(value, value)))
    spec = state.ask(1)
    assert not state.heartbeat(spec.id, curve(0.9)).stop
    decision = state.heartbeat(spec.id, [Report(2, 0.1, 1.0)])
    assert not decision.stop  # best so far 0.9 beats the median 0.7
    bad = state.ask(0)
    assert state.heartbeat(bad.id, curve(0.1)).stop
    assert state.heartbeat(bad.id, [Report(2, 0.99, 1.0)]).stop  # a stop is final
    assert [v.id for v in journal] == [0, 1]
    assert state.summary()["running"] == 2


def test_retry_is_bounded_then_the_trial_fails():
    journal = []
    state = make_state(max_retries=1, journal=journal.append)
    spec = state.ask(0)
    again = state.retry(spec.id, "worker died")
    assert (again.id, again.hparams, again.attempt) == (spec.id, spec.hparams, 1)
    assert state.retry(spec.id, "worker died again") is None
    view = state.trials()[0]
    assert view.status is TrialStatus.FAILED
    assert "died 2 times" in view.error
    assert journal == [view]


def test_budget_and_restore():
    first = make_state(num_trials=3)
    for _ in range(3):
        spec = first.ask(0)
        first.tell(spec.id, done(0.5))
    assert first.ask(0) is None
    resumed = make_state(num_trials=5)
    assert resumed.restore(first.trials()) == 3
    specs = [resumed.ask(0), resumed.ask(0)]
    assert [s.id for s in specs] == [3, 4]
    assert resumed.ask(0) is None
    # Random search draws per (seed, trial id): a resumed search draws what the first would.
    assert specs[0].hparams == make_state(num_trials=5).optimizer.suggest(3, resumed.history)


def test_tell_and_ask_tells_first_then_hands_out_the_next_trial():
    journal = []
    state = make_state(num_trials=2, journal=journal.append)
    first = state.ask(0)
    second = state.tell_and_ask(first.id, done(0.7, curve(0.7)), 0)
    assert second.id == 1
    assert [v.id for v in journal] == [0]
    assert state.trials()[0].value == 0.7
    assert state.trials()[1].worker == 0
    assert state.tell_and_ask(second.id, done(0.2), 0) is None  # the budget is spent
    assert state.summary()["completed"] == 2


def test_a_running_trials_heartbeats_count_for_the_others():
    # Nothing has finished yet: two running trials that reported step 1 (0.9, 0.8) are the
    # reference for a third (min_trials 2): 0.5 is below their median 0.85 and stops.
    state = make_state()
    a, b, c = state.ask(0), state.ask(1), state.ask(2)
    assert not state.heartbeat(a.id, curve(0.9)).stop
    assert not state.heartbeat(b.id, curve(0.8)).stop
    decision = state.heartbeat(c.id, curve(0.5))
    assert decision.stop
    assert "median 0.85 of 2 other trials" in decision.reason
