"""eo.hpo.search vs Ray Tune (actor reuse on): the same CNN search and stopping rule, plus a
no-op workload that isolates the per-trial overhead, in one run.

Both get the same trial points (random draws per (seed, trial id)), the same median stopping
rule (Tune's MedianStoppingRule, grace 1 iteration, 3 other trials at that step), the same number of
concurrent workers with the same CPUs, and the data loaded once (Tune: with_parameters).
Per-trial overhead = (workers x wall - time inside trial functions) / trials.
Goals: overhead < 10 ms and <= 1/5 of Tune's; CNN wall-clock below Tune's.

    python benchmarks/hpo_vs_tune.py            # default, a few minutes on 2 cores
    python benchmarks/hpo_vs_tune.py --quick
    python benchmarks/hpo_vs_tune.py --trials 48 --noop-trials 1000 --workers 8
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time

import numpy as np

import eo_ray as eo
from eo_ray.hpo import MedianStoppingRule, Reporter, TrialList
from eo_ray.hpo.examples import CNN_SPACE, data_builder, fashion_mnist_cnn, load_data


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=16, help="CNN trials")
    p.add_argument("--noop-trials", type=int, default=200)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--cpus-per-worker", type=float, default=0.5)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--train-size", type=int, default=1500)
    p.add_argument("--test-size", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=1, help="repeats of the no-op workload")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.trials, args.noop_trials, args.epochs, args.train_size = 6, 40, 3, 800
    return args


def noop(hparams, reporter):
    reporter.report(1.0, step=1)
    return 1.0


class TuneReporter(Reporter):
    """Adapts ``reporter.report`` to ``ray.tune.report`` so the same function runs in Tune;
    each report carries the seconds spent inside the function so far."""

    def _after_report(self, report):
        from ray import tune

        tune.report({"accuracy": report.value, "step": report.step, "inside_s": report.time})
        return None


def tune_trainable(config, data=None, fn=None):
    fn(dict(config), TuneReporter(context={"data": data}))


def run_tune(fn, points, args, data, stopping: bool) -> tuple[float, float, float, int, int]:
    """Run ``points`` through Tune; returns wall, time inside functions, best, stopped, count."""
    epochs = args.epochs if stopping else 1
    from ray import tune
    from ray.tune.schedulers import FIFOScheduler
    from ray.tune.schedulers import MedianStoppingRule as TuneMedian
    from ray.tune.search.basic_variant import BasicVariantGenerator

    trainable = tune.with_resources(
        tune.with_parameters(tune_trainable, data=data, fn=fn), {"cpu": args.cpus_per_worker}
    )
    scheduler = (
        TuneMedian(time_attr="training_iteration", grace_period=1, min_samples_required=3)
        if stopping
        else FIFOScheduler()
    )
    if "kernel" in points[0]:
        space = {
            "kernel": tune.randint(2, 9),
            "pool": tune.randint(2, 9),
            "dropout": tune.uniform(0.01, 0.99),
        }
    else:
        space = {"i": tune.randint(0, 2**31)}
    tuner = tune.Tuner(
        trainable,
        param_space=space,
        tune_config=tune.TuneConfig(
            metric="accuracy",
            mode="max",
            num_samples=len(points),
            scheduler=scheduler,
            search_alg=BasicVariantGenerator(points_to_evaluate=points),
            reuse_actors=True,
            max_concurrent_trials=args.workers,
        ),
        run_config=tune.RunConfig(storage_path=tempfile.mkdtemp(prefix="tune-"), verbose=0),
    )
    start = time.perf_counter()
    grid = tuner.fit()
    wall = time.perf_counter() - start
    frames = [r.metrics_dataframe for r in grid if r.metrics_dataframe is not None]
    inside = sum(float(f["inside_s"].max()) for f in frames if "inside_s" in f)
    best = max(
        (float(f["accuracy"].max()) for f in frames if "accuracy" in f), default=float("nan")
    )
    stopped = sum(1 for f in frames if len(f) < epochs)
    return wall, inside, best, stopped, len(grid)


def points_for(n: int, seed: int) -> list[dict]:
    return [CNN_SPACE.sample(np.random.default_rng([seed, i])) for i in range(n)]


def main() -> None:
    args = parse()
    logging.getLogger("ray.tune").setLevel(logging.ERROR)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    eo.init(home=tempfile.mkdtemp(prefix="eo-ray-bench-"))
    w, res = args.workers, {"CPU": args.cpus_per_worker}

    # 1. per-trial overhead on a no-op workload
    noop_points = [{"i": i} for i in range(args.noop_trials)]
    ours_overhead, tune_overhead, ours_e2e = [], [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        r = eo.hpo.search(
            noop,
            None,
            len(noop_points),
            optimizer=TrialList(noop_points),
            early_stopping=None,
            workers=w,
            resources_per_worker=res,
            heartbeat_interval=0.0,
            plots=False,
            progress=False,
            name="bench-noop",
        )
        ours_e2e.append(time.perf_counter() - start)
        busy = sum(t.duration_s for t in r.trials)
        ours_overhead.append((w * r.wall_s - busy) / len(noop_points))
        wall, inside, _, _, count = run_tune(noop, noop_points, args, None, stopping=False)
        tune_overhead.append((w * wall - inside) / count)
    o, t = statistics.median(ours_overhead), statistics.median(tune_overhead)

    # 2. the CNN search with median stopping
    points = points_for(args.trials, args.seed)

    def cnn(hparams, reporter):
        return fashion_mnist_cnn({**hparams, "epochs": args.epochs}, reporter)

    start = time.perf_counter()
    ours = eo.hpo.search(
        cnn,
        CNN_SPACE,
        args.trials,
        optimizer="random",
        seed=args.seed,
        early_stopping=MedianStoppingRule(min_trials=3),
        workers=w,
        resources_per_worker=res,
        builders={"data": data_builder(args.train_size, args.test_size)},
        heartbeat_interval=0.0,
        progress=False,
        name="bench-vs-tune",
    )
    ours_cnn = time.perf_counter() - start
    assert [dict(x.hparams) for x in sorted(ours.trials, key=lambda x: x.id)] == points
    data = load_data(args.train_size, args.test_size)
    tune_cnn, _, tune_best, tune_stopped, count = run_tune(cnn, points, args, data, stopping=True)

    print(
        f"hpo_vs_tune: {w} workers x {args.cpus_per_worker} CPU, {os.cpu_count()} CPUs; "
        f"no-op {args.noop_trials} trials x {args.repeats}; CNN {args.trials} trials, "
        f"{args.epochs} epochs, {args.train_size}/{args.test_size} images"
    )
    print(
        f"  per-trial overhead: eo-ray {o * 1000:.1f} ms, Tune {t * 1000:.1f} ms, "
        f"ratio {o / t:.3f}   (goals < 10 ms, <= 0.2)"
    )
    print(f"  no-op end-to-end incl. worker start: eo-ray {statistics.median(ours_e2e):.1f} s")
    print(
        f"  CNN wall-clock end-to-end: eo-ray {ours_cnn:.1f} s (loop {ours.wall_s:.1f} s), "
        f"Tune {tune_cnn:.1f} s, ratio {ours_cnn / tune_cnn:.3f}"
    )
    print(
        f"  CNN best acc: eo-ray {ours.best_value:.4f}, Tune {tune_best:.4f}; stopped early: "
        f"eo-ray {ours.count('stopped')}/{args.trials}, Tune {tune_stopped}/{count}"
    )
    eo.shutdown()


if __name__ == "__main__":
    main()
