"""A registered model behind Ray Serve: HTTP answers, bad input, auth, request log, CLI."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import numpy as np
import pytest

import eo_ray as eo
from eo_ray.serving import DeploymentConfigError, DeploymentNotFoundError, PredictionRequestError


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def cnn_deployment(serve_instance, fashion_cnn):
    dep = eo.serving.deploy(
        "fashion-cnn", version="best", min_replicas=1, max_replicas=1, max_body_bytes=1_000_000
    )
    yield dep
    eo.serving.undeploy("fashion-cnn")


def test_deployed_cnn_answers_over_http(cnn_deployment, fashion, fashion_cnn):
    _, (x_test, y_test) = fashion
    x = x_test[:64, None].astype(np.float32) / 255.0
    out = cnn_deployment.predict(x)
    assert out["model"] == "fashion-cnn"
    assert out["version"] == fashion_cnn.version
    assert len(out["predictions"]) == 64
    assert len(out["scores"][0]) == 10
    accuracy = float(np.mean(np.array(out["predictions"]) == y_test[:64]))
    assert accuracy > 0.6
    assert cnn_deployment.health()["status"] == "ok"
    meta = cnn_deployment.metadata()
    assert meta["input"]["shape"] == [1, 28, 28]
    assert meta["threads"] == 1  # 0.5 CPU reserved: one torch thread, not one per core
    assert meta["metrics"]["accuracy"] == pytest.approx(fashion_cnn.metrics["accuracy"])
    assert [d.name for d in eo.serving.list()] == ["fashion-cnn"]


BAD_REQUESTS = [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2, 3]", 400, "JSON object"),
    (b'{"inputs": [[1]]}', 400, "JSON object"),
    (b'{"instances": []}', 400, "non-empty list"),
    (b'{"instances": "abc"}', 400, "non-empty list"),
    (json.dumps({"instances": [[[0.0] * 28] * 28]}).encode(), 422, "shape [1, 28, 28]"),
    (json.dumps({"instances": [[[["a"] * 28] * 28]]}).encode(), 422, "numbers"),
    (json.dumps({"instances": [[[[0.0] * 28] * 28], [[[0.0] * 27] * 28]]}).encode(), 422, ""),
    (json.dumps({"instances": [{"x": 1}]}).encode(), 422, "lists of numbers"),
    (json.dumps({"instances": [[[[None] * 28] * 28]]}).encode(), 422, "NaN"),
    (json.dumps({"instances": [[0.0]] * 1025}).encode(), 413, "Too many instances"),
    (b'{"instances": [' + b"0.0," * 300_000 + b"0.0]}", 413, "at most 1000000"),
]


@pytest.mark.parametrize(("body", "status", "text"), BAD_REQUESTS)
def test_bad_requests_get_4xx_and_the_replica_lives(cnn_deployment, body, status, text):
    code, answer = _post(f"{cnn_deployment.url}/predict", body)
    assert code == status
    assert text in answer["error"]
    ok, good = _post(
        f"{cnn_deployment.url}/predict",
        json.dumps({"instances": np.zeros((1, 1, 28, 28)).tolist()}).encode(),
    )
    assert ok == 200
    assert len(good["predictions"]) == 1


def test_wrong_route_and_method(cnn_deployment):
    code, answer = _post(f"{cnn_deployment.url}/nowhere", b"{}")
    assert code == 404
    assert "/predict" in answer["error"]
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{cnn_deployment.url}/predict", timeout=10)
    assert err.value.code == 405


def test_requests_are_logged_with_status(cnn_deployment, fashion):
    _, (x_test, _) = fashion
    answered = [
        cnn_deployment.predict(x_test[i : i + 2, None] / 255.0)["request_id"] for i in range(5)
    ]
    with pytest.raises(PredictionRequestError) as err:
        cnn_deployment.predict([[1.0, 2.0]])
    assert err.value.status == 422
    log = eo.monitoring.requests("fashion-cnn")
    assert set(answered) <= set(log.request_id)
    rows = log.set_index("request_id").loc[answered]
    assert (rows.status == 200).all()
    assert (rows.n_instances == 2).all()
    assert (rows.model_version == cnn_deployment.version).all()
    chips = eo.monitoring.request_inputs(rows)  # logged as the float32 array the model saw
    assert rows.inputs.isna().all()  # chips are not kept as JSON text as well
    sent = (x_test[0:2, None] / 255.0).astype(np.float32)
    np.testing.assert_array_equal(chips[0], sent)
    assert len(json.loads(rows.predictions.iloc[0])) == 2
    assert (rows.latency_ms > 0).all()
    assert (log.status == 422).any()
    recent = eo.monitoring.requests("fashion-cnn", since=rows.time.max())
    assert len(recent) < len(log)


def test_auth_token_and_named_features(serve_instance, titanic_lr):
    from eo_ray.datasets import load_titanic

    dep = eo.serving.deploy("titanic-lr", name="titanic", auth_token="s3cret", max_replicas=1)
    try:
        rows = load_titanic()[["Pclass", "SibSp", "Parch", "Fare"]].head(5)
        body = json.dumps({"instances": rows.to_dict("records")}).encode()
        assert _post(f"{dep.url}/predict", body, {"X-Request-Id": "no-token"})[0] == 401
        code, answer = _post(
            f"{dep.url}/predict", body, {"Authorization": "Bearer wrong", "X-Request-Id": "bad"}
        )
        assert code == 401
        assert "bearer token" in answer["error"]
        refused = eo.monitoring.requests("titanic", status=401)  # refused requests are logged
        assert set(refused.request_id) == {"no-token", "bad"}
        assert refused.inputs.isna().all()  # an unauthorised body is not stored
        out = dep.predict(rows.to_dict("records"), token="s3cret")
        assert out["predictions"] == titanic_lr.load().predict(rows).tolist()
        assert dep.health()["status"] == "ok"  # health stays open for probes
        with pytest.raises(PredictionRequestError, match="lacks the features"):
            dep.predict([{"Pclass": 1}], token="s3cret")
        assert dep.metadata(token="s3cret")["input"]["feature_names"] == [
            "Pclass",
            "SibSp",
            "Parch",
            "Fare",
        ]
    finally:
        eo.serving.undeploy("titanic")


def test_bad_deploy_arguments(serve_instance, titanic_lr):
    with pytest.raises(DeploymentConfigError, match="max_replicas"):
        eo.serving.deploy("titanic-lr", min_replicas=3, max_replicas=2)
    with pytest.raises(
        DeploymentConfigError, match="The 'min_replicas' parameter of deploy must be an int >= 0"
    ):
        eo.serving.deploy("titanic-lr", min_replicas=-1)
    with pytest.raises(DeploymentConfigError, match="The 'version' parameter of deploy"):
        eo.serving.deploy("titanic-lr", version=1.5)
    with pytest.raises(DeploymentConfigError, match="The 'feature_view' parameter of deploy"):
        eo.serving.deploy("titanic-lr", feature_view=42)
    with pytest.raises(DeploymentConfigError, match="batch_size"):
        eo.serving.deploy("titanic-lr", batch_size=0)
    with pytest.raises(DeploymentConfigError, match="batch_wait_s"):
        eo.serving.deploy("titanic-lr", batch_size=4, batch_wait_s=5)
    with pytest.raises(eo.models.ModelNotFoundError):
        eo.serving.deploy("no-such-model")
    with pytest.raises(DeploymentNotFoundError):
        eo.serving.undeploy("never-deployed")


def test_build_app_for_config_files_and_rayservice(serve_instance, fashion_cnn, fashion):
    """``import_path: eo_ray.serving.app:build_app`` with ``args: {model, version}`` serves."""
    from ray import serve

    from eo_ray.serving import request_log
    from eo_ray.serving.app import build_app

    _, (x_test, _) = fashion
    app = build_app({"model": "fashion-cnn", "version": "best", "name": "from-config"})
    serve.run(app, name="from-config", route_prefix="/from-config")
    try:
        body = json.dumps({"instances": (x_test[:3, None] / 255.0).tolist()}).encode()
        code, out = _post(f"http://127.0.0.1:{serve_instance}/from-config/predict", body)
        assert code == 200
        assert out["version"] == fashion_cnn.version
        assert len(out["predictions"]) == 3
    finally:
        serve.delete("from-config")
        request_log.flush("from-config")
