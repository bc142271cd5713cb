"""Bayesian optimisation through Optuna's ask/tell: TPE and Gaussian processes."""

from __future__ import annotations

import contextvars
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eo_ray.hpo._space import Categorical, Discrete, Double, Integer, Parameter, SearchSpace
from eo_ray.hpo._trial import History, TrialStatus, TrialView
from eo_ray.hpo.optimizers._base import Optimizer

# Optuna logs one INFO line per study and per trial. Our in-memory studies are an
# implementation detail, so their INFO lines are dropped; the user's own studies and Optuna's
# global verbosity are left alone.
_OPTUNA_INFO_LOGGERS = ("optuna.storages._in_memory", "optuna.study.study", "optuna.study._tell")
_QUIET = contextvars.ContextVar("eo_ray_quiet_optuna", default=False)


class _DropOurInfo(logging.Filter):
    """Drops Optuna's INFO records emitted while eo-ray's optimizer is calling Optuna."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not _QUIET.get()


_FILTER = _DropOurInfo()


@contextmanager
def _quiet() -> Iterator[None]:
    for name in _OPTUNA_INFO_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)


def _distribution(param: Parameter) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if isinstance(param, Double):
        return FloatDistribution(param.low, param.high, log=param.log)
    if isinstance(param, Integer):
        return IntDistribution(int(param.low), int(param.high), log=param.log)
    if isinstance(param, Discrete):
        return CategoricalDistribution(list(param.values))
    if isinstance(param, Categorical):
        return CategoricalDistribution(list(param.choices))
    raise TypeError(f"Optuna optimizers do not support {type(param).__name__} parameters.")


def _intermediate_values(trial: TrialView) -> dict[int, float]:
    """The reports Optuna is told: the first value of each step, NaN values left out."""
    values: dict[int, float] = {}
    for report in trial.reports:
        if report.step not in values and not math.isnan(report.value):
            values[report.step] = report.value
    return values


class OptunaOptimizer(Optimizer):
    """Runs an Optuna sampler on an in-memory study; trials are asked and told one by one.

    Trials stopped early are told as pruned with their reported values, failed ones as
    failed, so the sampler learns from both. A resumed search adds the journal's trials with
    exactly the states and values a live search told.
    """

    def __init__(self, **sampler_kwargs: Any) -> None:
        self.sampler_kwargs = sampler_kwargs
        self._asked: dict[int, Any] = {}

    def make_sampler(self, seed: int) -> Any:
        """The Optuna sampler to use (subclasses choose)."""
        raise NotImplementedError

    def bind(self, space: SearchSpace, mode: str, seed: int) -> None:
        import optuna

        super().bind(space, mode, seed)
        self._distributions = {name: _distribution(p) for name, p in space.items()}
        with _quiet():
            self._study = optuna.create_study(
                direction="maximize" if mode == "max" else "minimize",
                sampler=self.make_sampler(seed),
            )

    def suggest(self, trial_id: int, history: History) -> dict[str, Any]:
        with _quiet():
            trial = self._study.ask(self._distributions)
        self._asked[trial_id] = trial
        return {name: trial.params[name] for name in self.space}

    def observe(self, trial: TrialView) -> None:
        asked = self._asked.pop(trial.id, None)
        with _quiet():
            if asked is None:  # a trial from a resumed journal: add it as history
                self._add(trial)
            else:
                self._tell(asked, trial)

    def _state(self, trial: TrialView) -> Any:
        from optuna.trial import TrialState

        if trial.status is TrialStatus.FAILED or trial.value is None or math.isnan(trial.value):
            return TrialState.FAIL
        if trial.status is TrialStatus.STOPPED:
            return TrialState.PRUNED
        return TrialState.COMPLETE

    def _tell(self, asked: Any, trial: TrialView) -> None:
        from optuna.trial import TrialState

        state = self._state(trial)
        if state is TrialState.PRUNED:
            for step, value in _intermediate_values(trial).items():
                asked.report(value, step)
        self._study.tell(asked, trial.value if state is TrialState.COMPLETE else None, state=state)

    def _add(self, trial: TrialView) -> None:
        from optuna.trial import TrialState, create_trial

        try:
            self.space.validate(trial.hparams)
        except ValueError:
            return
        state = self._state(trial)
        intermediate = _intermediate_values(trial) if state is TrialState.PRUNED else {}
        value = trial.value if state is TrialState.COMPLETE else None
        if state is TrialState.PRUNED and intermediate:
            # Optuna's tell records a pruned trial's last reported value as its value.
            value = intermediate[max(intermediate)]
        self._study.add_trial(
            create_trial(
                params={n: trial.hparams[n] for n in self.space},
                distributions=self._distributions,
                value=value,
                state=state,
                intermediate_values=intermediate,
            )
        )


class TPE(OptunaOptimizer):
    """Tree-structured Parzen estimator (Optuna's ``TPESampler``, constant liar for parallel
    trials); the first ``n_startup_trials`` are random."""

    def __init__(self, n_startup_trials: int = 10, **kwargs: Any) -> None:
        super().__init__(n_startup_trials=n_startup_trials, **kwargs)

    def make_sampler(self, seed: int) -> Any:
        from optuna.samplers import TPESampler

        return TPESampler(seed=seed, constant_liar=True, **self.sampler_kwargs)


class GP(OptunaOptimizer):
    """Gaussian-process Bayesian optimisation (Optuna's ``GPSampler``)."""

    def __init__(self, n_startup_trials: int = 10, **kwargs: Any) -> None:
        super().__init__(n_startup_trials=n_startup_trials, **kwargs)

    def make_sampler(self, seed: int) -> Any:
        from optuna.samplers import GPSampler

        return GPSampler(seed=seed, **self.sampler_kwargs)
