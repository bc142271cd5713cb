"""Study definition, the LOCO plan, the per-trial data check and the ranking (no Ray)."""

from __future__ import annotations

import math
import time

import pandas as pd
import pytest

from eo_ray.ablation import (
    LOCO,
    AblationResult,
    AblationStudy,
    Ablator,
    DataLeakError,
    StudyError,
)
from eo_ray.ablation._data import DataSource, without
from eo_ray.ablation._run import _trial_hparams
from eo_ray.ablation._trial import COLUMNS, DATA_KEY, AblationTrainFn, Plan
from eo_ray.ablation.examples import TITANIC_FEATURES, titanic_frame
from eo_ray.ablation.testing import check_ablator
from eo_ray.hpo import Reporter, TrialStatus, TrialView


@pytest.fixture(scope="module")
def titanic() -> pd.DataFrame:
    return titanic_frame()


def make_study(data=None) -> AblationStudy:
    study = AblationStudy("titanic", data=data, label="survived")
    study.features.include("pclass", "sex", family=["sibsp", "parch"])
    study.model.set_base_model(lambda: "model")
    study.model.layers.include("second_conv", "dense_layer")
    study.model.layers.include_groups(["conv_1", "conv_2"])
    study.model.layers.include_groups(prefix="dropout")
    study.model.modules.include(start="mixed1", end="mixed2")
    study.model.add_custom(lambda: "custom", "no_dropout")
    return study


def test_components_in_order_with_kinds():
    study = make_study()
    assert [(c.name, c.kind) for c in study.components] == [
        ("pclass", "feature"),
        ("sex", "feature"),
        ("family", "feature"),
        ("second_conv", "layer"),
        ("dense_layer", "layer"),
        ("conv_1+conv_2", "layers"),
        ("dropout*", "layers"),
        ("mixed1..mixed2", "module"),
        ("no_dropout", "custom"),
    ]
    assert study.component("family").members == ("sibsp", "parch")
    assert study.component("dropout*").prefix == "dropout"
    assert study.to_dict()["components"][7] == {
        "name": "mixed1..mixed2",
        "kind": "module",
        "start": "mixed1",
        "end": "mixed2",
    }


def test_loco_plans_the_base_and_one_trial_per_component():
    study = make_study()
    variants = LOCO().variants(study)
    assert variants[0] == ()
    assert [v[0].name for v in variants[1:]] == [c.name for c in study.components]
    trials = _trial_hparams(variants, repeats=3, seed=7)
    assert len(trials) == 3 * len(variants)
    assert {t["seed"] for t in trials if t["component"] == "sex"} == {7, 8, 9}
    assert trials[0] == {"component": "base", "kind": "base", "ablated": [], "repeat": 0, "seed": 7}


@pytest.mark.parametrize(
    ("define", "message"),
    [
        (lambda s: s.features.include("sex", "sex"), "already has a component named 'sex'"),
        (lambda s: s.features.include(family="sibsp"), "non-empty list of feature names"),
        (lambda s: s.model.layers.include_groups(["only"]), "at least two layer names"),
        (lambda s: s.model.layers.include_groups(), "either a list of layer names or prefix"),
        (lambda s: s.model.modules.include(start="mixed1"), "both start= and end="),
        (lambda s: s.model.set_base_model("not callable"), "function that builds it"),
        (lambda s: s.features.include("base"), "names the base trial"),
    ],
)
def test_bad_definitions_are_refused(define, message):
    with pytest.raises(StudyError, match=message):
        define(AblationStudy("s", data=pd.DataFrame({"y": [1]}), label="y"))


def test_validate_needs_model_and_data():
    study = AblationStudy("s")
    with pytest.raises(StudyError, match="ablates nothing"):
        study.validate()
    study.model.layers.include("dense")
    with pytest.raises(StudyError, match="set_base_model"):
        study.validate()
    study = AblationStudy("s")
    study.features.include("age")
    with pytest.raises(StudyError, match="give the study data="):
        study.validate()
    with pytest.raises(StudyError, match="label="):
        AblationStudy("s", data=pd.DataFrame({"a": [1]}))


def test_without_drops_and_checks(titanic):
    trial = without(titanic, ["sibsp", "parch"])
    assert "sibsp" not in trial.columns
    assert "parch" not in trial.columns
    assert "sibsp" in titanic.columns  # the study's data is not changed

    class Stubborn(pd.DataFrame):  # a frame whose drop ignores the ablated column
        def drop(self, *args, **kwargs):
            return self

    with pytest.raises(DataLeakError, match=r"still holds the ablated feature\(s\) \['age'\]"):
        without(Stubborn(titanic), ["age"])


