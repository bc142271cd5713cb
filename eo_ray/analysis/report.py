"""``eo.analysis.report``: how a model behaves on labelled data, as one static HTML file.

The What-If Tool's questions answered without a server: performance overall and by slice
(confusion matrices, per-class precision/recall/F1), ROC/PR curves and a threshold table for
binary tasks, partial dependence of scalar features, nearest counterfactuals (the closest
example the model labels differently), and a gallery of misclassified image chips.
"""

from __future__ import annotations

import html as _html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eo_ray.analysis import _figures as fig
from eo_ray.analysis._model import Scorer
from eo_ray.analysis.errors import AnalysisError

STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1100px}"
    "table{border-collapse:collapse;font-size:12px;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
    "h2{border-bottom:1px solid #888}.grid img{margin:4px}"
)


@dataclass
class AnalysisReport:
    """The report: ``html`` (self-contained), the ``metrics`` shown in it, and where saved."""

    title: str
    metrics: dict[str, Any]
    html: str = field(repr=False)
    path: Path | None = None

    def save(self, path: str | Path) -> Path:
        self.path = Path(path)
        self.path.write_text(self.html, encoding="utf-8")
        return self.path


def _frame(data: Any, label: str, image: str | None) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
    elif isinstance(data, tuple) and len(data) == 2:  # (images, labels)
        frame = pd.DataFrame({image or "image": list(np.asarray(data[0])), label: data[1]})
    else:
        raise AnalysisError(
            f"data must be a DataFrame or an (images, labels) pair; got {type(data).__name__}."
        )
    if label not in frame:
        raise AnalysisError(f"The label column {label!r} is not in the data {list(frame)[:10]}.")
    if frame.empty:
        raise AnalysisError("The data is empty.")
    return frame


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(float_format=lambda v: f"{v:.3f}", border=0)


def _per_class(
    y: np.ndarray, pred: np.ndarray, labels: list[Any], names: list[str]
) -> pd.DataFrame:
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    return pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=names)


def _slices(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > 10:
        return pd.qcut(values, 4, duplicates="drop").astype(str)
    return values.astype(str)


def report(
    model: Any,
    data: Any,
    label: str,
    slices: Sequence[str] = (),
    *,
    image: str | None = None,
    features: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    positive: Any = None,
    counterfactuals: int = 6,
    gallery: int = 24,
    sample: int = 5000,
    seed: int = 0,
    path: str | Path | None = None,
) -> AnalysisReport:
    """Analyse ``model`` on labelled ``data`` (a DataFrame, or ``(images, labels)``).

    ``image`` names a column of chips (arrays) when the model takes images; otherwise the
    model's features (or ``features``) are scalar columns. ``slices`` are columns to break
    performance down by (numeric ones in quartiles). ``class_names`` label class indices.
    """
    if (isinstance(data, tuple)) and image is None:
        image = "image"
    frame = _frame(data, label, image)
    missing = [s for s in slices if s not in frame]
    if missing:
        raise AnalysisError(f"Slice columns {missing} are not in the data.")
    if len(frame) > sample:
        frame = frame.sample(sample, random_state=seed).reset_index(drop=True)
    scorer = Scorer(model, image, list(features) if features else None)
    if image is None and scorer.features is None:
        scorer.features = [c for c in frame.columns if c != label and c not in slices]
    pred, scores = scorer.predict(frame)
    y = frame[label].to_numpy()
    labels = sorted(set(y.tolist()) | set(pred.tolist()))
    names = [_name(v, class_names) for v in labels]
    accuracy = float(np.mean(pred == y))
    per_class = _per_class(y, pred, labels, names)
    metrics: dict[str, Any] = {
        "rows": len(frame),
        "accuracy": accuracy,
        "macro_f1": float(per_class["f1"].mean()),
        "per_class": per_class.round(4).to_dict("index"),
        "slices": {},
    }
    title = f"Model analysis: {scorer.name}"
    parts = [f"<h1>{_html.escape(title)}</h1>", f"<p>{len(frame)} rows, label <b>{label}</b>.</p>"]
    parts += _overall(y, pred, labels, names, accuracy, per_class)
    for column in slices:
        section, table = _slice_section(frame, column, y, pred, labels, names)
        parts += section
        metrics["slices"][column] = table
    if scores is not None and len(labels) == 2 and scores.ndim == 2 and scores.shape[1] == 2:
        section, binary = _binary(y, scores, labels, positive)
        parts += section
        metrics["binary"] = binary
    if image is None:
        parts += _partial_dependence(scorer, frame, labels, names, seed)
    parts += _counterfactuals(scorer, frame, pred, y, image, counterfactuals, class_names)
    if image is not None:
        parts += _gallery(frame[image], y, pred, gallery, class_names)
    html = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )
    out = AnalysisReport(title=title, metrics=metrics, html=html)
    if path is not None:
        out.save(path)
    return out


