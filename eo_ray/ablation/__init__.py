"""Ablation studies on Ray (AutoAblation): which features, layers and modules matter.

Define what to leave out, then train every variant in parallel on the HPO worker actors::

    study = eo.ablation.AblationStudy("titanic", data=df, label="survived")
    study.features.include("pclass", "sex", family=["sibsp", "parch"])
    study.model.set_base_model(build_model)
    study.model.layers.include("dense_2")
    result = eo.ablation.run(train_fn, study, repeats=5, metric="accuracy")
    result.ranking()          # component, kind, mean, std, diff to the base trial

LOCO (leave one component out) is the default policy; subclass :class:`Ablator` for others.
Model surgery (Keras Sequential/functional, torch) is in :mod:`eo_ray.ablation.surgery`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eo_ray import _lazy

if TYPE_CHECKING:
    from eo_ray.ablation._result import AblationResult
    from eo_ray.ablation._run import run
    from eo_ray.ablation._runs import get, list
    from eo_ray.ablation.ablators import LOCO, Ablator, Variant
    from eo_ray.ablation.errors import (
        AblationError,
        AllTrialsFailedError,
        DataLeakError,
        StudyError,
        SurgeryError,
    )
    from eo_ray.ablation.study import AblationStudy, Component

__getattr__, __dir__ = _lazy.attach(__name__, __file__)

__all__ = [
    "LOCO",
    "AblationError",
    "AblationResult",
    "AblationStudy",
    "Ablator",
    "AllTrialsFailedError",
    "Component",
    "DataLeakError",
    "StudyError",
    "SurgeryError",
    "Variant",
    "get",
    "list",
    "run",
]
