"""Ways to start a pipeline other than by hand: a monitoring alert, a schedule, a reference."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eo_ray._params import invalid
from eo_ray.pipelines._dag import Pipeline
from eo_ray.pipelines._runner import PipelineRun
from eo_ray.pipelines.errors import PipelineDefinitionError


def on_alert(pipeline: Pipeline, **run_kwargs: Any) -> Callable[[Any], PipelineRun]:
    """A callback for monitoring alerts that runs ``pipeline`` (e.g. the retraining one).

    Pass it as the alert hook of a drift monitor; each alert starts one run, recorded with
    ``trigger="alert:<name>"``.
    """

    def callback(alert: Any) -> PipelineRun:
        name = getattr(alert, "name", None) or getattr(alert, "metric", None) or "alert"
        return pipeline.run(trigger=f"alert:{name}", **run_kwargs)

    return callback


def run_every(
    pipeline: Pipeline,
    interval_s: float,
    *,
    times: int | None = None,
    stop: threading.Event | None = None,
    **run_kwargs: Any,
) -> list[PipelineRun]:
    """Run ``pipeline`` every ``interval_s`` seconds, ``times`` times or until ``stop`` is set.

    Runs never overlap: the next one starts ``interval_s`` after the previous one started,
    or as soon as it finished if it took longer.
    """
    if interval_s <= 0:
        expected = "a positive number of seconds"
        raise invalid(PipelineDefinitionError, "interval_s", "run_every", expected, interval_s)
    stop = stop or threading.Event()
    runs: list[PipelineRun] = []
    while not stop.is_set() and (times is None or len(runs) < times):
        started = time.monotonic()
        runs.append(pipeline.run(trigger=f"schedule:{interval_s:g}s", **run_kwargs))
        if times is not None and len(runs) >= times:
            break
        stop.wait(max(0.0, interval_s - (time.monotonic() - started)))
    return runs


def load_pipeline(ref: str) -> Pipeline:
    """The pipeline named by ``path/to/file.py:attr`` or ``package.module:attr``.

    ``attr`` may be a :class:`Pipeline` or a function without arguments returning one.
    """
    target, _, attr = ref.partition(":")
    attr = attr or "pipeline"
    if target.endswith(".py"):
        path = Path(target).resolve()
        if not path.is_file():
            raise PipelineDefinitionError(f"Pipeline file {target!r} does not exist.")
        spec = importlib.util.spec_from_file_location(f"_eo_pipeline_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        from ray import cloudpickle

        cloudpickle.register_pickle_by_value(module)  # Ray workers cannot import it by name
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError:
            raise PipelineDefinitionError(f"Cannot import pipeline module {target!r}.") from None
    obj = getattr(module, attr, None)
    if callable(obj) and not isinstance(obj, Pipeline):
        obj = obj()
    if not isinstance(obj, Pipeline):
        raise PipelineDefinitionError(
            f"{ref!r} does not name a Pipeline (or a function returning one); "
            "use file.py:attribute or module:attribute."
        )
    return obj
