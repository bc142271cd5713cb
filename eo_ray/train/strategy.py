"""The extension point of training: a strategy runs a training loop on N workers.

``eo.train.fit`` validates its arguments, builds a :class:`TrainJob` and hands it to the
strategy named by ``strategy=``. Implementations live in private modules
(``_allreduce``, ``parameter_server``); a new strategy is one subclass registered in
:data:`STRATEGIES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eo_ray.train.context import RunSpec


@dataclass
class TrainJob:
    """Everything a strategy needs to run one training run."""

    loop: Callable[..., Any]
    config: dict[str, Any]
    spec: RunSpec
    dataset: Any = None  # a ray.data.Dataset or None
    max_failures: int = 0
    cpus_per_worker: float = 1.0
    mode: str = "max"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class StrategyOutcome:
    """What a strategy hands back; ``fit`` turns it into a TrainResult and a run record."""

    history: list[dict[str, Any]]
    checkpoint: str | None = None
    best_checkpoint: str | None = None
    export_files: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class Strategy:
    """Base class: run ``job`` and return its outcome, raising TrainLoopError on failure."""

    name: str = ""
    frameworks: tuple[str, ...] = ("torch", "tensorflow")
    options: tuple[str, ...] = ()

    def validate(self, options: dict[str, Any]) -> dict[str, Any]:
        """Check the strategy's own options (``fit(**options)``); return them completed."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            from eo_ray.train.errors import TrainConfigError

            raise TrainConfigError(
                f"Unknown option(s) {unknown} for strategy {self.name!r}; "
                f"it accepts {sorted(self.options) or 'none'}."
            )
        return dict(options)

    def run(self, job: TrainJob) -> StrategyOutcome:
        raise NotImplementedError


def call_loop(loop: Callable[..., Any], config: dict[str, Any], data: Any, reporter: Any) -> Any:
    """Call a user loop as ``loop(config, data, reporter)`` or, with two parameters,
    ``loop(config, reporter)`` (the hyperparameter-search style)."""
    import inspect

    try:
        params = [
            p
            for p in inspect.signature(loop).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    if len(params) == 2:
        return loop(config, reporter)
    return loop(config, data, reporter)
