"""Where worker time went (SearchResult.timeline), on hand-computed timelines; no Ray."""

from __future__ import annotations

import pytest

from eo_ray.hpo import SearchResult, TrialStatus, TrialView


def ran(trial_id, worker, start, end):
    return TrialView(
        trial_id, {}, TrialStatus.COMPLETED, (), 1.0, worker, started_at=start, ended_at=end
    )


# Two workers ready at t=100. Worker 0: trials 100-104 and 104.5-108; worker 1: 101-105
# (it started 1 s late) and 105-110. The last trial starts at 105, the last ends at 110.
TRIALS = (
    ran(0, 0, 100.0, 104.0),
    ran(1, 1, 101.0, 105.0),
    ran(2, 0, 104.5, 108.0),
    ran(3, 1, 105.0, 110.0),
)


def test_utilisation_gaps_and_drain():
    result = SearchResult("id", "acc", "max", TRIALS, 10.0, 2, 0.0, started_at=100.0)
    tl = result.timeline()
    assert tl.span_s == 10.0
    assert tl.busy_s == pytest.approx(4 + 4 + 3.5 + 5)
    assert tl.utilisation == pytest.approx(16.5 / 20)
    # Until the last start (105): worker 0 busy 4 + 0.5, worker 1 busy 4 → 8.5 / (2 x 5).
    assert tl.utilisation_while_queued == pytest.approx(8.5 / 10)
    assert tl.drain_s == 5.0
    assert sorted(tl.gaps) == pytest.approx([0.0, 0.0, 0.5, 1.0])
    assert tl.gap_ms(0.5) == pytest.approx(250.0)


def test_without_a_ready_time_the_first_start_is_the_origin():
    tl = SearchResult("id", "acc", "max", TRIALS, 10.0, 2, 0.0).timeline()
    assert tl.origin == 100.0
    assert SearchResult("id", "acc", "max", (), 0.0, 2, 0.0).timeline().utilisation == 0.0
