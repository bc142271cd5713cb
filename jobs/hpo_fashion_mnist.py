"""Asynchronous hyperparameter search of a 3-layer CNN on Fashion-MNIST (median stopping).

Runs as ``python jobs/hpo_fashion_mnist.py`` on a local Ray, or on a cluster with
``ray job submit --working-dir . -- python jobs/hpo_fashion_mnist.py --trials 64 --workers 16``
(add ``--gpus-per-worker 1`` on GPU nodes). The search is recorded under EO_RAY_HOME
(``eo-ray experiments list``); ``--resume`` continues an interrupted search of the same name;
``--smoke`` is a seconds-long run for tests.
"""

from __future__ import annotations

import argparse

from rich.console import Console

import eo_ray as eo
from eo_ray.hpo.examples import CNN_SPACE, data_builder, fashion_mnist_cnn

console = Console()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=16)
    p.add_argument("--workers", type=int, default=None, help="default: one per CPU")
    p.add_argument("--cpus-per-worker", type=float, default=1.0)
    p.add_argument("--gpus-per-worker", type=float, default=0.0)
    p.add_argument("--optimizer", default="random", help="random, tpe, gp, asha, hyperband")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--train-size", type=int, default=2000)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--name", default="fashion-mnist-cnn")
    p.add_argument("--resume", action="store_true")
    p.add_argument(
        "--smoke", action="store_true", help="a seconds-long run: 4 trials, 1 epoch, 256 images"
    )
    args = p.parse_args()
    if args.smoke:
        args.trials, args.epochs, args.train_size = 4, 1, 256

    eo.init()
    resources = {"CPU": args.cpus_per_worker}
    if args.gpus_per_worker:
        resources["GPU"] = args.gpus_per_worker
    budgeted = args.optimizer in ("asha", "hyperband")

    def train(hparams, reporter):
        if budgeted:  # ASHA/Hyperband pass the number of epochs as hparams["budget"]
            hparams = {**hparams, "epochs": hparams["budget"]}
        return fashion_mnist_cnn({"epochs": args.epochs, **hparams}, reporter)

    result = eo.hpo.search(
        train,
        CNN_SPACE,
        args.trials,
        optimizer=args.optimizer,
        early_stopping="none" if budgeted else "median",
        metric="accuracy",
        mode="max",
        workers=args.workers,
        resources_per_worker=resources,
        seed=args.seed,
        name=args.name,
        builders={"data": data_builder(args.train_size, 1000)},
        resume=args.resume,
        dataset={"dataset": "fashion_mnist", "train_size": args.train_size},
    )
    summary = result.summary()
    print(result.to_pandas().drop(columns=["history", "error"]).to_string(index=False))
    console.print(
        f"best accuracy {summary['best_value']:.4f} with {summary['best_hparams']}; "
        f"{summary['stopped']} of {summary['trials']} stopped early; {summary['wall_s']:.1f} s; "
        f"record {result.experiment_id} (plots: {', '.join(summary.get('plots', []))})"
    )
    eo.shutdown()


if __name__ == "__main__":
    main()
