"""Window planning: edge modes and centred windows (no Ray)."""

from __future__ import annotations

from eo_ray.ingest._windows import Window, centred_window, grid_windows, inside, overlap


def test_drop_keeps_only_full_windows() -> None:
    wins = grid_windows(100, 130, (32, 32), (32, 32), "drop")
    assert len(wins) == 3 * 4
    assert all(inside(w, 100, 130) for w in wins)


def test_pad_covers_every_pixel_with_windows_past_the_edge() -> None:
    wins = grid_windows(100, 130, (32, 32), (32, 32), "pad")
    assert len(wins) == 4 * 5
    assert max(w.row_off + w.height for w in wins) >= 100
    assert max(w.col_off + w.width for w in wins) >= 130


def test_snap_shifts_the_last_window_inside() -> None:
    wins = grid_windows(100, 130, (32, 32), (32, 32), "snap")
    assert len(wins) == 4 * 5
    assert all(inside(w, 100, 130) for w in wins)
    assert {w.row_off for w in wins} == {0, 32, 64, 68}


def test_stride_gives_overlap_and_small_rasters_need_padding() -> None:
    assert len(grid_windows(64, 64, (32, 32), (16, 16), "drop")) == 9
    assert grid_windows(20, 20, (32, 32), (32, 32), "drop") == []
    assert grid_windows(20, 20, (32, 32), (32, 32), "snap") == [Window(0, 0, 32, 32)]


def test_centred_window_and_overlap() -> None:
    win = centred_window(10.0, 10.0, (8, 8))
    assert win == Window(6, 6, 8, 8)
    assert overlap(Window(-4, -4, 8, 8), 10, 10) == Window(0, 0, 4, 4)
    assert overlap(Window(20, 20, 8, 8), 10, 10) is None
