"""UI page times on a big workspace: 100 feature groups, 1,000 trials, 100,000 requests.

Builds a workspace (in ``--home``, default a temporary folder), serves the UI with uvicorn on
a loopback port in this process, and times every page: the median and 90th percentile over
``--requests`` sequential requests on one keep-alive connection, after one warm-up request.
Reference, in the same run: a static file (``/static/style.css``) from the same server, i.e.
what the HTTP stack itself costs. Goal (issue 20): every page under 300 ms.

How the workspace is written, with the stores' own write APIs:
* feature groups: ``fs.create_feature_group`` x ``--groups``, each with ``fg.insert`` of a
  small frame (statistics and a validation report per commit);
* the search: one experiment record (``eo.experiments.start``) with ``--trials`` trials
  journaled by ``Run.log_trial`` exactly as ``eo.hpo.search`` journals them
  (``TrialView.to_dict()``, ten reports each, every third trial stopped early) — not a real
  search, which would take many minutes of Ray time for the same records;
* the request log: ``--requests-logged`` rows appended with the serving stage's log writer
  (``request_log.append_rows``, 10,000 rows per commit, as replicas do in bulk);
* one registered scikit-learn model. No catalog and no pipeline run (both need Ray).

    python benchmarks/ui_pages.py                      # builds ~1 minute, times ~1 minute
    python benchmarks/ui_pages.py --home /tmp/ws --reuse --requests 50
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

GOAL_MS = 300.0


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--home", help="workspace folder (default: a new temporary folder)")
    p.add_argument("--reuse", action="store_true", help="time an already built --home")
    p.add_argument("--groups", type=int, default=100)
    p.add_argument("--trials", type=int, default=1000)
    p.add_argument("--requests-logged", type=int, default=100_000)
    p.add_argument("--requests", type=int, default=20, help="timed requests per page")
    return p.parse_args()


def build_groups(n: int) -> None:
    import eo_ray as eo

    fs = eo.feature_store()
    rng = np.random.default_rng(0)
    for g in range(n):
        fg = fs.create_feature_group(
            f"fg-{g:03d}",
            primary_key=["id"],
            description=f"benchmark group {g}",
            expectations=[
                {
                    "expectation_type": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": "a"},
                }
            ],
        )
        frame = pd.DataFrame({"id": np.arange(200), **{c: rng.normal(size=200) for c in "abcd"}})
        fg.insert(frame, validation="always")
    fs.create_feature_view("fv-000", fs.get_feature_group("fg-000").select_all(), labels=["d"])


def build_search(n: int) -> str:
    """A finished search of ``n`` trials, journaled as eo.hpo.search journals them."""
    import eo_ray as eo
    from eo_ray.hpo import Report, TrialStatus, TrialView

    run = eo.experiments.start("bench-search", "hpo", params={"metric": "accuracy"})
    rng = np.random.default_rng(1)
    t0, best = time.time() - 3600, None
    for i in range(n):
        x = float(rng.uniform())
        stopped = i % 3 == 2
        steps = 4 if stopped else 10
        start = t0 + i * 3.0
        reports = tuple(Report(s, x * s / 10, s * 0.5) for s in range(1, steps + 1))
        view = TrialView(
            id=i,
            hparams={"lr": float(rng.uniform(1e-4, 1e-1)), "depth": int(rng.integers(1, 9))},
            status=TrialStatus.STOPPED if stopped else TrialStatus.COMPLETED,
            reports=reports,
            value=reports[-1].value,
            worker=i % 8,
            started_at=start,
            ended_at=start + steps * 0.5,
            stop_reason="median rule" if stopped else None,
        )
        run.log_trial(i, **view.to_dict())
        best = max(best or 0.0, view.value)
    run.finish("completed", {"metric": "accuracy", "mode": "max", "trials": n, "best_value": best})
    return run.id


def build_requests(n: int) -> None:
    from eo_ray.serving import request_log
    from eo_ray.storage import workspace

    ws = workspace()
    start = int((time.time() - 86400) * 1e6)
    for seq, first in enumerate(range(0, n, 10_000)):
        rows = [
            {
                "request_id": f"r{i:07d}",
                "time": start + i * 500_000,
                "deployment": "bench-model",
                "model": "bench-model",
                "model_version": 1,
                "replica": f"replica-{i % 4}",
                "status": 200 if i % 50 else 400,
                "error": None if i % 50 else "bad input",
                "n_instances": 1 + i % 8,
                "inputs": "[[0.1, 0.2, 0.3, 0.4]]",
                "features": None,
                "predictions": "[1]",
                "latency_ms": 3.0 + (i % 97) * 0.1,
            }
            for i in range(first, min(n, first + 10_000))
        ]
        request_log.append_rows(
            ws, request_log.table_uri(ws, "bench-model"), "benchmark-writer", seq, rows
        )


def build_model() -> None:
    from sklearn.linear_model import LogisticRegression

    import eo_ray as eo

    x = np.random.default_rng(2).normal(size=(100, 4))
    model = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    eo.models.register(
        "bench-model", model, "sklearn", metrics={"accuracy": 0.9}, input_example=x[:2]
    )


def serve_in_thread() -> tuple[int, object]:
    import socket

    import uvicorn

    from eo_ray.ui import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(token=None), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return port, server


def time_page(conn: http.client.HTTPConnection, path: str, n: int) -> tuple[list[float], int]:
    def once() -> tuple[float, int, int]:
        t = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        return (time.perf_counter() - t) * 1000, response.status, len(body)

    _, status, size = once()  # warm-up (first imports, caches)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    return [once()[0] for _ in range(n)], size


def main() -> None:
    args = parse()
    home = args.home or tempfile.mkdtemp(prefix="eo-ray-ui-bench-")
    os.environ["EO_RAY_HOME"] = str(Path(home).resolve())
    import eo_ray as eo

    if not args.reuse:
        t = time.perf_counter()
        build_groups(args.groups)
        print(f"{args.groups} feature groups: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        build_search(args.trials)
        print(f"search of {args.trials} trials: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        build_requests(args.requests_logged)
        print(f"{args.requests_logged} logged requests: {time.perf_counter() - t:.1f} s")
        build_model()
    search = eo.experiments.list(name="bench-search")[0].id
    last_page = max(1, -(-args.requests_logged // 50))
    pages = [
        "/static/style.css",
        "/",
        "/api/overview",
        "/catalogs",
        "/maps",
        "/featurestore",
        "/api/featurestore",
        "/featurestore/fg-000",
        "/api/featurestore/fg-000",
        "/featurestore/views/fv-000",
        "/experiments",
        f"/experiments/{search}",
        f"/api/experiments/{search}",
        "/models",
        "/models/bench-model",
        "/deployments",
        "/deployments/bench-model",
        f"/deployments/bench-model?page={last_page}",
        "/deployments/bench-model?status=400",
        "/api/deployments/bench-model",
        "/pipelines",
    ]
    port, server = serve_in_thread()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    rows = []
    for path in pages:
        times, size = time_page(conn, path, args.requests)
        rows.append((path, statistics.median(times), np.percentile(times, 90), size))
    server.should_exit = True
    static_ms = rows[0][1]
    print(f"\nworkspace {os.environ['EO_RAY_HOME']}; {args.requests} requests per page")
    print(f"{'page':58} {'median ms':>10} {'p90 ms':>8} {'KB':>8} {'x static':>9}  goal")
    for path, median, p90, size in rows:
        verdict = "ok" if p90 < GOAL_MS else "SLOW"
        print(
            f"{path[:58]:58} {median:10.1f} {p90:8.1f} {size / 1024:8.1f} "
            f"{median / static_ms:9.1f}  {verdict}"
        )


if __name__ == "__main__":
    main()
