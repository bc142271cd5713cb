"""The contract every optimizer honours, as reusable checks (run them on your own optimizer).

    from eo_ray.hpo.testing import check_optimizer
    check_optimizer(lambda: MyOptimizer())

Each check drives a fresh optimizer through :class:`SearchState` (ask/tell, no Ray, no
training) on a small mixed space with a synthetic objective.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from eo_ray.hpo._reporter import TrialOutcome
from eo_ray.hpo._space import Categorical, Discrete, Double, Integer, SearchSpace
from eo_ray.hpo._state import SearchState
from eo_ray.hpo._trial import Report, TrialSpec, TrialStatus
from eo_ray.hpo.optimizers import Optimizer
from eo_ray.hpo.stopping import NoStopping

Factory = Callable[[], Optimizer]

SPACE = SearchSpace(
    lr=Double(1e-4, 1e-1, log=True),
    kernel=Integer(2, 8),
    units=Discrete([32, 64, 128]),
    opt=Categorical(["adam", "sgd"]),
)


def objective(hparams: dict) -> float:
    """A smooth synthetic score in [0, 1], best near lr=1e-2, kernel=5, units=64, adam."""
    score = 1.0 - abs(math.log10(hparams["lr"]) + 2) / 3
    score -= abs(hparams["kernel"] - 5) / 12 + (hparams["units"] != 64) * 0.05
    return score - (hparams["opt"] != "adam") * 0.05


def outcome(spec: TrialSpec, status: TrialStatus = TrialStatus.COMPLETED) -> TrialOutcome:
    """A synthetic outcome of ``spec`` with three reports."""
    value = objective(spec.hparams)
    budget = spec.hparams.get("budget", 3)
    reports = [Report(s, value * s / 3, 0.01 * s) for s in range(1, 4)]
    value = value * min(1.0, float(budget) / 27 + 0.5)
    now = time.time()
    failed = status is TrialStatus.FAILED
    return TrialOutcome(
        status, None if failed else value, reports, now, now, "boom" if failed else None
    )


def state(factory: Factory, num_trials: int = 12, seed: int = 7, mode: str = "max") -> SearchState:
    """A search state driving a fresh optimizer from ``factory``."""
    return SearchState(
        factory(), NoStopping(), SPACE, metric="score", mode=mode, num_trials=num_trials, seed=seed
    )


def drive(s: SearchState, statuses: tuple[TrialStatus, ...] = (TrialStatus.COMPLETED,)) -> list:
    """Ask and tell until the state has nothing more to ask; returns the specs run."""
    specs = []
    while True:
        spec = s.ask(0)
        if spec is None:
            return specs
        specs.append(spec)
        s.tell(spec.id, outcome(spec, statuses[len(specs) % len(statuses)]))


def check_suggestions_in_space(factory: Factory) -> None:
    """Every suggestion has each parameter of the space, with a value inside it."""
    for spec in drive(state(factory)):
        SPACE.validate(spec.hparams)


def check_seed_determinism(factory: Factory) -> None:
    """The same seed gives the same suggestions for the same results."""
    first = [dict(s.hparams) for s in drive(state(factory, seed=3))]
    again = [dict(s.hparams) for s in drive(state(factory, seed=3))]
    if first != again:
        raise AssertionError("the same seed gave different suggestions")


def check_observes_every_status(factory: Factory) -> None:
    """Completed, stopped and failed trials (and NaN values) are all accepted."""
    s = state(factory, num_trials=9)
    drive(s, (TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.FAILED))
    spec = s.ask(0)
    if spec is not None:
        nan = TrialOutcome(TrialStatus.COMPLETED, math.nan, [], time.time(), time.time())
        s.tell(spec.id, nan)


def check_budget_respected(factory: Factory) -> None:
    """The state never runs more trials than asked for; a finished optimizer stops asking."""
    s = state(factory, num_trials=5)
    specs = drive(s)
    if len(specs) > 5:
        raise AssertionError(f"ran {len(specs)} trials for a budget of 5")
    if len({spec.id for spec in specs}) != len(specs):
        raise AssertionError("trial ids repeat")


def check_minimisation(factory: Factory) -> None:
    """``mode='min'`` is accepted end to end."""
    drive(state(factory, num_trials=6, mode="min"))


def check_resume(factory: Factory) -> None:
    """A new optimizer replays a journal of finished trials, then goes on suggesting."""
    s = state(factory, num_trials=6)
    drive(s)
    resumed = state(factory, num_trials=10)
    resumed.restore(s.trials())
    drive(resumed)
    ids = [t.id for t in resumed.trials()]
    if ids[: len(s.trials())] != [t.id for t in s.trials()]:
        raise AssertionError("the resumed search lost journaled trials")


CHECKS = (
    check_suggestions_in_space,
    check_seed_determinism,
    check_observes_every_status,
    check_budget_respected,
    check_minimisation,
    check_resume,
)


def check_optimizer(factory: Factory) -> None:
    """Run every contract check on optimizers made by ``factory``."""
    for check in CHECKS:
        check(factory)
