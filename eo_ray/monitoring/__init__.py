"""Monitoring of served models: the request log, drift reports and alerts.

log = eo.monitoring.requests("fashion-cnn", since=dt.timedelta(hours=1))
chips = eo.monitoring.request_inputs(log)  # each request's inputs, decoded
report = eo.monitoring.drift("fashion-cnn", reference=x_train, window=1000,
                             on_alert=eo.pipelines.on_alert(retrain))
report.to_json(); report.save_html("drift.html")
"""

from typing import TYPE_CHECKING

from eo_ray import _lazy

if TYPE_CHECKING:
    from eo_ray.monitoring._alerts import Alert, AlertHook, alerts
    from eo_ray.monitoring._reports import get, list
    from eo_ray.monitoring._requests import requests
    from eo_ray.monitoring.drift import ColumnDrift, DriftReport, compare, drift
    from eo_ray.monitoring.errors import MonitoringError, NoRequestsError, ReferenceDataError
    from eo_ray.monitoring.summaries import band_statistics, request_inputs, summarise

__getattr__, __dir__ = _lazy.attach(__name__, __file__)

__all__ = [
    "Alert",
    "AlertHook",
    "ColumnDrift",
    "DriftReport",
    "MonitoringError",
    "NoRequestsError",
    "ReferenceDataError",
    "alerts",
    "band_statistics",
    "compare",
    "drift",
    "get",
    "list",
    "request_inputs",
    "requests",
    "summarise",
]
