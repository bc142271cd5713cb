"""``eo-ray ui``: the command serves the app on loopback, with the token it is given."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from typer.testing import CliRunner

from eo_ray.cli import app
from tests.conftest import free_port


def test_help_names_the_options():
    result = CliRunner().invoke(app, ["ui", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--token"):
        assert option in result.stdout


def _status(url: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_eo_ray_ui_serves_the_workspace_until_stopped(small_workspace):
    port = free_port()
    env = {**os.environ, "EO_RAY_HOME": small_workspace["root"], "EO_RAY_UI_TOKEN": "tok"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "eo_ray.cli", "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _status(f"{url}/login")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(proc.stdout.read().decode()) from None
                time.sleep(0.2)
        assert status == 200
        assert _status(f"{url}/api/models")[0] == 401
        status, body = _status(f"{url}/api/models", "tok")
        assert status == 200
        assert [m["name"] for m in json.loads(body)["models"]] == ["m1"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    # Rich wraps the line at the terminal's width: a long workspace path moves the URL
    assert f"at {url}/" in " ".join(out.decode().split())
