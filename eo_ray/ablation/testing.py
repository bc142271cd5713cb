"""A contract test for ablators: run any :class:`Ablator` (yours too) through it."""

from __future__ import annotations

from eo_ray.ablation.ablators import Ablator
from eo_ray.ablation.study import AblationStudy, Component


def check_ablator(ablator: Ablator, study: AblationStudy) -> None:
    """Raise AssertionError when ``ablator``'s plan for ``study`` breaks the contract: a list
    of tuples of the study's own components, the base ``()`` included, no variant twice."""
    variants = ablator.variants(study)
    assert isinstance(variants, list), f"variants() must return a list; got {type(variants)}"
    assert () in variants, "the plan must contain the base trial ()"
    known = {c.name: c for c in study.components}
    seen = set()
    for variant in variants:
        assert isinstance(variant, tuple), f"a variant must be a tuple; got {variant!r}"
        for component in variant:
            assert isinstance(component, Component), f"not a Component: {component!r}"
            assert known.get(component.name) == component, f"not in the study: {component.name}"
        names = tuple(sorted(c.name for c in variant))
        assert names not in seen, f"variant {names} is planned twice"
        seen.add(names)
    assert ablator.variants(study) == variants, "the plan must be deterministic"
