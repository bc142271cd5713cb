"""Run records (tracking): one folder per run under ``<workspace>/experiments/<id>/``.

Layout (every file small JSON written atomically, so local folders and S3 both work)::

    experiments/<id>/record.json         identity, parameters, status, times, summary
    experiments/<id>/trials/<n>.json     one file per trial (metrics history, status)
    experiments/<id>/function.pkl        the function, pickled by value (for rerun)
    experiments/<id>/artifacts/          whatever the run writes (plots, TensorBoard logs)

Stages record runs through :func:`start` → :class:`Run` (``log_trial``, ``finish``); readers
use :func:`list_experiments` / :func:`get`, which return :class:`ExperimentRecord`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from eo_ray._params import renamed_keywords
from eo_ray.storage import Workspace, as_workspace, validate_name
from eo_ray.tracking._code import dumps_by_value
from eo_ray.tracking._identity import (
    SOURCE_HASH_ATTR,
    git_commit,
    package_versions,
    qualified_name,
    source_hash,
)
from eo_ray.tracking.errors import ExperimentError, ExperimentNotFoundError

STORE = "experiments"


class RunStatus(str, Enum):
    """Life-cycle state of a recorded run."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class ExperimentRecord:
    """What is known of one recorded run (read-only; from :func:`get`/:func:`list_experiments`)."""

    id: str
    name: str
    kind: str
    status: RunStatus
    started_at: str
    ended_at: str | None
    function: str | None
    source_hash: str | None
    git_commit: str | None
    packages: dict[str, str]
    params: dict[str, Any]
    dataset: Any
    entry_point: str | None
    summary: dict[str, Any]
    artifacts_uri: str
    tensorboard_uri: str | None = None
    root: str = field(default="", repr=False)

    @property
    def duration_s(self) -> float | None:
        """Seconds between start and end (None while running)."""
        if self.ended_at is None:
            return None
        start = dt.datetime.fromisoformat(self.started_at)
        return (dt.datetime.fromisoformat(self.ended_at) - start).total_seconds()

    def trials(self) -> list[dict[str, Any]]:
        """Every trial logged for this run, ordered by trial id."""
        ws = Workspace(self.root)
        folder = ws.uri(STORE, self.id, "trials")
        rows = [ws.read_json(f"{folder}/{n}") for n in ws.list_dir(folder) if n.endswith(".json")]
        return sorted(rows, key=lambda r: (str(type(r.get("trial_id"))), r.get("trial_id")))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (status as its string value)."""
        out = asdict(self)
        out["status"] = self.status.value
        out.pop("root")
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], root: str) -> ExperimentRecord:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["status"] = RunStatus(fields["status"])
        return cls(**fields, root=root)


class Run:
    """An open record that a stage writes to while it runs; picklable (root + id only).

    ``log_trial`` may be called from any process (an actor, a worker) that can reach the
    workspace; ``finish`` closes the record with a status and a summary.
    """

    def __init__(self, root: str, run_id: str) -> None:
        self.root = root
        self.id = run_id

    def __repr__(self) -> str:
        return f"Run({self.id!r})"

    def __reduce__(self):
        return (Run, (self.root, self.id))

    @property
    def _ws(self) -> Workspace:
        return Workspace(self.root)

    @property
    def uri(self) -> str:
        """The folder of this record."""
        return self._ws.uri(STORE, self.id)

    @property
    def artifacts_uri(self) -> str:
        """Where the run's artifacts go (plots, models, TensorBoard logs)."""
        return f"{self.uri}/artifacts"

    def record(self) -> ExperimentRecord:
        """The record as stored now."""
        return get(self.id, ws=self.root)

    def log_trial(self, trial_id: int | str, **data: Any) -> None:
        """Write (or overwrite) the trial ``trial_id``: its params, metrics, status, ..."""
        row = {"trial_id": trial_id, **data}
        self._ws.write_json(f"{self.uri}/trials/{trial_id}.json", row)

    def update(self, **fields: Any) -> None:
        """Merge ``fields`` into the record (e.g. ``summary=...``)."""
        ws = self._ws
        data = ws.read_json(f"{self.uri}/record.json")
        data.update(fields)
        ws.write_json(f"{self.uri}/record.json", data)

    def finish(self, status: RunStatus | str, summary: dict[str, Any] | None = None) -> None:
        """Close the record with ``status`` and an optional summary (best trial, counts...)."""
        status = RunStatus(status)
        fields: dict[str, Any] = {"status": status.value, "ended_at": _now()}
        if summary is not None:
            fields["summary"] = summary
        tb = f"{self.artifacts_uri}/tensorboard"
        if self._ws.exists(tb):
            fields["tensorboard_uri"] = tb
        self.update(**fields)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.record().status is RunStatus.RUNNING:
            if exc_type is None:
                self.finish(RunStatus.COMPLETED)
            elif issubclass(exc_type, KeyboardInterrupt):
                self.finish(RunStatus.INTERRUPTED, {"error": "interrupted"})
            else:
                self.finish(RunStatus.FAILED, {"error": f"{exc_type.__name__}: {exc}"})


def _new_id(kind: str) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{kind}-{stamp}-{uuid.uuid4().hex[:6]}"


