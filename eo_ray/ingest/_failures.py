"""Failures of Ray Data read tasks, made visible to the driver.

A read task that cannot open a file or read a window skips it (``on_error="warn"``) and
reports it to a small named actor, created only on the first failure, so a run without
failures costs nothing. :class:`ChipReader` collects the reports into ``failures``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from eo_ray.ingest._scan import Failure

NAMESPACE = "eo_ray_ingest"


class _FailureLog:
    """The actor holding one Dataset's read failures (plain dicts)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def add(self, rows: list[dict[str, str]]) -> int:
        self.rows += rows
        return len(self.rows)

    def get(self) -> list[dict[str, str]]:
        return self.rows


@dataclass(frozen=True)
class FailureSink:
    """Where the read tasks of one Dataset report failures (picklable; shipped to tasks)."""

    name: str = field(default_factory=lambda: f"chip-failures-{uuid.uuid4().hex}")

    def report(self, failures: list[Failure]) -> None:
        """Record ``failures`` (in a worker); blocks until the log holds them."""
        import ray

        log = (
            ray.remote(_FailureLog)
            .options(
                name=self.name,
                namespace=NAMESPACE,
                lifetime="detached",  # outlives the worker that made it; removed by close()
                get_if_exists=True,
                num_cpus=0,
            )
            .remote()
        )
        ray.get(log.add.remote([f.to_dict() for f in failures]))

    def _actor(self):
        import ray

        try:
            return ray.get_actor(self.name, namespace=NAMESPACE)
        except ValueError:  # no failure reported (yet)
            return None

    def collect(self) -> list[Failure]:
        """The failures reported so far (in the driver)."""
        import ray

        actor = self._actor() if ray.is_initialized() else None
        if actor is None:
            return []
        return [Failure(**row) for row in ray.get(actor.get.remote())]

    def close(self) -> None:
        """Remove the log (its reports are lost)."""
        import ray

        actor = self._actor() if ray.is_initialized() else None
        if actor is not None:
            ray.kill(actor)
