"""``/pipelines``: recorded runs; ``/pipelines/<run>``: the DAG with each step's status,
attempts, duration and logs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from eo_ray.storage import validate_name, workspace
from eo_ray.ui._pages import add_page

router = APIRouter()

LOG_TAIL = 8000  # characters of each attempt's log shown
NODE_W, NODE_H, GAP_X, GAP_Y = 150, 44, 60, 24


def pipelines_index() -> dict[str, Any]:
    """Every pipeline run, newest first."""
    from eo_ray import pipelines

    rows = []
    for r in pipelines.list_runs():
        statuses = [s.status.value for s in r.steps.values()]
        rows.append(
            {
                "run_id": r.run_id,
                "pipeline": r.pipeline,
                "status": r.status,
                "started": r.started,
                "ended": r.ended,
                "trigger": r.trigger,
                "steps": len(statuses),
                "failed_steps": statuses.count("failed"),
            }
        )
    return {"runs": rows}


def _log_tail(uri: str | None) -> str | None:
    ws = workspace()
    if not uri or not uri.startswith(ws.root + "/") or not ws.exists(uri):
        return None
    return ws.read_bytes(uri).decode("utf-8", errors="replace")[-LOG_TAIL:]


def _layout(steps: dict[str, Any]) -> dict[str, Any]:
    """Columns by dependency depth (longest path), one row per step in a column."""
    depth: dict[str, int] = {}

    def level(name: str, seen: tuple[str, ...] = ()) -> int:
        if name not in depth:
            parents = [p for p in steps[name]["depends_on"] if p in steps and p not in seen]
            depth[name] = 1 + max((level(p, (*seen, name)) for p in parents), default=-1)
        return depth[name]

    columns: dict[int, list[str]] = {}
    for name in steps:
        columns.setdefault(level(name), []).append(name)
    nodes = {}
    for col, names in columns.items():
        for row, name in enumerate(names):
            x, y = 10 + col * (NODE_W + GAP_X), 10 + row * (NODE_H + GAP_Y)
            nodes[name] = {"name": name, "status": steps[name]["status"], "x": x, "y": y}
    edges = [
        {
            "x1": nodes[p]["x"] + NODE_W,
            "y1": nodes[p]["y"] + NODE_H / 2,
            "x2": nodes[s]["x"],
            "y2": nodes[s]["y"] + NODE_H / 2,
        }
        for s in steps
        for p in steps[s]["depends_on"]
        if p in nodes
    ]
    rows = max((len(n) for n in columns.values()), default=1)
    return {
        "nodes": list(nodes.values()),
        "edges": edges,
        "width": 20 + len(columns) * (NODE_W + GAP_X) - GAP_X,
        "height": 20 + rows * (NODE_H + GAP_Y) - GAP_Y,
        "node_w": NODE_W,
        "node_h": NODE_H,
    }


def pipeline_run(run_id: str) -> dict[str, Any]:
    """One run: its steps (status, attempts, durations, log tails) and the DAG's layout."""
    from eo_ray import pipelines

    validate_name(run_id, "pipeline run")
    record = pipelines.get_run(run_id)
    steps = {}
    for name, step in record.steps.items():
        steps[name] = {
            "name": name,
            "status": step.status.value,
            "depends_on": list(step.depends_on),
            "duration_s": step.duration_s,
            "output_summary": step.output_summary,
            "attempts": [
                {
                    "number": a.number,
                    "started": a.started,
                    "ended": a.ended,
                    "duration_s": a.duration_s,
                    "error": a.error,
                    "log": _log_tail(a.log_uri),
                }
                for a in step.attempts
            ],
        }
    return {
        "run_id": record.run_id,
        "pipeline": record.pipeline,
        "status": record.status,
        "started": record.started,
        "ended": record.ended,
        "trigger": record.trigger,
        "resumed_from": record.resumed_from,
        "source": record.source,
        "steps": list(steps.values()),
        "dag": _layout(steps),
    }


add_page(router, "/pipelines", "pipelines.html", pipelines_index)
add_page(router, "/pipelines/{run_id}", "pipeline_run.html", pipeline_run)