@renamed_keywords(root="ws")
def start(
    name: str,
    kind: str,
    *,
    fn: Any = None,
    params: dict[str, Any] | None = None,
    dataset: Any = None,
    entry_point: str | None = None,
    call: dict[str, Any] | None = None,
    ws: Workspace | str | None = None,
) -> Run:
    """Open a new record of a ``kind`` run (``launch``, ``hpo``, ``ablation``, ``train``...).

    ``fn`` is the user's function (its qualified name, source hash and git commit are kept,
    and it is pickled by value so that :func:`rerun` can call the very same code); ``params``
    are the run's parameters or search space as JSON-ready data; ``dataset`` references the
    data (e.g. ``{"feature_view": "ships", "version": 2}``); ``call`` holds the exact keyword
    arguments of the run (pickled by value alongside the record) for
    ``eo.experiments.rerun``, which dispatches eo-ray's own kinds to their stage's public
    function (``hpo`` to ``eo_ray.hpo.search``...). ``entry_point`` names the public function
    that re-runs a run of another kind (``"eo_ray.hpo:search"``), or a user's own
    ``module:function``, called as ``function(record, fn, call)``.
    """
    validate_name(name, "experiment")
    validate_name(kind, "experiment kind")
    ws = as_workspace(ws)
    run_id = _new_id(kind)
    run = Run(ws.root, run_id)
    data = {
        "id": run_id,
        "name": name,
        "kind": kind,
        "status": RunStatus.RUNNING.value,
        "started_at": _now(),
        "ended_at": None,
        "function": qualified_name(fn) if fn is not None else None,
        "source_hash": source_hash(fn) if fn is not None else None,
        "git_commit": git_commit(fn) if fn is not None else None,
        "packages": package_versions(),
        "params": params or {},
        "dataset": dataset,
        "entry_point": entry_point,
        "summary": {},
        "artifacts_uri": run.artifacts_uri,
        "tensorboard_uri": None,
    }
    if fn is not None:
        ws.write_bytes(f"{run.uri}/function.pkl", _pickle_by_value(fn, data["function"]))
    if call is not None:
        ws.write_bytes(f"{run.uri}/call.pkl", _pickle_by_value(call, data["function"]))
    ws.makedirs(run.artifacts_uri)
    ws.write_json(f"{run.uri}/record.json", data)
    return run


def _pickle_by_value(obj: Any, what: str | None) -> bytes:
    """Pickle ``obj`` with user code by value (user modules need not be importable later)."""
    try:
        return dumps_by_value(obj)
    except Exception as exc:  # noqa: BLE001 - any pickling failure means: not re-runnable
        raise ExperimentError(
            f"The function {what} or its arguments cannot be pickled ({exc}); define it at "
            "module level without unpicklable globals so that the run can be recorded."
        ) from None


def _load_pickle(record: ExperimentRecord, file: str) -> Any:
    import pickle

    ws = Workspace(record.root)
    uri = ws.uri(STORE, record.id, file)
    if not ws.exists(uri):
        return None
    return pickle.loads(ws.read_bytes(uri))  # noqa: S301 - the workspace's own record


def load_function(record: ExperimentRecord) -> Any:
    """The function recorded with ``record`` (unpickled by value from the record), or None.

    It carries the record's source hash: a function unpickled by value may have no source
    file any more (cloudpickle >= 3.1.3 names it ``<dynamic-code>``), yet it is the same code.
    """
    fn = _load_pickle(record, "function.pkl")
    if fn is not None and record.source_hash is not None:
        with contextlib.suppress(AttributeError, TypeError):  # objects without a __dict__
            setattr(fn, SOURCE_HASH_ATTR, record.source_hash)
    return fn


def load_call(record: ExperimentRecord) -> dict[str, Any]:
    """The keyword arguments recorded to re-run ``record`` (empty when none were recorded)."""
    return _load_pickle(record, "call.pkl") or {}


@renamed_keywords(root="ws")
def get(experiment_id: str, *, ws: Workspace | str | None = None) -> ExperimentRecord:
    """The record with ``experiment_id``; ExperimentNotFoundError when there is none."""
    validate_name(experiment_id, "experiment id")
    ws = as_workspace(ws)
    uri = ws.uri(STORE, experiment_id, "record.json")
    if not ws.exists(uri):
        raise ExperimentNotFoundError(
            f"No experiment {experiment_id!r} under {ws.root}; "
            "see `eo-ray experiments list` for the recorded ids."
        )
    return ExperimentRecord.from_dict(ws.read_json(uri), ws.root)


@renamed_keywords(root="ws")
def list_experiments(
    *, kind: str | None = None, name: str | None = None, ws: Workspace | str | None = None
) -> list[ExperimentRecord]:
    """Every recorded run (newest first), optionally only of one ``kind`` or ``name``."""
    ws = as_workspace(ws)
    records = []
    for entry in ws.list_dir(ws.uri(STORE)):
        uri = ws.uri(STORE, entry, "record.json")
        if not ws.exists(uri):
            continue
        record = ExperimentRecord.from_dict(ws.read_json(uri), ws.root)
        if (kind is None or record.kind == kind) and (name is None or record.name == name):
            records.append(record)
    return sorted(records, key=lambda r: r.started_at, reverse=True)
