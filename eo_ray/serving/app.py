"""The Serve application builder for config files and KubeRay RayService.

``import_path: eo_ray.serving.app:build_app`` with ``args: {model: ship-cnn, version: best}``
serves a registry model exactly as :func:`eo_ray.serving.deploy` does (the workspace comes
from ``EO_RAY_HOME`` or ``args.home``).
"""

from __future__ import annotations

from typing import Any

from eo_ray.serving._deploy import _check_counts, _resolve_version, _view_ref, build
from eo_ray.serving._server import ServerConfig
from eo_ray.storage import set_workspace, validate_name, workspace


def build_app(args: dict[str, Any]) -> Any:
    """A Serve application from ``args``: model, version, name, min/max_replicas, batch_size..."""
    if args.get("home"):
        set_workspace(str(args["home"]))
    mv = _resolve_version(str(args["model"]), args.get("version"), args.get("metric", "accuracy"))
    name = validate_name(str(args.get("name") or mv.name), "deployment")
    low, high = int(args.get("min_replicas", 1)), int(args.get("max_replicas", 4))
    batch = args.get("batch_size")
    batch = None if batch in (None, "") else int(batch)
    _check_counts(low, high, batch)
    config = ServerConfig(
        name=name,
        root=workspace().root,
        model=mv.name,
        version=mv.version,
        batch_size=batch,
        feature_view=_view_ref(args.get("feature_view")),
        auth_sha256=ServerConfig.token_hash(args.get("auth_token")),
        log_requests=bool(args.get("log_requests", True)),
        num_cpus=float(args.get("num_cpus", 0.5)),
    )
    return build(config, low, high, config.num_cpus)
