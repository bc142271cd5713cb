"""A deployment that takes entity keys and fetches features from a feature view's online store."""

from __future__ import annotations

import json

import pytest

import eo_ray as eo
from eo_ray.serving import PredictionRequestError

COLUMNS = ["PassengerId", "Pclass", "SibSp", "Parch", "Fare", "Survived"]


@pytest.fixture(scope="module")
def titanic_view(ray_session):
    from eo_ray.datasets import load_titanic

    df = load_titanic()[COLUMNS]
    fs = eo.featurestore.feature_store()
    fg = fs.create_feature_group("titanic_serving", primary_key=["PassengerId"], online=True)
    fg.insert(df)
    view = fs.create_feature_view("titanic_serving", fg.select(COLUMNS), labels=["Survived"])
    return view, df.set_index("PassengerId")


def _autoscaling(name: str) -> tuple[int, int, int]:
    from ray.serve.context import _get_global_client

    details = _get_global_client().get_serve_details()
    config = details["applications"][name]["deployments"][name]["deployment_config"]
    auto = config["autoscaling_config"]
    return auto["min_replicas"], auto["max_replicas"], auto["target_ongoing_requests"]


def test_entity_keys_are_served_from_the_online_store(serve_instance, titanic_lr, titanic_view):
    view, df = titanic_view
    dep = eo.serving.deploy(
        "titanic-lr",
        name="titanic-fv",
        feature_view=f"{view.name}:{view.version}",
        min_replicas=1,
        max_replicas=2,
    )
    try:
        assert _autoscaling("titanic-fv")[:2] == (1, 2)
        keys = [{"PassengerId": 1}, {"PassengerId": 2}, {"PassengerId": 891}]
        out = dep.predict(keys)
        rows = df.loc[[1, 2, 891], ["Pclass", "SibSp", "Parch", "Fare"]]
        assert out["predictions"] == titanic_lr.load().predict(rows).tolist()
        assert dep.metadata()["feature_view"]["name"] == "titanic_serving"
        with pytest.raises(PredictionRequestError) as err:
            dep.predict([{"PassengerId": 1}, {"PassengerId": 99_999}])
        assert err.value.status == 404
        assert "99999" in err.value.message
        with pytest.raises(PredictionRequestError) as err:
            dep.predict([[3, 1, 0, 7.25]])
        assert err.value.status == 422
        log = eo.monitoring.requests("titanic-fv", status=200)
        features = json.loads(log.features.iloc[-1])
        assert features[0]["Fare"] == pytest.approx(df.loc[1, "Fare"])
        assert json.loads(log.inputs.iloc[-1]) == keys
        for start in range(1, 400, 40):  # enough traffic for a drift check against the view
            dep.predict([{"PassengerId": k} for k in range(start, start + 40)])
        report = eo.monitoring.drift("titanic-fv", reference=view, save=False)
        assert {"Pclass", "SibSp", "Parch", "Fare"} <= {c.column for c in report.columns}
        assert report.reference_rows == len(df)
        assert report.prediction is not None
    finally:
        eo.serving.undeploy("titanic-fv")


def test_unknown_feature_view_is_refused_before_deploying(serve_instance, titanic_lr):
    from eo_ray.errors import EoRayError

    with pytest.raises(EoRayError, match="no_such_view"):
        eo.serving.deploy("titanic-lr", name="never", feature_view="no_such_view")
    assert "never" not in [d.name for d in eo.serving.list()]
