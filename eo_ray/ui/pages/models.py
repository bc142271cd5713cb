"""``/models``: registered models; ``/models/<name>``: versions, metrics, signature, lineage."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from eo_ray.storage import validate_name
from eo_ray.ui import _charts
from eo_ray.ui._pages import add_page
from eo_ray.ui.pages.deployments import recorded_deployments

router = APIRouter()


def _version_row(mv: Any) -> dict[str, Any]:
    return {
        "name": mv.name,
        "version": mv.version,
        "framework": mv.framework,
        "created_at": mv.created_at,
        "metrics": dict(mv.metrics),
        "description": mv.description,
        "signature": mv.signature,
        "training_dataset": mv.training_dataset,
        "experiment": mv.experiment,
        "train_run": mv.train_run,
        "uri": mv.uri,
    }


def models_index() -> dict[str, Any]:
    """The latest version of every registered model."""
    from eo_ray import models

    rows = [_version_row(mv) for mv in models.list()]
    return {"models": sorted(rows, key=lambda r: r["created_at"], reverse=True)}


def model_detail(name: str) -> dict[str, Any]:
    """Every version of model ``name`` with its lineage, and the deployments serving it."""
    from eo_ray import models

    validate_name(name, "model")
    models.get(name)  # ModelNotFoundError (a 404) when there is no such model
    versions = [_version_row(mv) for mv in models.list(name)]
    metric_names = sorted({m for v in versions for m in v["metrics"]})
    serving = [d for d in recorded_deployments() if d.get("model") == name]
    return {
        "name": name,
        "latest": versions[-1],
        "versions": versions[::-1],
        "metric_names": metric_names,
        "deployments": serving,
    }


def model_charts(data: dict[str, Any]) -> dict[str, Any]:
    """Each metric against the version number."""
    versions = data["versions"][::-1]
    if not data["metric_names"] or len(versions) < 2:
        return {}
    traces = [
        _charts.line(
            [v["version"] for v in versions],
            [v["metrics"].get(m) for v in versions],
            m,
            _charts.PALETTE[i % len(_charts.PALETTE)],
        )
        | {"mode": "lines+markers"}
        for i, m in enumerate(data["metric_names"])
    ]
    return {"metrics": _charts.figure(traces, "version", "metric", xaxis={"dtick": 1})}


add_page(router, "/models", "models.html", models_index)
add_page(router, "/models/{name}", "model.html", model_detail, charts=model_charts)
