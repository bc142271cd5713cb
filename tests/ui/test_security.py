"""The UI's security: token or session cookie, object names, escaping, error pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from eo_ray.ui import create_app
from eo_ray.ui._security import COOKIE, TokenGate, safe_next

TOKEN = "s3cret-token"
PAGES = [
    "/",
    "/catalogs",
    "/maps",
    "/featurestore",
    "/experiments",
    "/models",
    "/deployments",
    "/pipelines",
    "/models/m1",
    "/featurestore/g1",
]
APIS = [
    "/api/overview",
    "/api/catalogs",
    "/api/maps",
    "/api/featurestore",
    "/api/experiments",
    "/api/models",
    "/api/deployments",
    "/api/pipelines",
    "/api/models/m1",
]


@pytest.fixture
def guarded(small_workspace) -> TestClient:
    return TestClient(create_app(token=TOKEN))


@pytest.fixture
def open_client(small_workspace) -> TestClient:
    return TestClient(create_app(token=None))


@pytest.mark.parametrize("path", PAGES + APIS)
def test_without_the_token_every_page_and_api_is_401(guarded, path):
    response = guarded.get(path)
    assert response.status_code == 401
    assert "m1" not in response.text.replace("/models/m1", "")  # nothing of the workspace
    if path.startswith("/api"):
        assert response.json()["error"] == "Unauthorized"
    else:
        assert '<form method="post"' in response.text


@pytest.mark.parametrize("path", PAGES + APIS)
def test_the_bearer_token_opens_every_page_and_api(guarded, path):
    response = guarded.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text[:300]


def test_wrong_tokens_and_schemes_are_refused(guarded):
    for header in (f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer ", f"bearer {TOKEN[:-1]}"):
        assert guarded.get("/api/models", headers={"Authorization": header}).status_code == 401
    guarded.cookies.set(COOKIE, "forged")
    assert guarded.get("/api/models").status_code == 401


def test_the_login_form_sets_a_session_cookie(guarded):
    wrong = guarded.post("/login", data={"token": "nope", "next": "/models"})
    assert wrong.status_code == 401
    assert "not right" in wrong.text
    assert COOKIE not in guarded.cookies
    ok = guarded.post("/login", data={"token": TOKEN, "next": "/models"}, follow_redirects=False)
    assert ok.status_code == 303
    assert ok.headers["location"] == "/models"
    cookie = ok.headers["set-cookie"]
    assert "httponly" in cookie.lower()
    assert "samesite=strict" in cookie.lower()
    assert TOKEN not in cookie
    assert guarded.get("/models").status_code == 200
    assert guarded.get("/api/models/m1").status_code == 200
    guarded.get("/logout")
    guarded.cookies.clear()
    assert guarded.get("/models").status_code == 401


def test_login_redirects_only_within_the_site():
    assert safe_next("//evil.example/x") == "/"
    assert safe_next("https://evil.example") == "/"
    assert safe_next("/\\evil") == "/"
    assert safe_next("/models?x=1") == "/models?x=1"
    with pytest.raises(ValueError, match="non-empty"):
        TokenGate("")


def test_the_environment_variable_sets_the_token(small_workspace, monkeypatch):
    monkeypatch.setenv("EO_RAY_UI_TOKEN", TOKEN)
    client = TestClient(create_app())
    assert client.get("/api/models").status_code == 401
    assert (
        client.get("/api/models", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    )


@pytest.mark.parametrize(
    "path",
    [
        "/models/%2e%2e",
        "/api/models/%2e%2e",
        "/models/..%2F..%2Fetc%2Fpasswd",
        "/api/models/%2e%2e%2f%2e%2e",
        "/featurestore/%2e%2e",
        "/experiments/..%5C..%5Cx",
        "/pipelines/%2e%2e",
        "/deployments/a%2Fb",
        "/catalogs/.hidden",
        "/maps/%2e%2e/preview.png",
        "/api/experiments/" + "x" * 200,
    ],
)
def test_bad_names_in_urls_are_4xx(open_client, path):
    response = open_client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert "Traceback" not in response.text
    assert "root:" not in response.text


def test_user_written_text_is_escaped(open_client):
    for path in ("/models", "/models/m1", "/featurestore", "/featurestore/g1"):
        html = open_client.get(path).text
        assert "<script>alert" not in html
        assert "<b>bold</b>" not in html
        assert "&lt;script&gt;alert(" in html
    assert open_client.get("/api/models/m1").json()["latest"]["description"].startswith("<script>")


@pytest.mark.parametrize(
    "path",
    [
        "/models/nope",
        "/experiments/nope",
        "/featurestore/nope",
        "/catalogs/nope",
        "/pipelines/nope",
        "/deployments/nope",
        "/featurestore/views/nope",
        "/no/such/page",
    ],
)
def test_missing_objects_are_404_pages(open_client, path):
    page = open_client.get(path)
    assert page.status_code == 404
    assert "404 · Not found" in page.text
    assert "Traceback" not in page.text
    api = open_client.get("/api" + path)
    assert api.status_code == 404
    assert api.json()["error"] == "Not found"


def test_a_failing_page_is_a_500_page_without_a_traceback(open_client, monkeypatch):
    from eo_ray.ui.pages import models

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire /secret/path")

    monkeypatch.setattr(models, "_version_row", broken)
    page = open_client.get("/models")
    assert page.status_code == 500
    assert "secret" not in page.text
    assert "Traceback" not in page.text


def test_pages_carry_security_headers(open_client):
    headers = open_client.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
