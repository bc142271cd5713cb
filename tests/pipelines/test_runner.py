"""Pipelines executed on the session's Ray: parallelism, retries, failures, resume, timeouts."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eo_ray.pipelines import (
    Pipeline,
    PipelineDefinitionError,
    PipelineRunNotFoundError,
    StepFailedError,
    get_run,
    list_runs,
    on_alert,
    run_every,
)


def _count(path: Path) -> int:
    """Append a line to ``path`` and return how many calls it records (survives processes)."""
    with open(path, "a") as fh:
        fh.write("x\n")
    return len(path.read_text().splitlines())


def _interval(record, step):
    attempt = record.steps[step].attempts[-1]
    return dt.datetime.fromisoformat(attempt.started), dt.datetime.fromisoformat(attempt.ended)


def test_independent_steps_run_in_parallel_and_outputs_flow(ray_session):
    pipe = Pipeline("parallel")

    @pipe.step(resources={"CPU": 1})
    def left():
        time.sleep(1.0)
        return 2

    @pipe.step(resources={"CPU": 1})
    def right():
        time.sleep(1.0)
        return 3

    @pipe.step(depends_on=["left", "right"])
    def total(left, right):
        print("adding", left, right)
        return left + right

    result = pipe.run(raise_on_failure=True)
    assert result.status == "succeeded"
    assert result.outputs["total"] == 5
    (l0, l1), (r0, r1) = _interval(result.record, "left"), _interval(result.record, "right")
    overlap = min(l1, r1) - max(l0, r0)
    assert overlap.total_seconds() > 0, "independent steps did not overlap"
    t0, _ = _interval(result.record, "total")
    assert t0 >= max(l1, r1)
    stored = get_run(result.run_id)
    assert stored.status == "succeeded"
    log = Path(stored.steps["total"].attempts[0].log_uri).read_text()
    assert "adding 2 3" in log


def test_transient_failure_is_retried_with_backoff(ray_session, tmp_path):
    calls = tmp_path / "calls"
    pipe = Pipeline("flaky")

    @pipe.step(retries=3, backoff_s=0.3)
    def flaky():
        n = _count(calls)
        if n < 3:
            raise ConnectionError(f"transient failure {n}")
        return n

    result = pipe.run()
    step = result.record.steps["flaky"]
    assert result.status == "succeeded"
    assert [a.error is None for a in step.attempts] == [False, False, True]
    assert "transient failure 1" in step.attempts[0].error
    gap = dt.datetime.fromisoformat(step.attempts[2].started) - dt.datetime.fromisoformat(
        step.attempts[1].ended
    )
    assert gap.total_seconds() >= 0.6 - 0.05  # second back-off: 0.3 s × 2
    assert result.outputs["flaky"] == 3


def test_failure_skips_downstream_only_and_resume_skips_finished_steps(ray_session, tmp_path):
    calls_a, calls_c = tmp_path / "a", tmp_path / "c"
    broken = tmp_path / "broken"
    broken.write_text("yes")

    def build():
        pipe = Pipeline("resumable")

        @pipe.step
        def prepare(ctx):
            _count(calls_a)
            return {"rows": 10, "run": ctx.run_id}

        @pipe.step(depends_on=["prepare"], retries=1, backoff_s=0.1)
        def train(prepare):
            if broken.exists():
                raise ValueError("bad learning rate")
            return prepare["rows"] * 2

        @pipe.step(depends_on=["train"])
        def register(train):
            return f"model-{train}"

        @pipe.step
        def report():
            _count(calls_c)
            return "report.html"

        return pipe

    first = build().run()
    steps = first.record.steps
    assert first.status == "failed"
    assert steps["prepare"].status.value == "succeeded"
    assert steps["train"].status.value == "failed"
    assert len(steps["train"].attempts) == 2
    assert steps["register"].status.value == "skipped"
    assert steps["report"].status.value == "succeeded"
    with pytest.raises(StepFailedError, match="bad learning rate"):
        first.raise_for_status()

    broken.unlink()  # the cause is fixed
    second = build().run(resume=first.run_id, raise_on_failure=True)
    assert second.record.resumed_from == first.run_id
    statuses = {n: s.status.value for n, s in second.record.steps.items()}
    assert statuses == {
        "prepare": "cached",
        "train": "succeeded",
        "register": "succeeded",
        "report": "cached",
    }
    assert second.outputs["register"] == "model-20"
    assert second.outputs["prepare"]["run"] == first.run_id  # the recorded output, not a re-run
    assert len(calls_a.read_text().splitlines()) == 1
    assert len(calls_c.read_text().splitlines()) == 1
    assert [r.run_id for r in list_runs("resumable")] == [second.run_id, first.run_id]


def test_timeout_cancels_the_step(ray_session):
    pipe = Pipeline("slow")

    @pipe.step(timeout_s=1.0)
    def sleepy():
        time.sleep(60)

    start = time.monotonic()
    result = pipe.run()
    assert result.status == "failed"
    assert "timed out after 1 s" in result.record.steps["sleepy"].attempts[0].error
    assert time.monotonic() - start < 30


def test_command_steps(ray_session):
    pipe = Pipeline("commands")
    pipe.command("hello", [sys.executable, "-c", "print('hello from {step}')"])
    pipe.command(
        "echo",
        [sys.executable, "-c", "import sys; print(sys.argv[1])", "{hello}!"],
        depends_on=["hello"],
    )
    pipe.command("fails", [sys.executable, "-c", "import sys; sys.exit('no input')"])
    result = pipe.run()
    assert result.outputs["hello"] == "hello from hello"
    assert result.outputs["echo"] == "hello from hello!"
    assert "exited with code 1: no input" in result.record.steps["fails"].attempts[0].error


def test_infeasible_resources_are_refused_before_running(ray_session):
    pipe = Pipeline("too-big")
    pipe.step(lambda: 1, name="huge", resources={"CPU": 64})
    with pytest.raises(PipelineDefinitionError, match="CPU"):
        pipe.run()


def test_alert_and_schedule_triggers(ray_session):
    pipe = Pipeline("retrain")
    pipe.step(lambda: "ok", name="fit")

    class Alert:
        name = "drift"

    run = on_alert(pipe)(Alert())
    assert run.record.trigger == "alert:drift"
    assert run.status == "succeeded"
    runs = run_every(pipe, 0.2, times=2)
    assert [r.record.trigger for r in runs] == ["schedule:0.2s"] * 2


def test_unknown_run_is_a_clear_error(ray_session):
    with pytest.raises(PipelineRunNotFoundError, match="pipeline list"):
        get_run("20990101T000000-abcdef")


PIPELINE_FILE = """
from pathlib import Path
from eo_ray.pipelines import Pipeline