def _name(value: Any, class_names: Sequence[str] | None) -> str:
    if (
        class_names is not None
        and isinstance(value, int | np.integer)
        and 0 <= value < len(class_names)
    ):
        return str(class_names[int(value)])
    return str(value)


def _overall(y, pred, labels, names, accuracy, per_class) -> list[str]:
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y, pred, labels=labels)
    return [
        "<h2>Performance</h2>",
        f"<p>accuracy <b>{accuracy:.4f}</b>, macro F1 <b>{per_class['f1'].mean():.4f}</b></p>",
        fig.confusion(matrix, names, "confusion matrix"),
        _table(per_class),
    ]


def _slice_section(frame, column, y, pred, labels, names) -> tuple[list[str], dict[str, Any]]:
    from sklearn.metrics import confusion_matrix, f1_score

    groups = _slices(frame, column)
    rows, images = {}, []
    for value in sorted(groups.unique()):
        mask = (groups == value).to_numpy()
        rows[str(value)] = {
            "rows": int(mask.sum()),
            "accuracy": float(np.mean(pred[mask] == y[mask])),
            "macro_f1": float(
                f1_score(y[mask], pred[mask], labels=labels, average="macro", zero_division=0)
            ),
        }
        matrix = confusion_matrix(y[mask], pred[mask], labels=labels)
        images.append(fig.confusion(matrix, names, f"{column} = {value}"))
    section = [
        f"<h2>By slice: {_html.escape(column)}</h2>",
        _table(pd.DataFrame(rows).T),
        f"<div class='grid'>{''.join(images)}</div>",
    ]
    return section, rows


def _binary(y, scores, labels, positive) -> tuple[list[str], dict[str, Any]]:
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
    )

    positive = labels[1] if positive is None else positive
    if positive not in labels:
        raise AnalysisError(f"positive={positive!r} is not one of the classes {labels}.")
    truth = (y == positive).astype(int)
    score = scores[:, labels.index(positive)]
    auc, ap = float(roc_auc_score(truth, score)), float(average_precision_score(truth, score))
    fpr, tpr, _ = roc_curve(truth, score)
    precision, recall, _ = precision_recall_curve(truth, score)
    rows = []
    for t in np.round(np.arange(0.1, 0.95, 0.1), 2):
        hit = score >= t
        tp, fp = int((hit & (truth == 1)).sum()), int((hit & (truth == 0)).sum())
        fn = int((~hit & (truth == 1)).sum())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        rows.append(
            {
                "threshold": t,
                "precision": p,
                "recall": r,
                "f1": 2 * p * r / (p + r) if p + r else 0.0,
                "false_positive_rate": fp / max(int((truth == 0).sum()), 1),
                "predicted_positive": int(hit.sum()),
            }
        )
    table = pd.DataFrame(rows)
    section = [
        f"<h2>Binary: ROC and precision-recall (positive = {_html.escape(str(positive))})</h2>",
        fig.curves((fpr, tpr), (precision, recall), auc, ap),
        "<h3>Threshold table</h3>",
        _table(table.set_index("threshold")),
    ]
    return section, {"roc_auc": auc, "average_precision": ap, "thresholds": rows}


