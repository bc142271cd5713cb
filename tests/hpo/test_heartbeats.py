"""Heartbeats on a real optimizer actor: batching at the interval, when a stop lands."""

from __future__ import annotations

import pytest

from eo_ray.hpo import NoStopping, TrialList, TrialStopped
from eo_ray.hpo._runtime import start_state_actor
from eo_ray.hpo._worker import HeartbeatReporter
from tests.hpo.hpo_fns import StopAtStep3


def state_actor(rule):
    return start_state_actor(
        optimizer=TrialList([{"x": 1}]),
        stopping=rule,
        space=None,
        metric="acc",
        mode="max",
        num_trials=1,
        seed=0,
    )


def reports_heard(state):
    import ray

    return len(ray.get(state.trials.remote())[0].reports)


def test_heartbeats_are_batched_at_the_interval(ray_session):
    import ray

    state = state_actor(NoStopping())
    spec = ray.get(state.ask.remote(0))
    reporter = HeartbeatReporter(state, spec.id, interval=3600.0)
    for step in range(1, 11):
        reporter.report(0.5, step=step)
    # The first report goes at once; the other nine wait for the interval (or the trial's
    # end, whose outcome carries every report).
    assert reporter.heartbeats == 1
    assert reports_heard(state) == 1
    assert len(reporter.reports) == 10
    ray.kill(state)


def test_every_report_is_a_heartbeat_at_interval_zero(ray_session):
    import ray

    state = state_actor(NoStopping())
    spec = ray.get(state.ask.remote(0))
    reporter = HeartbeatReporter(state, spec.id, interval=0.0, decision_wait=5.0)
    for step in range(1, 6):
        reporter.report(0.5, step=step)
    assert reporter.heartbeats == 5
    assert reports_heard(state) == 5
    ray.kill(state)


def test_a_stop_takes_effect_at_the_report_that_decided_it(ray_session):
    import ray

    state = state_actor(StopAtStep3())
    spec = ray.get(state.ask.remote(0))
    reporter = HeartbeatReporter(state, spec.id, interval=0.0, decision_wait=5.0)
    reporter.report(0.5, step=1)
    reporter.report(0.5, step=2)
    with pytest.raises(TrialStopped, match="step 3"):
        reporter.report(0.5, step=3)
    ray.kill(state)


def test_without_waiting_a_stop_lands_at_a_later_report(ray_session):
    # decision_wait=0 (what workers use when the rule can stop nothing) never blocks a
    # report; an answer that arrives later is still picked up at the next report.
    import time

    import ray

    state = state_actor(StopAtStep3())
    spec = ray.get(state.ask.remote(0))
    reporter = HeartbeatReporter(state, spec.id, interval=0.0, decision_wait=0.0)

    def report_until_stopped():
        for step in range(1, 1000):
            reporter.report(0.5, step=step)
            time.sleep(0.01)

    with pytest.raises(TrialStopped, match="step 3"):
        report_until_stopped()
    assert reporter.reports[-1].step > 3
    ray.kill(state)


def test_only_rules_that_can_stop_make_workers_wait():
    from eo_ray.hpo import MedianStoppingRule

    assert MedianStoppingRule().stops_trials
    assert StopAtStep3().stops_trials  # a custom rule is assumed to stop trials
    assert not NoStopping().stops_trials
