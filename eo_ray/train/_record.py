"""Recording training runs as experiments (``eo_ray.tracking``), as a callback of ``fit``."""

from __future__ import annotations

from typing import Any

from eo_ray.tracking import Run, start


class ExperimentRecorder:
    """Opens an experiment record at the start of ``fit`` and closes it at the end."""

    def __init__(self, name: str, loop: Any, params: dict[str, Any], call: dict[str, Any]) -> None:
        dataset = params.pop("dataset", None)
        self.run: Run = start(
            name,
            "train",
            fn=loop,
            params=params,
            dataset=dataset,
            entry_point="eo_ray.train:fit",
            call=call,
        )

    @property
    def id(self) -> str:
        """The id of the record."""
        return self.run.id

    def completed(self, summary: dict[str, Any], history: list[dict[str, Any]]) -> None:
        """Log each reported step as a trial and close the record as completed."""
        for record in history:
            self.run.log_trial(record.get("step", 0), metrics=record, status="completed")
        self.run.finish("completed", summary=summary)

    def failed(self, error: BaseException) -> None:
        """Close the record as failed with ``error``."""
        self.run.finish("failed", summary={"error": f"{type(error).__name__}: {error}"})
