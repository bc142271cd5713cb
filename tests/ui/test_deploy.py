"""``eo.ui.deploy()``: the same app as a Ray Serve application behind a route prefix."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import eo_ray as eo

TOKEN = "serve-token"


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_deploy_serves_the_ui_on_ray_serve(serve_instance, ui_workspace):
    from ray import serve

    url = eo.ui.deploy(name="ui-test", route_prefix="/eo-ui", token=TOKEN)
    try:
        assert url == f"http://127.0.0.1:{serve_instance}/eo-ui"
        status, body = _get(f"{url}/api/models", TOKEN)
        assert status == 200
        assert ui_workspace["model"] in {m["name"] for m in json.loads(body)["models"]}
        status, page = _get(f"{url}/models/{ui_workspace['model']}", TOKEN)
        assert status == 200
        assert 'href="/eo-ui/experiments/' in page  # links keep the route prefix
        assert 'src="/eo-ui/static/plotly.min.js"' in page
        assert _get(f"{url}/api/models")[0] == 401
        assert _get(f"{url}/models/no-such-model", TOKEN)[0] == 404
    finally:
        serve.delete("ui-test")
