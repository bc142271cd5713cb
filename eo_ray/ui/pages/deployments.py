"""``/deployments``, ``/deployments/<name>``: status, a paged request log, latency, drift.

Browsing needs no Ray: deployments are the records the serving stage keeps under the
workspace (``serving/deployments/<name>.json``) and the request logs it writes
(``request_log.table_uri``); whether Serve still runs them is only known with Ray, so the
page shows the recorded state. Drift reports come from ``eo.monitoring.list(name)``, where
``eo.monitoring.drift`` saved them.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Query

from eo_ray.storage import validate_name, workspace
from eo_ray.ui import _charts
from eo_ray.ui._pages import add_page
from eo_ray.ui.errors import ObjectNotFoundError

router = APIRouter()

PAGE_SIZE = 50
LATENCY_POINTS = 300  # the latency chart shows at most this many time buckets
LOG_COLUMNS = [
    "request_id",
    "time",
    "model",
    "model_version",
    "replica",
    "status",
    "error",
    "n_instances",
    "latency_ms",
]


def recorded_deployments() -> list[dict[str, Any]]:
    """Every deployment with a record or a request log, by name (a deployment known only
    by its log gets its model and version from the log's first row)."""
    from eo_ray.serving import request_log

    ws = workspace()
    records_dir = ws.uri("serving", "deployments")
    found: dict[str, dict[str, Any]] = {}
    for entry in ws.list_dir(records_dir):
        if entry.endswith(".json"):
            doc = ws.read_json(f"{records_dir}/{entry}")
            found[doc.get("name", entry[:-5])] = doc | {"recorded": True}
    logs_dir = request_log.table_uri(ws, "x").rsplit("/", 1)[0]
    for name in ws.list_dir(logs_dir):
        if name.startswith((".", "_")):
            continue
        if name not in found:
            found[name] = {"name": name, "recorded": False, **_logged_model(name)}
        found[name]["has_log"] = True
    return [found[n] for n in sorted(found)]


def _logged_model(name: str) -> dict[str, Any]:
    """The model and version of the first request in a deployment's log (empty if none)."""
    dataset = _log_dataset(name)
    if dataset is None:
        return {}
    rows = dataset.head(1, columns=["model", "model_version"]).to_pylist()
    return {"model": rows[0]["model"], "version": rows[0]["model_version"]} if rows else {}


def _log_dataset(name: str) -> Any:
    """The request log as a pyarrow dataset (None when there is none)."""
    from deltalake import DeltaTable

    from eo_ray.serving import request_log

    ws = workspace()
    uri = request_log.table_uri(ws, name)
    if not DeltaTable.is_deltatable(uri, storage_options=ws.storage_options):
        return None
    return DeltaTable(uri, storage_options=ws.storage_options).to_pyarrow_dataset()


def _log_table(name: str) -> Any:
    """The request log as an Arrow table of its small columns (None when there is none)."""
    dataset = _log_dataset(name)
    if dataset is None:
        return None
    return dataset.to_table(columns=[c for c in LOG_COLUMNS if c in dataset.schema.names])


def _latency_series(table: Any) -> dict[str, list]:
    """Median and max latency per time bucket (at most LATENCY_POINTS buckets)."""
    import numpy as np
    import pyarrow.compute as pc

    times = pc.cast(table["time"], "int64").to_numpy(zero_copy_only=False)
    latency = table["latency_ms"].to_numpy(zero_copy_only=False).astype("float64")
    order = np.argsort(times, kind="stable")
    times, latency = times[order], latency[order]
    buckets = np.array_split(np.arange(len(times)), min(LATENCY_POINTS, len(times)))
    out: dict[str, list] = {"time": [], "median_ms": [], "max_ms": [], "requests": []}
    for idx in buckets:
        if not len(idx):
            continue
        out["time"].append(int(times[idx[0]]) / 1e6)
        out["median_ms"].append(float(np.nanmedian(latency[idx])))
        out["max_ms"].append(float(np.nanmax(latency[idx])))
        out["requests"].append(len(idx))
    return out


def _page_rows(table: Any, page: int, status: int | None) -> tuple[list[dict], int]:
    import pyarrow.compute as pc

    if status is not None:
        table = table.filter(pc.equal(table["status"], status))
    total = table.num_rows
    indices = pc.sort_indices(table, sort_keys=[("time", "descending")])
    start = (page - 1) * PAGE_SIZE
    rows = table.take(indices[start : start + PAGE_SIZE]).to_pylist()
    return rows, total


def deployments_index() -> dict[str, Any]:
    """Every recorded deployment."""
    return {"deployments": recorded_deployments()}


def deployment_detail(
    name: str,
    page: int = Query(1, ge=1, le=1_000_000),
    status: int | None = Query(None, ge=100, le=599),
) -> dict[str, Any]:
    """A deployment's record, one page of its request log (newest first), latency, drift."""
    from eo_ray import monitoring

    validate_name(name, "deployment")
    known = {d["name"]: d for d in recorded_deployments()}
    if name not in known:
        raise ObjectNotFoundError(f"No deployment named {name!r} in {workspace().root}.")
    table = _log_table(name)
    summary: dict[str, Any] = {"requests": 0}
    rows: list[dict] = []
    total, latency = 0, {"time": [], "median_ms": [], "max_ms": [], "requests": []}
    if table is not None and table.num_rows:
        import pyarrow.compute as pc

        rows, total = _page_rows(table, page, status)
        latency = _latency_series(table)
        counts = pc.value_counts(table["status"]).to_pylist()
        summary = {
            "requests": table.num_rows,
            "first": pc.min(table["time"]).as_py(),
            "last": pc.max(table["time"]).as_py(),
            "by_status": {str(c["values"]): c["counts"] for c in counts},
            "latency_p50_ms": pc.approximate_median(table["latency_ms"]).as_py(),
        }
    return {
        "name": name,
        "record": known[name],
        "summary": summary,
        "requests": rows,
        "page": page,
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "matching": total,
        "status_filter": status,
        "latency": latency,
        "drift_reports": [r.to_dict() for r in monitoring.list(name)],
        "alerts": [a.to_dict() for a in monitoring.alerts(name)],
    }


def deployment_charts(data: dict[str, Any]) -> dict[str, Any]:
    """Latency over time."""
    series = data["latency"]
    if not series["time"]:
        return {}
    import datetime as dt

    times = [dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat() for t in series["time"]]
    traces = [
        _charts.line(times, series["median_ms"], "median", _charts.PALETTE[0]),
        _charts.line(times, series["max_ms"], "max", _charts.PALETTE[3]),
    ]
    return {"latency": _charts.figure(traces, "time (UTC)", "latency (ms)")}


add_page(router, "/deployments", "deployments.html", deployments_index)
add_page(
    router, "/deployments/{name}", "deployment.html", deployment_detail, charts=deployment_charts
)
