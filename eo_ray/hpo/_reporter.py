"""The reporter a training function reports to, and the pure trial executor.

``train_fn(hparams, reporter) -> float | dict``: the same function runs alone (with a plain
:class:`Reporter`), in a search, in an ablation study or in distributed training; only the
reporter it is handed differs.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eo_ray.hpo._trial import Report, TrialStatus
from eo_ray.hpo.errors import ReportError
from eo_ray.hpo.stopping import Decision

TrainFn = Callable[[dict, "Reporter"], Any]


class TrialStopped(Exception):  # noqa: N818 - a control-flow signal, named like Optuna's TrialPruned
    """Raised inside the training function by ``reporter.report`` when the search stopped the
    trial; the runtime catches it and keeps the last reported value as the trial's result.
    Let it propagate (do not catch it with a bare ``except Exception``)."""


def _as_float(value: object, what: str) -> float:
    if isinstance(value, bool):
        raise ReportError(f"{what} must be a number; got the boolean {value!r}.")
    try:
        return float(value)  # numpy and torch scalars too
    except (TypeError, ValueError):
        raise ReportError(f"{what} must be a number; got {value!r}.") from None


def _scalar(value: object) -> Any:
    """A returned extra value as a float when it is a number, else as it is."""
    try:
        return _as_float(value, "")
    except ReportError:
        return value


class Reporter:
    """Collects ``report(value, step, **metrics)`` calls; never stops the function.

    ``context`` holds what the search's ``builders`` built once per worker (data loaders,
    model factories); ``log_dir`` is a local folder for TensorBoard logs or other files, under
    the search's artifacts so that the experiment record links it (None on an S3 workspace).
    """

    def __init__(
        self,
        context: Mapping[str, Any] | None = None,
        log_dir: str | None = None,
        trial_id: int | None = None,
    ) -> None:
        self.context: Mapping[str, Any] = dict(context or {})
        self.log_dir = log_dir
        self.trial_id = trial_id
        self.reports: list[Report] = []
        self._start = time.monotonic()

    def report(self, value: float, step: int | None = None, **metrics: float) -> None:
        """Report the optimised metric ``value`` at ``step`` (default: previous step + 1,
        starting at 1), with any other metrics. Raises :class:`TrialStopped` when the
        search has stopped this trial."""
        if step is None:
            step = self.reports[-1].step + 1 if self.reports else 1
        elif isinstance(step, bool) or not isinstance(step, int):
            step = int(_as_float(step, "reporter.report step"))
        report = Report(
            step=step,
            value=_as_float(value, "reporter.report value"),
            time=time.monotonic() - self._start,
            metrics={k: _as_float(v, f"metric {k!r}") for k, v in metrics.items()},
        )
        self.reports.append(report)
        decision = self._after_report(report)
        if decision is not None and decision.stop:
            raise TrialStopped(decision.reason)

    def _after_report(self, report: Report) -> Decision | None:
        """Hook for runtimes: deliver the report, return a pending stop decision if any."""
        return None

    @property
    def last_value(self) -> float | None:
        """The latest reported value (None before the first report)."""
        return self.reports[-1].value if self.reports else None


@dataclass
class TrialOutcome:
    """What running the function on one trial gave."""

    status: TrialStatus
    value: float | None
    reports: list[Report]
    started_at: float
    ended_at: float
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    stop_reason: str | None = None
    trial_id: int | None = None


def result_value(result: Any, metric: str, reporter: Reporter) -> tuple[float, dict[str, Any]]:
    """The trial's value from what the function returned (a number, a dict or None)."""
    if result is None:
        if reporter.last_value is None:
            raise ReportError(
                "The training function returned None and reported nothing: return the "
                f"metric {metric!r} (a number or a dict) or call reporter.report(value)."
            )
        return reporter.last_value, {}
    if isinstance(result, Mapping):
        if metric not in result:
            raise ReportError(
                f"The training function returned a dict without the metric {metric!r} "
                f"(keys: {sorted(map(str, result))}); return it or pass metric= one of them."
            )
        metrics = {str(k): _scalar(v) for k, v in result.items()}
        return _as_float(result[metric], f"The returned {metric!r}"), metrics
    return _as_float(result, "The training function's return value"), {}


def execute_trial(
    train_fn: TrainFn, hparams: Mapping[str, Any], reporter: Reporter, metric: str
) -> TrialOutcome:
    """Run ``train_fn`` on one trial, turning every way it can end into a :class:`TrialOutcome`.

    A stop raised by the reporter gives STOPPED with the last reported value; an exception
    raised by the function (or a missing metric) gives FAILED with the traceback: such a
    failure is deterministic, so the runtime does not retry it.
    """
    started = time.time()
    try:
        result = train_fn(dict(hparams), reporter)
        value, metrics = result_value(result, metric, reporter)
        status, error, reason = TrialStatus.COMPLETED, None, None
    except TrialStopped as stop:
        value, metrics = reporter.last_value, {}
        status, error, reason = TrialStatus.STOPPED, None, str(stop)
    except Exception as exc:  # noqa: BLE001 - user code: any error fails the trial, not the search
        value, metrics, reason = None, {}, None
        status = TrialStatus.FAILED
        error = (
            str(exc)
            if isinstance(exc, ReportError)
            else "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).strip()
        )
    return TrialOutcome(
        status=status,
        value=value,
        reports=list(reporter.reports),
        started_at=started,
        ended_at=time.time(),
        error=error,
        metrics=metrics,
        stop_reason=reason,
        trial_id=reporter.trial_id,
    )
