"""Matplotlib figures as inline PNG ``<img>`` tags, so a report is one self-contained file."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def img(fig: Any) -> str:
    """The figure as an ``<img>`` with a base64 PNG (the figure is closed)."""
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}"/>'


def confusion(matrix: np.ndarray, labels: Sequence[str], title: str) -> str:
    plt = _pyplot()
    size = 1.2 + 0.35 * len(labels)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    high = matrix.max() if matrix.size else 0
    for (i, j), v in np.ndenumerate(matrix):
        if v:
            color = "white" if v > high / 2 else "black"
            ax.text(j, i, str(v), ha="center", va="center", fontsize=6, color=color)
    return img(fig)


def curves(roc: tuple, pr: tuple, auc: float, ap: float) -> str:
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.5))
    a.plot(roc[0], roc[1])
    a.plot([0, 1], [0, 1], "--", color="grey")
    a.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC (AUC {auc:.3f})")
    b.plot(pr[1], pr[0])
    b.set(xlabel="recall", ylabel="precision", title=f"PR (AP {ap:.3f})")
    return img(fig)


def lines(grid: np.ndarray, series: dict[str, np.ndarray], xlabel: str, ylabel: str) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4, 3))
    for name, values in series.items():
        ax.plot(grid, values, marker=".", label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if len(series) > 1:
        ax.legend(fontsize=6)
    return img(fig)


def gallery(images: Sequence[np.ndarray], titles: Sequence[str], columns: int = 8) -> str:
    """A grid of chips (H×W, C×H×W or H×W×C) with a title each."""
    plt = _pyplot()
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.3, rows * 1.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, chip, title in zip(axes.flat, images, titles, strict=False):
        ax.imshow(display(chip), cmap="gray")
        ax.set_title(title, fontsize=6)
    return img(fig)


def display(chip: np.ndarray) -> np.ndarray:
    """A chip as something imshow draws: one band as grey, three as RGB (stretched)."""
    x = np.asarray(chip, dtype=np.float64)
    if x.ndim == 3 and x.shape[0] in (1, 2, 3, 4) and x.shape[0] < x.shape[-1]:
        x = np.moveaxis(x, 0, -1)
    if x.ndim == 3:
        x = x[..., 0] if x.shape[-1] != 3 else x
    low, high = np.nanpercentile(x, [2, 98])
    return np.clip((x - low) / (high - low), 0, 1) if high > low else np.zeros_like(x)
