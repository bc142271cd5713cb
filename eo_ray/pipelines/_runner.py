"""The driver loop: launches ready steps as Ray tasks, retries, times out, records, resumes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from eo_ray.pipelines._execute import Outcome, StepContext, execute
from eo_ray.pipelines._record import DONE, Attempt, RunRecord, RunStore, StepRecord, StepStatus, now
from eo_ray.pipelines._step import Step
from eo_ray.pipelines.errors import PipelineDefinitionError, StepFailedError

if TYPE_CHECKING:  # the pipeline hands itself to run(); the runner only reads it
    from eo_ray.pipelines._dag import Pipeline


@dataclass
class PipelineRun:
    """The result of a run: its record and the outputs of its finished steps."""

    record: RunRecord
    outputs: dict[str, Any]

    @property
    def run_id(self) -> str:
        """The id to resume or inspect this run with."""
        return self.record.run_id

    @property
    def status(self) -> str:
        """``succeeded`` or ``failed``."""
        return self.record.status

    def steps(self) -> pd.DataFrame:
        """One row per step: status, attempts, duration, last error."""
        rows = []
        for s in self.record.steps.values():
            last = s.attempts[-1] if s.attempts else None
            rows.append(
                {
                    "step": s.name,
                    "status": s.status.value,
                    "attempts": len(s.attempts),
                    "duration_s": round(s.duration_s, 3),
                    "error": last.error if last else None,
                }
            )
        return pd.DataFrame(rows)

    def raise_for_status(self) -> PipelineRun:
        """Raise :class:`StepFailedError` naming the failed steps, if any."""
        failed = [s for s in self.record.steps.values() if s.status == StepStatus.FAILED]
        if failed:
            detail = "; ".join(f"{s.name}: {s.attempts[-1].error}" for s in failed)
            raise StepFailedError(
                f"Pipeline {self.record.pipeline!r} run {self.run_id} failed ({detail}); "
                f"fix the cause and resume it with `eo-ray pipeline resume {self.run_id}`."
            )
        return self


def _remote_options(step: Step) -> dict[str, Any]:
    resources = dict(step.resources)
    options: dict[str, Any] = {
        "num_cpus": resources.pop("CPU", 1.0),
        "num_gpus": resources.pop("GPU", 0.0),
        "max_retries": 0,  # retries are the pipeline's, with back-off and records
    }
    if resources:
        options["resources"] = resources
    return options


class _Driver:
    """State of one execution: which steps run, wait for a retry, or are done."""

    def __init__(
        self,
        pipeline: Pipeline,
        record: RunRecord,
        store: RunStore,
        outputs: dict[str, Any],
        on_event: Callable[[str, StepRecord], None] | None,
        poll_s: float,
    ) -> None:
        import ray

        self.ray = ray
        self.pipeline, self.record, self.store = pipeline, record, store
        self.outputs, self.on_event, self.poll_s = outputs, on_event, poll_s
        self.running: dict[Any, tuple[Step, float]] = {}
        self.retry_at: dict[str, float] = {}
        self.task = ray.remote(execute)

    def _emit(self, step: StepRecord) -> None:
        self.store.save(self.record)
        if self.on_event is not None:
            self.on_event(step.status.value, step)

    def _ready(self, step: Step) -> bool:
        rec = self.record.steps[step.name]
        if rec.status not in (StepStatus.PENDING, StepStatus.RETRYING):
            return False
        if self.retry_at.get(step.name, 0.0) > time.monotonic():
            return False
        return all(self.record.steps[d].status in DONE for d in step.depends_on)

    def _launch(self, step: Step) -> None:
        rec = self.record.steps[step.name]
        attempt = len(rec.attempts) + 1
        ctx = StepContext(
            pipeline=self.pipeline.name,
            run_id=self.record.run_id,
            step=step.name,
            attempt=attempt,
            run_dir=self.store.run_dir(self.pipeline.name, self.record.run_id),
            workspace_root=self.store.ws.root,
        )
        inputs = {d: self.outputs[d] for d in step.depends_on}
        ref = self.task.options(**_remote_options(step)).remote(step, inputs, ctx)
        self.running[ref] = (step, time.monotonic())
        rec.status = StepStatus.RUNNING
        rec.attempts.append(Attempt(number=attempt, started=now()))
        self._emit(rec)

    def _finish(self, step: Step, started: float, outcome: Outcome) -> None:
        rec = self.record.steps[step.name]
        attempt = rec.attempts[-1]
        attempt.ended, attempt.duration_s = now(), round(time.monotonic() - started, 3)
        attempt.error = outcome.error
        if outcome.log:
            attempt.log_uri = self.store.save_log(
                self.record, step.name, attempt.number, outcome.log
            )
        if outcome.ok:
            self.outputs[step.name] = outcome.output
            rec.output_uri = self.store.save_output(self.record, step.name, outcome.output)
            rec.output_summary = repr(outcome.output)[:200]
            rec.status = StepStatus.SUCCEEDED
        elif attempt.number <= step.retries:
            rec.status = StepStatus.RETRYING
            self.retry_at[step.name] = time.monotonic() + step.delay_before(attempt.number + 1)
        else:
            rec.status = StepStatus.FAILED
            for name in self.pipeline.downstream(step.name):
                if self.record.steps[name].status not in DONE:
                    self.record.steps[name].status = StepStatus.SKIPPED
        self._emit(rec)

    def _collect(self, ref: Any) -> None:
        step, started = self.running.pop(ref)
        try:
            outcome = self.ray.get(ref)
        except self.ray.exceptions.TaskCancelledError:
            outcome = Outcome(
                ok=False, error=f"timed out after {step.timeout_s:g} s and was cancelled"
            )
        except self.ray.exceptions.RayError as exc:  # the worker died, OOM, ...
            outcome = Outcome(ok=False, error=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        self._finish(step, started, outcome)

    def _enforce_timeouts(self) -> None:
        clock = time.monotonic()
        for ref, (step, started) in list(self.running.items()):
            if step.timeout_s is not None and clock - started > step.timeout_s:
                self.ray.cancel(ref, force=True)
                self.running.pop(ref)
                self._finish(
                    step,
                    started,
                    Outcome(
                        ok=False, error=f"timed out after {step.timeout_s:g} s and was cancelled"
                    ),
                )

    def loop(self) -> None:
        steps = self.pipeline.steps
        while True:
            for name in self.pipeline.order():
                if self._ready(steps[name]):
                    self._launch(steps[name])
            waiting = [n for n, r in self.record.steps.items() if r.status == StepStatus.RETRYING]
            if not self.running and not waiting:
                break
            if self.running:
                ready, _ = self.ray.wait(list(self.running), num_returns=1, timeout=self.poll_s)
                for ref in ready:
                    self._collect(ref)
            else:
                time.sleep(self.poll_s)
            self._enforce_timeouts()


def _check_feasible(pipeline: Pipeline) -> None:
    """Refuse steps that ask for more of a resource than the whole cluster has.

    Ray would otherwise queue such a task forever. On an autoscaling cluster, resources
    of worker types that can still be started count as available (Ray reports them).
    """
    import ray

    total = ray.cluster_resources()
    for step in pipeline.steps.values():
        for key, amount in step.resources.items():
            if amount > total.get(key, 0.0):
                raise PipelineDefinitionError(
                    f"Step {step.name!r} asks for {key}={amount:g} but the Ray cluster has "
                    f"{total.get(key, 0.0):g}; lower its resources or add nodes."
                )


def run(
    pipeline: Pipeline,
    *,
    resume: str | None = None,
    source: str | None = None,
    trigger: str = "manual",
    on_event: Callable[[str, StepRecord], None] | None = None,
    poll_s: float = 0.1,
    raise_on_failure: bool = False,
) -> PipelineRun:
    """Run ``pipeline`` on Ray: independent steps in parallel, each with its own policy.

    With ``resume=<run id>``, steps that succeeded in that run are not run again: their
    recorded outputs are handed to the steps that follow. Every change of state is written
    to ``pipelines/<name>/runs/<id>/run.json`` under the workspace, with each attempt's log.
    """
    from eo_ray.runtime import init

    init()
    _check_feasible(pipeline)
    store = RunStore()
    outputs: dict[str, Any] = {}
    steps = {
        name: StepRecord(name=name, depends_on=list(step.depends_on))
        for name, step in pipeline.steps.items()
    }
    previous = None
    if resume is not None:
        previous = store.load(resume, pipeline.name)
        unknown = set(previous.steps) - set(steps)
        if unknown:
            raise PipelineDefinitionError(
                f"Run {resume} has steps {sorted(unknown)} that pipeline {pipeline.name!r} lacks; "
                "resume it with the pipeline definition it ran with."
            )
        for name, old in previous.steps.items():
            if old.status in DONE and old.output_uri:
                outputs[name] = store.load_output(old.output_uri)
                steps[name].status = StepStatus.CACHED
                steps[name].output_uri, steps[name].output_summary = (
                    old.output_uri,
                    old.output_summary,
                )
        source = source or previous.source
    record = RunRecord(
        run_id=store.new_run_id(),
        pipeline=pipeline.name,
        status="running",
        started=now(),
        steps=steps,
        source=source,
        resumed_from=resume,
        trigger=trigger,
    )
    store.save(record)
    _Driver(pipeline, record, store, outputs, on_event, poll_s).loop()
    ok = all(s.status in DONE for s in record.steps.values())
    record.status, record.ended = ("succeeded" if ok else "failed"), now()
    store.save(record)
    result = PipelineRun(record=record, outputs=outputs)
    return result.raise_for_status() if raise_on_failure else result


def get_run(run_id: str) -> RunRecord:
    """The record of a run, by id."""
    return RunStore().load(run_id)


def list_runs(pipeline: str | None = None) -> list[RunRecord]:
    """Every recorded run (of one pipeline, or all), newest first."""
    return RunStore().list(pipeline)
