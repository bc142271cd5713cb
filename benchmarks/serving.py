"""Serving benchmark: eo-ray on Ray Serve vs a bare FastAPI app, logging on/off, batching.

One run measures p50/p99 latency and requests/s of the OpenSARShip ship classifier
(``opensarship-cnn``: the CNN of ``jobs/train_ships.py``, trained by ``eo.train.fit`` on the
real OpenSARShip chips and registered in the model registry) at concurrency 1, 8 and 32,
one real 48×48 VV chip (normalised dB) per request, for:

* ``fastapi``          the same TorchScript model behind a bare FastAPI app in one uvicorn
                       process, one torch thread, orjson decoding: the no-platform reference
* ``serve``            eo-ray deployment, request logging off, no batching
* ``serve+log``        the same with request logging on (the Delta request log)
* ``serve+batch``      logging off, dynamic batching (``batch_size``)
* ``serve+log+batch``  logging on and dynamic batching

Every eo-ray setup is one replica (one process); all are live at once and measured in
interleaved rounds (medians reported). The load generator is one asyncio process (aiohttp,
keep-alive connections). During the concurrency-32 runs the CPU time of the Serve proxy, the
replica (and, within it, of the request log's Delta writer threads) and the load generator is
read from /proc (psutil) and reported per request, which is where the platform's cost goes.
Goals from the issue: logging costs at most 10% of throughput; with batching, throughput at
concurrency 32 is at least 2x the unbatched one.

    python benchmarks/serving.py                 # default, about 4 minutes on 2 cores
    python benchmarks/serving.py --requests 2000 --rounds 5 --batch-size 32
    python benchmarks/serving.py --home WS       # reuse a workspace's opensarship-cnn
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
LEVELS = (1, 8, 32)
MODEL = "opensarship-cnn"
SETUPS = {  # label -> deploy options (the FastAPI reference is added separately)
    "serve": {"log_requests": False, "batch": False},
    "serve+log": {"log_requests": True, "batch": False},
    "serve+batch": {"log_requests": False, "batch": True},
    "serve+log+batch": {"log_requests": True, "batch": True},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _train_ships():
    """jobs/train_ships.py as a module (its chip preparation and split are reused as is)."""
    sys.path.insert(0, str(HERE.parent / "jobs"))
    import train_ships

    return train_ships


def ship_chips(size: int) -> tuple[np.ndarray, np.ndarray, tuple, tuple[float, float]]:
    """OpenSARShip chips as the training job prepares them: x, y, split, (mean, std)."""
    ships = _train_ships()
    x, y = ships.load_chips(size)
    train, val, test = ships.split(y)
    mean, std = float(x[train].mean()), float(x[train].std())
    return (x - mean) / std, y, (train, val, test), (mean, std)


def train_and_register(x, y, parts, size: int, epochs: int, workers: int):
    """The OpenSARShip CNN trained with eo.train.fit (all-reduce torch) and registered."""
    import eo_ray as eo
    from eo_ray.train.recipes import torch_classifier_loop

    ships = _train_ships()
    train, val, test = parts
    config = {
        "epochs": epochs,
        "batch_size": 16,
        "lr": 0.01,
        "channels": 1,
        "height": size,
        "width": size,
        "classes": len(ships.CLASSES),
        "filters": 16,
        "eval": (x[val], y[val]),
    }
    result = eo.train.fit(
        torch_classifier_loop,
        strategy="allreduce",
        framework="torch",
        num_workers=workers,
        config=config,
        data={"x": x[train], "y": y[train]},
        experiment="bench-serving-opensarship",
    )
    acc = ships.accuracy(ships.load_export(result), "torch", x[test], y[test])
    return eo.models.register(
        MODEL,
        result,
        metrics={"val_accuracy": result.metrics["accuracy"], "test_accuracy": acc},
        input_example=x[test][:1],
        training_dataset={"dataset": "opensarship_subset", "rows": len(train), "size": size},
        description="serving benchmark: allreduce torch",
    )


def bodies(x: np.ndarray, test: np.ndarray) -> list[bytes]:
    """One JSON request per real test chip: {"instances": [chip]} (1×48×48 floats)."""
    return [json.dumps({"instances": x[i : i + 1].round(4).tolist()}).encode() for i in test]


async def _load(url: str, payloads: list[bytes], concurrency: int, total: int) -> dict:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    headers = {"Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for i in counter:
            start = time.perf_counter()
            try:
                body = payloads[i % len(payloads)]
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    ok = resp.status == 200
            except aiohttp.ClientError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - start)
            else:
                errors += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for _ in range(min(8, total)):  # warm up connections and the model
            async with session.post(url, data=payloads[0], headers=headers) as resp:
                await resp.read()
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    lat = np.array(latencies) * 1000.0
    return {
        "p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "rps": len(latencies) / elapsed,
        "errors": errors,
        "requests": total,
        "warmup": min(8, total),
    }


def _cpu_s(procs: list) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except Exception:  # a process that went away counts no more
            pass
    return total


def measure(url: str, payloads: list[bytes], requests: int, procs: dict) -> dict:
    """One round: every level against ``url`` (c=1 gets a quarter of the requests); at c=32
    also the CPU seconds per request of each process group in ``procs`` and of this client."""
    import psutil

    client = [psutil.Process()]
    out: dict = {}
    for c in LEVELS:
        n = max(requests // 4, 25) if c == 1 else requests
        groups = {**procs, "client": client}
        before = {k: _cpu_s(v) for k, v in groups.items()}
        out[c] = asyncio.run(_load(url, payloads, c, n))
        if c == LEVELS[-1]:
            sent = n + out[c]["warmup"]
            out["cpu_ms"] = {k: 1000 * (_cpu_s(v) - before[k]) / sent for k, v in groups.items()}
    return out


def median_of(rounds: list[dict]) -> dict:
    """Per level: the median p50, p99 and req/s over rounds; errors and requests summed."""
    out: dict = {}
    for c in LEVELS:
        runs = [r[c] for r in rounds]
        out[c] = {k: float(np.median([r[k] for r in runs])) for k in ("p50_ms", "p99_ms", "rps")}
        out[c]["errors"] = sum(r["errors"] for r in runs)
        out[c]["requests"] = sum(r["requests"] + r["warmup"] for r in runs)
    out["cpu_ms"] = {
        k: float(np.median([r["cpu_ms"][k] for r in rounds])) for k in rounds[0]["cpu_ms"]
    }
    return out


# -- the bare FastAPI reference ------------------------------------------------------------------
def fastapi_server(port: int, model_path: str) -> None:
    """Run the reference app: one process, one uvicorn worker, the same TorchScript model."""
    import orjson
    import torch
    import uvicorn
    from fastapi import FastAPI, Request
    from fastapi.responses import Response

    torch.set_num_threads(1)
    model = torch.jit.load(model_path, map_location="cpu").eval()
    app = FastAPI()

    async def predict(request):
        x = np.asarray(orjson.loads(await request.body())["instances"], dtype=np.float32)
        with torch.inference_mode():
            out = model(torch.from_numpy(x)).numpy()
        answer = {"predictions": out.argmax(1).tolist(), "scores": out.round(6).tolist()}
        return Response(orjson.dumps(answer), media_type="application/json")

    # Real classes, not the strings `from __future__ import annotations` would leave.
    predict.__annotations__ = {"request": Request, "return": Response}
    app.post("/predict")(predict)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def model_file(mv) -> Path:
    """The registered model's TorchScript file, copied out of the workspace to a local path."""
    from eo_ray.storage import Workspace

    path = Path(tempfile.mkdtemp()) / mv.artifact
    path.write_bytes(Workspace(mv.root).read_bytes(f"{mv.uri}/{mv.artifact}"))
    return path


