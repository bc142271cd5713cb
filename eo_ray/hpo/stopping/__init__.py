"""Early-stopping rules: the base class, the decision type and the built-in rules."""

from __future__ import annotations

from eo_ray._params import choices, invalid
from eo_ray.hpo.errors import SearchConfigError
from eo_ray.hpo.stopping._base import CONTINUE, Action, Decision, NoStopping, StoppingRule
from eo_ray.hpo.stopping._median import MedianStoppingRule

STOPPING_RULES = {"median": MedianStoppingRule, "none": NoStopping}


def make_stopping_rule(rule: str | StoppingRule | None) -> StoppingRule:
    """A rule from a name in :data:`STOPPING_RULES`, None (no stopping) or an instance."""
    if rule is None:
        return NoStopping()
    if isinstance(rule, StoppingRule):
        return rule
    if isinstance(rule, str) and rule.lower() in STOPPING_RULES:
        return STOPPING_RULES[rule.lower()]()
    expected = f"one of {choices(STOPPING_RULES)}, None or an eo_ray.hpo.StoppingRule instance"
    raise invalid(SearchConfigError, "early_stopping", "search", expected, rule)


__all__ = [
    "CONTINUE",
    "STOPPING_RULES",
    "Action",
    "Decision",
    "MedianStoppingRule",
    "NoStopping",
    "StoppingRule",
    "make_stopping_rule",
]
