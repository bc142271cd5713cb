"""A fixed list of trials (used by ablation studies and by ``rerun`` of a trial set)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eo_ray.hpo._trial import History
from eo_ray.hpo.optimizers._base import Optimizer


class TrialList(Optimizer):
    """Suggests the given hyperparameter dicts in order, then is finished."""

    def __init__(self, trials: Sequence[Mapping[str, Any]]) -> None:
        self.trials = [dict(t) for t in trials]

    def suggest(self, trial_id: int, history: History) -> dict[str, Any] | None:
        return self.trials[trial_id] if trial_id < len(self.trials) else None

    def finished(self, history: History) -> bool:
        return len(history) >= len(self.trials)
