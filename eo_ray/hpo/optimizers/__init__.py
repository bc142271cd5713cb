"""Optimizers: the base class and the built-in implementations.

``Optimizer`` is the extension point (``suggest``, ``observe``, ``finished``); pass an
instance of a subclass as ``optimizer=`` to ``eo.hpo.search``, or one of the names in
:data:`OPTIMIZERS`. ``eo_ray.hpo.testing`` checks a custom optimizer against the contract.
"""

from __future__ import annotations

from collections.abc import Callable

from eo_ray._params import choices, invalid
from eo_ray.hpo.errors import SearchConfigError
from eo_ray.hpo.optimizers._asha import ASHA, Hyperband
from eo_ray.hpo.optimizers._base import Optimizer
from eo_ray.hpo.optimizers._fixed import TrialList
from eo_ray.hpo.optimizers._grid import GridSearch
from eo_ray.hpo.optimizers._optuna import GP, TPE, OptunaOptimizer
from eo_ray.hpo.optimizers._random import RandomSearch

OPTIMIZERS: dict[str, Callable[[], Optimizer]] = {
    "random": RandomSearch,
    "grid": GridSearch,
    "tpe": TPE,
    "gp": GP,
    "asha": ASHA,
    "hyperband": Hyperband,
}


def make_optimizer(optimizer: str | Optimizer) -> Optimizer:
    """An optimizer from a name in :data:`OPTIMIZERS` or an :class:`Optimizer` instance."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        return OPTIMIZERS[optimizer.lower()]()
    expected = f"one of {choices(OPTIMIZERS)} or an eo_ray.hpo.Optimizer instance"
    raise invalid(SearchConfigError, "optimizer", "search", expected, optimizer)


__all__ = [
    "ASHA",
    "GP",
    "OPTIMIZERS",
    "TPE",
    "GridSearch",
    "Hyperband",
    "Optimizer",
    "OptunaOptimizer",
    "RandomSearch",
    "TrialList",
    "make_optimizer",
]
