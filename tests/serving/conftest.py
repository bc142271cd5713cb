"""Fixtures of the serving tests: one Serve instance on loopback and real registered models."""

from __future__ import annotations

import pytest

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


@pytest.fixture(scope="session")
def serve_instance(ray_session):
    """Serve as eo-ray starts it (with its throughput settings) on 127.0.0.1 and a free port.

    Overrides the shared fixture for the serving tests; if Serve already runs (started by
    another stage's tests), that instance is used as it is.
    """
    from ray import serve

    from eo_ray.serving._deploy import ensure_serve
    from tests.conftest import free_port

    _, port = ensure_serve("127.0.0.1", free_port())
    yield port
    serve.shutdown()
