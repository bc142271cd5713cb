"""Reference ablation job: LOCO feature ablation on Titanic (AutoAblation paper, Table 3).

Features pclass, sex, sibsp, age, parch, fare, each left out in turn; a Keras model with two
hidden dense layers (64, 32), 80/20 split, ``--epochs`` epochs, ``--repeats`` seeds per
variant; every trial runs on the HPO worker actors. The data comes from a feature view
(``--source view``, the default) or straight from a DataFrame (``--source frame``).

    python jobs/ablation_titanic.py [--repeats 5] [--epochs 10] [--workers 2] [--json]
    python jobs/ablation_titanic.py --smoke     (seconds: one repeat of one epoch; for tests)
    ray job submit --working-dir . -- python jobs/ablation_titanic.py
"""

from __future__ import annotations

import argparse
import functools

import eo_ray as eo
from eo_ray.ablation.cli import print_ranking
from eo_ray.ablation.examples import (
    TITANIC_FEATURES,
    TITANIC_LABEL,
    titanic_feature_view,
    titanic_frame,
    titanic_keras,
    titanic_logistic,
)
from eo_ray.console import console, emit_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="seeds per variant (paper: 5)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per trial (paper: 10)")
    parser.add_argument("--workers", type=int, default=None, help="worker actors (default: CPUs)")
    parser.add_argument("--model", choices=("keras", "logistic"), default="keras")
    parser.add_argument("--source", choices=("view", "frame"), default="view")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--smoke", action="store_true", help="a seconds-long run: one repeat of one epoch"
    )
    args = parser.parse_args()
    if args.smoke:
        args.repeats, args.epochs = 1, 1

    eo.init()
    if args.source == "view":
        study = eo.ablation.AblationStudy("titanic-features", data=titanic_feature_view())
    else:
        study = eo.ablation.AblationStudy(
            "titanic-features", data=titanic_frame(), label=TITANIC_LABEL
        )
    study.features.include(*TITANIC_FEATURES)
    train_fn = (
        functools.partial(titanic_keras, epochs=args.epochs)
        if args.model == "keras"
        else titanic_logistic
    )
    result = eo.ablation.run(
        train_fn, study, workers=args.workers, repeats=args.repeats, metric="accuracy"
    )
    if args.json:
        emit_json(result.to_dict())
        return
    print_ranking(result.to_dict()["ranking"], f"Titanic feature ablation · {args.model}")
    console.print(
        f"{len(result.trials)} trials on {result.workers} workers in {result.wall_s:.1f} s · "
        f"record {result.experiment_id} · chart {result.artifacts['html']}"
    )


if __name__ == "__main__":
    main()
