"""A Keras model from the registry behind Ray Serve: the whole path, not only the adapter."""

from __future__ import annotations

import numpy as np

import eo_ray as eo


def test_registered_keras_cnn_answers_over_http_like_the_model(serve_instance, fashion):
    import keras

    from eo_ray.train.recipes import keras_cnn

    _, (x_test, _) = fashion
    keras.utils.set_random_seed(0)
    model = keras_cnn(1, 28, 28, 10, filters=4)
    x = (x_test[:8, ..., None] / 255.0).astype("float32")  # channels last, as Keras takes it
    mv = eo.models.register(
        "fashion-keras", model, "tensorflow", metrics={"accuracy": 0.1}, input_example=x[:1]
    )
    dep = eo.serving.deploy("fashion-keras", version=mv.version, max_replicas=1, batch_size=4)
    try:
        out = dep.predict(x)
        expected = np.asarray(model(x, training=False))
        assert out["predictions"] == expected.argmax(1).tolist()
        np.testing.assert_allclose(out["scores"], expected, atol=1e-4)
        meta = dep.metadata()
        assert meta["framework"] == "tensorflow"
        assert meta["input"]["shape"] == [28, 28, 1]
        assert dep.predict(x[:1])["predictions"] == expected[:1].argmax(1).tolist()
    finally:
        eo.serving.undeploy("fashion-keras")
    log = eo.monitoring.requests("fashion-keras")
    assert out["request_id"] in set(log.request_id)
    assert list(log.n_instances) == [8, 1]
