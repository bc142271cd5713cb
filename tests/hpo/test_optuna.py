"""Optuna optimizers: what a resumed search tells Optuna, and Optuna's logging left alone."""

from __future__ import annotations

import logging
import math
import time

import optuna
import pytest

from eo_ray.hpo import GP, TPE, TrialOutcome, TrialStatus
from eo_ray.hpo import testing as contract
from eo_ray.hpo._trial import Report

STATUSES = (TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.FAILED, TrialStatus.STOPPED)


def _outcome(spec, status):
    """Reports with a repeated step and a NaN, so pruned trials' intermediate values matter."""
    value = contract.objective(spec.hparams)
    reports = [
        Report(1, value / 3, 0.01),
        Report(1, value / 2, 0.02),  # a repeated step: Optuna keeps the first
        Report(2, math.nan, 0.03),  # NaN is never told
        Report(3, value * 0.9, 0.04),
    ]
    if spec.id % 5 == 3:
        reports = []  # stopped before its first report
    failed = status is TrialStatus.FAILED
    result = None if failed or (status is TrialStatus.STOPPED and not reports) else value * 0.9
    now = time.time()
    return TrialOutcome(status, result, reports, now, now, "boom" if failed else None)


def _history(study):
    return [
        (t.state, t.params, t.value, t.intermediate_values, t.distributions)
        for t in study.get_trials(deepcopy=False)
    ]


@pytest.mark.parametrize(
    "factory", [lambda: TPE(n_startup_trials=3), lambda: GP(n_startup_trials=3)], ids=["tpe", "gp"]
)
def test_a_resumed_search_tells_optuna_the_history_a_live_one_told(factory):
    live = contract.state(factory, num_trials=10)
    while (spec := live.ask(0)) is not None:
        live.tell(spec.id, _outcome(spec, STATUSES[spec.id % len(STATUSES)]))
    resumed = contract.state(factory, num_trials=10)
    assert resumed.restore(live.trials()) == 10

    told = _history(live.optimizer._study)
    assert {state for state, *_ in told} == {
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
        optuna.trial.TrialState.FAIL,
    }
    assert _history(resumed.optimizer._study) == told


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_optuna_verbosity_is_left_alone_and_only_our_studies_are_quiet():
    before = optuna.logging.get_verbosity()
    records = _Records()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    logging.getLogger("optuna").addHandler(records)
    try:
        contract.drive(contract.state(lambda: TPE(n_startup_trials=2), num_trials=4))
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
        assert records.messages == []
        study = optuna.create_study()  # the user's own study still logs at the user's level
        study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=1)
        assert any("finished with value" in m for m in records.messages)
    finally:
        logging.getLogger("optuna").removeHandler(records)
        optuna.logging.set_verbosity(before)
