"""Feature store benchmark: every figure next to its reference, measured in the same run.

1. insert 1M rows x 20 features with statistics and validation vs a bare ``write_deltalake``;
2. upsert of 100k rows (half updates, half new keys) into 1M vs a bare delta-rs merge;
3. point-in-time join of a 100k-row spine with two 1M-row feature groups vs DuckDB's
   ``ASOF JOIN`` on the same Delta files and vs ``pandas.merge_asof``;
4. online lookups: p50/p99 of single-key and 100-key feature vectors on SQLite and Redis.

    python benchmarks/featurestore.py                 # full size (about 3-4 minutes here)
    python benchmarks/featurestore.py --rows 100000   # quicker
    python benchmarks/featurestore.py --rows 4000000 --repeats 5   # scale up

Results are printed and appended to benchmarks/RESULTS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eo_ray.featurestore import FeatureStore  # noqa: E402
from eo_ray.storage import Workspace  # noqa: E402

EXPECTATIONS = [
    {"expectation_type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
    *(
        {
            "expectation_type": "expect_column_values_to_be_between",
            "kwargs": {"column": f"f{i}", "min_value": -10, "max_value": 10},
        }
        for i in range(5)
    ),
    *(
        {"expectation_type": "expect_column_values_to_not_be_null", "kwargs": {"column": f"f{i}"}}
        for i in range(5, 10)
    ),
    {
        "expectation_type": "expect_column_mean_to_be_between",
        "kwargs": {"column": "f10", "min_value": -1, "max_value": 1},
    },
    {"expectation_type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
]


def features(n: int, seed: int, start_id: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    cols = {"id": np.arange(start_id, start_id + n, dtype=np.int64)}
    cols |= {f"f{i}": rng.standard_normal(n) for i in range(20)}
    return pa.table(cols)


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def bench_insert(tmp: Path, rows: int, repeats: int) -> dict:
    from deltalake import write_deltalake

    data = features(rows, 0)
    counter = iter(range(10_000))

    def ours():
        fs = FeatureStore(Workspace(str(tmp / f"ins{next(counter)}")))
        fg = fs.create_feature_group("bench", primary_key=["id"], expectations=EXPECTATIONS)
        return fg.insert(data)

    def bare():
        write_deltalake(str(tmp / f"bare{next(counter)}"), data, mode="error")

    bare()  # warm both paths once
    ours()
    t_bare, _ = median_time(bare, repeats)
    t_ours, report = median_time(ours, repeats)
    return {
        "ours_s": t_ours,
        "bare_s": t_bare,
        "ratio": t_ours / t_bare,
        "validation_success": report.validation.success,
        "breakdown": {k: round(v, 3) for k, v in report.timings.items()},
    }


def bench_upsert(tmp: Path, rows: int, upsert_rows: int, repeats: int) -> dict:
    from deltalake import DeltaTable, write_deltalake

    base = features(rows, 1)
    rng = np.random.default_rng(2)
    half = upsert_rows // 2
    upd_ids = np.sort(rng.choice(rows, half, replace=False))
    upd = features(half, 3).set_column(0, "id", pa.array(upd_ids))
    new = features(upsert_rows - half, 4, start_id=rows)
    batch = pa.concat_tables([upd, new])
    counter = iter(range(10_000))
    ours_t, bare_t, reports = [], [], []
    for _ in range(repeats):
        i = next(counter)
        fs = FeatureStore(Workspace(str(tmp / f"up{i}")))
        fg = fs.create_feature_group("bench", primary_key=["id"], statistics=False)
        fg.insert(base)
        t = time.perf_counter()
        reports.append(fg.insert(batch, operation="upsert"))
        ours_t.append(time.perf_counter() - t)
        path = str(tmp / f"bareup{i}")
        write_deltalake(path, base)
        t = time.perf_counter()
        (
            DeltaTable(path)
            .merge(batch, 't."id" = s."id"', source_alias="s", target_alias="t")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )
        bare_t.append(time.perf_counter() - t)
    r = reports[-1]
    return {
        "ours_s": statistics.median(ours_t),
        "bare_merge_s": statistics.median(bare_t),
        "ratio": statistics.median(ours_t) / statistics.median(bare_t),
        "rows_updated": r.rows_updated,
        "rows_inserted": r.rows_inserted,
    }


def bench_pit(tmp: Path, rows: int, spine_rows: int, repeats: int) -> dict:
    import duckdb
    from deltalake import DeltaTable

    entities = max(rows // 100, 1)
    rng = np.random.default_rng(5)
    t0 = pd.Timestamp("2024-01-01", tz="UTC")

    def group(seed: int, prefix: str) -> pd.DataFrame:
        r = np.random.default_rng(seed)
        ids = np.repeat(np.arange(entities), rows // entities)
        minutes = r.integers(0, 60 * 24 * 365, len(ids))
        df = pd.DataFrame({"entity": ids, "time": t0 + pd.to_timedelta(minutes, "min")})
        for i in range(5):
            df[f"{prefix}{i}"] = r.standard_normal(len(ids))
        return df.drop_duplicates(["entity", "time"])

    a, b = group(6, "a"), group(7, "b")
    spine = pd.DataFrame(
        {
            "sid": np.arange(spine_rows),
            "entity": rng.integers(0, entities, spine_rows),
            "time": t0 + pd.to_timedelta(rng.integers(0, 60 * 24 * 365, spine_rows), "min"),
            "label": rng.integers(0, 2, spine_rows),
        }
    )
    fs = FeatureStore(Workspace(str(tmp / "pit")))
    g_spine = fs.create_feature_group(
        "spine", primary_key=["sid"], event_time="time", statistics=False
    )
    g_a = fs.create_feature_group("ga", primary_key=["entity"], event_time="time", statistics=False)
    g_b = fs.create_feature_group("gb", primary_key=["entity"], event_time="time", statistics=False)
    for g, df in ((g_spine, spine), (g_a, a), (g_b, b)):
        g.insert(df, operation="insert")
    query = (
        g_spine.select(["sid", "entity", "label"])
        .join(g_a.select([f"a{i}" for i in range(5)]), on="entity")
        .join(g_b.select([f"b{i}" for i in range(5)]), on="entity")
    )
    t_ours, ours = median_time(lambda: query.read().to_arrow(), repeats)

    def duck():
        # DuckDB's own Parquet reader over the Delta tables' current files (no pyarrow).
        con = duckdb.connect()
        for name, g in (("s", g_spine), ("a", g_a), ("b", g_b)):
            files = ", ".join(f"'{f}'" for f in DeltaTable(g.table_uri).file_uris())
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{files}])")
        sql = (
            "SELECT s.sid, s.entity, s.label, a.a0, a.a1, a.a2, a.a3, a.a4, "
            "b.b0, b.b1, b.b2, b.b3, b.b4 FROM s "
            "ASOF LEFT JOIN a ON s.entity = a.entity AND s.time >= a.time "
            "ASOF LEFT JOIN b ON s.entity = b.entity AND s.time >= b.time ORDER BY s.sid, s.time"
        )
        return con.sql(sql).to_arrow_table()

    t_duck, ref = median_time(duck, repeats)

    def pandas_asof():
        s = spine.sort_values("time")
        out = pd.merge_asof(s, a.sort_values("time"), on="time", by="entity")
        out = pd.merge_asof(out, b.sort_values("time"), on="time", by="entity")
        return out.sort_values("sid")

    t_pd, pd_out = median_time(pandas_asof, repeats)
    same = ours.to_pandas().reset_index(drop=True)
    np.testing.assert_allclose(same["a0"], ref.to_pandas()["a0"], equal_nan=True)
    np.testing.assert_allclose(same["b4"].to_numpy(), pd_out["b4"].to_numpy(), equal_nan=True)
    return {
        "ours_s": t_ours,
        "duckdb_asof_s": t_duck,
        "pandas_merge_asof_s": t_pd,
        "ratio_vs_duckdb": t_ours / t_duck,
        "ratio_vs_pandas": t_ours / t_pd,
        "rows": len(same),
        "equal_to_references": True,
    }


def _redis() -> tuple[subprocess.Popen, str] | None:
    exe = shutil.which("redis-server")
    if exe is None:
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    return None


def bench_online(tmp: Path, keys: int, lookups: int) -> dict:
    data = features(keys, 8)
    out = {}
    redis = _redis()
    backends = [("sqlite", "sqlite")] + ([("redis", redis[1])] if redis else [])
    try:
        for label, uri in backends:
            os.environ["EO_RAY_ONLINE"] = uri
            fs = FeatureStore(Workspace(str(tmp / f"online_{label}")))
            fg = fs.create_feature_group("bench", primary_key=["id"], online=True, statistics=False)
            t = time.perf_counter()
            fg.insert(data)
            write_s = time.perf_counter() - t
            fv = fs.create_feature_view("v", fg.select_all())
            rng = np.random.default_rng(9)
            ids = rng.integers(0, keys, lookups)
            single = []
            for k in ids:
                t = time.perf_counter()
                fv.get_feature_vector({"id": int(k)})
                single.append(time.perf_counter() - t)
            batch = []
            for _ in range(max(lookups // 10, 20)):
                entries = [{"id": int(k)} for k in rng.integers(0, keys, 100)]
                t = time.perf_counter()
                fv.get_feature_vectors(entries)
                batch.append(time.perf_counter() - t)
            ms = lambda xs, q: float(np.percentile(xs, q) * 1000)  # noqa: E731
            out[label] = {
                "single_p50_ms": ms(single, 50),
                "single_p99_ms": ms(single, 99),
                "batch100_p50_ms": ms(batch, 50),
                "batch100_p99_ms": ms(batch, 99),
                "insert_with_online_s": write_s,
            }
    finally:
        os.environ.pop("EO_RAY_ONLINE", None)
        if redis:
            redis[0].terminate()
    return out


def record(results: dict, args: argparse.Namespace, command: str) -> str:
    ins, up, pit, onl = results["insert"], results["upsert"], results["pit"], results["online"]
    lines = [
        "",
        f"## Feature store (benchmarks/featurestore.py) — {dt.date.today().isoformat()}",
        "",
        f"Command: `{command}`  ",
        "Machine: 2-core x86-64, 24 GiB, no GPU (shared with other jobs); "
        f"Python {platform.python_version()}; medians of {args.repeats} runs.",
        "",
        "| benchmark | eo-ray | reference | ratio | goal |",
        "|---|---|---|---|---|",
        f"| insert {args.rows:,} x 20 features, statistics + {len(EXPECTATIONS)} expectations "
        f"| {ins['ours_s']:.2f} s | bare `write_deltalake` {ins['bare_s']:.2f} s "
        f"| {ins['ratio']:.2f}x | < 1.5x |",
        f"| upsert {args.upsert_rows:,} ({up['rows_updated']:,} updates) into {args.rows:,} "
        f"| {up['ours_s']:.2f} s | bare delta-rs merge {up['bare_merge_s']:.2f} s "
        f"| {up['ratio']:.2f}x | - |",
        f"| PIT join, {args.spine:,}-row spine x two {args.rows:,}-row groups "
        f"| {pit['ours_s']:.2f} s "
        f"| DuckDB `ASOF JOIN` on the Parquet files {pit['duckdb_asof_s']:.2f} s "
        f"| {pit['ratio_vs_duckdb']:.2f}x | < 1.5x |",
        f"| (same) | {pit['ours_s']:.2f} s "
        f"| `pandas.merge_asof` {pit['pandas_merge_asof_s']:.2f} s "
        f"| {pit['ratio_vs_pandas']:.2f}x | - |",
    ]
    goals = {"sqlite": 1.0, "redis": 2.0}
    for backend, r in onl.items():
        lines.append(
            f"| online {backend}: single-key p50 / p99 | {r['single_p50_ms']:.3f} / "
            f"{r['single_p99_ms']:.3f} ms | - | - | p99 < {goals[backend]:g} ms |"
        )
        lines.append(
            f"| online {backend}: 100-key p50 / p99 | {r['batch100_p50_ms']:.3f} / "
            f"{r['batch100_p99_ms']:.3f} ms | - | - | - |"
        )
    lines += [
        "",
        f"Insert time breakdown (s): {ins['breakdown']}. PIT results equal both references "
        f"({pit['rows']:,} rows).",
        "",
    ]
    text = "\n".join(lines)
    if not args.no_record:
        with open(ROOT / "benchmarks" / "RESULTS.md", "a") as fh:
            fh.write(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--upsert-rows", type=int, default=100_000)
    parser.add_argument("--spine", type=int, default=100_000)
    parser.add_argument("--online-keys", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    command = "python benchmarks/featurestore.py " + " ".join(sys.argv[1:])
    tmp = Path(tempfile.mkdtemp(prefix="eo_ray_fs_bench_"))
    try:
        results = {}
        for name, fn in (
            ("insert", lambda: bench_insert(tmp, args.rows, args.repeats)),
            ("upsert", lambda: bench_upsert(tmp, args.rows, args.upsert_rows, args.repeats)),
            ("pit", lambda: bench_pit(tmp, args.rows, args.spine, args.repeats)),
            ("online", lambda: bench_online(tmp, args.online_keys, args.lookups)),
        ):
            t = time.perf_counter()
            results[name] = fn()
            print(f"{name}: {results[name]}  ({time.perf_counter() - t:.0f} s)", flush=True)
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(exist_ok=True)
        print(record(results, args, command.strip()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
