"""``/experiments``: recorded runs; ``/experiments/<id>``: trials, curves, ranking, rerun.

HPO searches show a sortable trials table, each trial's metric against time (early-stopped
trials marked) and the best value so far; ablation studies their ranking with its spread;
training runs their curves.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter

from eo_ray.storage import validate_name
from eo_ray.ui import _charts
from eo_ray.ui._pages import add_page

router = APIRouter()


@lru_cache(maxsize=16)
def _finished_trials(root: str, experiment_id: str, ended_at: str) -> tuple[dict, ...]:
    """The trials of a finished run (they no longer change, so they are read once)."""
    from eo_ray import experiments

    return tuple(experiments.get(experiment_id, ws=root).trials())


def _trials(record: Any) -> list[dict[str, Any]]:
    if record.ended_at is None:
        return record.trials()
    return list(_finished_trials(record.root, record.id, record.ended_at))


def experiments_index(kind: str | None = None) -> dict[str, Any]:
    """Every recorded run, newest first (optionally of one ``kind``)."""
    from eo_ray import experiments

    rows = [
        {
            "id": r.id,
            "name": r.name,
            "kind": r.kind,
            "status": r.status.value,
            "started_at": r.started_at,
            "duration_s": r.duration_s,
            "trials": r.summary.get("trials"),
            "best_value": r.summary.get("best_value"),
            "metric": r.summary.get("metric") or r.params.get("metric"),
        }
        for r in experiments.list(kind=kind)
    ]
    return {"experiments": rows, "kind": kind, "kinds": sorted({r["kind"] for r in rows})}


def _hpo_trial_row(t: dict[str, Any]) -> dict[str, Any]:
    start, end = t.get("started_at"), t.get("ended_at")
    return {
        "id": t.get("trial_id"),
        "status": t.get("status"),
        "value": t.get("value"),
        "hparams": t.get("hparams", {}),
        "reports": len(t.get("reports", [])),
        "last_step": t["reports"][-1]["step"] if t.get("reports") else None,
        "duration_s": end - start if start is not None and end is not None else None,
        "worker": t.get("worker"),
        "attempts": t.get("attempts"),
        "stop_reason": t.get("stop_reason"),
        "error": (t.get("error") or "").strip().splitlines()[-1] if t.get("error") else None,
    }


def _hpo_series(trials: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Per-trial (time, value) curves, stopped trials' last points and the best so far."""
    starts = [t["started_at"] for t in trials if t.get("started_at") is not None]
    t0 = min(starts, default=0.0)
    curves, stopped, best = [], {"time": [], "value": []}, {"time": [], "value": []}
    for t in trials:
        reports, start = t.get("reports") or [], t.get("started_at")
        if start is None or not reports:
            continue
        xs = [round(start - t0 + r["time"], 3) for r in reports]
        curves.append((xs, [r["value"] for r in reports]))
        if t.get("status") == "stopped":
            stopped["time"].append(xs[-1])
            stopped["value"].append(reports[-1]["value"])
    done = [t for t in trials if t.get("value") is not None and t.get("ended_at") is not None]
    current = None
    for t in sorted(done, key=lambda t: t["ended_at"]):
        value = t["value"]
        if value != value:  # NaN is never the best
            continue
        if current is None or (value > current if mode == "max" else value < current):
            current = value
        best["time"].append(round(t["ended_at"] - t0, 3))
        best["value"].append(current)
    return {"curves": curves, "stopped": stopped, "best": best}


def _train_curves(trials: list[dict[str, Any]]) -> dict[str, Any]:
    """Each numeric metric of a training run against its step."""
    rows = sorted((t.get("metrics") or {} for t in trials), key=lambda m: m.get("step", 0))
    names = sorted(
        {k for m in rows for k, v in m.items() if isinstance(v, int | float) and k != "step"}
    )
    return {
        "step": [m.get("step") for m in rows],
        "metrics": {n: [m.get(n) for m in rows] for n in names},
    }


def experiment_detail(experiment_id: str) -> dict[str, Any]:
    """One run: its record, trials and the figures of its kind."""
    from eo_ray import experiments

    validate_name(experiment_id, "experiment id")
    record = experiments.get(experiment_id)
    trials = _trials(record)
    summary = record.summary or {}
    data: dict[str, Any] = {
        "record": record.to_dict(),
        "duration_s": record.duration_s,
        "rerun_command": f"eo-ray experiments rerun {record.id}",
        "metric": summary.get("metric") or record.params.get("metric"),
        "mode": summary.get("mode") or record.params.get("mode") or "max",
        "view": "trials",
    }
    if record.kind == "ablation" or "ranking" in summary:
        data["view"] = "ablation"
        data["ranking"] = summary.get("ranking", [])
        data["trials"] = [
            {
                "id": t.get("trial_id"),
                "status": t.get("status"),
                "value": t.get("value"),
                **{k: t.get("hparams", {}).get(k) for k in ("component", "kind", "repeat")},
            }
            for t in trials
        ]
    elif any("reports" in t for t in trials):
        data["view"] = "hpo"
        data["trials"] = [_hpo_trial_row(t) for t in trials]
        data["hparam_names"] = sorted({k for t in trials for k in t.get("hparams", {})})
        data["series"] = _hpo_series(trials, data["mode"])
    elif record.kind == "train":
        data["view"] = "train"
        data["curves"] = _train_curves(trials)
        data["trials"] = []
    else:
        data["trials"] = trials
    return data


def experiment_charts(data: dict[str, Any]) -> dict[str, Any]:
    """Metric against time and best so far (HPO), ranking (ablation), curves (training)."""
    metric = data["metric"] or "value"
    if data["view"] == "hpo":
        series = data["series"]
        trace = _charts.joined_lines(series["curves"], "trials", _charts.PALETTE[0])
        stopped = _charts.markers(
            series["stopped"]["time"],
            series["stopped"]["value"],
            "stopped early",
            _charts.PALETTE[3],
            "x",
        )
        best = _charts.line(
            series["best"]["time"], series["best"]["value"], "best so far", _charts.PALETTE[2], "hv"
        )
        return {
            "trials": _charts.figure([trace, stopped], "seconds since the search started", metric),
            "best": _charts.figure([best], "seconds since the search started", f"best {metric}"),
        }
    if data["view"] == "ablation":
        rows = [
            r for r in data["ranking"] if r.get("diff") is not None and r["component"] != "base"
        ]
        bar = {
            "type": "bar",
            "orientation": "h",
            "y": [r["component"] for r in rows][::-1],
            "x": [r["diff"] for r in rows][::-1],
            "error_x": {"type": "data", "array": [r.get("std") or 0 for r in rows][::-1]},
            "marker": {"color": _charts.PALETTE[0]},
            "name": "difference to the base",
        }
        return {"ranking": _charts.figure([bar], f"{metric}: component left out − base", "")}
    if data["view"] == "train":
        curves = data["curves"]
        traces = [
            _charts.line(curves["step"], values, name, _charts.PALETTE[i % len(_charts.PALETTE)])
            for i, (name, values) in enumerate(curves["metrics"].items())
        ]
        return {"curves": _charts.figure(traces, "step", "value")} if traces else {}
    return {}


add_page(router, "/experiments", "experiments.html", experiments_index)
add_page(
    router,
    "/experiments/{experiment_id}",
    "experiment.html",
    experiment_detail,
    charts=experiment_charts,
)
