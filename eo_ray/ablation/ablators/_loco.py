"""Leave One Component Out: the base plus one trial per component."""

from __future__ import annotations

from eo_ray.ablation.ablators._base import Ablator, Variant
from eo_ray.ablation.study import AblationStudy


class LOCO(Ablator):
    """The base model on all features, then each component left out alone (the default)."""

    def variants(self, study: AblationStudy) -> list[Variant]:
        return [(), *((component,) for component in study.components)]
