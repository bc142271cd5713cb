"""Time series from a feature view: long-form observations, labels joined point in time,
reshaped into model inputs (wide per series, or arrays series × dates × bands).

The labels are the spine: each label row (entity key, label time, label) gets the
observations of its entity dated *at or before* its label time (and after ``label time -
window`` when a window is given), so no observation from after a label enters its series.
A label group without event time labels every observation of its entity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from eo_ray.featurestore._duck import connect, quote
from eo_ray.featurestore.errors import QueryError

if TYPE_CHECKING:
    import pandas as pd

    from eo_ray.featurestore.query import Query

SHAPES = ("wide", "array")
DATES = ("index", "date")
LABEL_TIME = "label_time"
TIME = "__time"


@dataclass
class SeriesData:
    """Model inputs of a series view, one entry per (entity, label event), aligned.

    ``X``: a DataFrame with columns ``<band>_<k>`` (``dates="index"``: k-th observation)
    or ``<band>_<date>`` (``dates="date"``) for ``shape="wide"``, else a float array
    series × dates × bands (NaN where a series has no observation). ``times``: the dates
    axis, ``(T,)`` for ``dates="date"``, ``(N, T)`` per series for ``dates="index"``.
    """

    keys: pd.DataFrame  # the entity key columns and label_time
    X: Any
    y: pd.DataFrame  # the label columns
    bands: list[str]
    times: np.ndarray


def read_series(
    query: Query, labels: list[str], shape: str, dates: str, window: str | None
) -> SeriesData:
    """The series of a view's query (observations left, labels joined): see the module."""
    import pandas as pd

    if shape not in SHAPES:
        raise QueryError(f"shape must be one of {SHAPES}; got {shape!r}.")
    if dates not in DATES:
        raise QueryError(f"dates must be one of {DATES}; got {dates!r}.")
    group = query.group
    if not group.event_time:
        raise QueryError(
            f"Feature group {group.name!r} has no event time: a series needs observations "
            "dated by an event time (create the group with event_time='time')."
        )
    if query.condition is not None:
        raise QueryError("get_series does not apply filters; filter the series afterwards.")
    join = _label_join(query, labels)
    keys = list(group.primary_key)
    bands = [f for f in query.features if f not in keys and f != group.event_time]
    right = join.query.group
    names = {f"{join.prefix}{f}": f for f in join.query.features}
    lab = {out: names[out] for out in labels}
    left_cols = list(dict.fromkeys([*keys, *join.left_on, group.event_time, *bands]))
    timed = [right.event_time] if right.event_time else []
    right_cols = list(dict.fromkeys([*join.right_on, *timed, *lab.values()]))
    s = group.read(features=left_cols).to_arrow()
    r = right.read(features=right_cols).to_arrow()
    sql, params = spine_sql(
        keys, group.event_time, bands, join.left_on, join.right_on, right.event_time, lab, window
    )
    con = connect(s=s, r=r)
    try:
        frame = con.sql(sql, params=params or None).to_df()
    finally:
        con.close()
    frame[TIME] = pd.to_datetime(frame[TIME], utc=True)
    return reshape(frame, keys, bands, list(lab), shape, dates)


def _label_join(query: Query, labels: list[str]):
    if not labels:
        raise QueryError("A series view needs labels=[...] from a joined label group.")
    for join in query.joins:
        outputs = {f"{join.prefix}{f}" for f in join.query.features}
        if set(labels) <= outputs:
            if len(query.joins) > 1:
                raise QueryError(
                    "get_series joins one label group; this view's query joins "
                    f"{len(query.joins)} groups."
                )
            return join
    raise QueryError(
        f"The labels {labels} do not come from a joined group: build the view as "
        "series.select([...]).join(labels_group.select([...]))."
    )


def spine_sql(
    keys: list[str],
    time: str,
    bands: list[str],
    left_on: list[str],
    right_on: list[str],
    label_time: str | None,
    labels: dict[str, str],
    window: str | None,
) -> tuple[str, list[Any]]:
    """SQL joining observations ``s`` to label rows ``r``: each label row gets its entity's
    observations at or before its label time (within ``window`` of it when given)."""
    import pandas as pd

    q = quote
    on = [f"s.{q(a)} = r.{q(b)}" for a, b in zip(left_on, right_on, strict=True)]
    params: list[Any] = []
    if label_time:
        on.append(f"s.{q(time)} <= r.{q(label_time)}")
        if window is not None:
            try:
                micros = int(pd.Timedelta(window) / pd.Timedelta(microseconds=1))
            except ValueError:
                raise QueryError(
                    f"window must be a duration like '365D'; got {window!r}."
                ) from None
            on.append(f"s.{q(time)} > r.{q(label_time)} - to_microseconds(?)")
            params.append(micros)
    stamp = f"r.{q(label_time)}" if label_time else "NULL::TIMESTAMPTZ"
    select = [f"s.{q(k)}" for k in keys] + [f"{stamp} AS {LABEL_TIME}"]
    select += [f"r.{q(src)} AS {q(out)}" for out, src in labels.items()]
    select += [f"s.{q(time)} AS {TIME}"] + [f"s.{q(b)}" for b in bands]
    sql = f"SELECT {', '.join(select)} FROM s JOIN r ON {' AND '.join(on)}"  # noqa: S608
    return sql, params


def reshape(
    frame: pd.DataFrame,
    keys: list[str],
    bands: list[str],
    labels: list[str],
    shape: str,
    dates: str,
) -> SeriesData:
    """Long rows (keys, ``label_time``, labels, ``__time``, bands) into :class:`SeriesData`."""
    import pandas as pd

    spine = [*keys, LABEL_TIME]
    frame = frame.sort_values([*spine, TIME], kind="stable", ignore_index=True)
    grouped = frame.groupby(spine, sort=False, dropna=False)
    codes = grouped.ngroup().to_numpy()
    first = frame.drop_duplicates(spine)
    n = len(first)
    when = frame[TIME].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
    if dates == "index":
        pos = grouped.cumcount().to_numpy()
        steps = int(pos.max()) + 1 if len(pos) else 0
        times = np.full((n, steps), np.datetime64("NaT"), "datetime64[us]")
        times[codes, pos] = when
        names = [str(k) for k in range(steps)]
    else:
        times, pos = np.unique(when, return_inverse=True)
        days = times.astype("datetime64[D]")
        exact = len(np.unique(days)) == len(times) and (days == times).all()
        names = [str(d) for d in (days if exact else times)]
        steps = len(times)
    dtype = np.result_type(np.float32, *(frame[b].dtype for b in bands))
    values = np.full((n, steps, len(bands)), np.nan, dtype)
    values[codes, pos] = frame[bands].to_numpy(dtype)
    if shape == "wide":
        columns = [f"{b}_{name}" for b in bands for name in names]
        x: Any = pd.DataFrame(values.transpose(0, 2, 1).reshape(n, -1), columns=columns)
    else:
        x = values
    return SeriesData(
        keys=first[spine].reset_index(drop=True),
        X=x,
        y=first[labels].reset_index(drop=True),
        bands=list(bands),
        times=times,
    )
