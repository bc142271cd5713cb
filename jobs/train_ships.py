"""Reference training job: a CNN ship classifier on the OpenSARShip Sentinel-1 chips.

Trains the same CNN with each strategy on 2 workers (all-reduce torch, all-reduce
TensorFlow, parameter server sync and async) and registers every model as a version of
``opensarship-cnn`` with its test accuracy, then prints the best version.

    python jobs/train_ships.py [--epochs 12] [--workers 2] [--size 48] [--gpu]
    python jobs/train_ships.py --smoke     (one epoch on 16-px chips, one run per strategy)
    ray job submit --working-dir . -- python jobs/train_ships.py

Chips are VV backscatter in dB, centre-cropped or padded to ``size``×``size`` with numpy,
standardised with the training mean/std. Classes: Cargo, Tanker, Other (the remaining
types). Split: stratified 70 % train, 10 % validation (reported each epoch), 20 % test.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

import eo_ray as eo
from eo_ray.train.recipes import keras_classifier_loop, torch_classifier_loop

console = Console()
CLASSES = ("Cargo", "Tanker", "Other")
MODEL = "opensarship-cnn"
RUNS = (
    ("allreduce", "torch", {}),
    ("allreduce", "tensorflow", {}),
    ("parameter_server", "torch", {"ps_mode": "sync"}),
    ("parameter_server", "torch", {"ps_mode": "async"}),
)


def fit_chip(chip: np.ndarray, size: int) -> np.ndarray:
    """VV band in dB, centre-cropped or edge-padded to ``size``×``size``."""
    db = 10.0 * np.log10(np.maximum(chip[0].astype(np.float64), 1e-6))
    h, w = db.shape
    top, left = max((h - size) // 2, 0), max((w - size) // 2, 0)
    db = db[top : top + size, left : left + size]
    ph, pw = size - db.shape[0], size - db.shape[1]
    db = np.pad(
        db,
        ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)),
        mode="constant",
        constant_values=db.min(),
    )
    return db.astype(np.float32)


def load_chips(size: int) -> tuple[np.ndarray, np.ndarray]:
    """All chips as N×1×size×size float32 and labels 0..2."""
    ships = eo.datasets.load_opensarship()
    labels = ships.manifest["class"].map(lambda c: CLASSES.index(c) if c in CLASSES else 2)
    x = np.stack([fit_chip(ships.read(i), size) for i in range(len(ships.manifest))])
    return x[:, None], labels.to_numpy(dtype=np.int64)


def split(y: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train / validation / test indices (70 / 10 / 20)."""
    rng = np.random.default_rng(seed)
    parts: tuple[list, list, list] = ([], [], [])
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        n_test, n_val = round(0.2 * len(idx)), round(0.1 * len(idx))
        parts[2].extend(idx[:n_test])
        parts[1].extend(idx[n_test : n_test + n_val])
        parts[0].extend(idx[n_test + n_val :])
    return tuple(rng.permutation(np.array(p)) for p in parts)  # type: ignore[return-value]


def load_export(result: eo.train.TrainResult):
    """The model a training run exported (TorchScript or .keras), read from the workspace."""
    import tempfile
    from pathlib import Path

    from eo_ray.models import get_format

    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / result.model_uri.rsplit("/", 1)[1]
        local.write_bytes(eo.Workspace(result.root).read_bytes(result.model_uri))
        return get_format(result.framework).load(local, {})


def accuracy(model, framework: str, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of a loaded torch or Keras model on the test chips."""
    if framework == "torch":
        import torch

        with torch.no_grad():
            pred = model(torch.from_numpy(x)).argmax(1).numpy()
    else:
        pred = model.predict(np.moveaxis(x, 1, -1), verbose=0).argmax(1)
    return float((pred == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--gpu", action="store_true", help="train on GPU workers")
    parser.add_argument(
        "--smoke", action="store_true", help="one epoch on 16-px chips, one run per strategy"
    )
    args = parser.parse_args()
    if args.smoke:
        args.epochs, args.size = 1, 16

    eo.init()
    x, y = load_chips(args.size)
    train, val, test = split(y)
    mean, std = x[train].mean(), x[train].std()
    x = (x - mean) / std
    console.print(
        f"OpenSARShip: {len(y)} chips, classes {dict(zip(CLASSES, np.bincount(y), strict=True))}"
        f"; train {len(train)}, validation {len(val)}, test {len(test)}; majority-class test "
        f"accuracy {(y[test] == np.bincount(y[train]).argmax()).mean():.3f}"
    )
    config = {
        "epochs": args.epochs,
        "batch_size": 16,
        "lr": 0.01,
        "channels": 1,
        "height": args.size,
        "width": args.size,
        "classes": len(CLASSES),
        "filters": 16,
        "eval": (x[val], y[val]),
    }
    table = Table(title=f"{MODEL}: {args.workers} workers, {args.epochs} epochs")
    for col in ("strategy", "framework", "version", "val acc", "test acc", "samples/s", "time s"):
        table.add_column(col)
    # --smoke: one run per strategy (tests/train covers TensorFlow and async in depth)
    runs = (RUNS[0], RUNS[2]) if args.smoke else RUNS
    for strategy, framework, options in runs:
        start = time.perf_counter()
        loop = torch_classifier_loop if framework == "torch" else keras_classifier_loop
        result = eo.train.fit(
            loop,
            strategy=strategy,
            framework=framework,
            num_workers=args.workers,
            use_gpu=args.gpu,
            config=config,
            data={"x": x[train], "y": y[train]},
            experiment=f"{MODEL}-{strategy}-{framework}",
            **options,
        )
        acc = accuracy(load_export(result), framework, x[test], y[test])
        version = eo.models.register(
            MODEL,
            result,
            metrics={"val_accuracy": result.metrics["accuracy"], "test_accuracy": acc},
            input_example=x[test][:1],
            training_dataset={
                "dataset": "opensarship_subset",
                "rows": len(train),
                "size": args.size,
            },
            description=f"{strategy} {options.get('ps_mode', '')} {framework}".replace("  ", " "),
        )
        reloaded = accuracy(version.load(), version.framework, x[test], y[test])
        if reloaded != acc:
            raise RuntimeError(f"v{version.version} predicts differently after registration")
        rates = [rec.get("samples_per_s", 0.0) for rec in result.history[1:]] or [0.0]
        table.add_row(
            strategy + (f" ({options['ps_mode']})" if options else ""),
            framework,
            str(version.version),
            f"{result.metrics.get('accuracy', float('nan')):.3f}",
            f"{acc:.3f}",
            f"{float(np.median(rates)):.0f}",
            f"{time.perf_counter() - start:.1f}",
        )
    console.print(table)
    best = eo.models.best(MODEL, "test_accuracy", "max")
    console.print(f"best: {MODEL} v{best.version} ({best.description}), {best.metrics}")


if __name__ == "__main__":
    main()
