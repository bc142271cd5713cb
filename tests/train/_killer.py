"""A training loop that kills its own worker process once, mid-training (for resume tests)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from eo_ray.train.recipes import torch_classifier_loop


class _KillingReporter:
    """Forwards to the real reporter; after step ``kill_at`` on rank 1, SIGKILLs the process."""

    def __init__(self, reporter: Any, marker: str, kill_at: int) -> None:
        self._reporter = reporter
        self._marker = Path(marker)
        self._kill_at = kill_at

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reporter, name)

    def report(self, value: float, step: int, **metrics: Any) -> None:
        self._reporter.report(value, step=step, **metrics)
        if step == self._kill_at and self._reporter.rank == 1 and not self._marker.exists():
            self._marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)


def killing_loop(config: dict[str, Any], data: Any, reporter: Any) -> None:
    torch_classifier_loop(config, data, _KillingReporter(reporter, config["marker"], 1))
