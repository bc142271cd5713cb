"""The synchronous Experiment API (Hopsworks-style): trials in batches of N parallel tasks,
each batch waiting for its slowest trial, no early stopping. It runs on the same long-lived
Ray workers as ``eo.hpo.search`` so that the two are compared on equal terms."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Grid = Mapping[str, Sequence[Any]]


def _as_space(space: Any) -> Any:
    from eo_ray.hpo import Categorical, Discrete, SearchSpace

    if isinstance(space, SearchSpace) or not isinstance(space, Mapping):
        return space
    params = {}
    for name, values in space.items():
        values = (
            list(values) if isinstance(values, Sequence) and not isinstance(values, str) else values
        )
        numeric = isinstance(values, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        )
        params[name] = Discrete(values) if numeric else Categorical(values)
    return SearchSpace(params)


def grid_search(
    train_fn: Callable[[dict, Any], Any],
    space: Any,
    *,
    workers: int | None = None,
    metric: str = "accuracy",
    mode: str = "max",
    points: int = 5,
    name: str | None = None,
    **kwargs: Any,
) -> Any:
    """Every point of a grid (a SearchSpace with ``points`` per continuous range, or a dict
    of value lists), ``workers`` trials at a time, each batch waiting for its slowest."""
    from eo_ray.hpo import GridSearch, search

    return search(
        train_fn,
        _as_space(space),
        None,
        optimizer=GridSearch(points),
        early_stopping=None,
        metric=metric,
        mode=mode,
        workers=workers,
        name=name,
        batched=True,
        kind="grid_search",
        **kwargs,
    )


def random_search(
    train_fn: Callable[[dict, Any], Any],
    space: Any,
    num_trials: int,
    *,
    workers: int | None = None,
    metric: str = "accuracy",
    mode: str = "max",
    seed: int | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> Any:
    """``num_trials`` random points, ``workers`` at a time, each batch waiting for its slowest.

    With the same seed it draws the same points as ``eo.hpo.search(optimizer="random")``."""
    from eo_ray.hpo import search

    return search(
        train_fn,
        _as_space(space),
        num_trials,
        optimizer="random",
        early_stopping=None,
        metric=metric,
        mode=mode,
        workers=workers,
        seed=seed,
        name=name,
        batched=True,
        kind="random_search",
        **kwargs,
    )


def launch(
    train_fn: Callable[[dict, Any], Any],
    params: Mapping[str, Any] | None = None,
    *,
    metric: str = "accuracy",
    name: str | None = None,
    **kwargs: Any,
) -> Any:
    """Run ``train_fn(params, reporter)`` once on a Ray worker, recorded as an experiment.

    Returns the search result of that single trial (``result.best.value`` is its metric);
    a function that raises fails the launch with its error."""
    from eo_ray.hpo import TrialList, search

    return search(
        train_fn,
        None,
        1,
        optimizer=TrialList([dict(params or {})]),
        early_stopping=None,
        metric=metric,
        workers=1,
        name=name,
        kind="launch",
        **kwargs,
    )
