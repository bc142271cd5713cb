"""Ablation scaling: the same study on 1 and 2 (or more) worker actors.

The study: LOCO feature ablation on Titanic with the paper's Keras model (two hidden dense
layers, 80/20 split), 6 features + the base = 7 variants x ``--repeats`` seeds. Each worker
count runs the identical trial list; reported per worker count: wall-clock of the trials
(median over ``--rounds``; worker start-up, i.e. the TensorFlow import, is excluded and
reported separately), speed-up over 1 worker and efficiency = speed-up / workers.
Anchor: AutoAblation's "near-linear" scaling at 1, 2, 4 executors. Goal: efficiency >= 0.9.

    python benchmarks/ablation_scaling.py                       # default, ~4 minutes on 2 cores
    python benchmarks/ablation_scaling.py --workers 1 2 4 8 --repeats 4 --epochs 10
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import time

import eo_ray as eo
from eo_ray.ablation.examples import (
    TITANIC_FEATURES,
    TITANIC_LABEL,
    single_thread_tf,
    titanic_frame,
    titanic_keras,
)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=2, help="seeds per variant")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3, help="runs per worker count (median)")
    return p.parse_args()


def main() -> None:
    args = parse()
    eo.init()
    frame = titanic_frame()
    train_fn = functools.partial(titanic_keras, epochs=args.epochs)
    walls: dict[int, list[float]] = {w: [] for w in args.workers}
    totals: dict[int, list[float]] = {w: [] for w in args.workers}
    trials = 0
    for _ in range(args.rounds):
        for workers in args.workers:
            study = eo.ablation.AblationStudy("ablation-scaling", data=frame, label=TITANIC_LABEL)
            study.features.include(*TITANIC_FEATURES)
            start = time.perf_counter()
            result = eo.ablation.run(
                train_fn,
                study,
                workers=workers,
                repeats=args.repeats,
                builders={"tf": single_thread_tf},  # import TF at start-up, not in trial 1
                progress=False,
            )
            totals[workers].append(time.perf_counter() - start)
            walls[workers].append(result.wall_s)
            trials = len(result.trials)
            if result.failed:
                raise SystemExit(f"a trial failed: {result.failed[0].error}")
            print(f"workers={workers} trials={trials} wall={result.wall_s:.1f}s", flush=True)
    base = statistics.median(walls[args.workers[0]]) * args.workers[0]
    print(
        f"\n{trials} trials (7 variants x {args.repeats} seeds, {args.epochs} epochs); "
        f"medians of {args.rounds} rounds; {platform.machine()}, "
        f"{eo.info().resources.get('CPU', 0):.0f} CPUs in Ray\n"
    )
    print("| workers | trials wall (s) | end-to-end incl. start-up (s) | speed-up | efficiency |")
    print("|---|---|---|---|---|")
    for workers in args.workers:
        wall = statistics.median(walls[workers])
        speedup = base / wall
        print(
            f"| {workers} | {wall:.1f} | {statistics.median(totals[workers]):.1f} | "
            f"{speedup:.2f}x | {speedup / workers:.2f} |"
        )


if __name__ == "__main__":
    main()
