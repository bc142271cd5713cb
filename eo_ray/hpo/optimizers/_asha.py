"""Asynchronous successive halving (ASHA) and asynchronous Hyperband.

Budgets (epochs, samples, ...) are passed to the function in ``hparams[budget_key]``. Rung
``k`` has budget ``min_budget * eta**k`` (capped at ``max_budget``). When a worker is free,
ASHA promotes a configuration from the highest rung where one is in the top ``1/eta`` of
that rung's results and not yet promoted; otherwise it starts a new random configuration
at rung 0 (Li et al., "A System for Massively Parallel Hyperparameter Tuning", 2020). A
promotion is a new trial that trains the configuration from scratch at the larger budget.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from eo_ray._params import invalid
from eo_ray.hpo._space import SearchSpace
from eo_ray.hpo._trial import History, TrialStatus, TrialView
from eo_ray.hpo.errors import SearchConfigError
from eo_ray.hpo.optimizers._base import Optimizer


def _key(hparams: dict[str, Any], budget_key: str) -> tuple:
    return tuple(sorted((k, v) for k, v in hparams.items() if k != budget_key))


class ASHA(Optimizer):
    """Asynchronous successive halving with the budget in ``hparams[budget_key]``."""

    def __init__(
        self,
        min_budget: float = 1,
        max_budget: float = 27,
        eta: int = 3,
        budget_key: str = "budget",
    ) -> None:
        if not 0 < min_budget < max_budget:
            expected = f"a number in (0, max_budget={max_budget!r})"
            raise invalid(SearchConfigError, "min_budget", "ASHA", expected, min_budget)
        if eta < 2:
            raise invalid(SearchConfigError, "eta", "ASHA", "a number >= 2", eta)
        self.min_budget, self.max_budget, self.eta, self.budget_key = (
            min_budget,
            max_budget,
            eta,
            budget_key,
        )
        integer = isinstance(min_budget, int) and isinstance(max_budget, int)
        count = math.floor(math.log(max_budget / min_budget, eta) + 1e-9) + 1
        self.rungs = [min_budget * eta**k for k in range(count)]
        self.rungs = [int(r) if integer else float(r) for r in self.rungs]
        self._rung_of: dict[int, int] = {}
        self._results: list[list[tuple[float, tuple, dict]]] = [[] for _ in self.rungs]
        self._promoted: list[set[tuple]] = [set() for _ in self.rungs]

    def bind(self, space: SearchSpace, mode: str, seed: int) -> None:
        if self.budget_key in space:
            raise SearchConfigError(
                f"The search space has a parameter {self.budget_key!r}, which the optimizer "
                "sets as the budget: rename it or pass another budget_key."
            )
        super().bind(space, mode, seed)

    def promotion(self, trial_id: int) -> dict[str, Any] | None:
        """A configuration to promote to the next rung, or None."""
        for k in reversed(range(len(self.rungs) - 1)):
            ranked = sorted(
                self._results[k],
                key=lambda r: -math.inf if math.isnan(r[0]) else r[0],
                reverse=self.mode == "max",
            )
            for value, key, hparams in ranked[: len(ranked) // self.eta]:
                if key not in self._promoted[k] and not math.isnan(value):
                    self._promoted[k].add(key)
                    self._rung_of[trial_id] = k + 1
                    return {**hparams, self.budget_key: self.rungs[k + 1]}
        return None

    def new_config(self, trial_id: int) -> dict[str, Any]:
        """A new random configuration at the lowest rung."""
        self._rung_of[trial_id] = 0
        point = self.space.sample(np.random.default_rng([self.seed, trial_id]))
        return {**point, self.budget_key: self.rungs[0]}

    def suggest(self, trial_id: int, history: History) -> dict[str, Any]:
        return self.promotion(trial_id) or self.new_config(trial_id)

    def rung_of_budget(self, budget: Any) -> int | None:
        """The rung whose budget is ``budget`` (None if none is)."""
        return next((k for k, r in enumerate(self.rungs) if math.isclose(r, budget)), None)

    def observe(self, trial: TrialView) -> None:
        k = self._rung_of.pop(trial.id, None)
        if k is None:  # replayed from a journal
            k = self.rung_of_budget(trial.hparams.get(self.budget_key, math.nan))
            if k is None:
                return
        key = _key(dict(trial.hparams), self.budget_key)
        if k > 0:
            self._promoted[k - 1].add(key)
        if trial.status is not TrialStatus.FAILED and trial.value is not None:
            hparams = {n: v for n, v in trial.hparams.items() if n != self.budget_key}
            self._results[k].append((trial.value, key, hparams))


class Hyperband(Optimizer):
    """Asynchronous Hyperband: ASHA brackets with staggered minimum budgets.

    Bracket ``s`` starts configurations at ``min_budget * eta**s``; new configurations go to
    the brackets in turn, and a free worker first takes a promotion from any bracket.
    """

    def __init__(
        self,
        min_budget: float = 1,
        max_budget: float = 27,
        eta: int = 3,
        budget_key: str = "budget",
    ) -> None:
        top = ASHA(min_budget, max_budget, eta, budget_key)
        self.budget_key = budget_key
        self.brackets = [top] + [
            ASHA(top.rungs[s], max_budget, eta, budget_key) for s in range(1, len(top.rungs) - 1)
        ]
        self._bracket_of: dict[int, ASHA] = {}
        self._turn = 0

    def bind(self, space: SearchSpace, mode: str, seed: int) -> None:
        super().bind(space, mode, seed)
        for bracket in self.brackets:
            bracket.bind(space, mode, seed)

    def suggest(self, trial_id: int, history: History) -> dict[str, Any]:
        for bracket in self.brackets:
            hparams = bracket.promotion(trial_id)
            if hparams is not None:
                self._bracket_of[trial_id] = bracket
                return hparams
        bracket = self.brackets[self._turn % len(self.brackets)]
        self._turn += 1
        self._bracket_of[trial_id] = bracket
        return bracket.new_config(trial_id)

    def observe(self, trial: TrialView) -> None:
        bracket = self._bracket_of.pop(trial.id, None)
        if bracket is None:  # replayed from a journal: the first bracket with that budget
            budget = trial.hparams.get(self.budget_key, math.nan)
            bracket = next((b for b in self.brackets if b.rung_of_budget(budget) is not None), None)
            if bracket is None:
                return
        bracket.observe(trial)
