"""``eo.hpo.get`` and ``eo.hpo.list``: the searches recorded in the workspace."""

from __future__ import annotations

import builtins

from eo_ray.storage import Workspace
from eo_ray.tracking import ExperimentRecord, get_of_kind, list_of_kind

KIND = "hpo"


def get(experiment_id: str, *, ws: Workspace | str | None = None) -> ExperimentRecord:
    """The record of search ``experiment_id`` (``eo.hpo.get``, like every stage's ``get``)."""
    return get_of_kind(KIND, experiment_id, ws)


def list(*, ws: Workspace | str | None = None) -> builtins.list[ExperimentRecord]:
    """Every search recorded in the workspace, newest first (``eo.hpo.list``)."""
    return list_of_kind(KIND, ws)
