"""Which public function re-runs a record, by its kind or (old records) its entry point."""

from __future__ import annotations

import pytest

from eo_ray import experiments
from eo_ray.experiments._rerun import entry_for


def scaled(hparams, reporter):
    return hparams["x"] * 2


@pytest.mark.parametrize(
    ("kind", "entry_point", "target"),
    [
        ("hpo", "eo_ray.hpo:search", "eo_ray.hpo:search"),
        ("grid_search", None, "eo_ray.hpo:search"),
        ("ablation", "eo_ray.ablation._run:rerun_study", "eo_ray.ablation:run"),
        ("train", "eo_ray.train._record:rerun", "eo_ray.train:fit"),
        ("sweep", "eo_ray.hpo._search:rerun_search", "eo_ray.hpo:search"),
        ("sweep", "eo_ray.hpo:search", "eo_ray.hpo:search"),
        ("sweep", "my_pkg.runs:again", None),
    ],
)
def test_records_rerun_through_public_names(workspace_root, kind, entry_point, target):
    run = experiments.start("r", kind, fn=scaled, entry_point=entry_point)
    entry = entry_for(run.record())
    assert (entry.target if entry else None) == target
    if entry is not None:
        assert callable(entry.resolve())


def test_a_user_entry_point_is_called_with_the_record(workspace_root):
    run = experiments.start(
        "r", "custom", fn=scaled, entry_point=f"{__name__}:_again", call={"x": 4}
    )
    assert experiments.rerun(run.id, x=5) == (run.id, 10)


def _again(record, fn, call):
    return record.id, fn({"x": call["x"]}, None)


def test_a_record_without_entry_point_cannot_be_rerun(workspace_root):
    run = experiments.start("r", "custom", fn=scaled)
    with pytest.raises(experiments.RerunError, match="no entry point"):
        experiments.rerun(run.id)
