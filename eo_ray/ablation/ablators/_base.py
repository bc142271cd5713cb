"""The base class of ablators: which variants of the study to train."""

from __future__ import annotations

from abc import ABC, abstractmethod

from eo_ray.ablation.study import AblationStudy, Component

Variant = tuple[Component, ...]  # the components one trial leaves out; () is the base trial


class Ablator(ABC):
    """Decides the variants a study trains (the policy); the runtime trains each one
    ``repeats`` times with different seeds and ranks them against the base (the empty
    variant, which every plan must contain). Ablators never run trials."""

    @abstractmethod
    def variants(self, study: AblationStudy) -> list[Variant]:
        """The variants to train, the base ``()`` among them."""
