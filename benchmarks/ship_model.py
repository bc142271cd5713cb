"""The reference ship classifier's inputs against the chip statistics it replaced, on many
stratified splits: how often does one 70-chip test split put each above the majority class?

The demo (``jobs/demo.py --seed N``) draws one 80/20 split per seed; its test accuracy moves
by about 0.05 from split to split. This measures the model on ``--splits`` seeded splits
(scikit-learn's, seeds from ``--first``, none of them the demo's) with the features the
pipeline stores, both feature sets with the same model and hyperparameters, paired:

    python benchmarks/ship_model.py [--splits 200] [--first 400] [--json OUT]
    python benchmarks/ship_model.py --curve [--splits 200] [--first 400] [--json OUT]
    python benchmarks/ship_model.py --quick [--curve]   (10 splits: seconds; for tests)

Reference in the same run: the majority class of each split, and the model on the per-band
dB statistics (``STATISTICS``, the model's inputs before the ship's shape was measured).

``--curve`` is the learning curve instead: the model on its inputs, trained on a stratified
quarter, half, three quarters and all of each split's training chips and tested on the same
test chips. It answers whether the model is limited by the 351 chips, and how far the
per-split margin over the majority class is from what five of five seeds need.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "jobs"))

import ship_classification as ships  # noqa: E402  (the job's feature code, as the demo runs it)

HPARAMS = {"min_samples_leaf": 2, "C": 0.3, "class_weight_power": 0.0}  # the HPO's middle


@functools.cache
def feature_rows(size: int = 64):
    """The feature rows the pipeline inserts (its ``features`` step's Dataset), as pandas
    (built once per process: a second ``main`` call reuses them)."""
    import ray.cloudpickle

    import eo_ray as eo

    ray.cloudpickle.register_pickle_by_value(ships)  # the job module is not on the workers' path
    eo.init()
    rows = ships.feature_rows(size).drop_columns(["image"]).to_pandas()
    return rows.sort_values("chip_id", ignore_index=True)


def splits(y: np.ndarray, seeds: range):
    """Per seed: the seed, the stratified 80/20 split's training and test rows, and the
    test accuracy of always answering the training rows' majority class."""
    from sklearn.model_selection import train_test_split

    for seed in seeds:
        fit, test = train_test_split(
            np.arange(len(y)), test_size=0.2, stratify=y, random_state=seed
        )
        yield seed, fit, test, float((y[test] == np.bincount(y[fit]).argmax()).mean())


def fit_and_score(x, y: np.ndarray, fit: np.ndarray, test: np.ndarray, seed: int) -> dict:
    """The model fitted on rows ``fit``: its accuracy and balanced accuracy on rows ``test``."""
    from sklearn.metrics import balanced_accuracy_score

    model = ships.ship_model(HPARAMS, y[fit], seed).fit(x.iloc[fit], y[fit])
    predicted = model.predict(x.iloc[test])
    return {
        "accuracy": float((predicted == y[test]).mean()),
        "balanced": float(balanced_accuracy_score(y[test], predicted)),
    }


def compare(frame, seeds: range) -> dict:
    """Accuracy and balanced accuracy of the model on both feature sets, split by split."""
    y = frame["label_id"].to_numpy().astype(np.int64)
    sets = {"shape (INPUTS)": ships.INPUTS, "dB statistics (STATISTICS)": ships.STATISTICS}
    inputs = {name: ships.model_inputs(frame, cols) for name, cols in sets.items()}
    rows = []
    for seed, fit, test, majority in splits(y, seeds):
        row = {"seed": seed, "majority": majority}
        for name, x in inputs.items():
            for key, value in fit_and_score(x, y, fit, test, seed).items():
                row[f"{name} {key}"] = value
        rows.append(row)
    return {"sets": list(sets), "rows": rows}


CURVE = (0.25, 0.5, 0.75, 1.0)  # shares of each split's training chips
PASS_ALL = 0.9  # "five of five seeds pass" wanted at least this often


def learning_curve(frame, seeds: range, shares: tuple[float, ...] = CURVE) -> dict:
    """The model on its inputs, trained on ``shares`` of each split's training chips
    (stratified subsets) and tested on that split's test chips, split by split."""
    from sklearn.model_selection import train_test_split

    y = frame["label_id"].to_numpy().astype(np.int64)
    x = ships.model_inputs(frame)
    rows = []
    for seed, fit, test, majority in splits(y, seeds):
        for share in shares:
            part = fit
            if share < 1.0:
                part, _ = train_test_split(
                    fit, train_size=share, stratify=y[fit], random_state=seed
                )
            rows.append(
                {
                    "seed": seed,
                    "share": share,
                    "training chips": len(part),
                    "majority": majority,
                    **fit_and_score(x, y, part, test, seed),
                }
            )
    return {"rows": rows}


def summarise_curve(result: dict) -> list[dict]:
    """One line per training size: mean accuracy, the margin over the majority class and its
    spread over splits, the share of splits meeting both targets and what that makes of five
    seeds; then the margin five of five seeds need (a normal margin with today's spread)
    and, at the slope of the curve's last doubling, about how many training chips that takes
    (an extrapolation, said as one)."""
    from scipy.stats import norm

    rows, out = result["rows"], []
    sizes = sorted({r["training chips"] for r in rows})
    margins = {}
    for n in sizes:
        part = [r for r in rows if r["training chips"] == n]
        acc = np.array([r["accuracy"] for r in part])
        margin = acc - np.array([r["majority"] for r in part])
        bal = np.array([r["balanced"] for r in part])
        both = float(((margin > 0) & (bal >= 0.45)).mean())
        margins[n] = margin
        out.append(
            {
                "training chips": n,
                "splits": len(part),
                "mean accuracy": round(float(acc.mean()), 3),
                "mean balanced accuracy": round(float(bal.mean()), 3),
                "mean margin over majority": round(float(margin.mean()), 4),
                "margin sd over splits": round(float(margin.std(ddof=1)), 4),
                "split meets both": round(both, 3),
                "five of five seeds meet both": round(both**5, 3),
            }
        )
    spread = float(margins[sizes[-1]].std(ddof=1))
    needed = float(norm.ppf(PASS_ALL ** (1 / 5))) * spread
    # The curve flattens: the last doubling (half of the training chips to all of them) is
    # the slope to extrapolate from, not a fit through the smallest sizes.
    half = min(sizes, key=lambda n: abs(n - sizes[-1] / 2))
    gained = float(margins[sizes[-1]].mean() - margins[half].mean())
    slope = gained / float(np.log2(sizes[-1] / half))
    gap = needed - float(margins[sizes[-1]].mean())
    chips = round(sizes[-1] * 2 ** (gap / slope)) if slope > 0 else None  # None: no gain
    out.append(
        {
            "margin five of five need": f"{needed:.3f} ({PASS_ALL:.0%} of the time; the margin "
            f"alone, normal with today's spread {spread:.3f})",
            f"margin gained from {half} to {sizes[-1]} training chips": round(slope, 4),
            "training chips for that margin at that slope (extrapolated)": chips,
        }
    )
    return out


def summarise(result: dict) -> list[dict]:
    """One line per feature set: means, and the share of splits that miss each target."""
    rows, out = result["rows"], []
    majority = np.array([r["majority"] for r in rows])
    for name in result["sets"]:
        acc = np.array([r[f"{name} accuracy"] for r in rows])
        bal = np.array([r[f"{name} balanced"] for r in rows])
        out.append(
            {
                "inputs": name,
                "splits": len(rows),
                "mean accuracy": round(float(acc.mean()), 3),
                "median accuracy": round(float(np.median(acc)), 3),
                "mean majority": round(float(majority.mean()), 3),
                "mean balanced accuracy": round(float(bal.mean()), 3),
                "at or below majority": round(float((acc <= majority).mean()), 3),
                "balanced below 0.45": round(float((bal < 0.45).mean()), 3),
                "split meets both": round(float(((acc > majority) & (bal >= 0.45)).mean()), 3),
            }
        )
    new, old = result["sets"]
    diff = np.array([r[f"{new} accuracy"] - r[f"{old} accuracy"] for r in rows])
    bdiff = np.array([r[f"{new} balanced"] - r[f"{old} balanced"] for r in rows])
    se = lambda d: float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")  # noqa: E731
    out.append(
        {
            "inputs": "paired difference (shape - statistics)",
            "accuracy": f"{diff.mean():+.4f} +- {se(diff):.4f}",
            "balanced accuracy": f"{bdiff.mean():+.4f} +- {se(bdiff):.4f}",
        }
    )
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the comparison; print and return its summary lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=200)
    parser.add_argument("--first", type=int, default=400, help="the first split's seed")
    parser.add_argument("--quick", action="store_true", help="10 splits")
    parser.add_argument("--curve", action="store_true", help="the learning curve instead")
    parser.add_argument("--json", type=Path, help="write the per-split rows and summary here")
    args = parser.parse_args(argv)
    splits = 10 if args.quick else args.splits
    start = time.perf_counter()
    frame = feature_rows()
    seeds = range(args.first, args.first + splits)
    if args.curve:
        result = learning_curve(frame, seeds, (0.5, 1.0) if args.quick else CURVE)
        summary = summarise_curve(result)
    else:
        result = compare(frame, seeds)
        summary = summarise(result)
    for line in summary:
        print(json.dumps(line))
    print(f"{splits} splits in {time.perf_counter() - start:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({**result, "summary": summary}, indent=1))
    return summary


if __name__ == "__main__":
    main()
