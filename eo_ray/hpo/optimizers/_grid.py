"""Grid search: every combination of the space's grid values, in order."""

from __future__ import annotations

from typing import Any

from eo_ray.hpo._trial import History
from eo_ray.hpo.optimizers._base import Optimizer


class GridSearch(Optimizer):
    """Enumerates ``space.grid(points)``; continuous ranges get ``points`` values each.

    The next point is the first one no trial of the history has, so a resumed search
    continues the grid where it stopped.
    """

    def __init__(self, points: int = 5) -> None:
        self.points = points
        self._grid: list[dict[str, Any]] | None = None

    @property
    def grid(self) -> list[dict[str, Any]]:
        if self._grid is None:
            self._grid = self.space.grid(self.points)
        return self._grid

    def _next(self, history: History) -> dict[str, Any] | None:
        seen = {tuple(sorted(t.hparams.items())) for t in history}
        return next((p for p in self.grid if tuple(sorted(p.items())) not in seen), None)

    def suggest(self, trial_id: int, history: History) -> dict[str, Any] | None:
        return self._next(history)

    def finished(self, history: History) -> bool:
        return self._next(history) is None
