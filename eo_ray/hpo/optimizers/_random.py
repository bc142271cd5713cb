"""Random search: independent draws, reproducible per trial id."""

from __future__ import annotations

from typing import Any

import numpy as np

from eo_ray.hpo._trial import History
from eo_ray.hpo.optimizers._base import Optimizer


class RandomSearch(Optimizer):
    """Draws each trial's point from ``(seed, trial_id)``, so a resumed search draws the same."""

    def suggest(self, trial_id: int, history: History) -> dict[str, Any]:
        return self.space.sample(np.random.default_rng([self.seed, trial_id]))
