"""``deploy``, ``list`` and ``undeploy``: registry models as Ray Serve applications.

Each deployment is one Serve application named after it, routed at ``/<name>``, autoscaling
between ``min_replicas`` and ``max_replicas``. A record under the workspace
(``serving/deployments/<name>.json``) keeps what was deployed so ``list`` can show it.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from eo_ray._params import in_range, invalid, positive_int
from eo_ray.serving._server import ModelServer, ServerConfig
from eo_ray.serving.client import Deployment
from eo_ray.serving.errors import DeploymentConfigError, DeploymentNotFoundError
from eo_ray.storage import validate_name, workspace

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Ray Serve's own throughput settings (part of its RAY_SERVE_THROUGHPUT_OPTIMIZED profile,
# without direct ingress, which would drop the shared proxy and its /<name> routes): the proxy
# reaches replicas over gRPC rather than Ray actor calls, and a replica runs its request
# handler on its main event loop rather than handing each request to a second thread.
# Measured on 2 cores: about 15% less CPU per request and 20% more requests/s at concurrency 32
# (benchmarks/RESULTS.md, "Serving"). They apply when eo-ray starts Serve; a Serve instance
# started elsewhere keeps its own settings.
SERVE_ENV = {
    "RAY_SERVE_PROXY_USE_GRPC": "1",
    "RAY_SERVE_USE_GRPC_BY_DEFAULT": "1",
    "RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0",
}


def _records_uri(name: str | None = None) -> str:
    folder = workspace().uri("serving", "deployments")
    return f"{folder}/{name}.json" if name else folder


def _resolve_version(model: str, version: int | str | None, metric: str) -> Any:
    from eo_ray import models

    if version == "best":
        return models.best(model, metric)
    if version is None or version == "latest":
        return models.get(model)
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if not isinstance(version, int) or isinstance(version, bool):
        expected = "a version number, 'best' or None (the latest)"
        raise invalid(DeploymentConfigError, "version", "deploy", expected, version)
    return models.get(model, version)


def _view_ref(feature_view: Any) -> tuple[str, int | None] | None:
    if feature_view is None:
        return None
    if isinstance(feature_view, str):
        from eo_ray.featurestore import feature_store

        name, _, version = feature_view.partition(":")
        view = feature_store().get_feature_view(
            validate_name(name, "feature view"), int(version) if version.isdigit() else None
        )  # raises the feature store's not-found error before anything is deployed
        return view.name, int(view.version)
    if hasattr(feature_view, "name") and hasattr(feature_view, "version"):
        return feature_view.name, int(feature_view.version)
    expected = "a FeatureView, its name or 'name:version'"
    raise invalid(DeploymentConfigError, "feature_view", "deploy", expected, feature_view)


def _check_counts(min_replicas: int, max_replicas: int, batch_size: int | None) -> None:
    for name, value in (("min_replicas", min_replicas), ("max_replicas", max_replicas)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise invalid(DeploymentConfigError, name, "deploy", "an int >= 0", value)
    if max_replicas < max(1, min_replicas):
        expected = f"at least 1 and at least min_replicas ({min_replicas})"
        raise invalid(DeploymentConfigError, "max_replicas", "deploy", expected, max_replicas)
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        expected = "a positive int or None"
        raise invalid(DeploymentConfigError, "batch_size", "deploy", expected, batch_size)


def ensure_serve(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """Start Ray (if needed) and Serve's HTTP proxy; return the proxy's host and port.

    Serve started here gets :data:`SERVE_ENV` (its controller, proxies and replicas).
    """
    from ray import serve
    from ray.serve.context import _get_global_client

    import eo_ray as eo

    eo.init()
    try:
        client = _get_global_client(raise_if_no_controller_running=True)
    except Exception:  # noqa: BLE001 - no controller yet: start one with our HTTP options
        client = None
    if client is None:
        host = host or os.environ.get("EO_RAY_SERVE_HOST", DEFAULT_HOST)
        port = port or int(os.environ.get("EO_RAY_SERVE_PORT", DEFAULT_PORT))
        serve.start(
            http_options={"host": host, "port": port},
            controller_options={"runtime_env": {"env_vars": dict(SERVE_ENV)}},
        )
        client = _get_global_client()
    config = client.http_config
    wildcard = config.host in ("0.0.0.0", "")  # noqa: S104 - a proxy bound to every interface
    return ("127.0.0.1" if wildcard else config.host), int(config.port)


def build(
    config: ServerConfig, min_replicas: int = 1, max_replicas: int = 1, num_cpus: float = 0.5
) -> Any:
    """The Serve application of ``config`` (autoscaling when max_replicas > min_replicas)."""
    if min_replicas == max_replicas:
        options: dict[str, Any] = {"num_replicas": max_replicas}
    else:
        options = {
            "autoscaling_config": {
                "min_replicas": min_replicas,
                "initial_replicas": max(1, min_replicas),
                "max_replicas": max_replicas,
                "target_ongoing_requests": 8,
                "upscale_delay_s": 5,
                "downscale_delay_s": 60,
            }
        }
    return ModelServer.options(
        name=config.name, ray_actor_options={"num_cpus": num_cpus}, **options
    ).bind(config)


def deploy(
    model: str,
    version: int | str | None = None,
    name: str | None = None,
    min_replicas: int = 1,
    max_replicas: int = 4,
    batch_size: int | None = None,
    feature_view: Any = None,
    auth_token: str | None = None,
    *,
    metric: str = "accuracy",
    batch_wait_s: float = 0.005,
    log_requests: bool = True,
    max_instances: int = 1024,
    max_body_bytes: int = 8 * 1024 * 1024,
    num_cpus: float = 0.5,
    host: str | None = None,
    port: int | None = None,
) -> Deployment:
    """Serve version ``version`` of registered model ``model`` at ``POST /<name>/predict``.

    ``version`` is a number, ``"best"`` (best ``metric``) or None (latest). ``batch_size``
    turns on dynamic batching (a batch waits at most ``batch_wait_s`` for more requests);
    ``feature_view`` makes the deployment take entity keys and fetch features from the
    view's online store; ``auth_token`` requires a bearer token;
    ``num_cpus`` is reserved per replica.
    Redeploying a name replaces it in place.
    """
    from ray import serve

    mv = _resolve_version(model, version, metric)
    name = validate_name(name or model, "deployment")
    _check_counts(min_replicas, max_replicas, batch_size)
    error = DeploymentConfigError
    if auth_token is not None and (not isinstance(auth_token, str) or not auth_token):
        raise invalid(error, "auth_token", "deploy", "a non-empty string or None", auth_token)
    in_range(batch_wait_s, 0, 1, name="batch_wait_s", owner="deploy", error=error)
    positive_int(max_instances, name="max_instances", owner="deploy", error=error)
    positive_int(max_body_bytes, name="max_body_bytes", owner="deploy", error=error)
    if isinstance(num_cpus, bool) or not (isinstance(num_cpus, int | float) and num_cpus >= 0):
        raise invalid(error, "num_cpus", "deploy", "a number >= 0", num_cpus)
    view = _view_ref(feature_view)
    host, port = ensure_serve(host, port)
    ws = workspace()
    config = ServerConfig(
        name=name,
        root=ws.root,
        model=mv.name,
        version=mv.version,
        batch_size=batch_size,
        batch_wait_s=float(batch_wait_s),
        feature_view=view,
        auth_sha256=ServerConfig.token_hash(auth_token),
        log_requests=log_requests,
        max_instances=max_instances,
        max_body_bytes=max_body_bytes,
        num_cpus=float(num_cpus),
    )
    app = build(config, min_replicas, max_replicas, float(num_cpus))
    serve.run(app, name=name, route_prefix=f"/{name}")
    deployment = Deployment(
        name=name,
        model=mv.name,
        version=mv.version,
        url=f"http://{host}:{port}/{name}",
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        batch_size=batch_size,
        feature_view=None if view is None else f"{view[0]}:{view[1]}",
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    ws.write_json(_records_uri(name), deployment.to_dict())
    return deployment


def _running_apps() -> dict[str, str]:
    from ray import serve

    try:
        return {name: str(app.status) for name, app in serve.status().applications.items()}
    except Exception:  # noqa: BLE001 - Serve not started: nothing runs
        return {}


def statuses() -> list[tuple[Deployment, str]]:
    """Every recorded deployment still running on Serve, with its application status
    (``eo.serving.list()`` gives the deployments alone)."""
    import eo_ray as eo

    eo.init()
    ws = workspace()
    apps = _running_apps()
    out = []
    for entry in ws.list_dir(_records_uri()):
        name = entry.removesuffix(".json")
        if entry.endswith(".json") and name in apps:
            out.append((Deployment(**ws.read_json(_records_uri(name))), apps[name]))
    return out


list_deployments = statuses  # the former name: it lists (deployment, status) pairs


def get(name: str) -> Deployment:
    """The running deployment ``name``."""
    for deployment, _ in statuses():
        if deployment.name == name:
            return deployment
    raise DeploymentNotFoundError(
        f"No deployment named {name!r} is running; see `eo-ray serve list`."
    )


def undeploy(name: str) -> None:
    """Stop deployment ``name`` (replicas drain and commit their request logs) and forget it."""
    from ray import serve

    from eo_ray.serving import request_log

    validate_name(name, "deployment")
    import eo_ray as eo

    eo.init()
    if name not in _running_apps():
        raise DeploymentNotFoundError(
            f"No deployment named {name!r} is running; see `eo-ray serve list`."
        )
    serve.delete(name)
    request_log.flush(name)  # rows of replicas that did not stop cleanly
    workspace().delete(_records_uri(name))
