"""A live progress bar of a study's trials (stderr, only on a terminal)."""

from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from eo_ray.console import err_console


class StudyProgress:
    """A listener of a trial session's trials (``eo_ray.hpo._session``): done, running, failed."""

    def __init__(self, total: int, label: str, enabled: bool | None = None) -> None:
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} {task.fields[detail]}"),
            TimeElapsedColumn(),
            console=err_console,
            disable=not err_console.is_terminal if enabled is None else not enabled,
        )
        self._task = self._bar.add_task(label, total=total, detail="")

    def __enter__(self) -> StudyProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def __call__(self, spec: Any, outcome: Any, counts: dict[str, int]) -> None:
        done = counts["completed"] + counts["stopped"] + counts["failed"]
        detail = f"running {counts['running']} · failed {counts['failed']}"
        self._bar.update(self._task, completed=done, detail=detail)