def test_trial_wrapper_hands_data_without_the_feature_and_hides_the_full_frame(titanic):
    study = make_study(titanic)
    seen = {}

    def train_fn(hparams, reporter):
        seen["columns"] = list(hparams["data"].columns)
        seen["features"] = hparams["features"]
        seen["context"] = dict(reporter.context)
        build = hparams["build_model"]
        seen["model"] = build() if build is not None else None
        return 0.5

    plan = Plan({c.name: c for c in study.components}, "survived", None, has_data=True)
    wrapper = AblationTrainFn(train_fn, plan, "accuracy")
    spec = {"component": "family", "kind": "feature", "ablated": ["family"], "repeat": 0, "seed": 1}
    reporter = Reporter(context={DATA_KEY: titanic, "other": 1})
    result = wrapper(spec, reporter)
    assert seen["features"] == ["pclass", "sex", "age", "fare"]
    assert "sibsp" not in seen["columns"]
    assert "parch" not in seen["columns"]
    assert seen["context"] == {"other": 1}
    assert seen["model"] is None  # no base model in this plan
    assert result == {"accuracy": 0.5, COLUMNS: ["pclass", "sex", "age", "fare", "survived"]}
    custom = {"component": "no_dropout", "kind": "custom", "ablated": ["no_dropout"]}
    wrapper({**custom, "repeat": 0, "seed": 1}, Reporter(context={DATA_KEY: titanic}))
    assert seen["model"] == "custom"
    assert seen["features"] == TITANIC_FEATURES


def _view(i, component, value, status=TrialStatus.COMPLETED, repeat=0):
    hp = {"component": component, "kind": "base" if component == "base" else "feature"}
    now = time.time()
    return TrialView(
        i,
        {**hp, "repeat": repeat, "seed": repeat},
        status,
        value=value,
        started_at=now,
        ended_at=now,
        error="Traceback\nValueError: boom" if value is None else None,
    )


def test_ranking_orders_by_drop_with_mean_std_and_failures():
    trials = (
        _view(0, "base", 0.80),
        _view(1, "base", 0.82, repeat=1),
        _view(2, "sex", 0.60),
        _view(3, "sex", 0.64, repeat=1),
        _view(4, "age", 0.79),
        _view(5, "age", None, TrialStatus.FAILED, repeat=1),
        _view(6, "fare", 0.83),
        _view(7, "fare", 0.83, repeat=1),
    )
    result = AblationResult("t", "accuracy", "max", trials, wall_s=1.0, workers=2)
    table = result.ranking()
    assert list(table["component"]) == ["base", "sex", "age", "fare"]
    sex = table.set_index("component").loc["sex"]
    assert math.isclose(sex["mean"], 0.62)
    assert math.isclose(sex["diff"], 0.62 - 0.81)
    assert math.isclose(sex["std"], 0.028284271, rel_tol=1e-6)
    age = table.set_index("component").loc["age"]
    assert (age["runs"], age["failed"]) == (1, 1)
    assert result.to_pandas().loc[5, "error"] == "ValueError: boom"
    loss = AblationResult("t", "loss", "min", trials).ranking()
    assert list(loss["component"]) == ["base", "fare", "age", "sex"]
    data = result.to_dict()
    assert data["ranking"][1]["component"] == "sex"
    assert data["ranking"][2]["std"] is None or data["ranking"][2]["std"] == 0.0
    assert result.plot_png().startswith(b"\x89PNG")
    assert "<table" in result.to_html()


class LeavePairsOut(Ablator):
    """A custom policy: the base, then every pair of components left out together."""

    def variants(self, study):
        comps = study.components
        return [(), *((a, b) for i, a in enumerate(comps) for b in comps[i + 1 :])]


class Broken(Ablator):
    def variants(self, study):
        return [(c,) for c in study.components]  # forgets the base


@pytest.mark.parametrize("ablator", [LOCO(), LeavePairsOut()])
def test_ablators_pass_the_contract(ablator):
    check_ablator(ablator, make_study())


def test_contract_catches_a_plan_without_the_base():
    with pytest.raises(AssertionError, match="base trial"):
        check_ablator(Broken(), make_study())


def test_combined_variants_get_a_joint_name():
    study = AblationStudy("s", data=pd.DataFrame({"a": [1], "b": [2], "y": [0]}), label="y")
    study.features.include("a", "b")
    trials = _trial_hparams(LeavePairsOut().variants(study), 1, 0)
    assert [(t["component"], t["kind"], t["ablated"]) for t in trials] == [
        ("base", "base", []),
        ("a+b", "feature", ["a", "b"]),
    ]


def test_worker_data_source_checks_generated_data():
    source = DataSource(titanic_frame, "survived", ["age", "cabin_deck"])
    with pytest.raises(StudyError, match="no feature 'cabin_deck'"):
        source()
