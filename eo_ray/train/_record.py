"""Recording training runs as experiments (``eo_ray.experiments``), as a callback of ``fit``.

Kept out of the training path: if the experiments stage is not installed, runs are still
recorded in ``train/<run_id>/run.json`` and ``experiment_id`` stays ``None``.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class ExperimentRecorder:
    """Opens an experiment record at the start of ``fit`` and closes it at the end."""

    def __init__(self, name: str, loop: Any, params: dict[str, Any], call: dict[str, Any]) -> None:
        self.run: Any = None
        try:
            from eo_ray.experiments import start
        except ImportError:  # the experiments stage is optional
            return
        dataset = params.pop("dataset", None)
        self.run = start(
            name,
            "train",
            fn=loop,
            params=params,
            dataset=dataset,
            entry_point="eo_ray.train._record:rerun",
            call=call,
        )

    @property
    def id(self) -> str | None:
        return self.run.id if self.run is not None else None

    def completed(self, summary: dict[str, Any], history: list[dict[str, Any]]) -> None:
        if self.run is None:
            return
        for record in history:
            self.run.log_trial(record.get("step", 0), metrics=record, status="completed")
        self.run.finish("completed", summary=summary)

    def failed(self, error: BaseException) -> None:
        if self.run is not None:
            self.run.finish("failed", summary={"error": f"{type(error).__name__}: {error}"})


def rerun(record: Any, fn: Any, call: dict[str, Any]) -> Any:
    """Entry point of ``eo.experiments.rerun`` for a training run: ``fit`` again."""
    from eo_ray.train._fit import fit

    call = dict(call)
    return fit(fn, **call)
