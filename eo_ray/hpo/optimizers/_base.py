"""The base class of optimizers: ask for hyperparameters, learn from finished trials."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from eo_ray.hpo._space import SearchSpace
from eo_ray.hpo._trial import History, TrialView


class Optimizer(ABC):
    """Suggests the hyperparameters of the next trial (the "ask" of ask/tell).

    The runtime calls :meth:`bind` once, then :meth:`suggest` whenever a worker is free,
    :meth:`observe` when a trial ends (completed, stopped early or failed), and stops asking
    when :meth:`finished` is true or the trial budget is spent. Optimizers see the search only
    through the read-only :class:`History`; they never run trials or talk to workers.
    """

    space: SearchSpace
    mode: str
    seed: int

    def bind(self, space: SearchSpace, mode: str, seed: int) -> None:
        """Attach the search space, the direction (``"max"``/``"min"``) and the search seed."""
        self.space, self.mode, self.seed = space, mode, seed

    @abstractmethod
    def suggest(self, trial_id: int, history: History) -> dict[str, Any] | None:
        """Hyperparameters for trial ``trial_id``, or None when there is nothing to run now
        (e.g. waiting for a rung to fill); trial ids count up from 0."""

    def observe(self, trial: TrialView) -> None:  # noqa: B027 - a no-op hook by design
        """Learn from a trial that ended (its status, value and reports are final)."""

    def finished(self, history: History) -> bool:
        """Whether the optimizer has nothing more to suggest (e.g. a grid is exhausted)."""
        return False
