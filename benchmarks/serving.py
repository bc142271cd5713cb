"""Serving benchmark: eo-ray on Ray Serve vs a bare FastAPI app, logging on/off, batching.

One run measures p50/p99 latency and requests/s of the Fashion-MNIST CNN (one 28×28 image per
request) at concurrency 1, 8 and 32 for:

* ``serve``          eo-ray deployment, request logging off, no batching
* ``serve+log``      the same with request logging on (the Delta request log)
* ``serve+log+batch`` logging on and dynamic batching (``batch_size``)
* ``fastapi``        the same TorchScript model behind a bare FastAPI app in one uvicorn
                     process: the no-platform reference

All use one replica (one process) so they compare like with like. The load generator is an
asyncio client (aiohttp) with keep-alive connections in this process. Goals from the issue:
logging costs at most 10% of throughput; with batching, throughput at concurrency 32 is at
least 2x the unbatched one.

    python benchmarks/serving.py                 # default, about 3 minutes on 2 cores
    python benchmarks/serving.py --requests 2000 --batch-size 32
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def train_and_register(images: int, filters: int) -> object:
    """The Fashion-MNIST CNN of eo_ray.train.recipes, trained one epoch and registered."""
    import torch

    import eo_ray as eo
    from eo_ray.datasets import load_fashion_mnist
    from eo_ray.train.recipes import torch_cnn

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    torch.manual_seed(0)
    model = torch_cnn(1, 28, 28, 10, filters=filters)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    x = torch.as_tensor(x_train[:images, None] / 255.0, dtype=torch.float32)
    y = torch.as_tensor(y_train[:images].astype(np.int64))
    for i in range(0, images, 128):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[i : i + 128]), y[i : i + 128]).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        xt = torch.as_tensor(x_test[:2000, None] / 255.0, dtype=torch.float32)
        accuracy = float((model(xt).argmax(1).numpy() == y_test[:2000]).mean())
    return eo.models.register(
        "bench-cnn", model, "torch", metrics={"accuracy": accuracy}, input_example=x[:1].numpy()
    )


def bodies(n: int = 64) -> list[bytes]:
    from eo_ray.datasets import load_fashion_mnist

    _, (x_test, _) = load_fashion_mnist()
    return [
        json.dumps({"instances": (x_test[i : i + 1, None] / 255.0).round(3).tolist()}).encode()
        for i in range(n)
    ]


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
            async with session.post(url, data=payloads[0]) as resp:
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


def measure(url: str, payloads: list[bytes], requests: int) -> dict[int, dict]:
    """One round: every concurrency level against ``url`` (c=1 gets a quarter of the requests)."""
    out = {}
    for c in LEVELS:
        n = max(requests // 4, 25) if c == 1 else requests
        out[c] = asyncio.run(_load(url, payloads, c, n))
    return out


def median_of(rounds: list[dict[int, dict]]) -> dict[int, dict]:
    """Per level: the median p50, p99 and req/s over rounds; errors and requests summed."""
    out = {}
    for c in LEVELS:
        runs = [r[c] for r in rounds]
        out[c] = {k: float(np.median([r[k] for r in runs])) for k in ("p50_ms", "p99_ms", "rps")}
        out[c]["errors"] = sum(r["errors"] for r in runs)
        out[c]["requests"] = sum(r["requests"] + r["warmup"] for r in runs)
    return out


# -- the bare FastAPI reference ------------------------------------------------------------------
def fastapi_server(port: int, model_path: str) -> None:
    """Run the reference app: one process, one uvicorn worker, the same TorchScript model."""
    import torch
    import uvicorn
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    torch.set_num_threads(1)
    model = torch.jit.load(model_path, map_location="cpu").eval()
    app = FastAPI()

    async def predict(request):
        x = np.asarray((await request.json())["instances"], dtype=np.float32)
        with torch.inference_mode():
            out = model(torch.from_numpy(x)).numpy()
        return JSONResponse({"predictions": out.argmax(1).tolist(), "scores": out.tolist()})

    # Real classes, not the strings `from __future__ import annotations` would leave.
    predict.__annotations__ = {"request": Request, "return": JSONResponse}
    app.post("/predict")(predict)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start_fastapi(mv) -> tuple[str, subprocess.Popen]:
    """Start the reference app in its own process; return its URL and the process."""
    from eo_ray.storage import Workspace

    port = free_port()
    model_path = Path(tempfile.mkdtemp()) / mv.artifact
    model_path.write_bytes(Workspace(mv.root).read_bytes(f"{mv.uri}/{mv.artifact}"))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--requests", type=int, default=400, help="requests per level and round (c=8, 32)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--train-images", type=int, default=6000)
    parser.add_argument("--filters", type=int, default=16, help="CNN width (16: the recipe's)")
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"), help="'' to not record")
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
    home = tempfile.mkdtemp(prefix="eo-ray-bench-serving-")
    eo.init(home=home, num_cpus=os.cpu_count())
    serve.start(http_options={"host": "127.0.0.1", "port": free_port()})
    mv = train_and_register(args.train_images, args.filters)
    payloads = bodies()
    configs = {
        "serve": {"log_requests": False, "batch_size": None},
        "serve+log": {"log_requests": True, "batch_size": None},
        "serve+log+batch": {"log_requests": True, "batch_size": args.batch_size},
    }
    urls = {}
    for label, options in configs.items():
        dep = eo.serving.deploy(
            "bench-cnn", name=label.replace("+", "-"), min_replicas=1, max_replicas=1, **options
        )
        urls[label] = f"{dep.url}/predict"
    urls["fastapi"], proc = start_fastapi(mv)
    rounds: dict[str, list] = {label: [] for label in urls}
    try:
        for r in range(args.rounds):  # interleaved, so load from elsewhere hits every setup
            for label, url in urls.items():
                rounds[label].append(measure(url, payloads, args.requests))
                rps = {c: round(v["rps"]) for c, v in rounds[label][-1].items()}
                print(f"round {r + 1} {label:<16} req/s {rps}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    results = {label: median_of(runs) for label, runs in rounds.items()}
    for label, options in configs.items():
        name = label.replace("+", "-")
        if options["log_requests"]:
            results[label]["logged"] = len(eo.monitoring.requests(name))
        eo.serving.undeploy(name)
    serve.shutdown()
    eo.shutdown()
    wall = time.time() - started
    text = report(results, args, mv, wall)
    print(text)
    if args.results:
        with open(args.results, "a", encoding="utf-8") as fh:
            fh.write("\n" + text)


def report(results: dict, args, mv, wall: float) -> str:
    rows = []
    for label in ("fastapi", "serve", "serve+log", "serve+log+batch"):
        for c in LEVELS:
            r = results[label][c]
            rows.append(
                f"| {label} | {c} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['rps']:.0f} | "
                f"{r['errors']} |"
            )
    log_cost = {c: 1 - results["serve+log"][c]["rps"] / results["serve"][c]["rps"] for c in LEVELS}
    batch_gain = results["serve+log+batch"][32]["rps"] / results["serve+log"][32]["rps"]
    overhead = {c: results["fastapi"][c]["rps"] / results["serve"][c]["rps"] for c in LEVELS}
    sent = {
        k: sum(results[k][c]["requests"] for c in LEVELS)  # warm-up requests included
        for k in ("serve+log", "serve+log+batch")
    }
    lines = [
        f"## Serving (benchmarks/serving.py) — {dt.date.today().isoformat()}",
        "",
        f"Command: `python benchmarks/serving.py --requests {args.requests} "
        f"--rounds {args.rounds} --batch-size {args.batch_size} --filters {args.filters}` "
        f"({wall:.0f} s wall; medians "
        "of the interleaved rounds).  ",
        f"Machine: 2-core x86-64, 24 GiB, no GPU, shared with other jobs; Python "
        f"{platform.python_version()}. Model: Fashion-MNIST CNN (torch_cnn, "
        f"{args.filters}/{2 * args.filters} filters, "
        f"accuracy {mv.metrics['accuracy']:.3f}), one 28×28 image per request, one replica.",
        "",
        "| setup | concurrency | p50 ms | p99 ms | req/s | errors |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "Logging cost (1 - req/s with logging / without): "
        + ", ".join(f"c={c}: {v:+.1%}" for c, v in log_cost.items())
        + " (goal <= 10%).  ",
        f"Batching gain at c=32 (batched / unbatched req/s, both logging): {batch_gain:.2f}x "
        "(goal >= 2x).  ",
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