def start_fastapi(mv) -> tuple[str, subprocess.Popen]:
    """Start the reference app in its own process; return its URL and the process."""
    port = free_port()
    model_path = model_file(mv)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--fastapi-server", str(port), str(model_path)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"http://127.0.0.1:{port}/predict", proc
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the FastAPI reference did not start") from None
            time.sleep(0.2)


def model_ms_per_chip(mv, size: int, batches: tuple[int, ...]) -> dict[int, float]:
    """The served model alone (its TorchScript, one torch thread, no server): ms per chip at
    each batch size, median of 7. The difference between batch 1 and a batch is all that
    batching can save per request; the rest of a request's cost is the server's."""
    import statistics

    import torch

    path = model_file(mv)
    torch.set_num_threads(1)
    model = torch.jit.load(str(path), map_location="cpu").eval()
    out = {}
    with torch.inference_mode():
        for batch in batches:
            x = torch.randn(batch, 1, size, size)
            calls = max(1, 256 // batch)
            for _ in range(10):
                model(x)
            times = []
            for _ in range(7):
                start = time.perf_counter()
                for _ in range(calls):
                    model(x)
                times.append((time.perf_counter() - start) * 1000 / (calls * batch))
            out[batch] = statistics.median(times)
    return out


class WriterThreads:
    """A replica's Delta writer threads (deltalake's Rust runtime, ``tokio-*``), read like a
    process for ``_cpu_s``: the CPU of the request log's bulk appends, apart from the rest."""

    def __init__(self, proc) -> None:
        self.proc = proc

    def cpu_times(self):
        total = 0.0
        for thread in self.proc.threads():
            try:
                with open(f"/proc/{self.proc.pid}/task/{thread.id}/comm") as fh:
                    if fh.read().startswith("tokio"):
                        total += thread.user_time + thread.system_time
            except OSError:  # the thread ended
                pass
        return argparse.Namespace(user=total, system=0.0)


def serve_processes(app: str) -> dict:
    """The Serve proxy and the replica process(es) of application ``app``."""
    import psutil

    found: dict = {"proxy": [], "replica": []}
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if cmd.startswith("ray::ProxyActor"):
            found["proxy"].append(proc)
        elif cmd.startswith(f"ray::ServeReplica:{app}:"):
            found["replica"].append(proc)
    return found


def get_model(args) -> tuple:
    """The registered OpenSARShip CNN (trained now, or the one in ``--home``) and the bodies."""
    import eo_ray as eo

    x, y, parts, _ = ship_chips(args.size)
    if args.home:
        mv = eo.models.get(MODEL) if args.version is None else eo.models.get(MODEL, args.version)
        trained = f"{MODEL} v{mv.version} from {args.home}"
    else:
        started = time.time()
        mv = train_and_register(x, y, parts, args.size, args.epochs, args.workers)
        trained = (
            f"{MODEL} v{mv.version}, trained now with eo.train.fit (all-reduce torch, "
            f"{args.workers} workers, {args.epochs} epochs, {time.time() - started:.0f} s)"
        )
    return mv, trained, bodies(x, parts[2]), len(parts[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--requests", type=int, default=400, help="requests per level and round (c=8, 32)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batch-wait-ms", type=float, default=5.0)
    parser.add_argument("--size", type=int, default=48, help="chip size (train_ships.py's)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="training workers")
    parser.add_argument("--home", default=None, help="workspace with a registered model")
    parser.add_argument("--version", type=int, default=None, help="model version in --home")
    parser.add_argument(
        "--ray-serve-defaults",
        action="store_true",
        help="start Serve with Ray's default settings instead of eo-ray's (SERVE_ENV)",
    )
    parser.add_argument(
        "--results",
        default=str(HERE / "out" / "serving.md"),
        help="markdown file the run's section is appended to ('' to not record); the Serving "
        "section of RESULTS.md is written from it",
    )
    parser.add_argument("--fastapi-server", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fastapi_server:
        fastapi_server(int(args.fastapi_server[0]), args.fastapi_server[1])
        return

    os.environ.setdefault("EO_RAY_DATA", str((HERE.parent.parent / "shared" / "data").resolve()))
    os.environ.setdefault("EO_RAY_DOWNLOAD", "0")
    from ray import serve

    import eo_ray as eo

    started = time.time()
    home = args.home or tempfile.mkdtemp(prefix="eo-ray-bench-serving-")
    eo.init(home=home, num_cpus=os.cpu_count())
    mv, trained, payloads, n_chips = get_model(args)
    model_ms = model_ms_per_chip(mv, args.size, (1, args.batch_size))
    from eo_ray.serving._deploy import ensure_serve

    if args.ray_serve_defaults:
        serve.start(http_options={"host": "127.0.0.1", "port": free_port()})
    else:
        ensure_serve("127.0.0.1", free_port())  # Serve as eo-ray starts it
    run_start = time.time()
    urls, procs, names = {}, {}, {}
    for label, options in SETUPS.items():
        name = "bench-" + label.replace("+", "-")
        dep = eo.serving.deploy(
            MODEL,
            version=mv.version,
            name=name,
            min_replicas=1,
            max_replicas=1,
            log_requests=options["log_requests"],
            batch_size=args.batch_size if options["batch"] else None,
            batch_wait_s=args.batch_wait_ms / 1000.0,
            num_cpus=0.25,  # logical share, so all four fit a 2-CPU Ray; one torch thread
        )
        urls[label], procs[label], names[label] = f"{dep.url}/predict", serve_processes(name), name
        procs[label]["writer"] = [WriterThreads(p) for p in procs[label]["replica"]]
    urls["fastapi"], proc = start_fastapi(mv)
    import psutil

    procs["fastapi"] = {"server": [psutil.Process(proc.pid)]}
    rounds: dict[str, list] = {label: [] for label in urls}
    try:
        for r in range(args.rounds):  # interleaved, so load from elsewhere hits every setup
            for label, url in urls.items():
                rounds[label].append(measure(url, payloads, args.requests, procs[label]))
                rps = {c: round(rounds[label][-1][c]["rps"]) for c in LEVELS}
                print(f"round {r + 1} {label:<16} req/s {rps}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    results = {label: median_of(runs) for label, runs in rounds.items()}
    for label, options in SETUPS.items():
        eo.serving.undeploy(names[label])
        if options["log_requests"]:
            since = dt.datetime.fromtimestamp(run_start, dt.timezone.utc)
            results[label]["logged"] = len(eo.monitoring.requests(names[label], since=since))
    serve.shutdown()
    eo.shutdown()
    wall = time.time() - started
    text = report(results, args, mv, trained, n_chips, wall, model_ms)
    print(text)
    if args.results:
        Path(args.results).parent.mkdir(parents=True, exist_ok=True)
        with open(args.results, "a", encoding="utf-8") as fh:
            fh.write("\n" + text)


LABELS = {
    "fastapi": "bare FastAPI + uvicorn, one process (reference)",
    "serve": "eo-ray serve, logging off",
    "serve+log": "eo-ray serve, logging on",
    "serve+batch": "eo-ray serve, logging off, batching",
    "serve+log+batch": "eo-ray serve, logging on, batching",
}


def _server_ms(cpu: dict) -> float:
    """Server CPU ms per request: the app process, or the Serve proxy plus the replica."""
    return cpu.get("server", cpu.get("proxy", 0.0) + cpu.get("replica", 0.0))


def report(results: dict, args, mv, trained: str, n_chips: int, wall: float, model_ms: dict) -> str:
    rows = []
    for label in LABELS:
        for c in LEVELS:
            r = results[label][c]
            rows.append(
                f"| {LABELS[label]} | {c} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                f"{r['rps']:.0f} | {r['errors']} |"
            )
    cpu_rows = []
    for label in LABELS:
        cpu = results[label]["cpu_ms"]
        server = _server_ms(cpu)
        cpu_rows.append(
            f"| {LABELS[label]} | {cpu.get('proxy', float('nan')):.2f} | "
            f"{cpu.get('replica', cpu.get('server', float('nan'))):.2f} | "
            f"{cpu.get('writer', float('nan')):.2f} | {server:.2f} | {cpu['client']:.2f} |"
        )
    rps = {label: {c: results[label][c]["rps"] for c in LEVELS} for label in LABELS}
    server_ms = {label: _server_ms(results[label]["cpu_ms"]) for label in LABELS}
    log_cpu = {
        off: (server_ms[on] - server_ms[off], server_ms[on])
        for off, on in (("serve", "serve+log"), ("serve+batch", "serve+log+batch"))
    }
    log_cost = {c: 1 - rps["serve+log"][c] / rps["serve"][c] for c in LEVELS}
    gain_log = rps["serve+log+batch"][32] / rps["serve+log"][32]
    gain = rps["serve+batch"][32] / rps["serve"][32]
    saved = max(0.0, model_ms[1] - model_ms[args.batch_size])  # model ms batching saves
    overhead = {c: rps["fastapi"][c] / rps["serve"][c] for c in LEVELS}
    logged = ("serve+log", "serve+log+batch")
    sent = {k: sum(results[k][c]["requests"] for c in LEVELS) for k in logged}
    command = (
        f"python benchmarks/serving.py --requests {args.requests} --rounds {args.rounds} "
        f"--batch-size {args.batch_size} --batch-wait-ms {args.batch_wait_ms:g}"
        + ("" if args.home else f" --epochs {args.epochs} --workers {args.workers}")
        + (" --ray-serve-defaults" if args.ray_serve_defaults else "")
    )
    lines = [
        f"### Run of {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}` ({wall:.0f} s wall; medians of {args.rounds} interleaved rounds).  ",
        f"Machine: 2-core x86-64, 24 GiB, no GPU, shared with other jobs; Python "
        f"{platform.python_version()}. Serve settings: "
        + ("Ray's defaults" if args.ray_serve_defaults else "eo-ray's (SERVE_ENV)")
        + ".  ",
        f"Model: {trained}; test accuracy {mv.metrics.get('test_accuracy', float('nan')):.3f}. "
        f"Requests: one real {args.size}×{args.size} OpenSARShip test chip each "
        f'({n_chips} chips in turn, JSON `{{"instances": [chip]}}`).',
        "",
        "| setup | concurrency | p50 ms | p99 ms | req/s | errors |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "CPU time per request at concurrency 32 (ms, medians; from /proc):",
        "",
        "| setup | Serve proxy | replica / app | of which Delta writer threads | server total "
        "| load generator |",
        "|---|---|---|---|---|---|",
        *cpu_rows,
        "",
        "Logging cost (1 - req/s with logging / without): "
        + ", ".join(f"c={c}: {v:+.1%}" for c, v in log_cost.items())
        + " (goal <= 10%).  ",
        "Logging cost in server CPU per request at c=32 (with - without logging, of the total "
        "with): "
        + ", ".join(
            f"{'batching' if off == 'serve+batch' else 'no batching'}: {d:+.2f} ms of "
            f"{total:.2f} ({d / total:+.1%})"
            for off, (d, total) in log_cpu.items()
        )
        + ".  ",
        f"Batching gain at c=32 (batched / unbatched req/s): {gain:.2f}x with logging off, "
        f"{gain_log:.2f}x with logging on (goal >= 2x).  ",
        f"The model alone (TorchScript, one thread): {model_ms[1]:.3f} ms per chip at batch 1, "
        f"{model_ms[args.batch_size]:.3f} at batch {args.batch_size}; with the unbatched "
        f"server's {server_ms['serve']:.2f} ms of CPU per request, batching can raise "
        f"throughput by at most {server_ms['serve'] / (server_ms['serve'] - saved):.2f}x "
        "(if it cost no server CPU itself).  ",
        "Bare FastAPI req/s / eo-ray serve req/s: "
        + ", ".join(f"c={c}: {v:.2f}x" for c, v in overhead.items())
        + ".  ",
        "Rows in the request log after each logged setup: "
        + ", ".join(f"{k}: {results[k]['logged']} of {sent[k]} sent" for k in sent)
        + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
