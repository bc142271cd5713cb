"""``eo.ablation.get`` and ``eo.ablation.list``: the ablation runs recorded in the workspace."""

from __future__ import annotations

import builtins

from eo_ray.storage import Workspace
from eo_ray.tracking import ExperimentRecord, get_of_kind, list_of_kind

KIND = "ablation"


def get(experiment_id: str, *, ws: Workspace | str | None = None) -> ExperimentRecord:
    """The record of ablation run ``experiment_id`` (``eo.ablation.get``, like every
    stage's ``get``)."""
    return get_of_kind(KIND, experiment_id, ws)


def list(*, ws: Workspace | str | None = None) -> builtins.list[ExperimentRecord]:
    """Every ablation run recorded in the workspace, newest first (``eo.ablation.list``)."""
    return list_of_kind(KIND, ws)
