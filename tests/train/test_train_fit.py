"""eo.train.fit on real Fashion-MNIST at small scale: both strategies, both frameworks,
a worker killed mid-training, exports loaded back, bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import ray.cloudpickle

import eo_ray as eo
from eo_ray.errors import InvalidNameError
from eo_ray.train import (
    InsufficientResourcesError,
    TrainConfigError,
    TrainLoopError,
    fit,
    list_runs,
    load_run,
)
from eo_ray.train.recipes import keras_classifier_loop, torch_classifier_loop

sys.path.insert(0, str(Path(__file__).parent))
import _killer

ray.cloudpickle.register_pickle_by_value(_killer)  # Ray workers cannot import tests/


@pytest.fixture(scope="module")
def fmnist(data_dir):
    (x, y), (xt, yt) = eo.datasets.load_fashion_mnist()
    return (x[:1024], y[:1024]), (xt[:256], yt[:256])


def _config(fmnist, **extra):
    _, (xt, yt) = fmnist
    return {"epochs": 2, "batch_size": 64, "filters": 8, "eval": (xt, yt), **extra}


@pytest.fixture(scope="module")
def allreduce_torch(ray_session, fmnist):
    return fit(
        torch_classifier_loop,
        strategy="allreduce",
        framework="torch",
        num_workers=2,
        config=_config(fmnist),
        data=fmnist[0],
    )


def test_allreduce_torch_learns_reports_throughput_and_records(allreduce_torch):
    res = allreduce_torch
    assert [rec["step"] for rec in res.history] == [0, 1]
    assert res.metrics["accuracy"] > 0.4  # 10 classes: chance is 0.1
    assert all(rec["samples_per_s"] > 0 for rec in res.history)
    assert res.best_checkpoint
    assert Path(res.best_checkpoint).is_dir()
    tb = Path(res.root, "train", res.run_id, "tensorboard")
    assert any(p.name.startswith("events.out.tfevents") for p in tb.iterdir())
    assert load_run(res.run_id).metrics == res.metrics
    assert res.run_id in [r.run_id for r in list_runs()]


def test_allreduce_torch_export_is_torchscript_with_identical_predictions(allreduce_torch, fmnist):
    import torch

    from eo_ray.train.recipes import torch_cnn

    export = Path(res_export := allreduce_torch.export_uri)
    assert {"state_dict.pt", "model.torchscript.pt"} <= set(allreduce_torch.export_files)
    scripted = torch.jit.load(str(export / "model.torchscript.pt"))
    plain = torch_cnn(1, 28, 28, 10, filters=8)
    plain.load_state_dict(torch.load(export / "state_dict.pt", weights_only=True))
    x = torch.tensor(fmnist[1][0][:32, None].astype(np.float32) / 255.0)
    with torch.no_grad():
        assert torch.equal(scripted(x), plain.eval()(x)), res_export


def test_sync_parameter_server_follows_the_allreduce_trajectory(allreduce_torch, fmnist):
    ps = fit(
        torch_classifier_loop,
        strategy="parameter_server",
        num_workers=2,
        config=_config(fmnist),
        data=fmnist[0],
        ps_mode="sync",
        num_servers=2,
    )
    # Same initial weights (seeded), same shards, gradients averaged over the two workers
    # each step: synchronous PS and all-reduce compute the same updates.
    assert ps.metrics["loss"] == pytest.approx(allreduce_torch.metrics["loss"], rel=1e-2)
    assert ps.metrics["accuracy"] == pytest.approx(allreduce_torch.metrics["accuracy"], abs=0.03)
    assert all(rec["comm_s"] > 0 for rec in ps.history)
    assert [s["dropped"] for s in ps.extra["servers"]] == [0, 0]
    assert len({s["version"] for s in ps.extra["servers"]}) == 1  # both shards in lock-step


def test_async_parameter_server_applies_gradients_as_they_arrive(ray_session, fmnist):
    res = fit(
        torch_classifier_loop,
        strategy="parameter_server",
        num_workers=2,
        config=_config(fmnist, epochs=1),
        data=fmnist[0],
        ps_mode="async",
        max_staleness=4,
    )
    (server,) = res.extra["servers"]
    steps_per_worker = 512 // 64
    assert server["applied"] + server["dropped"] == 2 * steps_per_worker
    assert server["applied"] >= steps_per_worker
    assert res.metrics["accuracy"] > 0.2
    assert "model.torchscript.pt" in res.export_files


def test_allreduce_tensorflow_trains_and_exports_a_keras_file(ray_session, fmnist):
    import keras

    res = fit(
        keras_classifier_loop,
        framework="tensorflow",
        num_workers=2,
        config=_config(fmnist, epochs=1),
        data=fmnist[0],
    )
    assert res.metrics["accuracy"] > 0.3
    assert res.export_files == ["model.keras"]
    model = keras.saving.load_model(res.model_uri, safe_mode=True)
    logits = model.predict(fmnist[1][0][:64, :, :, None].astype(np.float32) / 255.0, verbose=0)
    assert float((logits.argmax(1) == fmnist[1][1][:64]).mean()) > 0.3
    version = eo.models.register("fmnist-keras", res)
    assert version.train_run == res.run_id
    assert version.metrics["accuracy"] == pytest.approx(res.metrics["accuracy"])


def test_killed_worker_resumes_from_the_latest_checkpoint(ray_session, fmnist, tmp_path):
    # The parameter-server strategy here; a killed all-reduce worker (Ray Train's own
    # restart) is tests/test_chaos.py::test_a_worker_killed_mid_training_loses_no_row.
    res = fit(
        _killer.killing_loop,
        strategy="parameter_server",
        num_workers=2,
        max_failures=1,
        config=_config(fmnist, epochs=3, marker=str(tmp_path / "killed"), eval=None),
        data=fmnist[0],
    )
    assert (tmp_path / "killed").exists()  # a worker really was killed
    resumed = [rec for rec in res.history if "resumed_from_step" in rec]
    assert resumed
    assert resumed[0]["step"] == resumed[0]["resumed_from_step"] + 1
    assert res.history[-1]["step"] == 2


def test_killed_worker_without_max_failures_fails_with_a_clear_error(ray_session, fmnist, tmp_path):
    with pytest.raises(TrainLoopError, match="worker died"):
        fit(
            _killer.killing_loop,
            strategy="parameter_server",
            num_workers=2,
            config=_config(fmnist, epochs=3, marker=str(tmp_path / "killed"), eval=None),
            data=fmnist[0],
        )


def _raising_loop(config, data, reporter):
    raise ValueError("bad learning rate 42")


@pytest.mark.parametrize("strategy", ["allreduce", "parameter_server"])
def test_a_loop_that_raises_fails_with_its_message(ray_session, strategy):
    with pytest.raises(TrainLoopError, match="bad learning rate 42"):
        fit(_raising_loop, strategy=strategy, num_workers=1, data=np.zeros((4, 2)))


def test_more_workers_than_cpus_is_refused_before_starting(ray_session):
    with pytest.raises(InsufficientResourcesError, match="CPU"):
        fit(torch_classifier_loop, num_workers=64)


def test_gpus_that_are_not_there_are_refused(ray_session):
    with pytest.raises(InsufficientResourcesError, match="GPU"):
        fit(torch_classifier_loop, num_workers=1, use_gpu=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategy": "gossip"}, "'strategy' parameter of fit must be one of"),
        ({"framework": "jax"}, "'framework' parameter of fit must be one of"),
        ({"strategy": "parameter_server", "framework": "tensorflow"}, "supports"),
        ({"num_workers": 0}, "num_workers"),
        ({"max_failures": -1}, "max_failures"),
        ({"mode": "best"}, "mode"),
        ({"ps_mode": "sync"}, "Unknown option"),
        ({"strategy": "parameter_server", "ps_mode": "gossip"}, "ps_mode"),
        ({"strategy": "parameter_server", "max_staleness": -1}, "max_staleness"),
        ({"strategy": "parameter_server", "num_servers": 0}, "num_servers"),
        ({"data": "a string"}, "Cannot train on data"),
    ],
)
def test_bad_arguments_get_one_clear_error(ray_session, kwargs, message):
    with pytest.raises(TrainConfigError, match=message):
        fit(torch_classifier_loop, **kwargs)


def test_run_names_with_path_characters_are_refused():
    with pytest.raises(InvalidNameError):
        fit(torch_classifier_loop, name="../escape")


def test_cli_lists_and_shows_runs(allreduce_torch):
    import json

    from typer.testing import CliRunner

    from eo_ray.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["train", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert allreduce_torch.run_id in [r["run_id"] for r in json.loads(listed.output)]
    shown = runner.invoke(app, ["train", "show", allreduce_torch.run_id])
    assert shown.exit_code == 0, shown.output
    assert allreduce_torch.run_id in shown.output
    shown_json = runner.invoke(app, ["train", "show", allreduce_torch.run_id, "--json"])
    assert json.loads(shown_json.output)["history"][-1]["samples_per_s"] > 0
    missing = runner.invoke(app, ["train", "show", "no-such-run"])
    assert missing.exit_code != 0


def test_runs_are_recorded_as_experiments(allreduce_torch):
    record = eo.experiments.get(allreduce_torch.experiment_id)
    assert record.kind == "train"
    assert record.status.value == "completed"
    assert record.params["strategy"] == "allreduce"
    assert record.dataset == {"type": "numpy", "shapes": [[1024, 28, 28], [1024]]}


def _hpo_style(config, reporter):
    for step in range(3):
        reporter.report(config["base"] + step, step=step)


def test_an_hpo_style_function_runs_unchanged(ray_session):
    res = fit(_hpo_style, strategy="parameter_server", num_workers=2, config={"base": 10})
    assert [rec["value"] for rec in res.history] == [10.0, 11.0, 12.0]
    assert res.export_files == []  # nothing prepared, nothing to export


@pytest.mark.parametrize("kind", ["dataframe", "dict", "dataset"])
def test_data_forms_are_split_into_equal_shards(ray_session, kind):
    import pandas as pd

    from eo_ray.train import as_dataset

    frame = pd.DataFrame({"a": np.arange(10), "b": np.arange(10) * 2.0})
    data = {
        "dataframe": frame,
        "dict": {"a": frame["a"].to_numpy(), "img": np.zeros((10, 3, 3))},
        "dataset": ray.data.from_pandas(frame),
    }[kind]
    ds = as_dataset(data)
    assert ds.count() == 10
    assert sorted(s.count() for s in ds.split(2, equal=True)) == [5, 5]


def test_arrays_of_different_lengths_are_refused():
    from eo_ray.train import as_dataset

    with pytest.raises(TrainConfigError, match="different lengths"):
        as_dataset((np.zeros((3, 2)), np.zeros(4)))
