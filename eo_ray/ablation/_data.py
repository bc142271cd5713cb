"""A trial's data: the study's rows without the ablated features, checked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eo_ray.ablation.errors import DataLeakError, StudyError


class DataSource:
    """Loads the study's DataFrame on a worker (once: it is a worker builder) and checks that
    it holds the label and every feature the study ablates."""

    def __init__(self, data: Any, label: str | None, features: Iterable[str] = ()) -> None:
        self.data = data
        self.label = label
        self.features = list(features)

    def __call__(self) -> Any:
        frame = self.data() if callable(self.data) else self.data
        check_frame(frame, self.label)
        check_features(frame, self.features, self.label)
        return frame


def check_frame(frame: Any, label: str | None) -> None:
    """The study data must be a DataFrame holding the label column."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise StudyError(
            f"The study's data must be a pandas DataFrame (or a function returning one); got "
            f"{type(frame).__name__}."
        )
    if label is not None and label not in frame.columns:
        raise StudyError(f"The study's data has no label column {label!r}.")


def check_features(frame: Any, features: Iterable[str], label: str | None) -> None:
    """Every ablated feature must be a column of the data, and not the label."""
    missing = sorted({f for f in features if f not in frame.columns})
    if missing:
        raise StudyError(
            f"The study's data has no feature {missing[0]!r}; its columns are "
            f"{[c for c in frame.columns if c != label]}."
        )
    if label in set(features):
        raise StudyError(f"{label!r} is the label; it cannot be ablated as a feature.")


def without(frame: Any, ablated: Iterable[str]) -> Any:
    """A copy of ``frame`` without the ``ablated`` columns; raises DataLeakError if any is
    still there afterwards (the check every trial's data goes through)."""
    ablated = list(ablated)
    trial = frame.drop(columns=[c for c in ablated if c in frame.columns])
    assert_absent(trial.columns, ablated)
    return trial


def assert_absent(columns: Iterable[str], ablated: Iterable[str]) -> None:
    """Raise DataLeakError when a column of an ablated feature is present."""
    leaked = sorted(set(columns) & set(ablated))
    if leaked:
        raise DataLeakError(
            f"The trial's data still holds the ablated feature(s) {leaked}; the trial was not run."
        )
