"""What runs inside a Ray task for one step attempt: the call, with its output captured."""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import subprocess
import traceback
from dataclasses import dataclass
from typing import Any

from eo_ray.pipelines._step import Step


@dataclass(frozen=True)
class StepContext:
    """What a step function may want to know about its run (declare a ``ctx`` parameter)."""

    pipeline: str
    run_id: str
    step: str
    attempt: int
    run_dir: str  # URI of the run's folder under the workspace, for the step's artifacts
    workspace_root: str


@dataclass
class Outcome:
    """The result of one attempt, returned to the driver whether it succeeded or not."""

    ok: bool
    output: Any = None
    log: str = ""
    error: str | None = None


def _call_function(step: Step, inputs: dict[str, Any], ctx: StepContext) -> Any:
    params = inspect.signature(step.fn).parameters
    kwargs = dict(inputs)
    if "ctx" in params:
        kwargs["ctx"] = ctx
    return step.fn(**kwargs)


def _call_command(step: Step, inputs: dict[str, Any], ctx: StepContext) -> str:
    values = {"run_dir": ctx.run_dir, "step": ctx.step, **{k: str(v) for k, v in inputs.items()}}
    argv = [arg.format(**values) for arg in step.command]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    print(proc.stdout, end="")
    print(proc.stderr, end="")
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
        raise RuntimeError(f"command {argv[0]!r} exited with code {proc.returncode}: {tail[0]}")
    return proc.stdout.strip()


def execute(step: Step, inputs: dict[str, Any], ctx: StepContext) -> Outcome:
    """Run one attempt of ``step``; never raises for the step's own errors."""
    from eo_ray.runtime import quiet_logging
    from eo_ray.storage import set_workspace

    quiet_logging()
    previous = os.environ.get("EO_RAY_HOME")
    set_workspace(ctx.workspace_root)
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            call = _call_function if step.fn is not None else _call_command
            output = call(step, inputs, ctx)
    except BaseException as exc:  # noqa: BLE001 - reported to the driver, which decides on retries
        buffer.write(traceback.format_exc())
        return Outcome(ok=False, log=buffer.getvalue(), error=f"{type(exc).__name__}: {exc}")
    finally:  # the worker process runs other tasks next: leave its workspace as it was
        if previous is None:
            os.environ.pop("EO_RAY_HOME", None)
        else:
            os.environ["EO_RAY_HOME"] = previous
    return Outcome(ok=True, output=output, log=buffer.getvalue())
