"""Running the UI: in the foreground with uvicorn, or on a cluster as a Ray Serve app."""

from __future__ import annotations

from typing import Any

from eo_ray._params import invalid
from eo_ray.ui.errors import UIConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8265 + 1  # next to the Ray dashboard's port


def serve(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None, **uvicorn_kw: Any
) -> None:
    """Serve the UI on ``host:port`` until stopped (Ctrl-C); 127.0.0.1 by default."""
    import uvicorn

    from eo_ray.ui.app import create_app

    uvicorn.run(create_app(token=token), host=host, port=port, log_level="warning", **uvicorn_kw)


def _app_builder(token: str | None, root: str) -> Any:
    """A function that builds the app in each Serve replica (the app itself is not shipped;
    Serve takes a plain function, not a partial, as a builder)."""

    def build_app() -> Any:
        from eo_ray.ui.app import create_app

        return create_app(token=token, ws=root)

    return build_app


def deploy(
    name: str = "eo-ray-ui",
    route_prefix: str = "/ui",
    token: str | None = None,
    num_cpus: float = 0.25,
) -> str:
    """Deploy the UI as the Ray Serve application ``name`` at ``route_prefix``; returns its URL.

    Replicas read the workspace of this process (``EO_RAY_HOME``); ``token`` (default:
    ``EO_RAY_UI_TOKEN``) protects it as in ``eo-ray ui --token``.
    """
    import os

    from ray import serve

    from eo_ray.serving._deploy import ensure_serve
    from eo_ray.storage import validate_name, workspace

    validate_name(name, "deployment")
    if not route_prefix.startswith("/"):
        expected = "a path starting with '/'"
        raise invalid(UIConfigError, "route_prefix", "deploy", expected, route_prefix)
    token = token if token is not None else os.environ.get("EO_RAY_UI_TOKEN") or None
    host, port = ensure_serve()
    ingress = serve.ingress(_app_builder(token, workspace().root))
    deployment = serve.deployment(name=name, ray_actor_options={"num_cpus": num_cpus})(
        ingress(type("UIServer", (), {}))
    )
    serve.run(deployment.bind(), name=name, route_prefix=route_prefix)
    return f"http://{host}:{port}{route_prefix.rstrip('/')}"
