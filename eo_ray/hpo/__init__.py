"""Asynchronous hyperparameter search on Ray.

An optimizer actor owns the search (ask/tell over an :class:`Optimizer`); long-lived worker
actors run trial after trial and send heartbeats; a :class:`StoppingRule` (the median rule
by default) stops poor trials at their next report. Training functions look like
``train_fn(hparams: dict, reporter) -> float | dict`` and report with
``reporter.report(value, step=...)``::

    from eo_ray.hpo import SearchSpace, Double, Integer
    result = eo.hpo.search(train_fn, SearchSpace(lr=Double(1e-4, 1e-1, log=True),
                           kernel=Integer(2, 8)), num_trials=32, metric="accuracy")
    result.best, result.to_pandas(), result.plot()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eo_ray import _lazy

if TYPE_CHECKING:
    from eo_ray.hpo._reporter import Reporter, TrialOutcome, TrialStopped, execute_trial
    from eo_ray.hpo._result import SearchResult
    from eo_ray.hpo._runs import get, list
    from eo_ray.hpo._search import search
    from eo_ray.hpo._space import Categorical, Discrete, Double, Integer, Parameter, SearchSpace
    from eo_ray.hpo._state import SearchState
    from eo_ray.hpo._trial import History, Report, TrialSpec, TrialStatus, TrialView
    from eo_ray.hpo.errors import (
        AllTrialsFailedError,
        HpoError,
        ReportError,
        SearchConfigError,
        SearchSpaceError,
    )
    from eo_ray.hpo.optimizers import (
        ASHA,
        GP,
        TPE,
        GridSearch,
        Hyperband,
        Optimizer,
        RandomSearch,
        TrialList,
    )
    from eo_ray.hpo.stopping import Action, Decision, MedianStoppingRule, NoStopping, StoppingRule

__getattr__, __dir__ = _lazy.attach(__name__, __file__)

__all__ = [
    "ASHA",
    "GP",
    "TPE",
    "Action",
    "AllTrialsFailedError",
    "Categorical",
    "Decision",
    "Discrete",
    "Double",
    "GridSearch",
    "History",
    "HpoError",
    "Hyperband",
    "Integer",
    "MedianStoppingRule",
    "NoStopping",
    "Optimizer",
    "Parameter",
    "RandomSearch",
    "Report",
    "ReportError",
    "Reporter",
    "SearchConfigError",
    "SearchResult",
    "SearchSpace",
    "SearchSpaceError",
    "SearchState",
    "StoppingRule",
    "TrialList",
    "TrialOutcome",
    "TrialSpec",
    "TrialStatus",
    "TrialStopped",
    "TrialView",
    "execute_trial",
    "get",
    "list",
    "search",
]
