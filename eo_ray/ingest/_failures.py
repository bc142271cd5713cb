"""Failures of Ray Data read tasks, made visible to the driver that asked for them.

A read task that cannot open a file or read a window skips it (``on_error="warn"`` or
``"ignore"``) and, when its Dataset came from a :class:`ChipReader`, reports it to a small
actor owned by the driver. The actor is not detached and has no name: Ray ends it once
neither the reader nor any Dataset it made (their read tasks carry its handle) refers to it,
or at once with :meth:`FailureSink.close`. ``read_chips`` makes no sink at all: its caller has
no way to ask for the failures, which read tasks also log as warnings.
"""

from __future__ import annotations

import logging
from typing import Any

from eo_ray.ingest.errors import Failure

log = logging.getLogger(__name__)


class _FailureLog:
    """The actor holding one reader's read failures (plain dicts)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def add(self, rows: list[dict[str, str]]) -> int:
        self.rows += rows
        return len(self.rows)

    def get(self) -> list[dict[str, str]]:
        return self.rows


class FailureSink:
    """Where the read tasks of one reader's Datasets report failures (shipped to tasks).

    Created in the driver, which owns the actor; pickling keeps the handle, so tasks report
    to the same log and Ray's reference counting keeps it alive exactly while it is used.
    """

    def __init__(self) -> None:
        import ray

        self._log: Any = ray.remote(_FailureLog).options(num_cpus=0, max_restarts=0).remote()
        self._closed: list[Failure] | None = None  # what close() collected

    def __getstate__(self) -> dict[str, Any]:
        return {"_log": self._log, "_closed": None}

    def report(self, failures: list[Failure]) -> None:
        """Record ``failures`` (in a worker); blocks until the log holds them."""
        import ray

        try:
            ray.get(self._log.add.remote([f.to_dict() for f in failures]))
        except ray.exceptions.RayActorError:  # the reader was closed meanwhile
            log.warning("%d read failures not recorded: the chip reader is closed", len(failures))

    def collect(self) -> list[Failure]:
        """The failures reported so far (in the driver)."""
        import ray

        if self._closed is not None:
            return list(self._closed)
        if not ray.is_initialized():  # Ray was shut down: the actor went with it
            return []
        return [Failure(**row) for row in ray.get(self._log.get.remote())]

    def close(self) -> None:
        """End the actor now, keeping the failures reported so far for :meth:`collect`."""
        import ray

        if self._closed is None:
            self._closed = self.collect()
            if ray.is_initialized():
                ray.kill(self._log)
