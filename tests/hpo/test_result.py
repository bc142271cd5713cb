"""The search result without Ray: best trial, table, summary, plots."""

from __future__ import annotations

import math
from pathlib import Path

from eo_ray.hpo import Report, SearchResult, TrialStatus, TrialView


def view(trial_id, values, status, value=None):
    reports = tuple(Report(i + 1, v, 0.1 * (i + 1)) for i, v in enumerate(values))
    value = values[-1] if value is None and values and status is not TrialStatus.FAILED else value
    return TrialView(trial_id, {"x": trial_id}, status, reports, value, 0, 100.0, 101.0 + trial_id)


TRIALS = (
    view(0, [0.2, 0.5], TrialStatus.COMPLETED),
    view(1, [0.1], TrialStatus.STOPPED),
    view(2, [0.3, 0.7], TrialStatus.COMPLETED),
    view(3, [], TrialStatus.FAILED),
    view(4, [math.nan], TrialStatus.COMPLETED),
)


def test_best_ignores_failed_and_nan_trials():
    result = SearchResult("id", "acc", "max", TRIALS, 3.0, 2, 0.9)
    assert result.best.id == 2
    assert SearchResult("id", "acc", "min", TRIALS, 3.0, 2, 0.9).best.id == 1
    assert result.count("stopped") == 1
    summary = result.summary()
    assert (summary["completed"], summary["failed"], summary["best_value"]) == (3, 1, 0.7)


def test_table_has_a_row_per_trial():
    table = SearchResult("id", "acc", "max", TRIALS, 3.0, 2, 0.9).to_pandas()
    assert list(table["trial"]) == [0, 1, 2, 3, 4]
    assert list(table["early_stopped"]) == [False, True, False, False, False]
    assert table.loc[2, "history"] == [0.3, 0.7]


def test_plots_are_pngs(tmp_path):
    result = SearchResult("id", "acc", "max", TRIALS, 3.0, 2, 0.9)
    uris = result.plot(str(tmp_path))
    assert [u.rsplit("/", 1)[1] for u in uris] == ["metric_vs_time.png", "best_so_far.png"]
    for uri in uris:
        assert Path(uri).read_bytes()[:4] == b"\x89PNG"
