"""Bayesian optimisation through Optuna's ask/tell: TPE and Gaussian processes."""

from __future__ import annotations

import math
from typing import Any

from eo_ray.hpo._space import Categorical, Discrete, Double, Integer, Parameter, SearchSpace
from eo_ray.hpo._trial import History, TrialStatus, TrialView
from eo_ray.hpo.optimizers._base import Optimizer


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


class OptunaOptimizer(Optimizer):
    """Runs an Optuna sampler on an in-memory study; trials are asked and told one by one.

    Trials stopped early are told as pruned with their reported values, failed ones as
    failed, so the sampler learns from both.
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
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._distributions = {name: _distribution(p) for name, p in space.items()}
        self._study = optuna.create_study(
            direction="maximize" if mode == "max" else "minimize",
            sampler=self.make_sampler(seed),
        )

    def suggest(self, trial_id: int, history: History) -> dict[str, Any]:
        trial = self._study.ask(self._distributions)
        self._asked[trial_id] = trial
        return {name: trial.params[name] for name in self.space}

    def observe(self, trial: TrialView) -> None:
        from optuna.trial import TrialState, create_trial

        failed = trial.status is TrialStatus.FAILED or trial.value is None
        failed = failed or math.isnan(trial.value)
        asked = self._asked.pop(trial.id, None)
        if asked is None:  # a trial from a resumed journal: add it as history
            try:
                self.space.validate(trial.hparams)
            except ValueError:
                return
            self._study.add_trial(
                create_trial(
                    params={n: trial.hparams[n] for n in self.space},
                    distributions=self._distributions,
                    value=None if failed else trial.value,
                    state=TrialState.FAIL if failed else TrialState.COMPLETE,
                )
            )
            return
        if failed:
            self._study.tell(asked, state=TrialState.FAIL)
        elif trial.status is TrialStatus.STOPPED:
            seen = set()
            for report in trial.reports:
                if report.step not in seen and not math.isnan(report.value):
                    asked.report(report.value, report.step)
                    seen.add(report.step)
            self._study.tell(asked, state=TrialState.PRUNED)
        else:
            self._study.tell(asked, trial.value)


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
