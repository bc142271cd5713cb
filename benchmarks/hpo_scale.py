"""Many workers on one machine: worker utilisation and the async/sync ratio as workers grow.

Trials are sleep-based replays of the learning curves that benchmarks/hpo_async_vs_sync.py
recorded (benchmarks/out/cnn_curves.json: accuracy per epoch and seconds per epoch of each
CNN trial), at their recorded speed by default (--time-scale 0.25 replays 4x faster, a
stress test of the hand-off), so hundreds of workers fit on 2 cores (fractional CPU per
worker). For each worker count: async search (median stopping, heartbeats batched every
--heartbeat seconds) and the synchronous baseline (batches, no stopping) on the same trials.

Worker start-up (processes, imports, builders) is reported on its own ("start s") and is not
in the utilisation. Utilisation is busy trial time / (workers x time), the clock starting
when every worker is ready: "util(to end)" runs it to the end of the last trial (the drain,
when fewer trials than workers remain, included); "util(queued)" stops it when the last
trial started (was any worker idle while trials remained?). Goal: >= 97%. "gap" is a
worker's idle time before each trial (hand-off latency).

    python benchmarks/hpo_scale.py                       # 8, 32, 128 workers
    python benchmarks/hpo_scale.py --quick               # 8 and 32 workers, fewer trials
    python benchmarks/hpo_scale.py --workers 8,32,128,256 --trials-per-worker 8
    python benchmarks/hpo_scale.py --workers 2,4,8,16 --trials-per-worker 12 --heartbeat 0 \
        --order random --seed 1                        # dedicated workers, as Maggy's runs

Trials replay the recorded curves in turn (``--order cyclic``, the default) or drawn at
random with replacement (``--order random --seed N``: another search over the same
population of trials). A sleeping worker needs no core, so every worker here behaves as a
worker with a core of its own: in the synchronous baseline a batch's slowest trial does
not speed up when its batch-mates finish (with real CNN trials on fewer cores than workers
it does, and the baseline loses less to its barriers than on a cluster).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import eo_ray as eo
from eo_ray.hpo import MedianStoppingRule, TrialList

CURVES = Path(__file__).resolve().parent / "out" / "cnn_curves.json"


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", default="8,32,128", help="comma-separated worker counts")
    p.add_argument("--trials-per-worker", type=int, default=4)
    p.add_argument("--time-scale", type=float, default=1.0, help="replayed epoch time factor")
    p.add_argument("--heartbeat", type=float, default=0.5, help="heartbeat interval (s)")
    p.add_argument("--no-sync", action="store_true", help="skip the synchronous baseline")
    p.add_argument("--order", choices=["cyclic", "random"], default="cyclic")
    p.add_argument("--seed", type=int, default=0, help="draws of --order random")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.workers, args.trials_per_worker = "8,32", 3
    return args


def replay(hparams, reporter):
    """Sleep through one recorded learning curve, reporting its accuracies."""
    for epoch, accuracy in enumerate(hparams["curve"], start=1):
        time.sleep(hparams["epoch_s"])
        reporter.report(accuracy, step=epoch)
    return hparams["curve"][-1]


def main() -> None:
    args = parse()
    if not CURVES.exists():
        sys.exit(f"{CURVES} is missing: run benchmarks/hpo_async_vs_sync.py first.")
    recorded = json.loads(CURVES.read_text())
    curves = [c for c in recorded["curves"] if c]
    epoch_s = [
        s * args.time_scale
        for s, c in zip(recorded["epoch_s"], recorded["curves"], strict=True)
        if c
    ]
    eo.init(home=tempfile.mkdtemp(prefix="eo-ray-bench-"))
    cpus = eo.info().resources.get("CPU", 2)
    print(
        f"hpo_scale: {len(curves)} recorded CNN curves replayed at x{args.time_scale} time, "
        f"{args.trials_per_worker} trials per worker ({args.order} order, seed {args.seed}), "
        f"heartbeat {args.heartbeat} s, {cpus:g} CPUs"
    )
    print(
        "  workers  trials  start s  async s  sync s  ratio  stopped  util(queued)  util(to end)"
        "  gap p50/p99/max ms  drain s  sync util  best sync/async"
    )
    for w in [int(x) for x in args.workers.split(",")]:
        n = w * args.trials_per_worker
        rng = random.Random(f"{args.seed}-{w}")
        picks = [
            i % len(curves) if args.order == "cyclic" else rng.randrange(len(curves))
            for i in range(n)
        ]
        trials = [{"curve": curves[k], "epoch_s": epoch_s[k], "i": i} for i, k in enumerate(picks)]
        common = {
            "workers": w,
            "resources_per_worker": {"CPU": min(1.0, (cpus - 0.5) / w)},
            "heartbeat_interval": args.heartbeat,
            "progress": False,
            "plots": False,
        }
        asy = eo.hpo.search(
            replay,
            None,
            n,
            optimizer=TrialList(trials),
            metric="accuracy",
            early_stopping=MedianStoppingRule(min_trials=3),
            name=f"scale-async-{w}",
            **common,
        )
        sync = (
            None
            if args.no_sync
            else eo.hpo.search(
                replay,
                None,
                n,
                optimizer=TrialList(trials),
                metric="accuracy",
                early_stopping=None,
                batched=True,
                name=f"scale-sync-{w}",
                **common,
            )
        )
        tl = asy.timeline()
        sync_s = sync.wall_s if sync else float("nan")
        sync_util = sync.timeline().utilisation if sync else float("nan")
        sync_best = sync.best_value if sync else float("nan")
        gaps = f"{tl.gap_ms(0.5):.0f}/{tl.gap_ms(0.99):.0f}/{max(tl.gaps) * 1000:.0f}"
        print(
            f"  {w:7d}  {n:6d}  {asy.startup_s:7.1f}  {asy.wall_s:7.1f}  {sync_s:6.1f}  "
            f"{asy.wall_s / sync_s:5.3f}  {asy.count('stopped'):7d}  "
            f"{tl.utilisation_while_queued:12.3f}  {tl.utilisation:12.3f}  {gaps:>18s}  "
            f"{tl.drain_s:7.2f}  {sync_util:9.3f}  {sync_best:.4f}/{asy.best_value:.4f}",
            flush=True,
        )
    eo.shutdown()


if __name__ == "__main__":
    main()