def _partial_dependence(scorer: Scorer, frame, labels, names, seed) -> list[str]:
    numeric = [c for c in scorer.features or [] if pd.api.types.is_numeric_dtype(frame[c])]
    if not numeric:
        return []
    rows = frame.sample(min(len(frame), 200), random_state=seed)
    images = []
    for column in numeric[:8]:
        grid = np.unique(np.nanquantile(frame[column].astype(float), np.linspace(0.02, 0.98, 10)))
        series: dict[str, list[float]] = {}
        for value in grid:
            varied = rows.copy()
            varied[column] = value
            pred, scores = scorer.predict(varied)
            if scores is not None and scores.shape[1] == len(labels):
                chosen = [1] if len(labels) == 2 else range(len(labels))
                for k in chosen:
                    series.setdefault(f"P({names[k]})", []).append(float(scores[:, k].mean()))
            else:
                series.setdefault("mean prediction", []).append(float(np.mean(pred.astype(float))))
        images.append(
            fig.lines(grid, {k: np.array(v) for k, v in series.items()}, column, "average")
        )
    return [
        "<h2>Partial dependence</h2>",
        "<p>Average model output as one feature is set to each value, others unchanged.</p>",
        f"<div class='grid'>{''.join(images)}</div>",
    ]


def _counterfactuals(scorer, frame, pred, y, image, count, class_names) -> list[str]:
    if count <= 0 or len(set(pred.tolist())) < 2:
        return []
    if image is not None:
        x = np.stack([np.asarray(v, dtype=np.float64).ravel() for v in frame[image]])
    else:
        x = frame[scorer.features].to_numpy(np.float64)
        x = (x - np.nanmean(x, axis=0)) / np.where(np.nanstd(x, axis=0) > 0, np.nanstd(x, 0), 1)
        x = np.nan_to_num(x)
    wrong = np.flatnonzero(pred != y)
    chosen = (wrong if len(wrong) else np.arange(len(frame)))[:count]
    rows, pairs, titles = [], [], []
    for i in chosen:
        other = np.flatnonzero(pred != pred[i])
        d = np.linalg.norm(x[other] - x[i], axis=1)
        j = int(other[np.argmin(d)])
        row = {
            "row": int(i),
            "true": _name(y[i], class_names),
            "predicted": _name(pred[i], class_names),
            "counterfactual_row": j,
            "counterfactual_predicted": _name(pred[j], class_names),
            "distance": float(d.min()),
        }
        if image is None:
            here, there = frame.iloc[i], frame.iloc[j]
            changed = [c for c in scorer.features if here[c] != there[c]]
            row["changes"] = "; ".join(f"{c}: {here[c]} → {there[c]}" for c in changed[:4])
        else:
            pairs += [frame[image].iloc[i], frame[image].iloc[j]]
            titles += [f"#{i}: {row['predicted']}", f"#{j}: {row['counterfactual_predicted']}"]
        rows.append(row)
    section = [
        "<h2>Nearest counterfactuals</h2>",
        "<p>For each example, the closest one in the data that the model labels differently.</p>",
        _table(pd.DataFrame(rows).set_index("row")),
    ]
    if pairs:
        section.append(fig.gallery(pairs, titles, columns=min(len(pairs), 8)))
    return section


def _gallery(chips: pd.Series, y, pred, count, class_names) -> list[str]:
    wrong = np.flatnonzero(pred != y)[:count]
    if not len(wrong):
        return ["<h2>Misclassified chips</h2><p>None.</p>"]
    titles = [f"{_name(y[i], class_names)} → {_name(pred[i], class_names)}" for i in wrong]
    return [
        f"<h2>Misclassified chips ({int((pred != y).sum())} in all, first {len(wrong)})</h2>",
        "<p>Titles read true → predicted.</p>",
        fig.gallery([chips.iloc[i] for i in wrong], titles),
    ]
