from __future__ import annotations

import os
import subprocess
import sys

import pytest

import eo_ray as eo
from eo_ray.errors import RuntimeConnectionError
from eo_ray.runtime import _check_reachable


def test_init_starts_local_ray_and_is_idempotent(ray_session, session_home):
    assert ray_session.resources["CPU"] == 2
    assert ray_session.workspace.root == str(session_home)
    again = eo.init()
    assert again.address == ray_session.address
    assert eo.is_initialized()


def test_workers_see_the_workspace_root(ray_session, session_home):
    import ray

    @ray.remote
    def home() -> str:
        from eo_ray.storage import workspace

        return workspace().root

    assert ray.get(home.remote()) == str(session_home)


@pytest.mark.parametrize("address", ["127.0.0.1:1", "ray://127.0.0.1:1"])
def test_unreachable_address_is_one_clear_line(address):
    with pytest.raises(RuntimeConnectionError) as err:
        _check_reachable(address, timeout=2)
    assert "Cannot reach the Ray cluster" in str(err.value)
    assert "unset RAY_ADDRESS" in str(err.value)


def test_cli_reports_unreachable_ray_address_without_traceback(tmp_path):
    env = {**os.environ, "RAY_ADDRESS": "127.0.0.1:1", "EO_RAY_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "eo_ray.cli", "info"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error: Cannot reach the Ray cluster")
