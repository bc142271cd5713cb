"""Ablation scaling: the same study on 1 and 2 (or more) worker actors.

The study: LOCO feature ablation on Titanic with the paper's Keras model (two hidden dense
layers, 80/20 split), 6 features + the base = 7 variants x ``--repeats`` seeds. Each worker
count runs the identical trial list; reported per worker count: wall-clock of the trials
(median over ``--rounds``; worker start-up, i.e. the TensorFlow import, is excluded and
reported separately), speed-up over 1 worker and efficiency = speed-up / workers.

Reference, in the same run: the same trials (same data with the same feature left out, same
seeds, same function) in a plain ``concurrent.futures`` process pool of as many processes, no
Ray and no eo-ray: what this machine itself gives for the workload (its own scaling limit).
Anchor: AutoAblation's "near-linear" scaling at 1, 2, 4 executors. Goal: efficiency >= 0.9.

    python benchmarks/ablation_scaling.py                       # default, ~5 minutes on 2 cores
    python benchmarks/ablation_scaling.py --workers 1 2 4 8 --repeats 4 --epochs 10
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import functools
import multiprocessing
import os
import platform
import statistics
import time
from typing import Any

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
    p.add_argument("--no-reference", action="store_true", help="skip the process-pool reference")
    return p.parse_args()


class _Silent:
    """The reporter of the reference: takes reports, never stops a trial."""

    def report(self, *args: Any, **kwargs: Any) -> None:
        pass


def _pool_init() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    single_thread_tf()


def _reference_trial(dropped: str | None, seed: int, epochs: int) -> float:
    """One trial of the study without any framework: drop the feature, train, evaluate."""
    frame = titanic_frame()
    if dropped is not None:
        frame = frame.drop(columns=[dropped])
    features = [c for c in frame.columns if c != TITANIC_LABEL]
    hparams = {"data": frame, "features": features, "label": TITANIC_LABEL, "seed": seed}
    start = time.perf_counter()
    titanic_keras(hparams, _Silent(), epochs=epochs)
    return time.perf_counter() - start


def reference_wall(processes: int, repeats: int, epochs: int) -> float:
    """Wall-clock of the study's trial list in a plain pool of ``processes`` processes (each
    process warmed with one trial first, as the worker actors are by their builders)."""
    trials = [(f, r) for r in range(repeats) for f in (None, *TITANIC_FEATURES)]
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(processes, mp_context=ctx, initializer=_pool_init) as pool:
        list(pool.map(_reference_trial, [None] * processes, [0] * processes, [1] * processes))
        start = time.perf_counter()
        futures = [pool.submit(_reference_trial, f, seed, epochs) for f, seed in trials]
        for future in futures:
            future.result()
        return time.perf_counter() - start


def ablation_wall(frame: Any, workers: int, repeats: int, epochs: int) -> tuple[float, float]:
    """(trials wall-clock, end-to-end wall-clock) of the study on ``workers`` worker actors."""
    study = eo.ablation.AblationStudy("ablation-scaling", data=frame, label=TITANIC_LABEL)
    study.features.include(*TITANIC_FEATURES)
    start = time.perf_counter()
    result = eo.ablation.run(
        functools.partial(titanic_keras, epochs=epochs),
        study,
        workers=workers,
        repeats=repeats,
        builders={"tf": single_thread_tf},  # import TF at start-up, not in trial 1
        progress=False,
    )
    if result.failed:
        raise SystemExit(f"a trial failed: {result.failed[0].error}")
    return result.wall_s, time.perf_counter() - start


def main() -> None:
    args = parse()
    eo.init()
    frame = titanic_frame()
    walls: dict[int, list[float]] = {w: [] for w in args.workers}
    totals: dict[int, list[float]] = {w: [] for w in args.workers}
    refs: dict[int, list[float]] = {w: [] for w in args.workers}
    for _ in range(args.rounds):  # interleaved, so that noise hits every configuration alike
        for workers in args.workers:
            wall, total = ablation_wall(frame, workers, args.repeats, args.epochs)
            walls[workers].append(wall)
            totals[workers].append(total)
            line = f"workers={workers} eo-ray={wall:.1f}s"
            if not args.no_reference:
                refs[workers].append(reference_wall(workers, args.repeats, args.epochs))
                line += f" process-pool={refs[workers][-1]:.1f}s"
            print(line, flush=True)

    trials = 7 * args.repeats
    print(
        f"\n{trials} trials (7 variants x {args.repeats} seeds, {args.epochs} epochs); "
        f"medians of {args.rounds} rounds; {platform.machine()}, "
        f"{eo.info().resources.get('CPU', 0):.0f} CPUs in Ray\n"
    )
    first = args.workers[0]
    base = statistics.median(walls[first]) * first
    ref_base = statistics.median(refs[first]) * first if refs[first] else None
    print(
        "| workers | eo-ray trials wall (s) | end-to-end incl. start-up (s) | speed-up | "
        "efficiency | process pool wall (s) | pool speed-up | pool efficiency |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for workers in args.workers:
        wall = statistics.median(walls[workers])
        speedup = base / wall
        row = (
            f"| {workers} | {wall:.1f} | {statistics.median(totals[workers]):.1f} | "
            f"{speedup:.2f}x | {speedup / workers:.2f} |"
        )
        if ref_base is not None:
            ref = statistics.median(refs[workers])
            row += f" {ref:.1f} | {ref_base / ref:.2f}x | {ref_base / ref / workers:.2f} |"
        else:
            row += " - | - | - |"
        print(row)
    # Per round, each worker count against 1 worker of the same round: host-speed drift
    # between rounds (up to 20% here) cancels within a round.
    for workers in args.workers[1:]:
        for label, series in (("eo-ray", walls), ("process pool", refs)):
            if not series[first]:
                continue
            effs = [
                one * first / many / workers
                for one, many in zip(series[first], series[workers], strict=True)
            ]
            listed = ", ".join(f"{e:.2f}" for e in effs)
            print(
                f"{label}, {workers} workers: efficiency per round {listed}; "
                f"median {statistics.median(effs):.2f}"
            )


if __name__ == "__main__":
    main()
