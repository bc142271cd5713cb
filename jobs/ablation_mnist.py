"""Reference ablation job: LOCO layer ablation of the MNIST CNN (AutoAblation paper, Table 4).

Base model: Conv2D, Conv2D (``second_conv``), MaxPooling2D, Dropout, Flatten, Dense
(``dense_layer``), Dropout, output; ablated: the second conv, the dense layer and each
dropout. ``--module`` adds the module study: an Inception-style functional model on
OpenSARShip chips with each of its two modules removed (``stem..mixed_a``,
``mixed_a..mixed_b``).

    python jobs/ablation_mnist.py [--train-size 10000] [--epochs 1] [--repeats 1] [--paper-size]
    python jobs/ablation_mnist.py --smoke     (seconds: 512 images, one epoch; for tests)
    ray job submit --working-dir . -- python jobs/ablation_mnist.py --paper-size --epochs 5
"""

from __future__ import annotations

import argparse
import functools

import eo_ray as eo
from eo_ray.ablation.cli import print_ranking
from eo_ray.ablation.examples import (
    mnist_data,
    mnist_layer_study,
    mnist_train,
    ship_data,
    ship_module_study,
    ship_train,
)
from eo_ray.console import console, emit_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=10000, help="MNIST training images")
    parser.add_argument("--test-size", type=int, default=2000, help="MNIST test images")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1, help="seeds per variant")
    parser.add_argument("--workers", type=int, default=None, help="worker actors (default: CPUs)")
    parser.add_argument(
        "--paper-size",
        action="store_true",
        help="32/64 filters and 128 dense units (default 8/16, 32)",
    )
    parser.add_argument("--module", action="store_true", help="also run the module study")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--smoke", action="store_true", help="a seconds-long run: 512/256 images, one epoch"
    )
    args = parser.parse_args()
    if args.smoke:
        args.train_size, args.test_size, args.epochs, args.repeats = 512, 256, 1, 1

    eo.init()
    size = (
        {"filters": (32, 64), "dense": 128}
        if args.paper_size
        else {"filters": (8, 16), "dense": 32}
    )
    study = mnist_layer_study(**size)
    results = {
        "mnist": eo.ablation.run(
            functools.partial(mnist_train, epochs=args.epochs),
            study,
            workers=args.workers,
            repeats=args.repeats,
            builders={"mnist": functools.partial(mnist_data, args.train_size, args.test_size)},
        )
    }
    if args.module:
        ships = ship_module_study()
        results["ships"] = eo.ablation.run(
            functools.partial(ship_train, epochs=max(args.epochs, 3)),
            ships,
            workers=args.workers,
            repeats=args.repeats,
            builders={"ships": ship_data},
        )
    if args.json:
        emit_json({name: r.to_dict() for name, r in results.items()})
        return
    for name, result in results.items():
        print_ranking(result.to_dict()["ranking"], f"{name} ablation · accuracy")
        console.print(
            f"{len(result.trials)} trials on {result.workers} workers in {result.wall_s:.1f} s"
            f" · record {result.experiment_id} · chart {result.artifacts['html']}"
        )


if __name__ == "__main__":
    main()
