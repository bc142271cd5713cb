"""Ablation studies on real Ray worker actors: Titanic features, MNIST layers (Keras)."""

from __future__ import annotations

import functools
import json

import pytest

import eo_ray as eo
from eo_ray.ablation import AblationStudy, AllTrialsFailedError, StudyError
from eo_ray.ablation._trial import COLUMNS
from eo_ray.ablation.examples import (
    TITANIC_FEATURES,
    mnist_data,
    mnist_model,
    mnist_train,
    titanic_feature_view,
    titanic_frame,
    titanic_logistic,
)
from eo_ray.hpo import TrialStatus
from eo_ray.storage import Workspace

pytestmark = pytest.mark.usefixtures("ray_session")


def flaky_logistic(hparams, reporter):
    """Titanic logistic regression that breaks on the second run of 'fare'."""
    if hparams["component"] == "fare" and hparams["repeat"] == 1:
        raise ValueError("boom: a broken trial")
    return titanic_logistic(hparams, reporter)


def test_titanic_feature_study_ranks_and_survives_a_failing_trial():
    study = AblationStudy("titanic-features", data=titanic_frame, label="survived")
    study.features.include("pclass", "sex", "age", "fare", family=["sibsp", "parch"])
    result = eo.ablation.run(flaky_logistic, study, workers=2, repeats=2, metric="accuracy")

    table = result.ranking().set_index("component")
    assert list(table.index)[:2] == ["base", "sex"]  # sex matters most on Titanic
    assert table.loc["sex", "diff"] < -0.05
    assert (table.loc["fare", "runs"], table.loc["fare", "failed"]) == (1, 1)
    assert (table["runs"].drop("fare") == 2).all()
    failed = result.failed
    assert [(t.hparams["component"], t.hparams["repeat"]) for t in failed] == [("fare", 1)]
    assert "boom: a broken trial" in failed[0].error
    assert {t.worker for t in result.trials} == {0, 1}  # both worker actors ran trials

    record = eo.experiments.get(result.experiment_id)
    assert (record.kind, record.status.value) == ("ablation", "completed")
    assert record.summary["failed"] == 1
    everything = {*TITANIC_FEATURES, "survived"}
    members = {"base": set(), "family": {"sibsp", "parch"}}
    completed = [row for row in record.trials() if row["status"] == "completed"]
    assert len(completed) == 11
    for row in completed:  # what each trial was handed, as journaled
        ablated = members.get(row["hparams"]["component"], {row["hparams"]["component"]})
        assert set(row["metrics"][COLUMNS]) == everything - ablated
    ws = Workspace(record.root)
    for uri in result.artifacts.values():
        assert ws.exists(uri)
    assert ws.read_bytes(result.artifacts["png"]).startswith(b"\x89PNG")


def test_feature_view_study_records_the_training_dataset():
    view = titanic_feature_view()
    study = AblationStudy("titanic-view", data=view)  # the label comes from the view
    study.features.include("sex", "fare")
    result = eo.ablation.run(titanic_logistic, study, workers=2)
    assert all(t.status is TrialStatus.COMPLETED for t in result.trials)
    record = eo.experiments.get(result.experiment_id)
    assert record.dataset["feature_view"] == view.name
    assert record.dataset["training_dataset"] in view.training_dataset_versions()
    by_component = {t.hparams["component"]: set(t.metrics[COLUMNS]) for t in result.trials}
    assert by_component["base"] == {*TITANIC_FEATURES, "survived"}
    assert "sex" not in by_component["sex"]
    again = eo.experiments.rerun(result.experiment_id, workers=1)  # same function and study
    assert again.experiment_id != result.experiment_id
    assert again.workers == 1
    assert list(again.ranking()["component"]) == list(result.ranking()["component"])


def always_fails(hparams, reporter):
    raise RuntimeError("nothing works")


def test_all_trials_failing_is_one_error_and_a_failed_record():
    study = AblationStudy("all-fail", data=titanic_frame(), label="survived")
    study.features.include("age")
    with pytest.raises(AllTrialsFailedError, match=r"All 2 trials .* nothing works"):
        eo.ablation.run(always_fails, study, workers=1)
    record = eo.experiments.list(kind="ablation", name="all-fail")[0]
    assert record.status.value == "failed"


def test_unknown_feature_is_refused_before_any_trial():
    study = AblationStudy("bad-feature", data=titanic_frame(), label="survived")
    study.features.include("cabin_deck")
    with pytest.raises(StudyError, match="no feature 'cabin_deck'"):
        eo.ablation.run(titanic_logistic, study, workers=1)
    assert not eo.experiments.list(kind="ablation", name="bad-feature")


def test_mnist_layer_study_removes_layers_on_the_workers():
    study = AblationStudy("mnist-layers")
    study.model.set_base_model(functools.partial(mnist_model, filters=(4, 8), dense=16))
    study.model.layers.include("second_conv", "dense_layer")
    study.model.layers.include_groups(prefix="dropout", name="dropouts")
    result = eo.ablation.run(
        functools.partial(mnist_train, epochs=1),
        study,
        workers=2,
        builders={"mnist": functools.partial(mnist_data, 2000, 500)},
    )
    assert all(t.status is TrialStatus.COMPLETED for t in result.trials), result.failed
    params = {t.hparams["component"]: t.metrics["params"] for t in result.trials}
    assert params["second_conv"] < params["base"]  # the layer really was gone
    assert params["dense_layer"] < params["base"]
    assert params["dropouts"] == params["base"]  # dropout has no weights
    table = result.ranking()
    assert set(table["component"]) == {"base", "second_conv", "dense_layer", "dropouts"}
    assert (table["mean"] > 0.2).all()  # every variant beats chance (0.1) after one epoch


STUDY_FILE = """
from eo_ray.ablation import AblationStudy
from eo_ray.ablation.examples import titanic_frame


def make_study():
    study = AblationStudy("cli-study", data=titanic_frame(), label="survived")
    study.features.include("sex", "age")
    return study


def not_a_study():
    return 42
"""


def test_cli_run_show_list(tmp_path):
    from typer.testing import CliRunner

    from eo_ray.cli import app

    (tmp_path / "studies.py").write_text(STUDY_FILE)
    runner = CliRunner()
    target = "eo_ray.ablation.examples:titanic_logistic"
    study = f"{tmp_path / 'studies.py'}:make_study"
    ran = runner.invoke(
        app, ["ablation", "run", target, "--study", study, "--workers", "2", "--json"]
    )
    assert ran.exit_code == 0, ran.output
    data = json.loads(ran.stdout[ran.stdout.index("{") :])
    assert [row["component"] for row in data["ranking"]] == ["base", "sex", "age"]
    shown = runner.invoke(app, ["ablation", "show", data["experiment_id"]])
    assert shown.exit_code == 0, shown.output
    assert "sex" in shown.stdout
    assert "diff" in shown.stdout
    listed = runner.invoke(app, ["ablation", "list", "--json"])
    assert data["experiment_id"] in listed.stdout
    bad = runner.invoke(
        app, ["ablation", "run", target, "--study", f"{tmp_path / 'studies.py'}:not_a_study"]
    )
    assert bad.exit_code != 0
    assert "must return an AblationStudy" in f"{bad.output}{bad.exception}"
