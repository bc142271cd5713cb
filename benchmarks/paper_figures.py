"""The PNGs of ``benchmarks/paper.py``, equivalents of the paper's Figures 13, 14 and 15."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from paper_report import PAPER_HPO


def _bars(
    ax: Any, labels: list[str], series: dict[str, list[float]], notes: dict[str, list[str]]
) -> None:
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series.items()):
        xs = [j + i * width for j in range(len(labels))]
        bars = ax.bar(xs, values, width, label=name)
        for bar, note in zip(bars, notes[name], strict=True):
            ax.annotate(
                note,
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(labels))], labels)
    ax.legend(fontsize=8)


def figure13(path: Path, real: dict, replays: dict | None) -> None:
    """Wall-clock of N trials, async (paper rule) vs sync, best accuracy on the bars; the
    paper's Maggy vs Spark beside it."""
    rows = [(f"{real['workers']} real", real["sync"], real["async"]["paper"])]
    for r in (replays or {}).get("rows", []):
        rows.append((f"{r['workers']} replay", r["sync"], r["paper"]))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    _bars(
        left,
        [r[0] for r in rows],
        {
            "eo-ray async + median rule": [r[2]["wall_s"] for r in rows],
            "eo-ray sync (Experiment API)": [r[1]["wall_s"] for r in rows],
        },
        {
            "eo-ray async + median rule": [f"{r[2]['best']:.3f}" for r in rows],
            "eo-ray sync (Experiment API)": [f"{r[1]['best']:.3f}" for r in rows],
        },
    )
    left.set(title="eo-ray (this run)", xlabel="workers", ylabel="wall-clock (s)")
    ws = sorted(PAPER_HPO)
    _bars(
        right,
        [str(w) for w in ws],
        {
            "Maggy": [PAPER_HPO[w]["maggy_s"] for w in ws],
            "Spark": [PAPER_HPO[w]["spark_s"] for w in ws],
        },
        {
            "Maggy": [f"{PAPER_HPO[w]['maggy_best']:.3f}" for w in ws],
            "Spark": [f"{PAPER_HPO[w]['spark_best']:.3f}" for w in ws],
        },
    )
    right.set(title="paper (Table 2)", xlabel="workers", ylabel="wall-clock (s)")
    n = len(real["sync"]["timeline"])
    fig.suptitle(f"Figure 13: random search of {n} trials (paper: 100), best accuracy on the bars")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _best_so_far(points: list[tuple[float, float | None]]) -> tuple[list[float], list[float]]:
    xs, ys, best = [0.0], [0.0], 0.0
    for end, value in sorted(points):
        if value is not None and value > best:
            best = value
        xs.append(end)
        ys.append(best)
    return xs, ys


def figure14(path: Path, real: dict) -> None:
    """Best accuracy found so far against wall-clock, async (both rules) vs sync."""
    fig, ax = plt.subplots(figsize=(7, 4))
    sync = [(t["end_s"], t["value"]) for t in real["sync"]["timeline"]]
    ax.step(*_best_so_far(sync), where="post", label="sync (Experiment API)")
    for name, row in real["async"].items():
        points = [(t["end_s"], t["value"]) for t in row["timeline"]]
        ax.step(*_best_so_far(points), where="post", label=f"async, {name} median rule")
    ax.set(
        xlabel="wall-clock (s)",
        ylabel="best accuracy so far",
        title=f"Figure 14: {len(sync)} trials on {real['workers']} workers (real)",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def figure15(path: Path, result: dict) -> None:
    """Ablation wall-clock at 1, 2 (real) and 1, 2, 4 (replayed) workers, with linear."""
    fig, ax = plt.subplots(figsize=(6, 4))
    real = {int(w): r["wall_s"] for w, r in result["real"].items()}
    rep = {int(w): s for w, s in result["replayed"].items()}
    ax.plot(list(real), list(real.values()), "o-", label="real")
    ax.plot(list(rep), list(rep.values()), "s--", label="replayed trial durations")
    ws = sorted(set(real) | set(rep))
    ax.plot(ws, [real[1] / w for w in ws], ":", color="grey", label="linear (from 1 worker)")
    ax.set(
        xlabel="workers",
        ylabel="wall-clock (s)",
        xticks=ws,
        title="Figure 15: module ablation of an Inception-style net",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_figures(out: Path, results: dict[str, Any]) -> list[Path]:
    """The PNGs for whichever stages have results; returns their paths."""
    written = []
    if results.get("hpo"):
        figure13(out / "fig13_hpo_wallclock.png", results["hpo"], results.get("replays"))
        figure14(out / "fig14_hpo_best_over_time.png", results["hpo"])
        written += [out / "fig13_hpo_wallclock.png", out / "fig14_hpo_best_over_time.png"]
    if results.get("fig15"):
        figure15(out / "fig15_ablation_scaling.png", results["fig15"])
        written.append(out / "fig15_ablation_scaling.png")
    return written
