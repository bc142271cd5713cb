"""The result of a search: best trial, per-trial table, plots."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from eo_ray._params import invalid
from eo_ray.hpo._timeline import Timeline
from eo_ray.hpo._trial import TrialStatus, TrialView, better
from eo_ray.hpo.errors import SearchConfigError
from eo_ray.storage import Workspace


@dataclass(frozen=True)
class SearchResult:
    """Every trial of a finished search, with its best and a few summary figures."""

    experiment_id: str | None
    metric: str
    mode: str
    trials: tuple[TrialView, ...]
    wall_s: float
    workers: int
    utilisation: float
    worker_replacements: int = 0
    artifacts_uri: str | None = None
    plots: tuple[str, ...] = ()  # URIs of the PNGs written by :meth:`plot`
    startup_s: float = 0.0  # starting the workers and running their builders, not in wall_s
    started_at: float | None = None  # epoch seconds when every worker was ready

    def timeline(self) -> Timeline:
        """Where the workers' time went (busy, idle gaps, the drain at the end)."""
        return Timeline.of(self.trials, self.workers, self.started_at)

    @property
    def best(self) -> TrialView | None:
        """The completed or early-stopped trial with the best value (None if none has one)."""
        best = None
        for t in self.trials:
            valid = t.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED)
            valid = valid and t.value is not None and not math.isnan(t.value)
            if valid and (best is None or better(t.value, best.value, self.mode)):
                best = t
        return best

    @property
    def best_value(self) -> float | None:
        return self.best.value if self.best else None

    @property
    def best_hparams(self) -> dict[str, Any] | None:
        return dict(self.best.hparams) if self.best else None

    def count(self, status: TrialStatus | str) -> int:
        """How many trials ended with ``status``."""
        status = TrialStatus(status)
        return sum(t.status is status for t in self.trials)

    def to_pandas(self) -> Any:
        """One row per trial: id, hyperparameters (``hp.*``), value, other returned metrics
        (``m.*``), status, early-stopped, duration, worker, attempts, number of reports, the
        metric history, error."""
        import pandas as pd

        rows = []
        for t in self.trials:
            rows.append(
                {
                    "trial": t.id,
                    **{f"hp.{k}": v for k, v in t.hparams.items()},
                    self.metric: t.value,
                    **{f"m.{k}": v for k, v in t.metrics.items() if k != self.metric},
                    "status": t.status.value,
                    "early_stopped": t.status is TrialStatus.STOPPED,
                    "duration_s": t.duration_s,
                    "worker": t.worker,
                    "attempts": t.attempts,
                    "reports": len(t.reports),
                    "history": [r.value for r in t.reports],
                    "error": (t.error or "").splitlines()[-1] if t.error else None,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures (what the experiment record keeps)."""
        best = self.best
        return {
            "metric": self.metric,
            "mode": self.mode,
            "best_value": best.value if best else None,
            "best_trial": best.id if best else None,
            "best_hparams": dict(best.hparams) if best else None,
            "trials": len(self.trials),
            **{s.value: self.count(s) for s in TrialStatus if s is not TrialStatus.RUNNING},
            "wall_s": round(self.wall_s, 3),
            "workers": self.workers,
            "utilisation": round(self.utilisation, 4),
            "startup_s": round(self.startup_s, 3),
            "worker_replacements": self.worker_replacements,
            "plots": list(self.plots),
        }

    def plot(self, folder: str | None = None) -> list[str]:
        """Write two PNGs, metric vs time per trial and best-so-far vs time, to ``folder``
        (default: the experiment's artifacts folder); returns their URIs."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        folder = folder or self.artifacts_uri
        if folder is None:
            expected = "a folder (this search has no artifacts folder)"
            raise invalid(SearchConfigError, "folder", "SearchResult.plot", expected, folder)
        starts = [t.started_at for t in self.trials if t.started_at is not None]
        origin = min(starts) if starts else 0.0
        fig1, ax1 = plt.subplots(figsize=(8, 5))
        for t in self.trials:
            if not t.reports or t.started_at is None:
                continue
            xs = [t.started_at - origin + r.time for r in t.reports]
            style = "--" if t.status is TrialStatus.STOPPED else "-"
            ax1.plot(xs, [r.value for r in t.reports], style, marker=".", linewidth=1, alpha=0.8)
        ax1.set(
            xlabel="time since search start (s)",
            ylabel=self.metric,
            title="metric vs time per trial (dashed: stopped early)",
        )
        fig2, ax2 = plt.subplots(figsize=(8, 5))
        ends = sorted(
            (t.ended_at - origin, t.value)
            for t in self.trials
            if t.ended_at is not None and t.value is not None and not math.isnan(t.value)
        )
        xs, ys, best = [], [], None
        for x, v in ends:
            best = v if best is None or better(v, best, self.mode) else best
            xs.append(x)
            ys.append(best)
        ax2.step(xs, ys, where="post")
        ax2.set(
            xlabel="time since search start (s)",
            ylabel=f"best {self.metric} so far",
            title="best so far",
        )
        uris = []
        ws = Workspace(folder)  # the root only picks the filesystem (local or S3)
        for fig, name in ((fig1, "metric_vs_time.png"), (fig2, "best_so_far.png")):
            buf = io.BytesIO()
            fig.tight_layout()
            fig.savefig(buf, format="png", dpi=100)
            plt.close(fig)
            uri = f"{folder.rstrip('/')}/{name}"
            ws.write_bytes(uri, buf.getvalue())
            uris.append(uri)
        return uris
