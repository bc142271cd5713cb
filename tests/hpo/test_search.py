"""eo.hpo.search on a real Ray: the runtime, stopping, records, faults, resume, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import eo_ray as eo
from eo_ray import experiments
from eo_ray.hpo import (
    AllTrialsFailedError,
    MedianStoppingRule,
    SearchConfigError,
    SearchSpace,
    TrialList,
    TrialStatus,
)
from eo_ray.storage import workspace
from tests.hpo.hpo_fns import SPACE, curve, hangs_when_told, slow_logged

HERE = Path(__file__).resolve().parent


def _warm_builder():
    return "built-once"


def test_async_search_with_median_stopping(ray_session):
    result = eo.hpo.search(
        curve,
        SPACE,
        14,
        early_stopping=MedianStoppingRule(min_trials=3),
        metric="accuracy",
        workers=2,
        seed=11,
        name="curve-search",
        builders={"warm": _warm_builder},
        heartbeat_interval=0.0,
        progress=False,
    )
    assert len(result.trials) == 14
    assert all(t.status.finished for t in result.trials)
    assert result.count(TrialStatus.STOPPED) >= 1
    completed = [t for t in result.trials if t.status is TrialStatus.COMPLETED]
    best = max(t.value for t in result.trials if t.value is not None)
    assert result.best.value == best
    assert max(t.value for t in completed) == best  # the best was never stopped
    for t in result.trials:
        if t.status is TrialStatus.STOPPED:
            assert len(t.reports) < 5
            assert t.value == t.reports[-1].value
            assert "median" in t.stop_reason
    assert {t.worker for t in result.trials} == {0, 1}
    table = result.to_pandas()
    assert {"hp.x", "hp.k", "accuracy", "status", "early_stopped", "duration_s", "worker"} <= set(
        table.columns
    )
    record = experiments.get(result.experiment_id)
    assert record.status is experiments.RunStatus.COMPLETED
    assert record.kind == "hpo"
    assert record.params["space"] == SPACE.to_dict()
    assert len(record.trials()) == 14
    assert record.summary["best_value"] == best
    for uri in record.summary["plots"]:
        assert Path(uri).read_bytes()[:4] == b"\x89PNG"


def warm_pid(hparams, reporter):
    reporter.report(1.0)
    return {"accuracy": float(reporter.context["pid"] == os.getpid())}


def _pid():
    return os.getpid()


def test_workers_are_long_lived_and_keep_builders_warm(ray_session):
    result = eo.hpo.search(
        warm_pid,
        SPACE,
        8,
        workers=2,
        early_stopping=None,
        builders={"pid": _pid},
        progress=False,
        name="warm",
    )
    assert all(t.value == 1.0 for t in result.trials)  # built in the same process it runs in
    assert len({t.worker for t in result.trials}) == 2


def crash_once(hparams, reporter):
    marker = Path(workspace().root) / f"crashed-{hparams['i']}"
    reporter.report(0.1)
    if hparams["i"] == 1 and not marker.exists():
        marker.touch()
        os._exit(1)  # the worker process dies mid-trial
    return float(hparams["i"])


def crash_always(hparams, reporter):
    if hparams["i"] == 1:
        os._exit(1)
    return float(hparams["i"])


def test_a_killed_worker_is_replaced_and_its_trial_rerun(ray_session):
    trials = [{"i": i} for i in range(4)]
    result = eo.hpo.search(
        crash_once,
        None,
        4,
        optimizer=TrialList(trials),
        early_stopping=None,
        workers=2,
        progress=False,
        name="crash-once",
    )
    assert [t.status for t in result.trials] == [TrialStatus.COMPLETED] * 4
    assert [t.value for t in result.trials] == [0.0, 1.0, 2.0, 3.0]
    assert result.trials[1].attempts == 2
    assert result.worker_replacements == 1


def test_a_trial_that_always_kills_its_worker_is_failed_not_retried_forever(ray_session):
    trials = [{"i": i} for i in range(3)]
    result = eo.hpo.search(
        crash_always,
        None,
        3,
        optimizer=TrialList(trials),
        early_stopping=None,
        workers=2,
        max_retries=1,
        progress=False,
        name="crash-always",
    )
    statuses = [t.status for t in result.trials]
    assert statuses == [TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.COMPLETED]
    assert "died 2 times" in result.trials[1].error
    assert result.worker_replacements == 2


def raises_for_odd(hparams, reporter):
    if hparams["k"] % 2:
        raise ValueError(f"odd kernel {hparams['k']}")
    return hparams["x"]


def always_raises(hparams, reporter):
    raise RuntimeError("no GPU found")


def wrong_key(hparams, reporter):
    return {"acc": 0.5}


def test_a_raising_function_fails_its_trial_without_retry(ray_session):
    result = eo.hpo.search(
        raises_for_odd,
        SPACE,
        8,
        workers=2,
        seed=2,
        early_stopping=None,
        progress=False,
        name="odd",
    )
    for t in result.trials:
        assert t.status is (TrialStatus.FAILED if t.hparams["k"] % 2 else TrialStatus.COMPLETED)
        assert t.attempts == 1
    failed = [t for t in result.trials if t.status is TrialStatus.FAILED]
    assert "ValueError: odd kernel" in failed[0].error


@pytest.mark.parametrize(
    ("fn", "message"),
    [(always_raises, "RuntimeError: no GPU found"), (wrong_key, "without the metric 'accuracy'")],
)
def test_all_trials_failing_raises_one_clear_error(ray_session, fn, message):
    with pytest.raises(AllTrialsFailedError, match=message):
        eo.hpo.search(fn, SPACE, 2, workers=2, progress=False, name=f"fails-{fn.__name__}")
    record = experiments.list(name=f"fails-{fn.__name__}")[0]
    assert record.status is experiments.RunStatus.FAILED


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"space": {"x": [1, 2]}}, "SearchSpace"),
        ({"mode": "maximum"}, "'mode' parameter of search must be one of"),
        ({"num_trials": 0}, "'num_trials' parameter of search must be"),
        ({"workers": 0}, "'workers' parameter of search must be"),
        ({"optimizer": "annealing"}, "'optimizer' parameter of search must be one of"),
        ({"early_stopping": "mean"}, "'early_stopping' parameter of search must be one of"),
        ({"metric": ""}, "'metric' parameter of search must be"),
        ({"resources_per_worker": {"CPU": -1}}, "resources_per_worker"),
        ({"train_fn": "train.py"}, "'train_fn' parameter of search must be a function"),
    ],
)
def test_bad_arguments_fail_before_anything_runs(ray_session, kwargs, message):
    args = {"train_fn": curve, "space": SPACE, "num_trials": 2, **kwargs}
    before = len(experiments.list())
    with pytest.raises(SearchConfigError, match=message):
        eo.hpo.search(**args)
    assert len(experiments.list()) == before


def test_tpe_runs_in_the_optimizer_actor(ray_session):
    space = SearchSpace(x=SPACE["x"])
    result = eo.hpo.search(
        curve_k, space, 6, optimizer="tpe", workers=2, seed=1, progress=False, name="tpe"
    )
    assert result.count(TrialStatus.FAILED) == 0
    assert len(result.trials) == 6


def curve_k(hparams, reporter):
    return curve({**hparams, "k": 1}, reporter)


def test_resume_after_the_driver_is_killed(ray_session, session_home):
    name = "crash-resume"
    log = Path(workspace().root) / "runs.log"
    log.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "resume_driver.py"),
            ray_session.address,
            str(session_home),
            name,
        ],
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 90
    journaled = []
    while time.time() < deadline and proc.poll() is None:
        records = experiments.list(name=name)
        journaled = records[0].trials() if records else []
        if len(journaled) >= 3:
            break
        time.sleep(0.1)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    record = experiments.list(name=name)[0]
    assert record.status is experiments.RunStatus.RUNNING  # the driver died: never closed
    done_before = {t["trial_id"] for t in record.trials()}
    assert 3 <= len(done_before) < 10

    result = eo.hpo.search(
        slow_logged,
        SPACE,
        10,
        workers=2,
        seed=5,
        name=name,
        early_stopping=None,
        heartbeat_interval=0.0,
        progress=False,
        resume=True,
    )
    assert result.experiment_id == record.id
    assert sorted(t.id for t in result.trials) == list(range(10))
    assert all(t.status is TrialStatus.COMPLETED for t in result.trials)
    runs = [int(line) for line in log.read_text().split()]
    for trial_id in done_before:
        assert runs.count(trial_id) == 1  # finished trials were not redone
    assert experiments.get(record.id).status is experiments.RunStatus.COMPLETED


def test_a_hung_trial_is_killed_at_its_timeout_retried_then_failed(ray_session):
    trials = [{"x": 0.5, "hang": False}, {"x": 0.9, "hang": True}, {"x": 0.7, "hang": False}]
    result = eo.hpo.search(
        hangs_when_told,
        None,
        3,
        optimizer=TrialList(trials),
        early_stopping=None,
        metric="accuracy",
        workers=2,
        trial_timeout=2.0,
        max_retries=1,
        name="hung",
        progress=False,
        plots=False,
    )
    hung = result.trials[1]
    assert hung.status is TrialStatus.FAILED
    assert hung.attempts == 2
    assert "trial_timeout=2 s" in hung.error
    assert [t.status for t in (result.trials[0], result.trials[2])] == [TrialStatus.COMPLETED] * 2
    assert result.worker_replacements == 2
    assert result.best.value == 0.7


def test_a_bad_trial_timeout_is_refused():
    message = "'trial_timeout' parameter of search must be a number of seconds > 0"
    with pytest.raises(SearchConfigError, match=message):
        eo.hpo.search(curve, SPACE, 2, trial_timeout=0)
