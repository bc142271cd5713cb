"""Ablation policies: :class:`Ablator` (the base class) and :class:`LOCO` (the default)."""

from __future__ import annotations

from eo_ray._params import choices, invalid
from eo_ray.ablation.ablators._base import Ablator, Variant
from eo_ray.ablation.ablators._loco import LOCO
from eo_ray.ablation.errors import StudyError

_BY_NAME = {"loco": LOCO}


def make_ablator(ablator: str | Ablator) -> Ablator:
    """An ablator from its name (``"loco"``) or as given."""
    if isinstance(ablator, Ablator):
        return ablator
    if isinstance(ablator, str) and ablator.lower() in _BY_NAME:
        return _BY_NAME[ablator.lower()]()
    expected = f"one of {choices(_BY_NAME)} or an eo_ray.ablation.Ablator"
    raise invalid(StudyError, "ablator", "AblationStudy", expected, ablator)


__all__ = ["LOCO", "Ablator", "Variant", "make_ablator"]
