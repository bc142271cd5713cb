"""Request parsing, input checks and the torch / Keras / scikit-learn adapters, without Ray."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eo_ray.models import predictor_for
from eo_ray.serving._inputs import InputSpec, parse_body, parse_request, to_array
from eo_ray.serving.errors import RequestError


def _status(fn, *args) -> tuple[int, str]:
    with pytest.raises(RequestError) as err:
        fn(*args)
    return err.value.status, err.value.message


def test_parse_body_answers_4xx():
    assert parse_body(b'{"instances": [[1, 2]]}', 10) == [[1, 2]]
    assert _status(parse_body, b"\xff\xfe", 10)[0] == 400
    assert _status(parse_body, b'{"instances": null}', 10)[0] == 400
    status, message = _status(parse_body, json.dumps({"instances": [[1]] * 11}).encode(), 10)
    assert status == 413
    assert "at most 10" in message


def test_the_logged_instances_text_is_cut_from_the_body_or_encoded():
    body = b'{ "instances" : [[1, 2.5], {"k": "a:}"}] }\n'
    instances, text = parse_request(body, 10)
    assert text == '[[1, 2.5], {"k": "a:}"}]'
    assert json.loads(text) == instances
    instances, text = parse_request(b'{"id": "x:1", "instances": [[1, 2]]}', 10)
    assert json.loads(text) == instances == [[1, 2]]


def test_to_array_checks_shape_type_and_names():
    spec = InputSpec(shape=(2,), dtype="float64", feature_names=("a", "b"))
    x = to_array([{"b": 2, "a": 1}], spec)
    assert x.tolist() == [[1.0, 2.0]]
    assert to_array([[3, 4]], spec).tolist() == [[3.0, 4.0]]
    assert _status(to_array, [[1, 2, 3]], spec) == (
        422,
        "Each instance must have shape [2]; got [3].",
    )
    assert _status(to_array, [["x", 1]], spec)[0] == 422
    assert _status(to_array, [[1, 2], {"a": 1, "b": 2}], spec)[0] == 422
    assert _status(to_array, [[float("inf"), 1]], spec)[0] == 422
    assert to_array([1.5, 2.5], InputSpec(shape=(1,))).shape == (2, 1)


def test_sklearn_adapter_on_titanic():
    from sklearn.ensemble import RandomForestClassifier

    from eo_ray.datasets import load_titanic

    df = load_titanic()
    cols = ["Pclass", "SibSp", "Parch", "Fare"]
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(
        df[cols].to_numpy(), df.Survived
    )
    predictor = predictor_for("sklearn", model, None)
    assert predictor.spec.shape == (4,)
    preds, scores = predictor.predict(df[cols].to_numpy()[:5])
    assert preds == model.predict(df[cols].to_numpy()[:5]).tolist()
    assert np.allclose(scores, model.predict_proba(df[cols].to_numpy()[:5]), atol=1e-6)


def test_torch_and_keras_adapters_agree_with_the_models():
    import keras
    import torch

    x = np.random.default_rng(0).uniform(size=(3, 1, 28, 28)).astype(np.float32)
    net = torch.jit.script(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 3)).eval())
    preds, scores = predictor_for("torch", net, {"shape": [1, 28, 28], "dtype": "float32"}).predict(
        x
    )
    expected = net(torch.from_numpy(x)).detach().numpy()
    assert preds == expected.argmax(1).tolist()
    assert np.allclose(scores, expected, atol=1e-5)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    flat = x.reshape(3, -1)[:, :4]
    adapter = predictor_for("tensorflow", model, {"shape": [4], "dtype": "float32"})
    preds, scores = adapter.predict(flat)
    assert scores is None
    assert np.allclose(preds, model.predict(flat, verbose=0)[:, 0], atol=1e-5)
    assert adapter.spec.shape == (4,)
