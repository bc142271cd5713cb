"""Many workers on one machine: worker utilisation and the async/sync ratio as workers grow.

Trials are sleep-based replays of recorded learning curves (default
benchmarks/paper/hpo_curves.json, committed, written by ``benchmarks/paper.py --only hpo``:
accuracy per epoch and seconds per epoch of each CNN trial of the synchronous run), at
their recorded speed by default (--time-scale 0.25 replays 4x faster, a stress test of
the hand-off), so hundreds of workers fit on 2 cores (fractional CPU per
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
from pathlib import Path

import eo_ray as eo
from eo_ray.hpo import MedianStoppingRule, TrialList
from eo_ray.hpo.examples import replay_curve as replay

CURVES = Path(__file__).resolve().parent / "paper" / "hpo_curves.json"


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", default="8,32,128", help="comma-separated worker counts")
    p.add_argument("--trials-per-worker", type=int, default=4)
    p.add_argument("--time-scale", type=float, default=1.0, help="replayed epoch time factor")
    p.add_argument("--heartbeat", type=float, default=0.5, help="heartbeat interval (s)")
    p.add_argument("--no-sync", action="store_true", help="skip the synchronous baseline")
    p.add_argument("--order", choices=["cyclic", "random"], default="cyclic")
    p.add_argument("--seed", type=int, default=0, help="draws of --order random")
    p.add_argument("--curves", default=str(CURVES), help="recorded curves (JSON: curves, epoch_s)")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.workers, args.trials_per_worker = "8,32", 3
    return args


def load_curves(path: Path, time_scale: float = 1.0) -> tuple[list, list]:
    """The recorded (non-empty) curves of ``path`` and their seconds per epoch x ``time_scale``."""
    if not path.exists():
        sys.exit(f"{path} is missing: run `python benchmarks/paper.py --only hpo` first.")
    recorded = json.loads(path.read_text())
    pairs = [(c, s) for c, s in zip(recorded["curves"], recorded["epoch_s"], strict=True) if c]
    return [c for c, _ in pairs], [s * time_scale for _, s in pairs]


def replay_pair(
    trials: list[dict],
    workers: int,
    rule: MedianStoppingRule,
    *,
    cpus: float,
    heartbeat: float,
    sync: bool = True,
    name: str = "scale",
):
    """Async search (``rule``) and, if ``sync``, the synchronous baseline over the replayed
    ``trials`` on ``workers`` workers sharing ``cpus`` cores: (async result, sync or None)."""
    common = {
        "workers": workers,
        "resources_per_worker": {"CPU": min(1.0, (cpus - 0.5) / workers)},
        "heartbeat_interval": heartbeat,
        "progress": False,
        "plots": False,
        "metric": "accuracy",
    }
    n = len(trials)
    asy = eo.hpo.search(
        replay,
        None,
        n,
        optimizer=TrialList(trials),
        early_stopping=rule,
        name=f"{name}-async-{workers}",
        **common,
    )
    if not sync:
        return asy, None
    return asy, eo.hpo.search(
        replay,
        None,
        n,
        optimizer=TrialList(trials),
        early_stopping=None,
        batched=True,
        name=f"{name}-sync-{workers}",
        **common,
    )


def main() -> None:
    args = parse()
    curves, epoch_s = load_curves(Path(args.curves), args.time_scale)
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
        asy, sync = replay_pair(
            trials,
            w,
            MedianStoppingRule(min_trials=3),
            cpus=cpus,
            heartbeat=args.heartbeat,
            sync=not args.no_sync,
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
