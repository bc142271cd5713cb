"""The training-function contract without Ray: reporter, return values, failures, stops."""

from __future__ import annotations

import numpy as np
import pytest

from eo_ray.hpo import (
    Action,
    Decision,
    Reporter,
    ReportError,
    TrialStatus,
    TrialStopped,
    execute_trial,
)


def curve(hparams, reporter):
    for step in range(1, 4):
        reporter.report(hparams["x"] * step, step=step, loss=1.0 / step)
    return {"accuracy": hparams["x"] * 3, "loss": 0.3}


def test_a_function_runs_alone_with_a_plain_reporter():
    reporter = Reporter()
    assert curve({"x": 0.2}, reporter)["accuracy"] == pytest.approx(0.6)
    assert [r.step for r in reporter.reports] == [1, 2, 3]
    assert reporter.reports[0].metrics == {"loss": 1.0}


def test_returned_dict_names_the_metric():
    out = execute_trial(curve, {"x": 0.1}, Reporter(), "accuracy")
    assert out.status is TrialStatus.COMPLETED
    assert out.value == pytest.approx(0.3)
    assert out.metrics["loss"] == 0.3
    assert len(out.reports) == 3


def test_float_numpy_and_none_returns():
    def returns(value):
        def fn(hparams, reporter):
            reporter.report(0.25)
            return value

        return fn

    assert execute_trial(returns(0.5), {}, Reporter(), "m").value == 0.5
    assert execute_trial(returns(np.float32(0.5)), {}, Reporter(), "m").value == 0.5
    assert execute_trial(returns(None), {}, Reporter(), "m").value == 0.25  # last report


def test_missing_metric_key_fails_with_the_keys_listed():
    out = execute_trial(curve, {"x": 0.1}, Reporter(), "f1")
    assert out.status is TrialStatus.FAILED
    assert "without the metric 'f1'" in out.error
    assert "accuracy" in out.error


def test_a_raising_function_fails_with_its_traceback():
    def broken(hparams, reporter):
        raise ZeroDivisionError("division by zero in layer 3")

    out = execute_trial(broken, {}, Reporter(), "m")
    assert out.status is TrialStatus.FAILED
    assert out.value is None
    assert "ZeroDivisionError: division by zero in layer 3" in out.error


def test_nothing_returned_nor_reported_fails():
    out = execute_trial(lambda h, r: None, {}, Reporter(), "m")
    assert out.status is TrialStatus.FAILED
    assert "returned None and reported nothing" in out.error


def test_non_numeric_reports_fail():
    out = execute_trial(lambda h, r: r.report("high"), {}, Reporter(), "m")
    assert out.status is TrialStatus.FAILED
    assert "must be a number" in out.error
    with pytest.raises(ReportError):
        Reporter().report(True)


class StopAtSecond(Reporter):
    def _after_report(self, report):
        return Decision(Action.STOP, "test says so") if len(self.reports) == 2 else None


def test_a_stop_is_raised_at_a_report_and_keeps_the_last_value():
    out = execute_trial(curve, {"x": 0.1}, StopAtSecond(), "accuracy")
    assert out.status is TrialStatus.STOPPED
    assert out.value == pytest.approx(0.2)
    assert out.stop_reason == "test says so"
    with pytest.raises(TrialStopped):
        curve({"x": 0.1}, StopAtSecond())
