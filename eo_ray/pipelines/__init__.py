"""Pipelines: a DAG of named steps (functions or command lines) run on Ray.

Steps declare dependencies, retries with exponential back-off, timeouts and resources;
independent steps run in parallel; every run is recorded under the workspace with each
step's status, attempts, durations, logs and outputs, and a failed run can be resumed
without redoing the steps that finished. A run can be started by hand, by a monitoring
alert (:func:`on_alert`) or on a schedule (:func:`run_every`).

    pipe = eo.pipelines.Pipeline("ships")

    @pipe.step(retries=2)
    def scan(): ...

    @pipe.step(depends_on=["scan"], timeout_s=600, resources={"CPU": 2})
    def chips(scan): ...

    run = pipe.run()              # or pipe.run(resume=run_id) after a failure
"""

from typing import TYPE_CHECKING

from eo_ray import _lazy

if TYPE_CHECKING:
    from eo_ray.pipelines._dag import Pipeline
    from eo_ray.pipelines._execute import StepContext
    from eo_ray.pipelines._record import RunRecord, StepStatus
    from eo_ray.pipelines._runner import PipelineRun, get_run, list_runs, run
    from eo_ray.pipelines._runner import get_run as get
    from eo_ray.pipelines._runner import list_runs as list
    from eo_ray.pipelines._step import Step
    from eo_ray.pipelines._triggers import load_pipeline, on_alert, run_every
    from eo_ray.pipelines.errors import (
        PipelineDefinitionError,
        PipelineError,
        PipelineRunNotFoundError,
        StepFailedError,
    )

__getattr__, __dir__ = _lazy.attach(__name__, __file__)

__all__ = [
    "Pipeline",
    "PipelineDefinitionError",
    "PipelineError",
    "PipelineRun",
    "PipelineRunNotFoundError",
    "RunRecord",
    "Step",
    "StepContext",
    "StepFailedError",
    "StepStatus",
    "get",
    "get_run",
    "list",
    "list_runs",
    "load_pipeline",
    "on_alert",
    "run",
    "run_every",
]
