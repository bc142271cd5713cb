"""eo-ray's opt-in Ray Data fixes (eo_ray/_ray_data.py): off by default, guarded, and canaries.

The canaries fail (never skip) when the Ray internals the fixes replace change on a tested
Ray version, or when Ray fixes the problems upstream: then the module must be revisited.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import ray

from eo_ray import _ray_data
from eo_ray._ray_data import RayDataFixesWarning
from eo_ray.runtime import runtime_env

TESTED = ray.__version__ in _ray_data.TESTED_RAY_VERSIONS


def _patched() -> tuple[bool, bool]:
    """Whether each of the two fixes is in place in this process."""
    from ray.data._internal.execution import streaming_executor_state as state
    from ray.data._internal.execution.resource_manager import ResourceManager

    return (
        bool(getattr(ResourceManager.__init__, _ray_data._MARK, False)),
        isinstance(state.ray, _ray_data._WakeOnFirstReady),
    )


@pytest.fixture
def fixes(ray_session):
    """The fixes in this process for one test, then Ray Data as it ships again."""
    assert _ray_data.install(), _ray_data.unsupported_reason()
    yield
    _ray_data.uninstall()
    assert _patched() == (False, False)


@pytest.fixture
def fresh_warning(monkeypatch):
    monkeypatch.setattr(_ray_data, "_warned", set())


def _first_limits(monkeypatch) -> float:
    """The CPUs Ray Data's executor may use at its first scheduling step of a Dataset."""
    import ray.data
    from ray.data._internal.execution.resource_manager import ResourceManager

    seen = []
    original = ResourceManager.get_global_limits

    def spy(self):
        limits = original(self)
        seen.append(limits.cpu)
        return limits

    monkeypatch.setattr(ResourceManager, "get_global_limits", spy)
    ray.data.range(4, override_num_blocks=2).materialize()
    monkeypatch.setattr(ResourceManager, "get_global_limits", original)
    return seen[0]


