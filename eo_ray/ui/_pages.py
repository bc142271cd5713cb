"""One data layer, two renderers: each page is a data function shown as HTML and as JSON.

``add_page(router, "/models/{name}", "model.html", model_detail, charts=model_charts)``
registers ``GET /models/{name}`` (the template, given ``data`` and ``charts``) and
``GET /api/models/{name}`` (the data as JSON). Path and query parameters are the data
function's own parameters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from eo_ray.ui._render import json_response, render

PageData = Callable[..., dict[str, Any]]
Charts = Callable[[dict[str, Any]], dict[str, Any]]


def add_page(
    router: APIRouter,
    path: str,
    template: str,
    data: PageData,
    *,
    charts: Charts | None = None,
    api_path: str | None = None,
) -> None:
    """Register the HTML page at ``path`` and its JSON at ``api_path`` (``/api`` + path)."""
    signature = inspect.signature(data, eval_str=True)

    def api_endpoint(**params: Any):
        return json_response(data(**params))

    def html_endpoint(request: Request, **params: Any):
        context = data(**params)
        return render(
            request, template, {"data": context, "charts": charts(context) if charts else {}}
        )

    api_endpoint.__signature__ = signature  # type: ignore[attr-defined]
    request_param = inspect.Parameter(
        "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request
    )
    html_endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[request_param, *signature.parameters.values()]
    )
    name = data.__name__
    router.add_api_route(
        api_path or f"/api{path}", api_endpoint, methods=["GET"], name=f"api_{name}"
    )
    router.add_api_route(path, html_endpoint, methods=["GET"], name=name, include_in_schema=False)
