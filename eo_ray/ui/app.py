"""The FastAPI application of the UI: pages, static assets, security and error pages."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from eo_ray._params import renamed_keywords
from eo_ray.errors import EoRayError, InvalidNameError
from eo_ray.ui import _security
from eo_ray.ui._render import json_response, render, route_path

if TYPE_CHECKING:
    from eo_ray.storage import Workspace

logger = logging.getLogger(__name__)

TOKEN_ENV = "EO_RAY_UI_TOKEN"  # noqa: S105 - the name of the variable, not a token
STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _error(request: Request, status: int, title: str, message: str) -> Response:
    """The error as JSON for ``/api`` routes, else as a page."""
    if route_path(request).startswith("/api"):
        return json_response({"error": title, "detail": message}, status)
    return render(
        request, "error.html", {"status": status, "title": title, "message": message}, status
    )


def _is_missing(exc: EoRayError) -> bool:
    return isinstance(exc, (LookupError, KeyError, FileNotFoundError))


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidNameError)
    async def bad_name(request: Request, exc: InvalidNameError) -> Response:
        return _error(request, 400, "Invalid name", str(exc))

    @app.exception_handler(EoRayError)
    async def user_error(request: Request, exc: EoRayError) -> Response:
        if _is_missing(exc):
            return _error(request, 404, "Not found", str(exc))
        return _error(request, 400, "Bad request", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = "Not found" if exc.status_code == 404 else "Error"
        detail = exc.detail if exc.status_code != 404 else f"No page at {route_path(request)}."
        return _error(request, exc.status_code, title, str(detail))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
            for e in exc.errors()
        )
        return _error(request, 422, "Invalid parameter", problems)


def _add_security(app: FastAPI, token: str | None) -> None:
    gate = _security.TokenGate(token) if token else None

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if gate is not None and not gate.allows(request):
            if route_path(request).startswith("/api"):
                response = json_response(
                    {"error": "Unauthorized", "detail": "Send Authorization: Bearer <token>."}, 401
                )
            else:
                response = render(
                    request, "login.html", {"next": route_path(request), "failed": False}, 401
                )
            response.headers["WWW-Authenticate"] = 'Bearer realm="eo-ray ui"'
        else:
            try:
                response = await call_next(request)
            except Exception as exc:
                logger.exception("UI request %s failed", route_path(request))
                response = _error(
                    request, 500, "Server error", f"{type(exc).__name__}: the page failed."
                )
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/"):
        return render(request, "login.html", {"next": _security.safe_next(next), "failed": False})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        fields = await _security.form_fields(request)
        target = _security.safe_next(fields.get("next"))
        target = request.scope.get("root_path", "").rstrip("/") + target
        if gate is None:
            return RedirectResponse(target, status_code=303)
        if not gate.token_matches(fields.get("token", "")):
            return render(request, "login.html", {"next": target, "failed": True}, 401)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            _security.COOKIE, gate.cookie_value, httponly=True, samesite="strict", path="/"
        )
        return response

    @app.get("/logout", include_in_schema=False)
    def logout(request: Request):
        base = request.scope.get("root_path", "").rstrip("/")
        response = RedirectResponse(f"{base}/login", status_code=303)
        response.delete_cookie(_security.COOKIE, path="/")
        return response


def _add_static(app: FastAPI) -> None:
    cache = {"Cache-Control": "public, max-age=86400"}

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js():
        return FileResponse(_plotly_js(), media_type="text/javascript", headers=cache)

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str):
        files = {p.name: p for p in STATIC.iterdir() if p.is_file()}
        if name not in files:
            raise StarletteHTTPException(404)
        return FileResponse(files[name], headers=cache)


@renamed_keywords(root="ws")
def create_app(token: str | None = None, ws: Workspace | str | None = None) -> FastAPI:
    """The UI as a FastAPI app over the workspace root ``ws`` (default: ``EO_RAY_HOME``).

    ``token`` (default: ``EO_RAY_UI_TOKEN``) makes every page and API call require
    ``Authorization: Bearer <token>`` or the session cookie set by ``/login``.
    """
    from eo_ray.storage import as_workspace, set_workspace
    from eo_ray.ui.pages import ROUTERS

    if ws is not None:
        set_workspace(as_workspace(ws).root)
    token = token if token is not None else os.environ.get(TOKEN_ENV) or None
    app = FastAPI(title="eo-ray", docs_url=None, redoc_url=None, openapi_url=None)
    _add_error_handlers(app)
    _add_security(app, token)
    _add_static(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