def test_the_fixes_are_off_by_default(ray_session):
    assert _patched() == (False, False)
    assert "worker_process_setup_hook" not in runtime_env(False)


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        (None, {}, False),
        (None, {"EO_RAY_RAY_DATA_FIXES": "1"}, True),
        (None, {"EO_RAY_RAY_DATA_FIXES": "1", "EO_RAY_STOCK_RAY_DATA": "1"}, False),
        (False, {"EO_RAY_RAY_DATA_FIXES": "1"}, False),
        (True, {"EO_RAY_STOCK_RAY_DATA": "1"}, True),
    ],
)
def test_the_argument_wins_over_the_environment(monkeypatch, explicit, env, expected):
    monkeypatch.delenv("EO_RAY_RAY_DATA_FIXES", raising=False)
    monkeypatch.delenv("EO_RAY_STOCK_RAY_DATA", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert _ray_data.wanted(explicit) is expected


def test_with_the_fixes_workers_get_the_hook_and_the_switch():
    env = runtime_env(True)
    assert env["worker_process_setup_hook"] == _ray_data.SETUP_HOOK
    assert env["env_vars"]["EO_RAY_RAY_DATA_FIXES"] == "1"


def test_canary_the_patched_internals_are_as_expected(ray_session, fresh_warning):
    reason = _ray_data.unsupported_reason()
    if TESTED:
        assert reason is None, f"Ray {ray.__version__} changed what eo_ray/_ray_data.py patches"
        return
    with pytest.warns(RayDataFixesWarning, match=ray.__version__):
        assert not _ray_data.install()
    assert _patched() == (False, False)


def test_a_changed_internal_is_one_warning_and_no_patch(ray_session, fresh_warning, monkeypatch):
    from ray.data._internal.execution import streaming_executor_state as state

    monkeypatch.delattr(state, "WAIT_FOR_TASK_COMPLETION_TIMEOUT_S")
    with pytest.warns(RayDataFixesWarning, match="WAIT_FOR_TASK_COMPLETION_TIMEOUT_S") as seen:
        installed = [_ray_data.install(), _ray_data.install()]
    assert installed == [False, False]
    assert len(seen) == 1  # one warning for both calls
    assert _patched() == (False, False)


def test_an_untested_ray_is_one_warning_and_no_patch(ray_session, fresh_warning, monkeypatch):
    monkeypatch.setattr(_ray_data, "TESTED_RAY_VERSIONS", frozenset({"0.0.1"}))
    with pytest.warns(RayDataFixesWarning, match="tested with Ray 0.0.1") as seen:
        installed = [_ray_data.install(), _ray_data.install()]
    assert installed == [False, False]
    assert len(seen) == 1  # one warning for both calls
    assert _patched() == (False, False)


def test_canary_ray_data_still_starts_with_empty_limits(ray_session, monkeypatch):
    # Left alone, Ray Data 2.60 starts every Dataset with empty limits (its autoscaling
    # coordinator has not answered yet) and keeps them for a second: one task at a time.
    if not TESTED:
        assert _patched() == (False, False)
        return
    assert _first_limits(monkeypatch) == 0, "Ray Data fixed it upstream: drop the workaround"


def test_with_the_fixes_ray_data_uses_every_cpu_from_the_start(fixes, monkeypatch):
    from ray.data._internal.execution.interfaces import ExecutionResources
    from ray.data._internal.execution.resource_manager import ResourceManager

    patched = ResourceManager.__init__
    assert _ray_data.install()  # a second call is a no-op
    assert ResourceManager.__init__ is patched
    assert _first_limits(monkeypatch) == 2
    reserved = ExecutionResources(cpu=1)
    assert _ray_data._reserved_or_cluster(lambda: reserved) is reserved  # an answer is kept


def test_with_the_fixes_ray_data_acts_on_the_first_finished_task(fixes):
    # Ray Data 2.60 waits for *every* running task (or 0.1 s) before it notices that one
    # has finished, leaving that task's CPU idle; the fix makes the wait return at once.
    from ray.data._internal.execution import streaming_executor_state as state

    assert state.ray._ray is ray  # installing twice did not wrap it twice

    @ray.remote(num_cpus=0)
    class Gate:
        def __init__(self) -> None:
            import asyncio

            self.opened = asyncio.Event()

        async def wait(self) -> None:
            await self.opened.wait()

        async def open(self) -> None:
            self.opened.set()

    @ray.remote(num_cpus=0)
    def held(gate) -> int:
        ray.get(gate.wait.remote())
        return 2

    gate = Gate.remote()
    quick, slow = ray.put(1), held.remote(gate)
    started = time.monotonic()
    ready, rest = state.ray.wait([quick, slow], num_returns=2, timeout=30, fetch_local=False)
    assert (ready, rest) == ([quick], [slow])
    assert time.monotonic() - started < 15  # returned at the first ready ref, not at timeout
    ray.get(gate.open.remote())
    assert ray.get(slow) == 2
    ready, rest = state.ray.wait([quick, slow], num_returns=2, timeout=30)  # all ready ones
    assert (ready, rest) == ([quick, slow], [])
    assert state.ray.wait([slow], num_returns=1, timeout=0) == ([slow], [])


class _FakeRay:
    """``ray.wait`` over named refs, some of them ready; records every wait."""

    def __init__(self, ready: set[str]) -> None:
        self.ready, self.calls = ready, []

    def wait(self, refs, *, num_returns=1, timeout=None, **_):
        self.calls.append((list(refs), num_returns, timeout))
        done = [r for r in refs if r in self.ready]
        return done[: max(num_returns, len(done))], [r for r in refs if r not in self.ready]


def test_the_early_wake_pauses_when_nothing_changed(monkeypatch):
    # Outputs held back by backpressure stay ready: returning them at once, wait after
    # wait, would spin the executor's loop. The same answer twice running pauses first.
    fake = _FakeRay({"a"})
    wake = _ray_data._WakeOnFirstReady(fake)
    slept = []
    monkeypatch.setattr(_ray_data.time, "sleep", slept.append)
    assert wake.wait(["a", "b"], num_returns=2, timeout=0.1) == (["a"], ["b"])
    assert len(fake.calls) == 2  # the first ready one, then all that are ready: no pause
    assert wake.wait(["a", "b"], num_returns=2, timeout=0.1) == (["a"], ["b"])
    assert (["b"], 1, _ray_data.PAUSE_S) in fake.calls[2:]  # paused for the other one
    fake.ready.add("b")
    calls = len(fake.calls)
    assert wake.wait(["a", "b"], num_returns=2, timeout=0.1) == (["a", "b"], [])
    assert len(fake.calls) == calls + 2  # something changed: no pause
    assert not slept
    assert wake.wait(["a", "b"], num_returns=2, timeout=0.1) == (["a", "b"], [])
    assert slept == [_ray_data.PAUSE_S]  # all held back: a short sleep, not a spin


_HOOK_PROBE = """
import sys
from eo_ray import _ray_data
_ray_data.install_when_imported()
_ray_data.install_when_imported()  # a second call adds no second finder
import ray
assert 'ray.data' not in sys.modules
import ray.data
from ray.data._internal.execution import streaming_executor_state as state
from ray.data._internal.execution.resource_manager import ResourceManager
print(isinstance(state.ray, _ray_data._WakeOnFirstReady),
      getattr(ResourceManager.__init__, _ray_data._MARK, False),
      any(isinstance(f, _ray_data._AfterRayDataImport) for f in sys.meta_path))
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"EO_RAY_RAY_DATA_FIXES": "1"}, f"{TESTED} {TESTED} False"),
        ({}, "False False False"),
        ({"EO_RAY_RAY_DATA_FIXES": "1", "EO_RAY_STOCK_RAY_DATA": "1"}, "False False False"),
    ],
    ids=["on", "off", "stock"],
)
def test_the_worker_hook_patches_when_ray_data_is_imported(env, expected):
    # The worker setup hook must not import Ray Data itself (0.7 s per worker), only patch
    # it once something in the worker does; a fresh interpreter stands in for a worker.
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("EO_RAY_RAY_DATA_FIXES", _ray_data.STOCK_ENV)
    }
    run = subprocess.run(
        [sys.executable, "-c", _HOOK_PROBE],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == expected
