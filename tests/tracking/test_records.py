"""Run records without Ray: create, log trials, finish, list, get, errors; and the same
names under ``eo.experiments``."""

from __future__ import annotations

import pytest

from eo_ray import experiments, tracking
from eo_ray.errors import InvalidNameError


def scored(hparams, reporter):
    return hparams["x"] * 2


def test_record_life_cycle(workspace_root):
    run = tracking.start("demo", "launch", fn=scored, params={"x": 3}, dataset={"fv": "a"})
    record = run.record()
    assert record.status is tracking.RunStatus.RUNNING
    assert record.function == f"{__name__}:scored"
    assert len(record.source_hash) == 64
    assert "ray" in record.packages
    assert record.params == {"x": 3}
    assert record.dataset == {"fv": "a"}
    assert record.git_commit is None or len(record.git_commit) == 40
    run.log_trial(1, params={"x": 3}, value=6.0, status="completed")
    run.log_trial(0, params={"x": 2}, value=4.0, status="completed")
    run.finish("completed", summary={"best": 6.0})
    got = tracking.get(run.id)
    assert got.status is tracking.RunStatus.COMPLETED
    assert got.summary == {"best": 6.0}
    assert got.duration_s is not None
    assert got.duration_s >= 0
    assert [t["trial_id"] for t in got.trials()] == [0, 1]
    fn = tracking.load_function(got)
    assert fn({"x": 5}, None) == 10
    assert [r.id for r in tracking.list_experiments(kind="launch")] == [run.id]
    assert tracking.list_experiments(kind="hpo") == []


def test_context_manager_marks_failure(workspace_root):
    with pytest.raises(RuntimeError), tracking.start("boom", "launch") as run:
        raise RuntimeError("broken")
    record = tracking.get(run.id)
    assert record.status is tracking.RunStatus.FAILED
    assert "broken" in record.summary["error"]


def test_bad_names_and_missing_ids(workspace_root):
    with pytest.raises(InvalidNameError):
        tracking.start("../escape", "launch")
    with pytest.raises(tracking.ExperimentNotFoundError, match="experiments list"):
        tracking.get("launch-nothing-here")


def test_unpicklable_function_is_refused(workspace_root):
    import threading

    lock = threading.Lock()

    def uses_lock(hparams, reporter):
        with lock:
            return 1.0

    with pytest.raises(tracking.ExperimentError, match="cannot be pickled"):
        tracking.start("locked", "launch", fn=uses_lock)
    assert tracking.list_experiments() == []


def test_experiments_offers_the_records_under_its_own_names(workspace_root):
    run = experiments.start("shared", "launch")
    assert experiments.get(run.id) == tracking.get(run.id)
    assert [r.id for r in experiments.list()] == [run.id]
    for name in ("ExperimentRecord", "Run", "RunStatus", "ExperimentError", "RerunError"):
        assert getattr(experiments, name) is getattr(tracking, name)
    from eo_ray.experiments.errors import ExperimentNotFoundError

    assert ExperimentNotFoundError is tracking.ExperimentNotFoundError
