"""The model registry on a real workspace (local and S3): versions, best, safe loading."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from typer.testing import CliRunner

import eo_ray as eo
from eo_ray.errors import InvalidNameError
from eo_ray.models import MetricNotFoundError, ModelFormatError, ModelNotFoundError
from eo_ray.storage import set_workspace


@pytest.fixture(params=["local", "s3"])
def registry_ws(request, workspace_root, monkeypatch):
    """The registry on a local folder, then on a real S3 endpoint (moto on loopback)."""
    if request.param == "local":
        return workspace_root
    bucket = request.getfixturevalue("s3_bucket")
    return set_workspace(f"s3://{bucket}/ws")


@pytest.fixture(scope="module")
def tabular(data_dir):
    (x, y), _ = eo.datasets.load_fashion_mnist()
    return x[:300].reshape(300, -1).astype(np.float32) / 255.0, y[:300]


@pytest.fixture(scope="module")
def sk_model(tabular):
    from sklearn.linear_model import LogisticRegression

    x, y = tabular
    return LogisticRegression(max_iter=300).fit(x, y)


def test_versions_increment_and_get_returns_latest_or_asked(registry_ws, sk_model, tabular):
    first = eo.models.register("fmnist-lr", sk_model, "sklearn", metrics={"accuracy": 0.70})
    second = eo.models.register(
        "fmnist-lr",
        sk_model,
        "sklearn",
        metrics={"accuracy": 0.80},
        input_example=tabular[0][:2],
        training_dataset={"dataset": "fashion_mnist", "rows": 300},
        experiment="exp-123",
        description="logistic regression baseline",
    )
    assert (first.version, second.version) == (1, 2)
    latest = eo.models.get("fmnist-lr")
    assert latest.version == 2
    assert latest.training_dataset == {"dataset": "fashion_mnist", "rows": 300}
    assert latest.experiment == "exp-123"
    assert latest.signature == {"shape": [784], "dtype": "float32"}
    np.testing.assert_array_equal(latest.input_example(), tabular[0][:2])
    assert eo.models.get("fmnist-lr", 1).metrics == {"accuracy": 0.70}
    assert [mv.version for mv in eo.models.list("fmnist-lr")] == [1, 2]
    assert [mv.name for mv in eo.models.list()] == ["fmnist-lr"]
    np.testing.assert_array_equal(latest.load().predict(tabular[0]), sk_model.predict(tabular[0]))


def test_best_picks_by_metric_and_mode(registry_ws, sk_model):
    for acc, loss in ((0.7, 0.9), (0.9, 0.5), (0.8, 0.3)):
        eo.models.register("ships", sk_model, "sklearn", metrics={"accuracy": acc, "loss": loss})
    eo.models.register("ships", sk_model, "sklearn", metrics={})
    assert eo.models.best("ships", "accuracy", "max").version == 2
    assert eo.models.best("ships", "loss", "min").version == 3
    assert eo.models.best("ships", "accuracy", "min").version == 1
    with pytest.raises(MetricNotFoundError, match="f1"):
        eo.models.best("ships", "f1")
    with pytest.raises(ModelNotFoundError, match="No model named 'boats'"):
        eo.models.best("boats")


def test_ties_go_to_the_newest_version(workspace_root, sk_model):
    for _ in range(2):
        eo.models.register("tie", sk_model, "sklearn", metrics={"accuracy": 0.5})
    assert eo.models.best("tie").version == 2


def test_unknown_model_or_version_is_a_clear_error(workspace_root, sk_model):
    with pytest.raises(ModelNotFoundError, match="No model named 'nothing'"):
        eo.models.get("nothing")
    eo.models.register("one", sk_model, "sklearn")
    with pytest.raises(ModelNotFoundError, match=r"versions are \[1\]"):
        eo.models.get("one", 7)


@pytest.mark.parametrize("name", ["../escape", "a/b", "", "x" * 200, "/abs"])
def test_model_names_with_path_characters_are_refused(workspace_root, sk_model, name):
    with pytest.raises(InvalidNameError):
        eo.models.register(name, sk_model, "sklearn")
    assert not os.path.exists(workspace_root.uri("models")) or not os.listdir(
        workspace_root.uri("models")
    )


def test_bad_input_writes_nothing(workspace_root, sk_model, tmp_path):
    with pytest.raises(ModelFormatError, match="must be a number"):
        eo.models.register("m", sk_model, "sklearn", metrics={"accuracy": "high"})
    with pytest.raises(ModelFormatError, match="'framework' parameter of register must be one of"):
        eo.models.register("m", sk_model, "xgboost")
    with pytest.raises(ModelFormatError, match="scikit-learn model must be an estimator"):
        eo.models.register("m", object(), "sklearn")
    with pytest.raises(ModelNotFoundError):
        eo.models.get("m")


def test_torch_module_loads_back_as_torchscript_with_identical_predictions(workspace_root):
    import torch

    from eo_ray.train.recipes import torch_cnn

    torch.manual_seed(0)
    net = torch_cnn(2, 32, 32, 3, filters=4).eval()
    x = torch.randn(5, 2, 32, 32)
    mv = eo.models.register("cnn", net, "torch", metrics={"accuracy": 0.5}, input_example=x[:1])
    loaded = mv.load()
    with torch.no_grad():
        assert torch.equal(loaded(x), net(x))


def test_torch_files_must_be_torchscript_not_pickled_state(workspace_root, tmp_path):
    import torch

    from eo_ray.train.recipes import torch_cnn

    net = torch_cnn(1, 8, 8, 2, filters=2).eval()
    torch.save(net.state_dict(), tmp_path / "weights.pt")
    with pytest.raises(ModelFormatError, match="not a TorchScript archive"):
        eo.models.register("cnn", tmp_path / "weights.pt", "torch")
    torch.jit.script(net).save(str(tmp_path / "scripted.pt"))
    mv = eo.models.register("cnn", tmp_path / "scripted.pt", "torch")
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(mv.load()(x), net(x))
    assert mv.version == 1  # the refused file did not take a version


def test_keras_model_loads_back_with_identical_predictions(workspace_root):
    from eo_ray.train.recipes import keras_cnn

    model = keras_cnn(1, 16, 16, 4, filters=4)
    x = np.random.default_rng(0).random((6, 16, 16, 1), dtype=np.float32)
    mv = eo.models.register("kcnn", model, "tensorflow", metrics={"accuracy": 0.6})
    np.testing.assert_array_equal(mv.load().predict(x, verbose=0), model.predict(x, verbose=0))
    assert mv.artifact == "model.keras"


def _double(x):
    return 2 * x


def test_sklearn_file_with_unrecorded_types_is_not_loaded(workspace_root, sk_model):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    mv = eo.models.register("lr", sk_model, "sklearn")
    assert mv.format_meta == {"trusted_types": []}
    # Someone swaps the stored file for one that would run a custom function on load.
    sio.dump(FunctionTransformer(func=_double), f"{mv.uri}/{mv.artifact}")
    with pytest.raises(ModelFormatError, match="changed after registration"):
        mv.load()


def test_cli_list_show_best(workspace_root, sk_model):
    from eo_ray.cli import app

    eo.models.register("cli-model", sk_model, "sklearn", metrics={"accuracy": 0.6})
    eo.models.register("cli-model", sk_model, "sklearn", metrics={"accuracy": 0.9})
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list", "cli-model", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [row["version"] for row in json.loads(listed.output)] == [1, 2]
    best = runner.invoke(app, ["models", "best", "cli-model", "--metric", "accuracy", "--json"])
    assert json.loads(best.output)["version"] == 2
    shown = runner.invoke(app, ["models", "show", "cli-model", "--version", "1"])
    assert shown.exit_code == 0
    assert "cli-model v1" in shown.output
    table = runner.invoke(app, ["models", "list"])
    assert "cli-model" in table.output


def test_runner_puts_a_torch_model_on_the_asked_device(workspace_root):
    import torch

    from eo_ray.models import ModelRunner

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4)).eval()
    mv = eo.models.register(
        "pix", net, "torch", input="pixel", classes=list("abcd"), input_example=torch.zeros(1, 3)
    )
    x = np.random.default_rng(0).random((16, 3), dtype=np.float32)
    on_cpu = ModelRunner.load(mv, device="cpu").predict_proba(x)
    np.testing.assert_allclose(on_cpu, ModelRunner.load(mv).predict_proba(x), rtol=1e-6)
    if not torch.cuda.is_available():
        with pytest.raises(ModelFormatError, match="sees no CUDA device"):
            ModelRunner.load(mv, device="cuda")