FLAG = Path(__file__).with_name("broken")
pipeline = Pipeline("from-file")

@pipeline.step
def extract():
    return 21

@pipeline.step(depends_on=["extract"])
def double(extract):
    if FLAG.exists():
        raise RuntimeError("flag is set")
    return extract * 2
"""


def test_cli_run_status_list_resume(ray_session, tmp_path):
    from eo_ray.cli import app

    runner = CliRunner()
    path = tmp_path / "mypipe.py"
    path.write_text(PIPELINE_FILE)
    (tmp_path / "broken").write_text("")
    failed = runner.invoke(app, ["pipeline", "run", f"{path}:pipeline", "--json"])
    assert failed.exit_code == 1, failed.output
    record = json.loads(failed.stdout)
    assert record["steps"]["double"]["status"] == "failed"

    status = runner.invoke(app, ["pipeline", "status", record["run_id"]])
    assert status.exit_code == 0
    assert "flag is set" in status.stdout

    (tmp_path / "broken").unlink()
    resumed = runner.invoke(app, ["pipeline", "resume", record["run_id"], "--json"])
    assert resumed.exit_code == 0, resumed.output
    data = json.loads(resumed.stdout)
    assert data["steps"]["extract"]["status"] == "cached"
    assert data["steps"]["double"]["status"] == "succeeded"

    listed = json.loads(runner.invoke(app, ["pipeline", "list", "--json"]).stdout)
    assert data["run_id"] in {r["run_id"] for r in listed}
