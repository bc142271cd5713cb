"""``eo.monitoring.drift``: logged inputs and predictions against a reference, with evidently.

The current window comes from the request log; the reference is a DataFrame, an array of
instances (image chips are summarised per band) or a feature view. Both sides are sampled to
at most ``sample`` rows so reports stay fast and small. Evidently's DataDriftPreset picks a
test per column (K-S / chi-square on small samples, Wasserstein / Jensen-Shannon on large);
prediction drift compares the model's predictions on the reference with the logged ones.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eo_ray._params import invalid
from eo_ray.monitoring import _alerts
from eo_ray.monitoring._requests import requests
from eo_ray.monitoring.errors import NoRequestsError, ReferenceDataError
from eo_ray.monitoring.summaries import logged_inputs, summarise
from eo_ray.storage import workspace

PREDICTION = "prediction"


@dataclass(frozen=True)
class ColumnDrift:
    """The drift test of one column: its score, the threshold and the verdict."""

    column: str
    method: str
    score: float
    threshold: float
    drifted: bool


@dataclass
class DriftReport:
    """The result of one drift check: JSON form (:meth:`to_dict`) and HTML form (:attr:`html`)."""

    deployment: str | None
    created_at: str
    reference_rows: int
    current_rows: int
    window: dict[str, Any]
    columns: list[ColumnDrift]
    share_drifted: float
    drift_share: float
    prediction: ColumnDrift | None
    alert: _alerts.Alert | None = None
    uri: str | None = None
    html: str = field(default="", repr=False)

    @property
    def drifted(self) -> bool:
        """Whether the check crossed a threshold (and so raised an alert)."""
        return self.share_drifted >= self.drift_share or bool(
            self.prediction and self.prediction.drifted
        )

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("html")
        data["drifted"] = self.drifted
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def save_html(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path


def _reference_frame(reference: Any) -> tuple[pd.DataFrame, Any]:
    """The reference as summary features, and its raw instances (to predict on), if any."""
    if hasattr(reference, "query") and hasattr(reference, "labels"):  # a feature view
        frame = reference.query.to_pandas()
        return frame.drop(columns=[c for c in reference.labels if c in frame]), None
    if isinstance(reference, pd.DataFrame):
        if reference.empty:
            raise ReferenceDataError("The reference DataFrame is empty.")
        return reference.reset_index(drop=True), None
    if isinstance(reference, np.ndarray | list):
        array = np.asarray(reference)
        if array.dtype == object or array.size == 0:
            raise ReferenceDataError("The reference array must be a non-empty numeric array.")
        return summarise(array), array
    expected = "a DataFrame, an array of instances or a feature view"
    raise invalid(ReferenceDataError, "reference", "drift", expected, type(reference).__name__)


def _sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return frame if len(frame) <= n else frame.sample(n, random_state=seed).sort_index()


def _reference_predictions(log: pd.DataFrame, raw: Any, features: pd.DataFrame) -> pd.Series:
    """The served model version's predictions on the reference (for prediction drift)."""
    from eo_ray import models

    last = log.iloc[-1]
    version = models.get(str(last["model"]), int(last["model_version"]))
    predictor = models.predictor_for(version.framework, version.load(), version.signature)
    source = features.to_dict("records") if raw is None else np.asarray(raw)
    try:
        x = predictor.inputs(source)
    except models.InputError as exc:
        raise ReferenceDataError(
            f"The served model cannot predict on the reference ({exc}); pass reference "
            "data in the model's input form, or a 'prediction' column."
        ) from None
    out: list[Any] = []
    for i in range(0, len(x), 512):
        out.extend(predictor.predict(x[i : i + 512])[0])
    return pd.Series(out, name=PREDICTION)


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    drift_share: float = 0.5,
    threshold: float | None = None,
) -> tuple[list[ColumnDrift], float, ColumnDrift | None, str]:
    """Evidently's data drift of the shared columns: per-column results, share, HTML."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    _check_overlap(reference, current)
    common = [c for c in current.columns if c in reference.columns]
    # A column constant on both sides (e.g. a dark background percentile) carries no signal.
    common = [c for c in common if pd.concat([reference[c], current[c]]).nunique() > 1]
    categorical = [c for c in common if c == PREDICTION or current[c].dtype == object]
    numerical = [c for c in common if c not in categorical]
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    with warnings.catch_warnings():  # evidently's own statistics on near-constant columns
        warnings.simplefilter("ignore", RuntimeWarning)
        snapshot = Report([DataDriftPreset(drift_share=drift_share, threshold=threshold)]).run(
            current_data=Dataset.from_pandas(current[common], data_definition=definition),
            reference_data=Dataset.from_pandas(reference[common], data_definition=definition),
        )
        html = snapshot.get_html_str(as_iframe=False)
    columns: list[ColumnDrift] = []
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        method, limit, score = config["method"], float(config["threshold"]), float(metric["value"])
        drifted = score < limit if "p_value" in method else score >= limit
        columns.append(ColumnDrift(config["column"], method, score, limit, drifted))
    prediction = next((c for c in columns if c.column == PREDICTION), None)
    features = [c for c in columns if c.column != PREDICTION]
    share = sum(c.drifted for c in features) / max(len(features), 1)
    return features, share, prediction, html


def drift(
    name: str,
    reference: Any,
    window: int | dt.timedelta | None = None,
    *,
    since: Any = None,
    until: Any = None,
    drift_share: float = 0.5,
    threshold: float | None = None,
    predictions: bool = True,
    on_alert: _alerts.AlertHook | None = None,
    sample: int = 2000,
    seed: int = 0,
    save: bool = True,
) -> DriftReport:
    """Compare deployment ``name``'s logged inputs (and predictions) with ``reference``.

    ``window`` is the last N requests (an int) or a time span back from now; ``since`` and
    ``until`` bound it in time. An alert is recorded, and ``on_alert(alert)`` called, when
    the share of drifted features reaches ``drift_share`` or the predictions drift.
    """
    if not 0 < drift_share <= 1:
        expected = "a number in (0, 1]"
        raise invalid(ReferenceDataError, "drift_share", "drift", expected, drift_share)
    if isinstance(window, dt.timedelta):
        since = window
    log = requests(name, since=since, until=until, status=200)
    if isinstance(window, int) and not isinstance(window, bool):
        log = log.tail(window)
    if log.empty:
        raise NoRequestsError(f"Deployment {name!r} has no successful requests in this window.")
    instances, logged = logged_inputs(log)
    ref_features, raw = _reference_frame(reference)
    names = list(ref_features.columns) if raw is None else None
    current = summarise(instances, names if _is_vector_list(instances, names) else None)
    current[PREDICTION] = pd.Series(logged).astype(str).to_numpy()
    current = _sample(current, sample, seed)
    picked = _sample(ref_features.assign(_row=np.arange(len(ref_features))), sample, seed)
    ref = picked.drop(columns="_row").reset_index(drop=True)
    _check_overlap(ref, current)
    if predictions and PREDICTION not in ref:
        rows = picked["_row"].to_numpy()
        source = None if raw is None else np.asarray(raw)[rows]
        ref[PREDICTION] = _reference_predictions(log, source, ref).astype(str).to_numpy()
    elif PREDICTION in ref:
        ref[PREDICTION] = ref[PREDICTION].astype(str)
    if not predictions:
        current = current.drop(columns=PREDICTION)
        ref = ref.drop(columns=PREDICTION, errors="ignore")
    columns, share, prediction, html = compare(
        ref, current, drift_share=drift_share, threshold=threshold
    )
    report = DriftReport(
        deployment=name,
        created_at=_alerts.now(),
        reference_rows=len(ref),
        current_rows=len(current),
        window={
            "since": str(log["time"].min()),
            "until": str(log["time"].max()),
            "requests": len(log),
            "instances": len(instances),
            "sampled": len(current) < len(instances),
        },
        columns=columns,
        share_drifted=share,
        drift_share=drift_share,
        prediction=prediction,
        html=html,
    )
    if save:
        report.uri = _save(report)
    if report.drifted:
        report.alert = _raise_alert(report, on_alert)
    return report


def _check_overlap(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    features = [c for c in current.columns if c != PREDICTION]
    if not any(c in reference.columns for c in features):
        raise ReferenceDataError(
            f"The reference has none of the logged features {features[:8]}: pass reference "
            "data with the columns the model is served with."
        )


def _is_vector_list(instances: list[Any], names: list[str] | None) -> bool:
    if names is None or not instances or isinstance(instances[0], dict):
        return False
    return np.ndim(instances[0]) == 1 and len(instances[0]) == len(names)


def _save(report: DriftReport) -> str:
    """Write the report's JSON and HTML under the workspace; return its folder.

    Evidently inlines its 3.5 MB JavaScript bundle in every report; the stored copy loads one
    shared copy of it instead (``monitoring/_static/``), so a stored report is a few hundred
    KB. ``DriftReport.html`` and ``save_html`` stay self-contained.
    """
    ws = workspace()
    stamp = report.created_at.replace(":", "").replace("-", "").replace("+0000", "Z")
    folder = ws.uri("monitoring", str(report.deployment), "drift", stamp)
    ws.write_bytes(f"{folder}/report.json", report.to_json().encode())
    ws.write_bytes(f"{folder}/report.html", _shared_lib_html(ws, report.html).encode())
    return folder


def _shared_lib_html(ws: Any, html: str) -> str:
    """``html`` with evidently's inlined bundle replaced by a link to one shared copy."""
    import evidently
    from evidently.legacy.utils import dashboard

    lib = getattr(dashboard, "__load_js")()  # a module-private function of evidently
    inline = f"<script>{lib}</script>"
    if html.count(inline) != 1:
        return html  # another evidently layout: keep the report self-contained
    name = f"evidently-{evidently.__version__}.js"
    asset = ws.uri("monitoring", "_static", name)
    if not ws.exists(asset):
        ws.write_bytes(asset, lib.encode())
    # report.html lives in monitoring/<deployment>/drift/<stamp>/
    return html.replace(inline, f'<script src="../../../_static/{name}"></script>')


def _raise_alert(report: DriftReport, hook: _alerts.AlertHook | None) -> _alerts.Alert:
    pred = report.prediction
    if report.share_drifted >= report.drift_share:
        metric, value, limit = "share_drifted", report.share_drifted, report.drift_share
        what = f"{len(report.drifted_columns)} of {len(report.columns)} features drifted"
    else:
        metric, value, limit = "prediction_drift", pred.score, pred.threshold
        what = f"predictions drifted ({pred.method} {pred.score:.3g})"
    alert = _alerts.Alert(
        deployment=str(report.deployment),
        metric=metric,
        value=float(value),
        threshold=float(limit),
        message=f"Drift in {report.deployment}: {what}; see {report.uri or 'the report'}.",
        report=report.uri or "",
        time=report.created_at,
    )
    _alerts.record(alert)
    if hook is not None:
        hook(alert)
    return alert
