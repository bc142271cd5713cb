"""The reference EO pipeline: Sentinel-1 SAR ship classification on OpenSARShip, end to end.

scan + search the catalog -> labelled chips -> dB + normalisation -> feature group (validated,
with statistics) -> feature view + train/test split -> asynchronous HPO with median stopping
-> all-reduce training with the best hyperparameters -> model registry -> Ray Serve
deployment -> real test chips over HTTP -> drift and analysis reports.

    python jobs/ship_classification.py [--trials 8] [--epochs 6] [--size 32] [--workers 2]
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
FEATURES = ["chip_id", "time", "image", "vv_mean_db", "vh_mean_db", "vv_std_db", "channels"]
NODATA_DB = -99.0  # to_db maps zero (nodata) pixels to its floor, -100 dB
ORCHESTRATOR = {"CPU": 0.0}  # steps that only drive Ray work reserve no CPU of their own


@dataclass(frozen=True)
class ShipConfig:
    """Sizes of the run: the defaults finish in minutes on a 2-core machine."""

    size: int = 32
    trials: int = 8
    epochs: int = 6
    train_epochs: int = 10
    workers: int = 2
    seed: int = 0


SMOKE = {"trials": 2, "epochs": 1, "train_epochs": 1}  # --smoke: every stage, in seconds


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


def chip_features(batch: dict[str, np.ndarray]) -> Any:
    """Feature rows of preprocessed chips: the image (flattened) and per-band dB statistics.

    Returned as Arrow so the image stays a ``list<float32>`` column (Ray Data would turn a
    numpy column of equal-length arrays into its tensor extension type).
    """
    import pandas as pd
    import pyarrow as pa

    image = batch["image"].astype(np.float32)  # chips × 2 × size × size, normalised dB
    # dB before normalisation; padding and missing polarisations (zeros) are left out.
    raw = np.where(batch["raw_db"] > NODATA_DB, batch["raw_db"], np.nan)
    flat = image.reshape(len(image), -1)
    return pa.table(
        {
            "chip_id": pa.array(batch["chip_id"].astype(str)),
            "time": pa.array(pd.to_datetime(batch["datetime"], utc=True)),
            "label": pa.array(batch["label"].astype(str)),
            "label_id": pa.array(batch["label_id"].astype(np.int64)),
            "channels": pa.array(batch["channels"].astype(np.int64)),
            "image": pa.ListArray.from_arrays(
                pa.array(np.arange(0, flat.size + 1, flat.shape[1], dtype=np.int32)),
                pa.array(flat.ravel()),
            ),
            "vv_mean_db": pa.array(np.nanmean(raw[:, 0], axis=(1, 2)).astype(np.float64)),
            "vh_mean_db": pa.array(_nanmean(raw[:, 1]).astype(np.float64)),
            "vv_std_db": pa.array(np.nanstd(raw[:, 0], axis=(1, 2)).astype(np.float64)),
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
    """Keep the un-normalised dB chip for the scalar features."""
    batch["raw_db"] = batch["image"].copy()
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
    """Images (N×2×size×size float32) and label ids from a training split."""
    x = np.stack([np.asarray(v, dtype=np.float32) for v in frame["image"]])
    return x.reshape(len(x), 2, size, size), np.asarray(labels).reshape(-1).astype(np.int64)


def read_split(
    view_version: int, td_version: int, split: str, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """One split of the recorded training dataset, as image and label arrays."""
    view = eo.feature_store().get_feature_view(VIEW, view_version)
    frame, labels = view.get_training_dataset(td_version).split(split).to_pandas()
    return as_arrays(frame, labels, size)


def load_split(view_version: int, td_version: int, size: int, seed: int) -> dict[str, Any]:
    """The training split of the view, cut into train/validation tensors (kept warm in HPO)."""
    import torch

    x, y = read_split(view_version, td_version, "train", size)
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(0.8 * len(y))
    train, val = order[:cut], order[cut:]
    return {
        "x": torch.from_numpy(x[train]),
        "y": torch.from_numpy(y[train]),
        "xv": torch.from_numpy(x[val]),
        "yv": torch.from_numpy(y[val]),
        "classes": int(y.max()) + 1,
    }


def ship_trial(hparams: dict[str, Any], reporter: Any) -> dict[str, float]:
    """One HPO trial: the CNN trained with ``hparams``, validation accuracy each epoch."""
    import torch
    from torch import nn

    from eo_ray.train.recipes import torch_cnn

    data = reporter.context["data"]
    torch.set_num_threads(1)
    torch.manual_seed(int(hparams.get("seed", 0)))
    size = data["x"].shape[-1]
    model = torch_cnn(2, size, size, data["classes"], filters=int(hparams["filters"]))
    # The optimiser of the training recipe, so the best lr carries over to eo.train.fit.
    opt = torch.optim.SGD(model.parameters(), lr=float(hparams["lr"]), momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    accuracy = 0.0
    for epoch in range(1, int(hparams["epochs"]) + 1):
        model.train()
        for idx in torch.randperm(len(data["y"])).split(int(hparams["batch_size"])):
            opt.zero_grad()
            loss_fn(model(data["x"][idx]), data["y"][idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            accuracy = float((model(data["xv"]).argmax(1) == data["yv"]).float().mean())
        reporter.report(accuracy, step=epoch)
    return {"accuracy": accuracy}


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
        chips = eo.ingest.opensarship_chips(size=cfg.size)
        chips = eo.ingest.to_db(chips).map_batches(keep_db, batch_format="numpy")
        chips = eo.ingest.normalize(chips).map_batches(chip_features, batch_format="numpy")
        fs = eo.feature_store()
        group = fs.get_or_create_feature_group(
            GROUP,
            version=1,
            primary_key=["chip_id"],
            event_time="time",
            description="Calibrated Sentinel-1 ship chips of OpenSARShip: normalised dB image "
            "and backscatter statistics",
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
        group = fs.get_feature_group(GROUP, 1)
        fv = fs.get_or_create_feature_view(
            VIEW, group.select([*FEATURES, "label_id"]), labels=["label_id"]
        )
        td = fv.create_train_test_split(test_size=0.2, seed=cfg.seed)
        return {
            "view version": fv.version,
            "training dataset": td.version,
            "train rows": td.splits["train"],
            "test rows": td.splits["test"],
        }

    @step(depends_on=["view"])
    def hpo(view: dict[str, Any]) -> dict[str, Any]:
        from eo_ray.hpo import Discrete, Double, SearchSpace

        space = SearchSpace(
            lr=Double(1e-3, 1e-1, log=True),
            filters=Discrete([8, 16, 32]),
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
        from eo_ray.train.recipes import torch_classifier_loop

        x, y = read_split(view["view version"], view["training dataset"], "train", cfg.size)
        xt, yt = read_split(view["view version"], view["training dataset"], "test", cfg.size)
        best = hpo["best hyperparameters"]
        config = {
            "epochs": cfg.train_epochs,
            "lr": float(best["lr"]),
            "batch_size": int(best["batch_size"]),
            "filters": int(best["filters"]),
            "channels": 2,
            "height": cfg.size,
            "width": cfg.size,
            "classes": int(max(y.max(), yt.max())) + 1,
            "eval": (xt, yt),
        }
        result = eo.train.fit(
            torch_classifier_loop,
            strategy="allreduce",
            framework="torch",
            num_workers=cfg.workers,
            config=config,
            data={"x": x, "y": y},
            experiment="ship-cnn-train",
        )
        version = eo.models.register(
            MODEL,
            result,
            metrics={"test_accuracy": float(result.metrics["accuracy"])},
            input_example=xt[:1],
            training_dataset={
                "feature_view": VIEW,
                "version": view["view version"],
                "training_dataset": view["training dataset"],
            },
            description=f"OpenSARShip CNN, {cfg.workers}-worker all-reduce, "
            f"HPO {hpo['experiment']}",
        )
        rates = [h.get("samples_per_s", 0.0) for h in result.history if h.get("samples_per_s")]
        return {
            "model": f"{MODEL} v{version.version}",
            "version": version.version,
            "test accuracy": round(float(result.metrics["accuracy"]), 4),
            "samples/s (median epoch)": round(float(np.median(rates)), 1) if rates else None,
            "majority-class accuracy": round(float((yt == np.bincount(y).argmax()).mean()), 4),
        }

    @step(depends_on=["train"], retries=1, backoff_s=5.0)
    def serve(train: dict[str, Any]) -> dict[str, Any]:
        deployment = eo.serving.deploy(
            MODEL,
            version="best",
            metric="test_accuracy",
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
            body = json.dumps({"instances": xt[i : i + 16].tolist()}).encode()
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

    @step(depends_on=["view", "predict"])
    def monitor(view: dict[str, Any], predict: dict[str, Any]) -> dict[str, Any]:
        xr, _ = read_split(view["view version"], view["training dataset"], "train", cfg.size)
        xt, yt = read_split(view["view version"], view["training dataset"], "test", cfg.size)
        drift = eo.monitoring.drift(MODEL, reference=xr)  # the served test chips vs training
        model = eo.models.best(MODEL, "test_accuracy", "max")
        analysis = eo.analysis.report(
            model, (xt, yt), label="label", class_names=eo.ingest.opensarship_classes()
        )
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
