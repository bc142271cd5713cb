"""The parts of a trial session that need no Ray: the journal and how a session's record ends."""

from __future__ import annotations

import pytest

from eo_ray import tracking
from eo_ray.ablation import AllTrialsFailedError as StudyTrialsFailed
from eo_ray.hpo import AllTrialsFailedError, TrialStatus, TrialView
from eo_ray.hpo._session import TrialJournal, finish, load_journal


def _view(trial_id: int, status: TrialStatus, error: str | None = None) -> TrialView:
    value = 0.5 if status is TrialStatus.COMPLETED else None
    return TrialView(trial_id, {"x": trial_id}, status, value=value, error=error)


def test_the_journal_writes_every_finished_trial_and_resume_reads_them_back(workspace_root):
    run = tracking.start("journal", "hpo")
    journal = TrialJournal(run)
    journal(_view(1, TrialStatus.COMPLETED))
    journal(_view(0, TrialStatus.FAILED, "boom"))
    journal.close()
    views = load_journal(run.record())
    assert [(v.id, v.status) for v in views] == [
        (0, TrialStatus.FAILED),
        (1, TrialStatus.COMPLETED),
    ]


def test_a_session_with_one_good_trial_completes(workspace_root):
    run = tracking.start("some-ok", "hpo")
    trials = (_view(0, TrialStatus.FAILED, "boom"), _view(1, TrialStatus.COMPLETED))
    finish(run, trials, {"best_value": 0.5}, what="'some-ok'")
    record = run.record()
    assert record.status is tracking.RunStatus.COMPLETED
    assert record.summary == {"best_value": 0.5}


def test_when_every_trial_fails_the_record_fails_and_the_first_error_is_quoted(workspace_root):
    run = tracking.start("all-bad", "ablation")
    trials = (
        _view(1, TrialStatus.FAILED, "Traceback...\nValueError: second"),
        _view(0, TrialStatus.FAILED, "Traceback...\nValueError: first"),
    )
    with pytest.raises(
        AllTrialsFailedError,
        match=r"All 2 trials of study 'all-bad' failed; trial 0 \(x=0\) failed with: "
        r"ValueError: first",
    ):
        finish(run, trials, {}, what="study 'all-bad'", label=lambda v: f" (x={v.hparams['x']})")
    assert run.record().status is tracking.RunStatus.FAILED
    assert StudyTrialsFailed is AllTrialsFailedError  # one error, two names
