"""Fixtures of the serving tests: one Serve instance on loopback and real registered models."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import free_port


@pytest.fixture(scope="session")
def serve_instance(ray_session):
    """Ray Serve on 127.0.0.1 and a free port, shared by the session (its start is slow)."""
    from ray import serve

    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    yield port
    serve.shutdown()


@pytest.fixture(scope="session")
def fashion():
    """Fashion-MNIST (x_train, y_train), (x_test, y_test)."""
    from eo_ray.datasets import load_fashion_mnist

    return load_fashion_mnist()


@pytest.fixture(scope="session")
def fashion_cnn(ray_session, fashion):
    """A small torch CNN trained on 6,000 Fashion-MNIST images, registered as fashion-cnn."""
    import torch

    import eo_ray as eo
    from eo_ray.train.recipes import torch_cnn

    (x_train, y_train), (x_test, y_test) = fashion
    torch.manual_seed(0)
    model = torch_cnn(1, 28, 28, 10, filters=8)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    x = torch.as_tensor(x_train[:6000, None].astype(np.float32) / 255.0)
    y = torch.as_tensor(y_train[:6000].astype(np.int64))
    for _ in range(2):
        for i in range(0, len(x), 128):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[i : i + 128]), y[i : i + 128])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        xt = torch.as_tensor(x_test[:1000, None].astype(np.float32) / 255.0)
        accuracy = float((model(xt).argmax(1).numpy() == y_test[:1000]).mean())
    return eo.models.register(
        "fashion-cnn",
        model,
        "torch",
        metrics={"accuracy": accuracy},
        input_example=x[:1].numpy(),
        training_dataset="fashion_mnist[:6000]",
    )


TITANIC_FEATURES = ["Pclass", "SibSp", "Parch", "Fare"]


@pytest.fixture(scope="session")
def titanic_lr(ray_session):
    """A logistic regression on four numeric Titanic columns (named features), registered."""
    from sklearn.linear_model import LogisticRegression

    import eo_ray as eo
    from eo_ray.datasets import load_titanic

    df = load_titanic()
    model = LogisticRegression(max_iter=500).fit(df[TITANIC_FEATURES], df["Survived"])
    accuracy = float(model.score(df[TITANIC_FEATURES], df["Survived"]))
    return eo.models.register(
        "titanic-lr", model, "sklearn", metrics={"accuracy": accuracy}, training_dataset="titanic"
    )
