"""Re-running a recorded experiment: same function, same parameters, same data reference.

A record is re-run by its kind, through the public function of the stage that recorded it
(``hpo`` → ``eo_ray.hpo.search``); the stages are looked up by name when a run of theirs is
re-run, so that this module needs none of them loaded. Records written before the kind table
(they name a private module of their stage as ``entry_point``) are mapped onto it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from eo_ray.tracking import ExperimentRecord, RerunError, get, load_call, load_function


@dataclass(frozen=True)
class RerunEntry:
    """The public function that re-runs a kind of record: ``target(fn, **keywords, **call)``,
    ``keywords`` being the record's fields named in ``record_fields`` (e.g. its name)."""

    target: str  # "module:function"
    record_fields: tuple[str, ...] = ()

    def resolve(self) -> Any:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


SEARCH = RerunEntry("eo_ray.hpo:search", ("name", "kind"))
ABLATION = RerunEntry("eo_ray.ablation:run", ("name",))
TRAIN = RerunEntry("eo_ray.train:fit")

# The synchronous baseline (launch, grid_search, random_search) records the call of the search
# it runs, so all four kinds re-run through the search.
BY_KIND = {
    "hpo": SEARCH,
    "launch": SEARCH,
    "grid_search": SEARCH,
    "random_search": SEARCH,
    "ablation": ABLATION,
    "train": TRAIN,
}
BY_TARGET = {entry.target: entry for entry in BY_KIND.values()}
# What records written by earlier versions name as their entry point.
LEGACY = {
    "eo_ray.hpo._search:rerun_search": SEARCH,
    "eo_ray.ablation._run:rerun_study": ABLATION,
    "eo_ray.train._record:rerun": TRAIN,
}


def entry_for(record: ExperimentRecord) -> RerunEntry | None:
    """The public re-run entry of ``record`` (None: a user's own ``module:function``)."""
    if record.kind in BY_KIND:
        return BY_KIND[record.kind]
    point = record.entry_point or ""
    return BY_TARGET.get(point) or LEGACY.get(point)


def rerun(experiment_id: str, **overrides: Any) -> Any:
    """Run the recorded experiment ``experiment_id`` again as a new record; returns its result.

    The function is the one pickled with the record (so edits made since do not leak in);
    the parameters, search space and dataset reference are the recorded ones, except for the
    keyword ``overrides`` given here (e.g. ``workers=4``).
    """
    record = get(experiment_id)
    entry = entry_for(record)
    if entry is None and not record.entry_point:
        raise RerunError(
            f"Experiment {experiment_id} has no entry point recorded, so it cannot be re-run; "
            "only runs recorded by eo-ray stages can be."
        )
    target = entry.target if entry is not None else record.entry_point
    try:
        function = entry.resolve() if entry is not None else RerunEntry(target).resolve()
    except (ImportError, AttributeError):
        raise RerunError(
            f"Experiment {experiment_id} was recorded by {target}, which this "
            "installation of eo-ray does not have; install the version that recorded it."
        ) from None
    fn = load_function(record)
    call = {**load_call(record), **overrides}
    if entry is None:  # a user's own entry point
        return function(record, fn, call)
    if fn is None:
        raise RerunError(f"Experiment {experiment_id} recorded no function to re-run.")
    keywords = {field: getattr(record, field) for field in entry.record_fields}
    return function(fn, **{**keywords, **call})
