"""Training throughput: 1 vs 2 workers, all-reduce (torch, TF) and parameter server (sync,
async), against the same CNN trained in a plain single-process loop, in one run.

Model: the Fashion-MNIST CNN of eo_ray.train.recipes (2 conv + pool blocks, linear head).
Throughput is samples/s per epoch, the median over the epochs after the first (the first
holds start-up: graph tracing, DDP set-up). Speed-up is against the reference loop, which
runs with as many threads as one worker has CPUs. Communication time: measured for the
parameter server (time workers spend in push + pull), estimated for all-reduce as the epoch
time with N workers minus the ideal 1-worker epoch time / N (synchronisation + all-reduce).

    python benchmarks/training_scaling.py                 # default, < 5 minutes on 2 cores
    python benchmarks/training_scaling.py --quick         # smoke run
    python benchmarks/training_scaling.py --samples 60000 --epochs 5 --workers 1 2 4 --gpu
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import eo_ray as eo
from eo_ray.train.recipes import (
    _images,
    keras_classifier_loop,
    torch_classifier_loop,
    torch_cnn,
)

OUT = Path(__file__).resolve().parent / "out"
CONFIGS = (
    ("allreduce", "torch", {}),
    ("allreduce", "tensorflow", {}),
    ("parameter_server", "torch", {"ps_mode": "sync"}),
    ("parameter_server", "torch", {"ps_mode": "async"}),
)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", type=int, default=8192, help="training images used")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64, help="per worker")
    p.add_argument("--filters", type=int, default=16)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--cpus-per-worker", type=float, default=1.0)
    p.add_argument("--gpu", action="store_true", help="GPU workers (and a GPU reference)")
    p.add_argument("--skip-tf", action="store_true", help="leave TensorFlow out")
    p.add_argument("--allreduce-only", action="store_true", help="leave the parameter server out")
    p.add_argument("--quick", action="store_true", help="2048 images, 2 epochs")
    args = p.parse_args()
    if args.quick:
        args.samples, args.epochs = 2048, 2
    return args


def steady(values: list[float]) -> float:
    """Median of the epochs after the first (or the only epoch)."""
    return statistics.median(values[1:] or values)


def reference(x: np.ndarray, y: np.ndarray, args: argparse.Namespace) -> dict:
    """The same model and batches in a plain torch loop in this process."""
    import torch

    torch.set_num_threads(max(int(args.cpus_per_worker), 1))
    device = torch.device("cuda" if args.gpu else "cpu")
    torch.manual_seed(0)
    model = torch_cnn(1, 28, 28, 10, args.filters).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    rates = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        for i in range(0, len(x), args.batch_size):
            xb = torch.as_tensor(_images(x[i : i + args.batch_size], 1, False), device=device)
            yb = torch.as_tensor(y[i : i + args.batch_size].astype(np.int64), device=device)
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        if args.gpu:
            torch.cuda.synchronize()
        rates.append(len(x) / (time.perf_counter() - start))
    return {"samples_per_s": steady(rates), "epoch_s": len(x) / steady(rates)}


def distributed(x, y, strategy, framework, options, workers, args) -> dict:
    loop = torch_classifier_loop if framework == "torch" else keras_classifier_loop
    start = time.perf_counter()
    result = eo.train.fit(
        loop,
        strategy=strategy,
        framework=framework,
        num_workers=workers,
        use_gpu=args.gpu,
        cpus_per_worker=args.cpus_per_worker,
        config={"epochs": args.epochs, "batch_size": args.batch_size, "filters": args.filters},
        data=(x, y),
        checkpoint_every=10**6,  # measure training, not checkpoint writes
        **options,
    )
    history = result.history
    row = {
        "samples_per_s": steady([h["samples_per_s"] for h in history]),
        "epoch_s": steady([h["epoch_time_s"] for h in history]),
        "wall_s": time.perf_counter() - start,
        "accuracy": history[-1].get("train_accuracy"),
    }
    if "comm_s" in history[0]:
        row["comm_s"] = steady([h["comm_s"] for h in history])
    return row


def main() -> None:
    args = parse()
    eo.init(home=tempfile.mkdtemp(prefix="eo-ray-bench-"))
    (x, y), _ = eo.datasets.load_fashion_mnist()
    x, y = x[: args.samples], y[: args.samples]
    rows: list[dict] = []
    ref = reference(x, y, args)
    rows.append({"name": "reference loop (1 process)", "workers": 1, **ref})
    for strategy, framework, options in CONFIGS:
        if (framework == "tensorflow" and args.skip_tf) or (
            strategy == "parameter_server" and args.allreduce_only
        ):
            continue
        label = f"{strategy} {options.get('ps_mode', '')} {framework}".replace("  ", " ")
        by_workers = {}
        for n in args.workers:
            row = distributed(x, y, strategy, framework, options, n, args)
            by_workers[n] = row
            if strategy == "allreduce" and n > 1 and 1 in by_workers:
                row["comm_s"] = max(row["epoch_s"] - by_workers[1]["epoch_s"] / n, 0.0)
                row["comm_estimated"] = True
            rows.append({"name": label, "workers": n, **row})
            print(f"{label:32s} {n} workers: {row['samples_per_s']:8.0f} samples/s", flush=True)
    for row in rows:
        row["speedup_vs_reference"] = row["samples_per_s"] / ref["samples_per_s"]
        if "comm_s" in row:
            row["comm_share"] = row["comm_s"] / row["epoch_s"]
    OUT.mkdir(exist_ok=True)
    report = {
        "args": vars(args),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "rows": rows,
    }
    (OUT / "training_scaling.json").write_text(json.dumps(report, indent=2))
    print()
    print(
        "| configuration | workers | samples/s | speed-up vs reference | epoch s | comm s/epoch |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        comm = "-"
        if "comm_s" in row:
            comm = f"{row['comm_s']:.2f} ({100 * row['comm_share']:.0f} %)"
            comm += " est." if row.get("comm_estimated") else ""
        print(
            f"| {row['name']} | {row['workers']} | {row['samples_per_s']:.0f} | "
            f"{row['speedup_vs_reference']:.2f} | {row['epoch_s']:.2f} | {comm} |"
        )


if __name__ == "__main__":
    main()
