"""Run records of pipelines, stored under the workspace (``pipelines/<name>/runs/<id>/``)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

import cloudpickle

from eo_ray.pipelines.errors import PipelineRunNotFoundError
from eo_ray.storage import Workspace, validate_name, workspace
from eo_ray.tracking import dumps_by_value

STORE = "pipelines"


class StepStatus(str, Enum):
    """Where a step stands in a run."""

    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # an upstream step failed
    CACHED = "cached"  # finished in the run this one resumed


DONE = {StepStatus.SUCCEEDED, StepStatus.CACHED}


def now() -> str:
    """The current UTC time, ISO formatted."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Attempt:
    """One attempt of a step."""

    number: int
    started: str
    ended: str | None = None
    duration_s: float | None = None
    error: str | None = None
    log_uri: str | None = None


@dataclass
class StepRecord:
    """The state of one step in a run."""

    name: str
    status: StepStatus = StepStatus.PENDING
    depends_on: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    output_uri: str | None = None
    output_summary: str | None = None

    @property
    def duration_s(self) -> float:
        """Seconds spent over all attempts."""
        return sum(a.duration_s or 0.0 for a in self.attempts)


@dataclass
class RunRecord:
    """A pipeline run: what ran, when, how often, and with what result."""

    run_id: str
    pipeline: str
    status: str
    started: str
    steps: dict[str, StepRecord]
    ended: str | None = None
    source: str | None = None  # "file.py:attr" or "module:attr", so the CLI can resume
    resumed_from: str | None = None
    trigger: str = "manual"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        data = asdict(self)
        for step in data["steps"].values():
            step["status"] = StepStatus(step["status"]).value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Rebuild a record written by :meth:`to_dict`."""
        steps = {
            name: StepRecord(
                name=s["name"],
                status=StepStatus(s["status"]),
                depends_on=list(s.get("depends_on", [])),
                attempts=[Attempt(**a) for a in s.get("attempts", [])],
                output_uri=s.get("output_uri"),
                output_summary=s.get("output_summary"),
            )
            for name, s in data["steps"].items()
        }
        return cls(**{**data, "steps": steps})


class RunStore:
    """Reads and writes run records and step outputs under a workspace."""

    def __init__(self, ws: Workspace | None = None) -> None:
        self.ws = ws or workspace()

    def run_dir(self, pipeline: str, run_id: str) -> str:
        """The folder URI of one run."""
        return self.ws.uri(STORE, pipeline, "runs", run_id)

    @staticmethod
    def new_run_id() -> str:
        """A sortable, unique run id."""
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        return f"{stamp}-{uuid.uuid4().hex[:6]}"

    def save(self, record: RunRecord) -> None:
        """Write the record atomically (readers see the old or the new state)."""
        self.ws.write_json(
            self.ws.join(self.run_dir(record.pipeline, record.run_id), "run.json"), record.to_dict()
        )

    def load(self, run_id: str, pipeline: str | None = None) -> RunRecord:
        """The record of ``run_id`` (searching every pipeline when none is named)."""
        validate_name(run_id, "pipeline run")
        names = [pipeline] if pipeline else self.ws.list_dir(self.ws.uri(STORE))
        for name in names:
            uri = self.ws.join(self.run_dir(name, run_id), "run.json")
            if self.ws.exists(uri):
                return RunRecord.from_dict(self.ws.read_json(uri))
        raise PipelineRunNotFoundError(
            f"No pipeline run {run_id!r} under {self.ws.uri(STORE)}; "
            "`eo-ray pipeline list` shows the runs."
        )

    def list(self, pipeline: str | None = None) -> list[RunRecord]:
        """Every recorded run, newest first."""
        names = [pipeline] if pipeline else self.ws.list_dir(self.ws.uri(STORE))
        records = []
        for name in names:
            for run_id in self.ws.list_dir(self.ws.uri(STORE, name, "runs")):
                uri = self.ws.join(self.run_dir(name, run_id), "run.json")
                if self.ws.exists(uri):
                    records.append(RunRecord.from_dict(self.ws.read_json(uri)))
        return sorted(records, key=lambda r: r.started, reverse=True)

    def save_output(self, record: RunRecord, step: str, value: Any) -> str:
        """Persist a step's output so that a resumed run can hand it to later steps (objects of
        the user's own modules by value: a run resumed elsewhere need not import them)."""
        uri = self.ws.join(self.run_dir(record.pipeline, record.run_id), "outputs", f"{step}.pkl")
        self.ws.write_bytes(uri, dumps_by_value(value))
        return uri

    def load_output(self, uri: str) -> Any:
        """A step output saved by :meth:`save_output` (written by eo-ray itself)."""
        return cloudpickle.loads(self.ws.read_bytes(uri))

    def save_log(self, record: RunRecord, step: str, attempt: int, text: str) -> str:
        """Store the captured stdout/stderr of one attempt."""
        uri = self.ws.uri(
            self.run_dir(record.pipeline, record.run_id), "logs", f"{step}-{attempt}.log"
        )
        self.ws.write_bytes(uri, text.encode())
        return uri
