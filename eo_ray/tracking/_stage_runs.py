"""``get`` and ``list`` of a stage whose runs are experiment records of one kind.

``eo.hpo.get(id)`` / ``eo.hpo.list()`` and ``eo.ablation.get(id)`` / ``eo.ablation.list()``
are the experiment records of their kind, so each stage offers the same two verbs as the
others while the records stay in one store (``eo.experiments``).
"""

from __future__ import annotations

from eo_ray.storage import Workspace
from eo_ray.tracking._records import ExperimentRecord, get, list_experiments
from eo_ray.tracking.errors import ExperimentNotFoundError


def get_of_kind(
    kind: str, experiment_id: str, ws: Workspace | str | None = None
) -> ExperimentRecord:
    """The record ``experiment_id``, which must be a run of ``kind``."""
    record = get(experiment_id, ws=ws)
    if record.kind != kind:
        raise ExperimentNotFoundError(
            f"Experiment {experiment_id!r} is a run of kind {record.kind!r}, not {kind!r}; "
            f"see `eo-ray {kind} list` for the recorded ids."
        )
    return record


def list_of_kind(kind: str, ws: Workspace | str | None = None) -> list[ExperimentRecord]:
    """Every run of ``kind`` in the workspace, newest first."""
    return list_experiments(kind=kind, ws=ws)
