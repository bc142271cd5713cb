"""Plotly figure specs (plain dicts) drawn in the browser by the bundled plotly.js.

Big series are drawn as one trace with gaps (``None``) between their parts, which keeps a
chart of a thousand trials as fast as a chart of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def figure(traces: list[dict[str, Any]], x_title: str, y_title: str, **layout: Any) -> dict:
    """A figure with axis titles and a compact layout (``layout`` adds or merges options)."""
    base: dict[str, Any] = {
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}},
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "height": 360,
        "legend": {"orientation": "h"},
    }
    for key, value in layout.items():  # axis options merge with the titles
        base[key] = {**base[key], **value} if isinstance(base.get(key), dict) else value
    return {"data": traces, "layout": base}


def joined_lines(
    series: Sequence[tuple[Sequence[float], Sequence[float]]], name: str, color: str
) -> dict[str, Any]:
    """Many lines as one trace: the series joined with ``None`` gaps."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for x, y in series:
        xs.extend([*x, None])
        ys.extend([*y, None])
    return {
        "type": "scatter",
        "mode": "lines",
        "x": xs,
        "y": ys,
        "name": name,
        "line": {"color": color, "width": 1},
        "connectgaps": False,
    }


def markers(x: Sequence[Any], y: Sequence[Any], name: str, color: str, symbol: str) -> dict:
    """A marker-only trace."""
    return {
        "type": "scatter",
        "mode": "markers",
        "x": list(x),
        "y": list(y),
        "name": name,
        "marker": {"color": color, "symbol": symbol, "size": 8},
    }


def line(x: Sequence[Any], y: Sequence[Any], name: str, color: str, shape: str = "linear") -> dict:
    """A single line."""
    return {
        "type": "scatter",
        "mode": "lines",
        "x": list(x),
        "y": list(y),
        "name": name,
        "line": {"color": color, "width": 2, "shape": shape},
    }
