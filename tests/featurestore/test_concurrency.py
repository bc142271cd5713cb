"""Concurrent writers lose no rows; a writer killed before its commit leaves the table intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd

WRITER = textwrap.dedent(
    """
    import sys, time
    from eo_ray.datasets import load_titanic
    from eo_ray.featurestore import FeatureStore
    from eo_ray.storage import Workspace

    root, part, parts, start, operation = sys.argv[1:6]
    part, parts = int(part), int(parts)
    df = load_titanic()
    fg = FeatureStore(Workspace(root)).get_feature_group("titanic")
    time.sleep(max(0.0, float(start) - time.time()))  # start together
    fg.insert(df.iloc[91:].iloc[part::parts], operation=operation)
    """
)

KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from eo_ray.datasets import load_titanic
    from eo_ray.featurestore import FeatureStore, _delta
    from eo_ray.storage import Workspace

    def die(*args, **kwargs):  # the data files are written; die before the commit
        os.kill(os.getpid(), signal.SIGKILL)

    _delta.commit_files = die
    fg = FeatureStore(Workspace(sys.argv[1])).get_feature_group("titanic")
    fg.insert(load_titanic().iloc[300:], operation="insert")
    """
)


def _run(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], env=dict(os.environ))


def test_four_concurrent_writers_lose_no_rows(fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"])
    fg.insert(titanic.iloc[:91])  # create the table and record the schema
    start = time.time() + 4.0
    procs = [
        _run(WRITER, fs.ws.root, str(i), "4", str(start), "insert" if i % 2 else "upsert")
        for i in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    got = fg.read().to_pandas().sort_values("PassengerId").reset_index(drop=True)
    got = got.mask(got.isna(), np.nan)  # missing strings come back as None
    pd.testing.assert_frame_equal(got, titanic, check_dtype=False)
    writes = [h for h in fg.history() if h["rows_inserted"]]
    assert len(writes) == 5
    assert sum(h["rows_inserted"] for h in writes) == 891


def test_concurrent_upserts_of_the_same_keys_all_commit(fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"])
    fg.insert(titanic)
    start = time.time() + 4.0
    procs = [_run(WRITER, fs.ws.root, "0", "1", str(start), "upsert") for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]  # 800 matching keys each
    assert len(fg.read().to_pandas()) == 891
    assert [h["operation"] for h in fg.history()[:3]] == ["upsert"] * 3
    assert fg.table_version == 4


def test_writer_killed_before_commit_leaves_previous_version(fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"])
    fg.insert(titanic.iloc[:300])
    before = fg.read().to_pandas()
    files_before = set(_parquet_files(fg.ws.fs_path(fg.table_uri)))
    proc = _run(KILLED, fs.ws.root)
    assert proc.wait(timeout=120) == -signal.SIGKILL
    assert set(_parquet_files(fg.ws.fs_path(fg.table_uri))) > files_before  # it did write
    assert fg.table_version == 1
    pd.testing.assert_frame_equal(fg.read().to_pandas(), before)
    report = fg.insert(titanic.iloc[300:])  # and the table takes the next write normally
    assert report.table_version == 2
    assert len(fg.read().to_pandas()) == 891


def _parquet_files(path: str) -> list[str]:
    return [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".parquet")]
