"""Drift alerts: a record under the workspace and a callback hook.

Any callable taking an :class:`Alert` is a hook; ``eo.pipelines.on_alert(pipeline)`` returns
one that starts the retraining pipeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from eo_ray.storage import Workspace, as_workspace, validate_name, workspace

AlertHook = Callable[["Alert"], Any]


@dataclass(frozen=True)
class Alert:
    """A threshold crossed by a drift check of deployment ``deployment``."""

    deployment: str
    metric: str
    value: float
    threshold: float
    message: str
    report: str
    time: str

    @property
    def name(self) -> str:
        return f"drift:{self.deployment}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _folder(deployment: str, ws: Workspace | str | None = None) -> str:
    return as_workspace(ws).uri("monitoring", validate_name(deployment, "deployment"), "alerts")


def record(alert: Alert) -> str:
    """Write the alert record; return its URI."""
    stamp = alert.time.replace(":", "").replace("-", "").replace("+0000", "Z")
    uri = f"{_folder(alert.deployment)}/{stamp}.json"
    workspace().write_json(uri, alert.to_dict())
    return uri


def alerts(deployment: str, *, ws: Workspace | str | None = None) -> list[Alert]:
    """The recorded alerts of ``deployment``, oldest first."""
    ws = as_workspace(ws)
    folder = _folder(deployment, ws)
    return [
        Alert(**ws.read_json(f"{folder}/{entry}"))
        for entry in ws.list_dir(folder)
        if entry.endswith(".json")
    ]


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
