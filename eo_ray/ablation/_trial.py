"""What runs on a worker for one ablation trial: the user's function on the variant's data
and model (the HPO runtime's ``train_fn(hparams, reporter)`` contract, wrapped)."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eo_ray.ablation._data import without
from eo_ray.ablation.study import Component
from eo_ray.ablation.surgery import ablate

DATA_KEY = "_ablation_data"  # the worker builder holding the full study data (hidden from trials)
COLUMNS = "ablation_columns"  # recorded per trial: the columns the trial was given


@dataclass(frozen=True)
class Plan:
    """What a worker needs of the study (its data travels separately, as a builder)."""

    components: Mapping[str, Component]
    label: str | None
    builder: Callable[[], Any] | None
    example_input: Any = None
    has_data: bool = False


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and, when already imported, Keras/TensorFlow and torch."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


class AblationTrainFn:
    """Turns a trial's spec (component names, repeat, seed) into the hparams the user's
    function gets: ``data`` (a DataFrame without the ablated features, checked), ``features``,
    ``label``, ``build_model`` (builds the variant), ``seed``, ``component``, ``kind``."""

    def __init__(self, train_fn: Callable[[dict, Any], Any], plan: Plan, metric: str) -> None:
        self.train_fn = train_fn
        self.plan = plan
        self.metric = metric
        self.__name__ = getattr(train_fn, "__name__", "train_fn")

    def __call__(self, hparams: dict[str, Any], reporter: Any) -> Any:
        components = [self.plan.components[name] for name in hparams["ablated"]]
        seed_everything(int(hparams["seed"]))
        context = dict(reporter.context)
        extra: dict[str, Any] = {"build_model": self._model_builder(components)}
        columns: list[str] = []
        if self.plan.has_data:
            dropped = [f for c in components if c.kind == "feature" for f in c.members]
            data = without(context.pop(DATA_KEY), dropped)
            columns = [str(c) for c in data.columns]
            features = [c for c in columns if c != self.plan.label]
            extra.update(data=data, features=features, label=self.plan.label)
        reporter.context = context  # the full data is not reachable from the trial
        result = self.train_fn({**hparams, **extra}, reporter)
        if result is None:
            if reporter.last_value is None:
                return None  # the runtime reports the missing metric
            result = reporter.last_value
        if not isinstance(result, Mapping):
            result = {self.metric: result}
        return {**result, COLUMNS: columns}

    def _model_builder(self, components: list[Component]) -> Callable[[], Any] | None:
        custom = [c for c in components if c.kind == "custom"]
        if custom:
            return custom[0].builder
        surgery = [c for c in components if c.kind in ("layer", "layers", "module")]
        builder, example = self.plan.builder, self.plan.example_input
        if builder is None:
            return None

        def build() -> Any:
            model = builder()
            for component in surgery:
                model = ablate(model, component, example)
            return model

        return build
