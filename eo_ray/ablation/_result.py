"""The outcome of an ablation study: per-trial rows, a ranking, JSON and a bar chart."""

from __future__ import annotations

import base64
import html
import json
import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from eo_ray.ablation.study import BASE
from eo_ray.hpo import TrialStatus, TrialView

RANKING_COLUMNS = ["rank", "component", "kind", "runs", "failed", "mean", "std", "diff"]


@dataclass
class AblationResult:
    """The trials of a study and what they say: :meth:`ranking` orders the components by
    how much leaving each out hurt the metric (``diff`` = component mean - base mean)."""

    study: str
    metric: str
    mode: str
    trials: tuple[TrialView, ...]
    wall_s: float = 0.0
    workers: int = 1
    experiment_id: str | None = None
    artifacts_uri: str | None = None
    artifacts: dict[str, str] = field(default_factory=dict)

    def to_pandas(self) -> Any:
        """One row per trial: component, kind, repeat, seed, status, value, error."""
        import pandas as pd

        rows = [
            {
                "trial": t.id,
                "component": t.hparams["component"],
                "kind": t.hparams["kind"],
                "repeat": t.hparams["repeat"],
                "seed": t.hparams["seed"],
                "status": t.status.value,
                "value": t.value,
                "duration_s": t.duration_s,
                "error": (t.error or "").strip().splitlines()[-1] if t.error else None,
            }
            for t in self.trials
        ]
        return pd.DataFrame(rows)

    @property
    def failed(self) -> list[TrialView]:
        """The trials that failed (their error is kept; the others still count)."""
        return [t for t in self.trials if t.status is TrialStatus.FAILED]

    def ranking(self) -> Any:
        """A DataFrame: the base first, then components from most to least important."""
        import pandas as pd

        groups: dict[str, dict[str, Any]] = {}
        for t in self.trials:
            g = groups.setdefault(
                t.hparams["component"], {"kind": t.hparams["kind"], "values": [], "failed": 0}
            )
            if t.status is TrialStatus.FAILED or t.value is None or math.isnan(t.value):
                g["failed"] += 1
            else:
                g["values"].append(float(t.value))
        base = _mean(groups.get(BASE, {}).get("values", []))
        rows = []
        for name, g in groups.items():
            mean = _mean(g["values"])
            std = statistics.stdev(g["values"]) if len(g["values"]) > 1 else 0.0
            rows.append(
                {
                    "component": name,
                    "kind": g["kind"],
                    "runs": len(g["values"]),
                    "failed": g["failed"],
                    "mean": mean,
                    "std": std if g["values"] else math.nan,
                    "diff": mean - base if name != BASE else 0.0,
                }
            )
        sign = 1.0 if self.mode == "max" else -1.0  # importance: how much worse without it
        rows.sort(key=lambda r: (r["component"] != BASE, _key(sign * r["diff"])))
        for i, row in enumerate(rows):
            row["rank"] = i  # the base is 0
        return pd.DataFrame(rows, columns=RANKING_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the study, the ranking and every trial."""
        ranking = self.ranking().to_dict(orient="records")
        return {
            "study": self.study,
            "experiment_id": self.experiment_id,
            "metric": self.metric,
            "mode": self.mode,
            "workers": self.workers,
            "wall_s": self.wall_s,
            "ranking": [{k: _json(v) for k, v in row.items()} for row in ranking],
            "trials": [
                {k: _json(v) for k, v in row.items()}
                for row in self.to_pandas().to_dict(orient="records")
            ],
            "artifacts": dict(self.artifacts),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=2)

    def plot_png(self) -> bytes:
        """A bar chart of ``diff`` per component with ``std`` error bars, as PNG bytes."""
        import io

        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        table = self.ranking()
        table = table[table["component"] != BASE]
        fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(table), 2) + 1.5))
        colours = [
            "#c0392b" if (d < 0) == (self.mode == "max") else "#2980b9" for d in table["diff"]
        ]
        ax.barh(
            list(table["component"]),
            list(table["diff"]),
            xerr=list(table["std"]),
            color=colours,
            capsize=3,
        )
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set(
            xlabel=f"{self.metric} without the component - base", title=f"ablation: {self.study}"
        )
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        return buffer.getvalue()

    def to_html(self) -> str:
        """A self-contained HTML page: the ranking table and the bar chart."""
        png = base64.b64encode(self.plot_png()).decode()
        table = self.ranking().to_html(index=False, float_format=lambda v: f"{v:.4f}")
        return (
            f"<!doctype html><html><head><meta charset='utf-8'><title>ablation "
            f"{html.escape(self.study)}</title></head><body><h1>Ablation study "
            f"{html.escape(self.study)}</h1><p>metric {html.escape(self.metric)} ({self.mode}), "
            f"{len(self.trials)} trials on {self.workers} workers in {self.wall_s:.1f} s</p>"
            f"{table}<img alt='ablation bar chart' src='data:image/png;base64,{png}'></body></html>"
        )

    def save(self, folder: str) -> dict[str, str]:
        """Write ranking.json, ranking.png and ranking.html to ``folder`` (a workspace URI)."""
        from eo_ray.storage import workspace

        ws = workspace()
        self.artifacts = {
            "json": f"{folder}/ranking.json",
            "png": f"{folder}/ranking.png",
            "html": f"{folder}/ranking.html",
        }
        ws.write_bytes(self.artifacts["png"], self.plot_png())
        ws.write_bytes(self.artifacts["html"], self.to_html().encode())
        ws.write_bytes(self.artifacts["json"], self.to_json().encode())
        return dict(self.artifacts)


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def _key(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _json(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return _json(value.item())
    return value
