"""Experiment records without Ray: create, log trials, finish, list, get, errors."""

from __future__ import annotations

import pytest

from eo_ray import experiments
from eo_ray.errors import InvalidNameError


def scored(hparams, reporter):
    return hparams["x"] * 2


def test_record_life_cycle(workspace_root):
    run = experiments.start("demo", "launch", fn=scored, params={"x": 3}, dataset={"fv": "a"})
    record = run.record()
    assert record.status is experiments.RunStatus.RUNNING
    assert record.function == f"{__name__}:scored"
    assert len(record.source_hash) == 64
    assert "ray" in record.packages
    assert record.params == {"x": 3}
    assert record.dataset == {"fv": "a"}
    assert record.git_commit is None or len(record.git_commit) == 40
    run.log_trial(1, params={"x": 3}, value=6.0, status="completed")
    run.log_trial(0, params={"x": 2}, value=4.0, status="completed")
    run.finish("completed", summary={"best": 6.0})
    got = experiments.get(run.id)
    assert got.status is experiments.RunStatus.COMPLETED
    assert got.summary == {"best": 6.0}
    assert got.duration_s is not None
    assert got.duration_s >= 0
    assert [t["trial_id"] for t in got.trials()] == [0, 1]
    fn = experiments.load_function(got)
    assert fn({"x": 5}, None) == 10
    assert [r.id for r in experiments.list(kind="launch")] == [run.id]
    assert experiments.list(kind="hpo") == []


def test_context_manager_marks_failure(workspace_root):
    with pytest.raises(RuntimeError), experiments.start("boom", "launch") as run:
        raise RuntimeError("broken")
    record = experiments.get(run.id)
    assert record.status is experiments.RunStatus.FAILED
    assert "broken" in record.summary["error"]


def test_bad_names_and_missing_ids(workspace_root):
    with pytest.raises(InvalidNameError):
        experiments.start("../escape", "launch")
    with pytest.raises(experiments.ExperimentNotFoundError, match="experiments list"):
        experiments.get("launch-nothing-here")


def test_unpicklable_function_is_refused(workspace_root):
    import threading

    lock = threading.Lock()

    def uses_lock(hparams, reporter):
        with lock:
            return 1.0

    with pytest.raises(experiments.ExperimentError, match="cannot be pickled"):
        experiments.start("locked", "launch", fn=uses_lock)
    assert experiments.list() == []
