"""Model serving on Ray Serve: ``eo.serving.deploy(model) -> Deployment``.

A registered model (torch, Keras or scikit-learn) answers ``POST /<name>/predict`` with
``{"instances": [...]}`` -> ``{"predictions": [...], "model": ..., "version": ...}``, plus
``GET /<name>/health`` and ``/metadata``. Every request is logged to a Delta table under the
workspace (read it with ``eo.monitoring.requests(name)``).

    dep = eo.serving.deploy("fashion-cnn", version="best", max_replicas=2, batch_size=16)
    dep.predict(x_test[:4])["predictions"]
    eo.serving.undeploy("fashion-cnn")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eo_ray import _lazy

if TYPE_CHECKING:
    from eo_ray.models import InputSpec
    from eo_ray.serving._deploy import deploy, get, list_deployments, statuses, undeploy
    from eo_ray.serving.client import Deployment
    from eo_ray.serving.errors import (
        DeploymentConfigError,
        DeploymentNotFoundError,
        PredictionRequestError,
        ServingError,
    )

__getattr__, __dir__ = _lazy.attach(__name__, __file__)


def list() -> list[Deployment]:
    """The running deployments."""
    from eo_ray.serving._deploy import statuses

    return [deployment for deployment, _ in statuses()]


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
    "statuses",
    "undeploy",
]
