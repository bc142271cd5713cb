"""Re-running a recorded experiment: same function, same parameters, same data reference."""

from __future__ import annotations

import importlib
from typing import Any

from eo_ray.experiments._records import get, load_call, load_function
from eo_ray.experiments.errors import RerunError


def rerun(experiment_id: str, **overrides: Any) -> Any:
    """Run the recorded experiment ``experiment_id`` again as a new record; returns its result.

    The function is the one pickled with the record (so edits made since do not leak in);
    the parameters, search space and dataset reference are the recorded ones, except for the
    keyword ``overrides`` given here (e.g. ``workers=4``). The record's ``entry_point`` (set by
    the stage that recorded it: launch, hpo, ablation, train) does the running.
    """
    record = get(experiment_id)
    if not record.entry_point:
        raise RerunError(
            f"Experiment {experiment_id} has no entry point recorded, so it cannot be re-run; "
            "only runs recorded by eo-ray stages can be."
        )
    module_name, _, attr = record.entry_point.partition(":")
    try:
        entry = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        raise RerunError(
            f"Experiment {experiment_id} was recorded by {record.entry_point}, which this "
            "installation of eo-ray does not have; install the version that recorded it."
        ) from None
    fn = load_function(record)
    call = {**load_call(record), **overrides}
    return entry(record, fn, call)
