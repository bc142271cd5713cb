"""Access control of the UI: a bearer token, or a session cookie set by the login form.

Without a configured token every request is let through (the server binds 127.0.0.1 by
default). With one, a request needs ``Authorization: Bearer <token>`` or the session cookie;
otherwise it gets 401 (the login form for pages, a JSON error for ``/api``).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs

from starlette.requests import Request

from eo_ray._params import invalid
from eo_ray.ui._render import route_path
from eo_ray.ui.errors import UIConfigError

COOKIE = "eo_ray_ui_session"
OPEN_PATHS = ("/login", "/logout", "/static/")  # the form, and bundled assets (no workspace data)
_SESSION_MESSAGE = b"eo-ray-ui-session-v1"


class TokenGate:
    """Checks requests against ``token``; the cookie value is an HMAC of the token, so
    every replica of a deployed UI accepts it and the token itself is never stored."""

    def __init__(self, token: str) -> None:
        if not token:
            raise invalid(UIConfigError, "token", "the UI", "a non-empty string", token)
        self._token = token.encode()
        self.cookie_value = hmac.new(self._token, _SESSION_MESSAGE, hashlib.sha256).hexdigest()

    def token_matches(self, candidate: str) -> bool:
        """Whether ``candidate`` is the token (constant-time)."""
        return hmac.compare_digest(candidate.encode(), self._token)

    def allows(self, request: Request) -> bool:
        """Whether the request carries the bearer token or a valid session cookie."""
        if route_path(request).startswith(OPEN_PATHS):
            return True
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self.token_matches(value.strip()):
            return True
        cookie = request.cookies.get(COOKIE, "")
        return hmac.compare_digest(cookie.encode(), self.cookie_value.encode())


def safe_next(target: str | None) -> str:
    """A local path to go to after logging in (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of an ``application/x-www-form-urlencoded`` body (first value of each)."""
    body = (await request.body())[:16384].decode("utf-8", errors="replace")
    return {key: values[0] for key, values in parse_qs(body).items()}
