"""``/featurestore``: groups and views (with search); ``/featurestore/<group>``: schema,
versions and commits, statistics with a histogram per feature, validation reports, the views
reading it; ``/featurestore/views/<view>``: a view's query, groups and training datasets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from eo_ray.storage import validate_name
from eo_ray.ui._pages import add_page

router = APIRouter()


def _store() -> Any:
    import eo_ray as eo

    return eo.feature_store()


def _group_row(g: Any) -> dict[str, Any]:
    return {
        "name": g.name,
        "version": g.version,
        "primary_key": g.primary_key,
        "event_time": g.event_time,
        "online": g.online,
        "features": len(g.features),
        "description": g.description,
        "tags": g.tags,
    }


def featurestore_index(q: str | None = Query(None, max_length=200)) -> dict[str, Any]:
    """Every feature group and view; with ``q``, the search hits too."""
    fs = _store()
    groups = [_group_row(g) for g in fs.list_feature_groups()]
    views = [
        {"name": v.name, "version": v.version, "labels": v.labels, "description": v.description}
        for v in fs.list_feature_views()
    ]
    hits = [h.to_dict() for h in fs.search(q)] if q else []
    return {"feature_groups": groups, "feature_views": views, "query": q, "hits": hits}


def _versions(fs: Any, name: str, latest: int) -> list[int]:
    from eo_ray.featurestore import NotFoundError

    found = []
    for v in range(1, latest + 1):
        try:
            fs.get_feature_group(name, v)
        except NotFoundError:
            continue
        found.append(v)
    return found


def _statistics(fg: Any, commit: int | None) -> dict[str, Any] | None:
    from eo_ray.featurestore import NotFoundError

    try:
        return fg.statistics(commit).to_dict()
    except NotFoundError:
        if commit is not None:
            raise
        return None


def featurestore_group(
    group: str,
    version: int | None = Query(None, ge=1),
    commit: int | None = Query(None, ge=0),
) -> dict[str, Any]:
    """A feature group version: schema, versions, commits, statistics, validations, views."""
    validate_name(group, "feature group")
    fs = _store()
    latest = fs.get_feature_group(group)
    fg = latest if version is None else fs.get_feature_group(group, version)
    suite = fg.get_expectation_suite()
    views = []
    for view in fs.views_using(fg):
        views.append(
            {
                "name": view.name,
                "version": view.version,
                "labels": view.labels,
                "training_datasets": view.training_dataset_versions(),
            }
        )
    return {
        "group": _group_row(fg),
        "versions": _versions(fs, group, latest.version),
        "schema": [f.to_dict() for f in fg.features],
        "commits": fg.history(),
        "statistics": _statistics(fg, commit),
        "expectation_suite": None if suite is None else suite.to_dict(),
        "validations": [r.to_dict() for r in fg.validation_history()][-20:][::-1],
        "views": views,
    }


def featurestore_view(view: str, version: int | None = Query(None, ge=1)) -> dict[str, Any]:
    """A feature view: its query over groups (lineage), features, labels, training datasets."""
    validate_name(view, "feature view")
    fv = _store().get_feature_view(view, version)
    groups = [{"group": g.name, "version": g.version} for g in fv.query.groups()]
    datasets = []
    for v in fv.training_dataset_versions():
        meta = fv.get_training_dataset(v).meta
        datasets.append(
            {
                "version": v,
                "row_counts": meta.get("row_counts"),
                "seed": (meta.get("split") or {}).get("seed"),
                "group_versions": meta.get("group_versions", []),
                "description": meta.get("description", ""),
                "created": meta.get("created"),
            }
        )
    return {
        "name": fv.name,
        "version": fv.version,
        "description": fv.description,
        "labels": fv.labels,
        "features": fv.features,
        "transforms": fv.transforms,
        "groups": groups,
        "training_datasets": datasets,
    }


add_page(router, "/featurestore", "featurestore.html", featurestore_index)
add_page(router, "/featurestore/views/{view}", "feature_view.html", featurestore_view)
add_page(router, "/featurestore/{group}", "feature_group.html", featurestore_group)
