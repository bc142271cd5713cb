"""Training functions shared by the Ray tests and the crash-and-resume driver subprocess."""

from __future__ import annotations

import os
import time
from pathlib import Path

from eo_ray.hpo import Action, Decision, Double, Integer, SearchSpace, StoppingRule
from eo_ray.storage import workspace

SPACE = SearchSpace(x=Double(0.0, 1.0), k=Integer(1, 4))


def curve(hparams, reporter):
    """Five reports rising to ``x``; returns a dict with the metric and the worker's pid."""
    for step in range(1, 6):
        time.sleep(0.03)
        reporter.report(hparams["x"] * step / 5, step=step)
    return {"accuracy": hparams["x"], "pid": os.getpid(), "warm": reporter.context.get("warm")}


def slow_logged(hparams, reporter):
    """Logs its trial id to ``<workspace>/runs.log``, then takes 0.4 s."""
    with open(Path(workspace().root) / "runs.log", "a") as log:
        log.write(f"{reporter.trial_id}\n")
    for step in range(1, 5):
        time.sleep(0.1)
        reporter.report(hparams["x"], step=step)
    return hparams["x"]


class StopAtStep3(StoppingRule):
    """Stops any trial once it reports step 3 (to test when a stop takes effect)."""

    def decide(self, trial, history):
        stop = trial.last_step is not None and trial.last_step >= 3
        return Decision(Action.STOP, "step 3") if stop else Decision(Action.CONTINUE)


def hangs_when_told(hparams, reporter):
    """Reports once, then hangs (alive but stuck) when ``hparams["hang"]``."""
    reporter.report(hparams["x"], step=1)
    if hparams["hang"]:
        time.sleep(3600)
    return hparams["x"]
