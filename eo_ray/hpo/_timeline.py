"""Where the workers' time went in a search: busy, idle between trials, the drain at the end."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from eo_ray.hpo._trial import TrialView


@dataclass(frozen=True)
class Timeline:
    """Worker time from ``origin`` (the moment every worker was ready; worker start-up is
    not in it) to the end of the last trial.

    ``utilisation`` is busy trial time / (workers x that span), the drain at the end (no
    trial left to start, some still running) included; ``utilisation_while_queued`` stops
    the clock when the last trial started, i.e. it measures whether a worker sat idle while
    trials remained. ``gaps`` are the idle seconds of a worker before each of its trials
    (since ``origin`` for its first, since its previous trial's end for the others).
    """

    workers: int
    origin: float
    span_s: float
    busy_s: float
    queued_s: float
    busy_queued_s: float
    gaps: tuple[float, ...]

    @classmethod
    def of(cls, trials: Iterable[TrialView], workers: int, origin: float | None) -> Timeline:
        ran = [t for t in trials if t.started_at is not None and t.ended_at is not None]
        if not ran:
            return cls(workers, origin or 0.0, 0.0, 0.0, 0.0, 0.0, ())
        origin = min(t.started_at for t in ran) if origin is None else origin
        last_start = max(t.started_at for t in ran)
        end = max(t.ended_at for t in ran)
        by_worker: dict[int | None, list[TrialView]] = defaultdict(list)
        for t in ran:
            by_worker[t.worker].append(t)
        gaps = []
        for runs in by_worker.values():
            free_at = origin
            for t in sorted(runs, key=lambda t: t.started_at):
                gaps.append(max(0.0, t.started_at - free_at))
                free_at = t.ended_at
        return cls(
            workers=workers,
            origin=origin,
            span_s=end - origin,
            busy_s=sum(t.ended_at - t.started_at for t in ran),
            queued_s=last_start - origin,
            busy_queued_s=sum(max(0.0, min(t.ended_at, last_start) - t.started_at) for t in ran),
            gaps=tuple(gaps),
        )

    @property
    def utilisation(self) -> float:
        """Busy / (workers x span), the drain at the end included."""
        return self.busy_s / (self.workers * self.span_s) if self.span_s > 0 else 0.0

    @property
    def utilisation_while_queued(self) -> float:
        """Busy / (workers x time until the last trial started)."""
        if self.queued_s <= 0:
            return self.utilisation
        return self.busy_queued_s / (self.workers * self.queued_s)

    @property
    def drain_s(self) -> float:
        """Seconds from the last trial's start to the end (fewer trials than workers left)."""
        return self.span_s - self.queued_s

    def gap_ms(self, q: float = 0.5) -> float:
        """A quantile of the idle gaps before trials, in milliseconds."""
        if not self.gaps:
            return 0.0
        if len(self.gaps) == 1:
            return self.gaps[0] * 1000
        cuts = statistics.quantiles(self.gaps, n=100, method="inclusive")
        return cuts[min(98, max(0, round(q * 100) - 1))] * 1000
