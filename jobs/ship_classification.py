"""The reference EO pipeline: Sentinel-1 SAR ship classification on OpenSARShip, end to end.

scan + search the catalog -> labelled chips -> dB + normalisation -> feature group (validated,
with statistics) -> feature view + train/test split -> baselines (majority class, a random
forest on chip size and dB statistics) -> asynchronous HPO with median stopping -> all-reduce
training with the best hyperparameters -> model registry -> Ray Serve deployment -> real test
chips over HTTP -> drift and analysis reports.

The model sees each chip at a fixed pixel scale (padded onto a canvas of ``2 * size`` source
pixels, averaged 2 x 2 down to ``size``), so a ship's length, the strongest cue between cargo
and tanker, survives; a third channel marks the chip's footprint. It is an ensemble of small
CNNs with the footprint and dB statistics in their heads (``eo_ray.train.chip_recipes``),
trained with a class-weighted loss, flips and quarter turns, and validation early stopping.
Classes: Cargo, Tanker and Other (every other type).

    python jobs/ship_classification.py [--trials 8] [--epochs 15] [--size 64] [--workers 2]
    python jobs/ship_classification.py --smoke      (every stage in seconds; for tests)
    eo-ray pipeline run jobs/ship_classification.py:pipeline
    ray job submit --working-dir . -- python jobs/ship_classification.py

Every stage is a step of an eo-ray pipeline (retries, records, resume): a failed run is
resumed with ``--resume RUN_ID`` (or ``eo-ray pipeline resume RUN_ID``) without redoing the
stages that finished. Reads ``EO_RAY_HOME`` and ``EO_RAY_DATA`` from the environment.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
import urllib.request
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

import eo_ray as eo
from eo_ray.pipelines import Pipeline

GROUP, VIEW, MODEL = "ship_chips", "ship_classifier", "ship-cnn"
# Version 2: 3-channel chips at a fixed pixel scale and 3 classes (version 1: 2-channel
# 32-px crops, 7 classes); a workspace of an older demo keeps version 1 apart.
GROUP_VERSION = VIEW_VERSION = 2
STATISTICS = ["chip_rows", "chip_cols", "channels", "vv_mean_db", "vh_mean_db", "vv_std_db"]
STATISTICS += ["vv_max_db"]
FEATURES = ["chip_id", "time", "image", *STATISTICS]
CLASSES = ["Cargo", "Tanker", "Other"]  # OpenSARShip's two big types, and all the others
CHANNELS = 3  # VV dB, VH dB (0 where the chip has no VH), footprint mask
SCALE = 2  # source pixels per model pixel along each side
NODATA_DB = -99.0  # to_db maps zero (nodata) pixels to its floor, -100 dB
ORCHESTRATOR = {"CPU": 0.0}  # steps that only drive Ray work reserve no CPU of their own


@dataclass(frozen=True)
class ShipConfig:
    """Sizes of the run: the defaults finish in minutes on a 2-core machine."""

    size: int = 64
    trials: int = 8
    epochs: int = 15
    train_epochs: int = 30
    members: int = 3
    workers: int = 2
    seed: int = 0


# --smoke: every stage, in seconds
SMOKE = {"size": 32, "trials": 2, "epochs": 1, "train_epochs": 1, "members": 1}


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`ShipConfig` field, plus ``--smoke``."""
    for field, value in asdict(ShipConfig()).items():
        parser.add_argument(f"--{field.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument(
        "--smoke", action="store_true", help=f"a seconds-long run of every stage: {SMOKE}"
    )


def config_from_args(args: argparse.Namespace) -> ShipConfig:
    """The run's :class:`ShipConfig` from the flags of :func:`add_config_args`."""
    cfg = ShipConfig(**{k: getattr(args, k) for k in asdict(ShipConfig())})
    return replace(cfg, **SMOKE) if args.smoke else cfg


# -- stage helpers (run inside the pipeline's Ray tasks) ------------------------------------


