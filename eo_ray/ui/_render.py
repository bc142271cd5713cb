"""Rendering: the Jinja2 environment (autoescape on), its filters, and JSON-safe data."""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import cache
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

NAV = (
    ("/", "Overview"),
    ("/catalogs", "Catalogs"),
    ("/maps", "Maps"),
    ("/featurestore", "Feature store"),
    ("/experiments", "Experiments"),
    ("/models", "Models"),
    ("/deployments", "Deployments"),
    ("/pipelines", "Pipelines"),
)


def jsonable(value: Any) -> Any:
    """``value`` with NaN/inf as None, numpy scalars as Python, dates as ISO strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return jsonable(value.item())
    if hasattr(value, "value") and isinstance(value.value, str):  # str enums
        return value.value
    return str(value)


def json_response(data: Any, status_code: int = 200) -> JSONResponse:
    """A JSON answer of ``data`` made JSON-safe."""
    return JSONResponse(jsonable(data), status_code=status_code)


def _number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        return f"{value:.{digits}g}"
    return str(value)


def _when(value: Any) -> str:
    """An ISO time (or epoch seconds) shortened to ``YYYY-MM-DD HH:MM:SS``."""
    if value is None or value == "":
        return "–"
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc).isoformat()
    return str(value)[:19].replace("T", " ")


def _pretty(value: Any) -> str:
    return json.dumps(jsonable(value), indent=2, sort_keys=True)


@cache
def environment() -> jinja2.Environment:
    """The template environment; autoescape is on for every template."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("eo_ray.ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    env.filters["when"] = _when
    env.filters["pretty"] = _pretty
    env.filters["plain"] = jsonable
    env.globals["nav"] = NAV
    return env


def route_path(request: Request) -> str:
    """The request's path below the app's mount point (Serve's route prefix)."""
    path, root = request.scope["path"], request.scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200):
    """The HTML page of ``template`` with ``context`` (plus the base path and the request)."""
    base = request.scope.get("root_path", "").rstrip("/")
    page = (
        environment()
        .get_template(template)
        .render(base=base, path=route_path(request), query=dict(request.query_params), **context)
    )
    return HTMLResponse(page, status_code=status_code)
