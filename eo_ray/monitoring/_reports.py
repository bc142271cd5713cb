"""``eo.monitoring.get`` and ``eo.monitoring.list``: the drift reports stored by
:func:`eo_ray.monitoring.drift` (``monitoring/<deployment>/drift/<stamp>/report.json``)."""

from __future__ import annotations

import builtins
from typing import Any

from eo_ray.monitoring._alerts import Alert, alerts
from eo_ray.monitoring.drift import ColumnDrift, DriftReport
from eo_ray.monitoring.errors import MonitoringError
from eo_ray.storage import Workspace, as_workspace, validate_name


def report_from_dict(doc: dict[str, Any], uri: str | None = None) -> DriftReport:
    """A stored report's JSON as a :class:`DriftReport` (its HTML stays in the folder)."""
    prediction, alert = doc.get("prediction"), doc.get("alert")
    return DriftReport(
        deployment=doc["deployment"],
        created_at=doc["created_at"],
        reference_rows=int(doc["reference_rows"]),
        current_rows=int(doc["current_rows"]),
        window=dict(doc.get("window") or {}),
        columns=[ColumnDrift(**c) for c in doc.get("columns", [])],
        share_drifted=float(doc["share_drifted"]),
        drift_share=float(doc["drift_share"]),
        prediction=ColumnDrift(**prediction) if prediction else None,
        alert=Alert(**alert) if alert else None,
        uri=uri or doc.get("uri"),
    )


def _deployments(ws: Workspace) -> builtins.list[str]:
    return [n for n in ws.list_dir(ws.uri("monitoring")) if not n.startswith((".", "_"))]


def _reports(ws: Workspace, deployment: str) -> builtins.list[DriftReport]:
    """The stored reports of one deployment, each with the alert it raised (the alert is
    recorded after its report, naming the report's folder)."""
    folder = ws.uri("monitoring", validate_name(deployment, "deployment"), "drift")
    raised = {alert.report: alert for alert in alerts(deployment, ws=ws)}
    out = []
    for stamp in ws.list_dir(folder):
        uri = f"{folder}/{stamp}/report.json"
        if ws.exists(uri):
            report = report_from_dict(ws.read_json(uri), f"{folder}/{stamp}")
            report.alert = report.alert or raised.get(report.uri)
            out.append(report)
    return out


def list(
    deployment: str | None = None, *, ws: Workspace | str | None = None
) -> builtins.list[DriftReport]:
    """The stored drift reports of ``deployment`` (or of every deployment), newest first."""
    ws = as_workspace(ws)
    names = [deployment] if deployment is not None else _deployments(ws)
    reports = [r for name in names for r in _reports(ws, name)]
    return sorted(reports, key=lambda r: r.created_at, reverse=True)


def get(
    deployment: str, created_at: str | None = None, *, ws: Workspace | str | None = None
) -> DriftReport:
    """The drift report of ``deployment`` made at ``created_at`` (its latest when None)."""
    reports = list(deployment, ws=ws)
    if created_at is not None:
        reports = [r for r in reports if r.created_at == created_at]
    if not reports:
        when = f" made at {created_at!r}" if created_at is not None else ""
        raise MonitoringError(
            f"No drift report of deployment {deployment!r}{when}; make one with "
            "eo.monitoring.drift(...) or see `eo.monitoring.list()`."
        )
    return reports[0]
