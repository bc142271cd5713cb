"""Reading a deployment's request log (a Delta table written by the serving stage)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from eo_ray.monitoring.errors import NoRequestsError
from eo_ray.serving import request_log
from eo_ray.storage import validate_name, workspace


def _timestamp(value: Any, what: str) -> pd.Timestamp:
    if isinstance(value, dt.timedelta):
        return pd.Timestamp.now(tz="UTC") - value
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise NoRequestsError(
            f"{what}={value!r} is not a time: give a datetime, an ISO string or a timedelta."
        ) from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def requests(
    name: str,
    since: Any = None,
    until: Any = None,
    *,
    status: int | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The logged requests of deployment ``name`` as a DataFrame, oldest first.

    ``since``/``until`` bound the time (datetimes, ISO strings, or a timedelta back from now);
    ``status`` keeps one HTTP status; ``limit`` keeps the newest rows. Rows still buffered by
    a live deployment's logger are flushed first.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    validate_name(name, "deployment")
    request_log.flush(name)
    ws = workspace()
    try:
        table = DeltaTable(request_log.table_uri(ws, name), storage_options=ws.storage_options)
    except TableNotFoundError:
        raise NoRequestsError(
            f"Deployment {name!r} has logged no requests in {ws.root}; deploy it with "
            "log_requests=True and send requests first."
        ) from None
    ttype = pa.timestamp("us", tz="UTC")
    condition = None
    for bound, op in ((since, "ge"), (until, "lt")):
        if bound is None:
            continue
        stamp = pa.scalar(_timestamp(bound, "since" if op == "ge" else "until"), type=ttype)
        clause = ds.field("time") >= stamp if op == "ge" else ds.field("time") < stamp
        condition = clause if condition is None else condition & clause
    if status is not None:
        clause = ds.field("status") == int(status)
        condition = clause if condition is None else condition & clause
    frame = table.to_pyarrow_dataset().to_table(filter=condition).to_pandas()
    frame = frame.sort_values("time", kind="stable").reset_index(drop=True)
    if limit is not None:
        frame = frame.tail(int(limit)).reset_index(drop=True)
    return frame
