"""Model serving on Ray Serve: ``eo.serving.deploy(model) -> Deployment``.

A registered model (torch, Keras or scikit-learn) answers ``POST /<name>/predict`` with
``{"instances": [...]}`` -> ``{"predictions": [...], "model": ..., "version": ...}``, plus
``GET /<name>/health`` and ``/metadata``. Every request is logged to a Delta table under the
workspace (read it with ``eo.monitoring.requests(name)``).

    dep = eo.serving.deploy("fashion-cnn", version="best", max_replicas=2, batch_size=16)
    dep.predict(x_test[:4])["predictions"]
    eo.serving.undeploy("fashion-cnn")
"""

from eo_ray.models import InputSpec
from eo_ray.serving._deploy import deploy, get, list_deployments, undeploy
from eo_ray.serving.client import Deployment
from eo_ray.serving.errors import (
    DeploymentConfigError,
    DeploymentNotFoundError,
    PredictionRequestError,
    ServingError,
)


def list() -> list[Deployment]:
    """The running deployments."""
    return [deployment for deployment, _ in list_deployments()]


__all__ = [
    "Deployment",
    "DeploymentConfigError",
    "DeploymentNotFoundError",
    "InputSpec",
    "PredictionRequestError",
    "ServingError",
    "deploy",
    "get",
    "list",
    "list_deployments",
    "undeploy",
]
