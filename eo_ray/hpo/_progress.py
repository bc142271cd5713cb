"""A live progress bar of a search (trials done / running / stopped, best so far).

Shown on stderr only when it is a terminal; quiet in non-interactive runs.
"""

from __future__ import annotations

import math

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from eo_ray.console import err_console
from eo_ray.hpo._reporter import TrialOutcome
from eo_ray.hpo._trial import TrialSpec, better


class SearchProgress:
    """A listener of a trial session's trials that draws a Rich progress bar."""

    def __init__(self, total: int, mode: str, label: str, enabled: bool | None = None) -> None:
        self.mode = mode
        self.best: float | None = None
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=err_console,
            disable=not err_console.is_terminal if enabled is None else not enabled,
            transient=False,
        )
        self._task = self._bar.add_task(label, total=total, detail="")

    def __enter__(self) -> SearchProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def __call__(
        self, spec: TrialSpec | None, outcome: TrialOutcome | None, counts: dict[str, int]
    ) -> None:
        value = outcome.value if outcome is not None else None
        if value is not None and not math.isnan(value):
            self.best = (
                value if self.best is None or better(value, self.best, self.mode) else self.best
            )
        done = counts["completed"] + counts["stopped"] + counts["failed"]
        best = "-" if self.best is None else f"{self.best:.4g}"
        detail = (
            f"running {counts['running']} · stopped {counts['stopped']} · "
            f"failed {counts['failed']} · best {best}"
        )
        self._bar.update(self._task, completed=done, detail=detail)
