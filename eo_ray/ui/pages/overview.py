"""``/``: what every stage holds and its latest activity, with links."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from eo_ray.errors import EoRayError
from eo_ray.ui._pages import add_page

router = APIRouter()
logger = logging.getLogger(__name__)


def _catalogs() -> dict[str, Any]:
    from eo_ray import ingest

    names = ingest.list_catalogs()
    return {"count": len(names), "latest": None, "names": names[:5]}


def _maps() -> dict[str, Any]:
    from eo_ray.ui.pages.maps import list_maps

    maps = list_maps()
    latest = maps[0] if maps else None
    return {
        "count": len(maps),
        "latest": latest and {"name": latest["map_id"], "time": latest.get("created_at")},
    }


def _featurestore() -> dict[str, Any]:
    import eo_ray as eo

    fs = eo.feature_store()
    groups = fs.list_feature_groups()
    views = fs.list_feature_views()
    return {
        "count": len(groups),
        "views": len(views),
        "latest": None,
        "names": sorted({g.name for g in groups})[:5],
    }


def _experiments() -> dict[str, Any]:
    from eo_ray import experiments

    records = experiments.list()
    latest = records[0] if records else None
    kinds: dict[str, int] = {}
    for r in records:
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    return {
        "count": len(records),
        "kinds": kinds,
        "latest": latest
        and {"name": latest.id, "time": latest.started_at, "status": latest.status.value},
    }


def _models() -> dict[str, Any]:
    from eo_ray import models

    versions = sorted(models.list(), key=lambda mv: mv.created_at, reverse=True)
    latest = versions[0] if versions else None
    return {
        "count": len(versions),
        "latest": latest
        and {"name": latest.name, "version": latest.version, "time": latest.created_at},
    }


def _deployments() -> dict[str, Any]:
    from eo_ray.ui.pages.deployments import recorded_deployments

    found = recorded_deployments()
    latest = max(found, key=lambda d: d.get("created_at") or "", default=None)
    return {
        "count": len(found),
        "latest": latest and {"name": latest["name"], "time": latest.get("created_at")},
    }


def _pipelines() -> dict[str, Any]:
    from eo_ray import pipelines

    runs = pipelines.list_runs()
    latest = runs[0] if runs else None
    return {
        "count": len(runs),
        "latest": latest
        and {"name": latest.run_id, "time": latest.started, "status": latest.status},
    }


SECTIONS: tuple[tuple[str, str, str, Callable[[], dict[str, Any]]], ...] = (
    ("catalogs", "Catalogs", "/catalogs", _catalogs),
    ("maps", "Maps", "/maps", _maps),
    ("featurestore", "Feature groups", "/featurestore", _featurestore),
    ("experiments", "Experiments", "/experiments", _experiments),
    ("models", "Models", "/models", _models),
    ("deployments", "Deployments", "/deployments", _deployments),
    ("pipelines", "Pipeline runs", "/pipelines", _pipelines),
)


def overview() -> dict[str, Any]:
    """Per stage: how many objects it holds and its latest activity."""
    from eo_ray.storage import workspace

    sections = []
    for key, title, link, summarise in SECTIONS:
        try:
            section = summarise()
        except (EoRayError, ImportError, OSError) as exc:  # one broken store hides nothing else
            logger.warning("overview: %s unavailable: %s", key, exc)
            section = {"count": None, "latest": None, "error": str(exc)}
        sections.append({"key": key, "title": title, "link": link, **section})
    return {"workspace": workspace().root, "sections": sections}


add_page(router, "/", "overview.html", overview, api_path="/api/overview")
