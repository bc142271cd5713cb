"""Every optimizer through the contract suite, plus what each one promises on its own."""

from __future__ import annotations

import math

import pytest

from eo_ray.hpo import (
    ASHA,
    GP,
    TPE,
    GridSearch,
    Hyperband,
    Optimizer,
    RandomSearch,
    SearchConfigError,
    SearchSpace,
    TrialList,
    TrialStatus,
)
from eo_ray.hpo import testing as contract
from eo_ray.hpo._space import Double, Integer
from eo_ray.hpo.optimizers import OPTIMIZERS, make_optimizer


class FirstChoice(Optimizer):
    """A user's custom optimizer: always the lowest corner of the space."""

    def suggest(self, trial_id, history):
        return {name: p.grid(2)[0] for name, p in self.space.items()}


FACTORIES = {
    **OPTIMIZERS,
    "tpe-fast": lambda: TPE(n_startup_trials=3),
    "gp-fast": lambda: GP(n_startup_trials=3),
    "asha-small": lambda: ASHA(1, 9, 3),
    "custom": FirstChoice,
}


@pytest.fixture(params=sorted(FACTORIES), ids=sorted(FACTORIES))
def factory(request):
    return FACTORIES[request.param]


@pytest.mark.parametrize("check", contract.CHECKS, ids=lambda c: c.__name__)
def test_contract(factory, check):
    check(factory)


def test_contract_catches_a_broken_optimizer():
    class OutOfSpace(Optimizer):
        def suggest(self, trial_id, history):
            return {"lr": 5.0, "kernel": 2, "units": 32, "opt": "adam"}

    with pytest.raises(ValueError, match="outside"):
        contract.check_optimizer(OutOfSpace)


def test_make_optimizer_rejects_unknown_names():
    with pytest.raises(SearchConfigError, match="'optimizer' parameter of search must be one of"):
        make_optimizer("annealing")


def test_random_is_reproducible_per_trial_id():
    a = contract.state(RandomSearch, seed=1)
    b = contract.state(RandomSearch, seed=1)
    assert a.optimizer.suggest(5, a.history) == b.optimizer.suggest(5, b.history)
    assert a.optimizer.suggest(5, a.history) != a.optimizer.suggest(6, a.history)


def test_grid_enumerates_every_point_once_then_finishes():
    space = SearchSpace(k=Integer(1, 3), x=Double(0.0, 1.0))
    s = contract.SearchState(
        GridSearch(points=3),
        contract.NoStopping(),
        space,
        metric="m",
        mode="max",
        num_trials=100,
        seed=0,
    )
    seen = []
    while (spec := s.ask(0)) is not None:
        seen.append((spec.hparams["k"], spec.hparams["x"]))
        s.tell(spec.id, _done(spec))
    assert sorted(seen) == [(k, x) for k in (1, 2, 3) for x in (0.0, 0.5, 1.0)]
    assert s.ask(0) is None


def _done(spec):
    import time

    from eo_ray.hpo import TrialOutcome

    return TrialOutcome(
        TrialStatus.COMPLETED, float(spec.hparams["k"]), [], time.time(), time.time()
    )


def test_tpe_beats_random_on_the_synthetic_objective():
    def best(factory):
        s = contract.state(factory, num_trials=40, seed=0)
        contract.drive(s)
        return max(t.value for t in s.trials())

    assert best(lambda: TPE(n_startup_trials=8)) >= best(RandomSearch) - 0.02


def test_asha_promotes_the_top_third():
    opt = ASHA(min_budget=1, max_budget=9, eta=3)
    s = contract.state(lambda: opt, num_trials=100)
    specs = []
    for _ in range(3):  # three configurations at rung 0
        spec = s.ask(0)
        assert spec.hparams["budget"] == 1
        specs.append(spec)
    values = {specs[0].id: 0.2, specs[1].id: 0.9, specs[2].id: 0.5}
    for spec in specs:
        s.tell(spec.id, _valued(values[spec.id]))
    promoted = s.ask(0)  # the best of three goes to budget 3
    assert promoted.hparams["budget"] == 3
    assert {k: v for k, v in promoted.hparams.items() if k != "budget"} == {
        k: v for k, v in specs[1].hparams.items() if k != "budget"
    }
    assert s.ask(0).hparams["budget"] == 1  # no second promotion: a new configuration


def _valued(value):
    import time

    from eo_ray.hpo import TrialOutcome

    return TrialOutcome(TrialStatus.COMPLETED, value, [], time.time(), time.time())


def test_hyperband_brackets_start_at_staggered_budgets():
    opt = Hyperband(min_budget=1, max_budget=9, eta=3)
    assert [b.rungs[0] for b in opt.brackets] == [1, 3]
    s = contract.state(lambda: opt, num_trials=100)
    assert [s.ask(0).hparams["budget"] for _ in range(4)] == [1, 3, 1, 3]


def test_budget_key_clash_is_refused():
    space = SearchSpace(budget=Integer(1, 3))
    with pytest.raises(SearchConfigError, match="budget"):
        ASHA().bind(space, "max", 0)


def test_asha_rejects_bad_budgets():
    with pytest.raises(SearchConfigError, match="'min_budget' parameter of ASHA must be"):
        ASHA(min_budget=9, max_budget=3)


def test_trial_list_runs_the_given_trials_in_order():
    s = contract.SearchState(
        TrialList([{"a": 1}, {"a": 2}]),
        contract.NoStopping(),
        None,
        metric="m",
        mode="max",
        num_trials=5,
        seed=0,
    )
    first, second = s.ask(0), s.ask(1)
    assert (first.hparams, second.hparams) == ({"a": 1}, {"a": 2})
    assert s.ask(0) is None
    assert math.isfinite(contract.objective(contract.SPACE.sample(0)))