def coarsen(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Average each chip's power over ``SCALE`` x ``SCALE`` blocks of valid (non-zero VV)
    pixels; blocks without one stay 0 (padding)."""
    image = np.stack(list(batch["image"])).astype(np.float64)  # N x bands x side x side
    n, bands, side, _ = image.shape
    out = side // SCALE
    valid = (image[:, :1] > 0).astype(np.float64)
    blocks = (n, bands, out, SCALE, out, SCALE)
    power = (image * valid)[..., : out * SCALE, : out * SCALE].reshape(blocks).sum(axis=(3, 5))
    count = valid[..., : out * SCALE, : out * SCALE].reshape(n, 1, *blocks[2:]).sum(axis=(3, 5))
    batch["image"] = (power / np.maximum(count, 1.0)).astype(np.float32)
    for key in ("height", "width"):
        if key in batch:
            batch[key] = np.full(n, out, dtype=np.int64)
    return batch


def chip_features(batch: dict[str, np.ndarray]) -> Any:
    """Feature rows of preprocessed chips: the image (flattened: VV, VH and the footprint
    mask, padding 0) and per-chip size and dB statistics.

    Returned as Arrow so the image stays a ``list<float32>`` column (Ray Data would turn a
    numpy column of equal-length arrays into its tensor extension type).
    """
    import pandas as pd
    import pyarrow as pa

    # dB before normalisation; padding and missing polarisations (NaN) are left out.
    raw = np.stack(list(batch["raw_db"])).astype(np.float64)
    mask = np.isfinite(raw[:, :1]).astype(np.float32)  # the chip's footprint (VV valid)
    normalised = np.nan_to_num(np.stack(list(batch["image"])).astype(np.float32))
    image = np.concatenate([normalised, mask], axis=1)  # chips × 3 × size × size
    flat = image.reshape(len(image), -1)
    return pa.table(
        {
            "chip_id": pa.array(batch["chip_id"].astype(str)),
            "time": pa.array(pd.to_datetime(batch["datetime"], utc=True)),
            "label": pa.array(batch["label"].astype(str)),
            "label_id": pa.array(np.minimum(batch["label_id"].astype(np.int64), 2)),
            "channels": pa.array(batch["channels"].astype(np.int64)),
            "image": pa.ListArray.from_arrays(
                pa.array(np.arange(0, flat.size + 1, flat.shape[1], dtype=np.int32)),
                pa.array(flat.ravel()),
            ),
            "chip_rows": pa.array(SCALE * mask.max(axis=3).sum(axis=(1, 2)).astype(np.int64)),
            "chip_cols": pa.array(SCALE * mask.max(axis=2).sum(axis=(1, 2)).astype(np.int64)),
            "vv_mean_db": pa.array(np.nanmean(raw[:, 0], axis=(1, 2)).astype(np.float64)),
            "vh_mean_db": pa.array(_nanmean(raw[:, 1]).astype(np.float64)),
            "vv_std_db": pa.array(np.nanstd(raw[:, 0], axis=(1, 2)).astype(np.float64)),
            "vv_max_db": pa.array(np.nanmax(raw[:, 0], axis=(1, 2)).astype(np.float64)),
            "ship_length_m": pa.array(
                pd.to_numeric(pd.Series(batch["ais:length"]), errors="coerce")
            ),
        }
    )


def _nanmean(bands: np.ndarray) -> np.ndarray:
    """Per-chip mean of valid pixels; NaN for a polarisation the chip does not have."""
    valid = np.isfinite(bands).sum(axis=(1, 2))
    total = np.nansum(bands, axis=(1, 2))
    return np.where(valid > 0, total / np.maximum(valid, 1), np.nan)


def keep_db(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Padding and missing polarisations (zero power) become NaN, so that normalisation
    statistics leave them out; the un-normalised dB chip is kept for the scalar features."""
    image = np.stack(list(batch["image"])).astype(np.float32)
    image[image <= NODATA_DB] = np.nan
    batch["image"], batch["raw_db"] = image, image.copy()
    return batch


def ship_expectations() -> list[dict[str, Any]]:
    """The feature group's expectation suite (Great Expectations names and JSON form)."""
    return [
        {
            "expectation_type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "chip_id"},
        },
        {"expectation_type": "expect_column_values_to_be_unique", "kwargs": {"column": "chip_id"}},
        {
            "expectation_type": "expect_column_values_to_be_between",
            "kwargs": {"column": "vv_mean_db", "min_value": -60.0, "max_value": 40.0},
        },
        {
            "expectation_type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "channels", "value_set": [1, 2]},
        },
        {
            "expectation_type": "expect_table_row_count_to_be_between",
            "kwargs": {"min_value": 100, "max_value": 100000},
        },
    ]


def as_arrays(frame: Any, labels: Any, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (N×3×size×size float32) and label ids from a training split."""
    x = np.stack([np.asarray(v, dtype=np.float32) for v in frame["image"]])
    return x.reshape(len(x), CHANNELS, size, size), np.asarray(labels).reshape(-1).astype(np.int64)


def read_frame(view_version: int, td_version: int, split: str) -> tuple[Any, np.ndarray]:
    """One split of the recorded training dataset: the feature frame and the label ids."""
    view = eo.feature_store().get_feature_view(VIEW, view_version)
    frame, labels = view.get_training_dataset(td_version).split(split).to_pandas()
    return frame, np.asarray(labels).reshape(-1).astype(np.int64)


def read_split(
    view_version: int, td_version: int, split: str, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """One split of the recorded training dataset, as image and label arrays."""
    frame, labels = read_frame(view_version, td_version, split)
    return as_arrays(frame, labels, size)


def train_validation(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the view's training split: 80 % to train on, 20 % to validate (stratified)."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        cut = round(0.2 * len(idx))
        val.extend(idx[:cut])
        train.extend(idx[cut:])
    return rng.permutation(np.array(train)), np.array(sorted(val))


def load_split(view_version: int, td_version: int, size: int, seed: int) -> dict[str, Any]:
    """The training split of the view, cut into train/validation tensors (kept warm in HPO)."""
    import torch

    x, y = read_split(view_version, td_version, "train", size)
    train, val = train_validation(y, seed)
    return {
        "x": torch.from_numpy(x[train]),
        "y": torch.from_numpy(y[train]),
        "xv": torch.from_numpy(x[val]),
        "yv": torch.from_numpy(y[val]),
    }


def ship_trial(hparams: dict[str, Any], reporter: Any) -> dict[str, float]:
    """One HPO trial: one member of the ensemble, trained as :func:`chip_ensemble_loop`
    trains it, with ``hparams``; validation accuracy each epoch."""
    import torch
    from torch import nn

    from eo_ray.train.chip_recipes import ChipNet, class_weights, dihedral

    data = reporter.context["data"]
    torch.set_num_threads(1)
    torch.manual_seed(int(hparams.get("seed", 0)))
    gen = torch.Generator().manual_seed(int(hparams.get("seed", 0)))
    model = ChipNet(len(CLASSES), filters=int(hparams["filters"]))
    opt = torch.optim.AdamW(
        model.parameters(), lr=float(hparams["lr"]), weight_decay=float(hparams["weight_decay"])
    )
    loss_fn = nn.CrossEntropyLoss(weight=class_weights(data["y"].numpy(), len(CLASSES)))
    accuracy = 0.0
    for epoch in range(1, int(hparams["epochs"]) + 1):
        model.train()
        for idx in torch.randperm(len(data["y"]), generator=gen).split(int(hparams["batch_size"])):
            opt.zero_grad()
            loss_fn(model(dihedral(data["x"][idx], gen)), data["y"][idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            accuracy = float((model(data["xv"]).argmax(1) == data["yv"]).float().mean())
        reporter.report(accuracy, step=epoch)
    return {"accuracy": accuracy}


def scores(name: str, y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy and macro F1 of ``predicted`` (over the three classes)."""
    from sklearn.metrics import balanced_accuracy_score, f1_score

    labels = list(range(len(CLASSES)))
    return {
        f"{name} accuracy": round(float((predicted == y).mean()), 4),
        f"{name} balanced accuracy": round(float(balanced_accuracy_score(y, predicted)), 4),
        f"{name} macro F1": round(float(f1_score(y, predicted, labels=labels, average="macro")), 4),
    }


def predict_export(result: Any, x: np.ndarray) -> np.ndarray:
    """Class ids that the model a training run exported (TorchScript) predicts for ``x``."""
    import tempfile
    from pathlib import Path

    import torch

    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "model.pt"
        local.write_bytes(eo.Workspace(result.root).read_bytes(result.model_uri))
        model = torch.jit.load(str(local)).eval()
    with torch.no_grad():
        return model(torch.from_numpy(x)).argmax(1).numpy()


# -- the pipeline -----------------------------------------------------------------------------


def build_pipeline(cfg: ShipConfig | None = None) -> Pipeline:
    """The reference pipeline, sized by ``cfg``."""
    cfg = cfg or ShipConfig()
    pipe = Pipeline("ship-classification")
    step = functools.partial(pipe.step, resources=ORCHESTRATOR)

    @step(retries=2, backoff_s=2.0)
    def catalog() -> dict[str, Any]:
        cat = eo.ingest.opensarship_catalog()
        calibrated = cat.search(collection="opensarship", **{"opensarship:patch": "Patch_Cal"})
        return {
            "catalog": cat.name,
            "items (all patch kinds)": len(cat),
            "calibrated ship chips": len(calibrated),
            "tanker (text search)": len(cat.search(text="tanker")),
            "2015 acquisitions": len(cat.search(datetime="2015-01-01/2015-12-31")),
        }

    @step(depends_on=["catalog"], retries=1)
    def features(catalog: dict[str, Any]) -> dict[str, Any]:
        # A canvas of SCALE * size source pixels at a fixed scale: lengths survive.
        chips = eo.ingest.opensarship_chips(size=SCALE * cfg.size)
        chips = chips.map_batches(coarsen, batch_format="numpy")
        chips = eo.ingest.to_db(chips).map_batches(keep_db, batch_format="numpy")
        chips = eo.ingest.normalize(chips).map_batches(chip_features, batch_format="numpy")
        fs = eo.feature_store()
        group = fs.get_or_create_feature_group(
            GROUP,
            version=GROUP_VERSION,
            primary_key=["chip_id"],
            event_time="time",
            description="Calibrated Sentinel-1 ship chips of OpenSARShip at a fixed pixel "
            "scale: normalised dB image with its footprint mask, size and backscatter statistics",
            keywords=["sar", "sentinel-1", "backscatter", "ship"],
            expectations=ship_expectations(),
        )
        report = group.insert(chips, operation="upsert", validation="strict")
        return {
            "rows inserted": report.rows_inserted,
            "rows updated": report.rows_updated,
            "table version": report.table_version,
            "validation": "passed" if report.validation.success else "failed",
        }

    @step(depends_on=["features"])
    def view(features: dict[str, Any]) -> dict[str, Any]:
        fs = eo.feature_store()
        try:
            fv = fs.get_feature_view(VIEW, VIEW_VERSION)
        except eo.featurestore.NotFoundError:
            group = fs.get_feature_group(GROUP, GROUP_VERSION)
            query = group.select([*FEATURES, "label_id"])
            fv = fs.create_feature_view(VIEW, query, labels=["label_id"], version=VIEW_VERSION)
        td = fv.create_train_test_split(test_size=0.2, seed=cfg.seed)
        return {
            "view version": fv.version,
            "training dataset": td.version,
            "train rows": td.splits["train"],
            "test rows": td.splits["test"],
        }

    @step(depends_on=["view"])
    def baselines(view: dict[str, Any]) -> dict[str, Any]:
        from sklearn.ensemble import RandomForestClassifier

        frame, y = read_frame(view["view version"], view["training dataset"], "train")
        test, yt = read_frame(view["view version"], view["training dataset"], "test")
        forest = RandomForestClassifier(n_estimators=300, min_samples_leaf=2, random_state=0)
        forest.fit(frame[STATISTICS].fillna(NODATA_DB), y)
        majority = np.full(len(yt), np.bincount(y).argmax())
        return {
            **scores("majority class", yt, majority),
            **scores("random forest", yt, forest.predict(test[STATISTICS].fillna(NODATA_DB))),
        }

    @step(depends_on=["view"])
    def hpo(view: dict[str, Any]) -> dict[str, Any]:
        from eo_ray.hpo import Discrete, Double, SearchSpace

        space = SearchSpace(
            lr=Double(1e-3, 1e-2, log=True),
            weight_decay=Double(1e-4, 1e-2, log=True),
            filters=Discrete([8, 16]),
            batch_size=Discrete([16, 32]),
        )
        builder = functools.partial(
            load_split, view["view version"], view["training dataset"], cfg.size, cfg.seed
        )
        result = eo.hpo.search(
            functools.partial(_with_epochs, epochs=cfg.epochs),
            space,
            num_trials=cfg.trials,
            optimizer="random",
            early_stopping="median",
            metric="accuracy",
            mode="max",
            workers=cfg.workers,
            seed=cfg.seed,
            name="ship-cnn-hpo",
            builders={"data": builder},
            dataset={
                "feature_view": VIEW,
                "version": view["view version"],
                "training_dataset": view["training dataset"],
            },
            progress=False,
            plots=False,
        )
        table = result.to_pandas()
        return {
            "best hyperparameters": result.best_hparams,
            "best validation accuracy": round(result.best_value, 4),
            "trials": len(table),
            "stopped early": int(table["early_stopped"].sum()),
            "experiment": result.experiment_id,
        }

    @step(depends_on=["view", "hpo"])
    def train(view: dict[str, Any], hpo: dict[str, Any]) -> dict[str, Any]:
        from eo_ray.train.chip_recipes import chip_ensemble_loop

        x, y = read_split(view["view version"], view["training dataset"], "train", cfg.size)
        xt, yt = read_split(view["view version"], view["training dataset"], "test", cfg.size)
        fit_rows, val_rows = train_validation(y, cfg.seed)
        best = hpo["best hyperparameters"]
        config = {
            "epochs": cfg.train_epochs,
            "members": cfg.members,
            "lr": float(best["lr"]),
            "weight_decay": float(best["weight_decay"]),
            "batch_size": int(best["batch_size"]),
            "filters": int(best["filters"]),
            "classes": len(CLASSES),
            "seed": cfg.seed,
            "eval": (x[val_rows], y[val_rows]),  # early stopping; the test split stays unseen
        }
        result = eo.train.fit(
            chip_ensemble_loop,
            strategy="allreduce",
            framework="torch",
            num_workers=cfg.workers,
            config=config,
            data={"x": x[fit_rows], "y": y[fit_rows]},
            experiment="ship-cnn-train",
        )
        test = scores("model", yt, predict_export(result, xt))
        version = eo.models.register(
            MODEL,
            result,
            metrics={
                "val_accuracy_last_epoch": float(result.metrics["accuracy"]),
                "test_accuracy": test["model accuracy"],
                "test_balanced_accuracy": test["model balanced accuracy"],
                "test_macro_f1": test["model macro F1"],
            },
            input_example=xt[:1],
            training_dataset={
                "feature_view": VIEW,
                "version": view["view version"],
                "training_dataset": view["training dataset"],
            },
            description=f"OpenSARShip size-aware CNN ensemble ({cfg.members} members), "
            f"{cfg.workers}-worker all-reduce, HPO {hpo['experiment']}",
        )
        rates = [h.get("samples_per_s", 0.0) for h in result.history if h.get("samples_per_s")]
        return {
            "model": f"{MODEL} v{version.version}",
            "version": version.version,
            "validation accuracy (last epoch)": round(float(result.metrics["accuracy"]), 4),
            **test,
            "samples/s (median epoch)": round(float(np.median(rates)), 1) if rates else None,
        }

    @step(depends_on=["train"], retries=1, backoff_s=5.0)
    def serve(train: dict[str, Any]) -> dict[str, Any]:
        deployment = eo.serving.deploy(
            MODEL,
            version=train["version"],  # this run's model (the workspace may hold older ones)
            name=MODEL,
            min_replicas=1,
            max_replicas=2,
            batch_size=16,
        )
        return {"endpoint": deployment.url, "model version": deployment.version}

    @step(depends_on=["view", "serve"])
    def predict(view: dict[str, Any], serve: dict[str, Any]) -> dict[str, Any]:
        xt, yt = read_split(view["view version"], view["training dataset"], "test", cfg.size)
        predictions = []
        start = time.perf_counter()
        for i in range(0, len(xt), 16):
            body = json.dumps({"instances": xt[i : i + 16].round(4).tolist()}).encode()
            request = urllib.request.Request(
                f"{serve['endpoint']}/predict",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=60) as resp:
                predictions.extend(json.loads(resp.read())["predictions"])
        elapsed = time.perf_counter() - start
        labels = np.asarray(predictions)  # class ids (per-class scores come as "scores")
        if labels.ndim > 1:
            labels = labels.argmax(1)
        return {
            "chips sent over HTTP": len(yt),
            "requests": (len(yt) + 15) // 16,
            "served accuracy": round(float((labels == yt).mean()), 4),
            "chips/s": round(len(yt) / elapsed, 1),
        }

    @step(depends_on=["view", "train", "predict"])
    def monitor(view: dict[str, Any], train: dict[str, Any], predict: dict[str, Any]) -> dict:
        xr, _ = read_split(view["view version"], view["training dataset"], "train", cfg.size)
        xt, yt = read_split(view["view version"], view["training dataset"], "test", cfg.size)
        drift = eo.monitoring.drift(MODEL, reference=xr)  # the served test chips vs training
        model = eo.models.get(MODEL, train["version"])
        analysis = eo.analysis.report(model, (xt, yt), label="label", class_names=CLASSES)
        ws = eo.workspace()
        analysis_uri = ws.uri("reports", "ship-classification", "analysis.html")
        ws.write_bytes(analysis_uri, analysis.html.encode())
        return {
            "drift detected": drift.drifted,
            "share of drifted band statistics": round(float(drift.share_drifted), 3),
            "drift report": drift.uri,
            "analysis report": analysis_uri,
            "analysis accuracy / macro F1": (
                f"{analysis.metrics['accuracy']:.3f} / {analysis.metrics['macro_f1']:.3f}"
            ),
        }

    return pipe


def _with_epochs(hparams: dict[str, Any], reporter: Any, epochs: int) -> dict[str, float]:
    return ship_trial({**hparams, "epochs": epochs}, reporter)


pipeline = build_pipeline()  # for `eo-ray pipeline run jobs/ship_classification.py:pipeline`


def print_summary(run: Any, elapsed: float) -> None:
    """One short table per stage with the figures it produced."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for name, output in run.outputs.items():
        table = Table(title=f"{name}", show_header=False, title_justify="left")
        for key, value in output.items():
            table.add_row(key, str(value))
        console.print(table)
    steps = run.steps()
    console.print(steps.to_string(index=False))
    console.rule(
        f"{run.record.pipeline} run {run.run_id}: {run.status} in {elapsed:.0f} s; "
        f"records under {eo.workspace().uri('pipelines')}"
    )


def summary(run: Any, cfg: ShipConfig, elapsed: float) -> dict[str, Any]:
    """The run's headline figures, flat and JSON-ready (``jobs/demo.py --json``)."""
    out = run.outputs
    train, base = out.get("train", {}), out.get("baselines", {})
    return {
        "run_id": run.run_id,
        "status": run.status,
        "seed": cfg.seed,
        "test_rows": out.get("view", {}).get("test rows"),
        "test_accuracy": train.get("model accuracy"),
        "balanced_accuracy": train.get("model balanced accuracy"),
        "macro_f1": train.get("model macro F1"),
        "majority_accuracy": base.get("majority class accuracy"),
        "rf_accuracy": base.get("random forest accuracy"),
        "rf_balanced_accuracy": base.get("random forest balanced accuracy"),
        "rf_macro_f1": base.get("random forest macro F1"),
        "hpo_best_validation_accuracy": out.get("hpo", {}).get("best validation accuracy"),
        "served_accuracy": out.get("predict", {}).get("served accuracy"),
        "wall_s": round(elapsed, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_args(parser)
    parser.add_argument("--resume", help="resume this failed run id")
    args = parser.parse_args()
    cfg = config_from_args(args)
    eo.init()
    start = time.perf_counter()
    run = build_pipeline(cfg).run(resume=args.resume, source="jobs/ship_classification.py")
    print_summary(run, time.perf_counter() - start)
    return 0 if run.status == "succeeded" else 1


if __name__ == "__main__":
    raise SystemExit(main())
