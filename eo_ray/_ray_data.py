"""Two Ray Data workarounds eo-ray applies in every driver it starts (see :func:`eo_ray.init`).

**Empty limits at the start.** Ray Data (2.60) learns how much of the cluster a Dataset
may use from an autoscaling-coordinator actor whose answer arrives asynchronously. Until
it arrives the executor's resource limits are zero, so each operator runs one task at a
time (its minimum reservation), and the executor keeps that empty answer for
``ResourceManager.GLOBAL_LIMITS_UPDATE_INTERVAL_S`` (1 s) before asking again. Every Dataset
therefore spent its first second on one core, whatever the cluster: on a 2-core machine
``read_chips`` of 600 MB ran its read tasks one after another (benchmarks/RESULTS.md,
"Ingest throughput", the evening of 2026-11-24). :func:`use_cluster_until_reserved` makes
an empty answer fall back to the cluster's resources, which is what Ray Data used before
the coordinator existed; once the coordinator has answered, its reservation applies.

**A finished task's CPU left idle.** The executor's loop waits for *all* running tasks
(``ray.wait(num_returns=len(active_tasks), timeout=0.1)``), so a task that finishes while
another runs is noticed only when the 0.1 s timeout expires, and its CPU stays idle until
then (ray-project/ray#42377, #45934, both open). With read tasks of 0.2 s that idled a
fifth of each core. :func:`wake_on_first_ready` makes that wait return as soon as any task
has output, with every task ready by then, the way Daft's Ray runner waits. When nothing
changed since the last wait (ready outputs held back by backpressure), it pauses 10 ms
first, so that a slow consumer does not make the loop spin.

**In workers too.** Ray Data also runs executors outside the driver: ``streaming_split``,
which Ray Train's ``get_dataset_shard`` reads from, runs one in a coordinator actor.
:func:`eo_ray.init` registers :func:`install_when_imported` as the job's worker setup hook,
so a worker that imports Ray Data gets both workarounds; one that does not is not made to
(importing Ray Data costs a worker about 0.7 s). ``EO_RAY_STOCK_RAY_DATA=1`` leaves Ray Data
as it ships, in the driver and in the workers.

Drop this module when Ray fixes both (``tests/test_runtime.py`` tells).
"""

from __future__ import annotations

import functools
import importlib.abc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

_MARK = "_eo_ray_uses_cluster_until_reserved"
STOCK_ENV = "EO_RAY_STOCK_RAY_DATA"  # "1": leave Ray Data as it ships
SETUP_HOOK = f"{__name__}.install_when_imported"
PAUSE_S = 0.01  # the executor loop's pause when nothing changed since its last wait
log = logging.getLogger(__name__)


def wanted() -> bool:
    """Whether eo-ray should patch Ray Data here (not when ``EO_RAY_STOCK_RAY_DATA=1``)."""
    return os.environ.get(STOCK_ENV, "") not in ("1", "true", "yes")


def install() -> bool:
    """Both workarounds in this process (imports Ray Data); whether both are in place."""
    if not wanted():
        return False
    limits = use_cluster_until_reserved()
    waits = wake_on_first_ready()
    return limits and waits


def install_when_imported() -> None:
    """Worker setup hook: both workarounds, applied when this process imports Ray Data.

    Never raises (a setup hook that fails would fail the worker); at once if Ray Data is
    already imported.
    """
    if not wanted():
        return
    if "ray.data" in sys.modules:
        _install_quietly()
    elif not any(isinstance(f, _AfterRayDataImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterRayDataImport())


def _install_quietly() -> None:
    try:
        install()
    except Exception as exc:  # noqa: BLE001 - a workaround must never break a worker
        log.debug("Could not patch Ray Data in this worker: %s", exc)


class _AfterRayDataImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when ``ray.data`` is first imported, it has the real finders
    find it and runs :func:`install` once the package's module body has run."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != "ray.data":
            return None
        sys.meta_path.remove(self)  # once only, and not for the finders asked below
        for finder in sys.meta_path:
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        body = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            body(module)
            _install_quietly()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def use_cluster_until_reserved() -> bool:
    """Give Ray Data's executor the cluster's resources until its reservation arrives.

    Idempotent. Returns whether the workaround is in place: False when this Ray has no
    ``ResourceManager`` of the known shape (then nothing is changed).
    """
    try:
        from ray.data._internal.execution.resource_manager import ResourceManager
    except ImportError:
        return False
    original = ResourceManager.__init__
    if getattr(original, _MARK, False):
        return True

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        reserved = getattr(self, "_get_total_resources", None)
        if callable(reserved):
            self._get_total_resources = functools.partial(_reserved_or_cluster, reserved)

    setattr(init, _MARK, True)
    ResourceManager.__init__ = init
    return True


def _reserved_or_cluster(reserved: Callable[[], Any]) -> Any:
    """The coordinator's reservation, or the cluster's resources while it is empty."""
    total = reserved()
    if getattr(total, "cpu", 0) or getattr(total, "gpu", 0):
        return total
    import ray
    from ray.data._internal.execution.interfaces import ExecutionResources

    cluster = ray.cluster_resources()
    if not cluster.get("CPU") and not cluster.get("GPU"):
        return total
    log.debug("No Ray Data reservation yet; using the cluster's resources: %s", cluster)
    return ExecutionResources.from_resource_dict(cluster)


class _WakeOnFirstReady:
    """Stands in for the ``ray`` module inside Ray Data's executor-state module.

    Everything is Ray's own except ``wait``: a wait for several refs returns once any of
    them is ready (or at the timeout), with all of them that are ready by then. When the
    same refs are ready as at this thread's last wait, their outputs may be held back (an
    operator under backpressure, its consumer being slower) and would be returned again
    at once, in a loop that spins a core: then it first pauses, up to :data:`PAUSE_S`,
    for one of the others. (Ray's own wait spins when every task is held back.)
    """

    def __init__(self, ray_module: Any) -> None:
        self._ray = ray_module
        self._last = threading.local()  # one executor loop per thread

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ray, name)

    def wait(self, refs: list[Any], *, num_returns: int = 1, **kwargs: Any) -> Any:
        if num_returns <= 1:
            return self._ray.wait(refs, num_returns=num_returns, **kwargs)
        first, _ = self._ray.wait(refs, num_returns=1, **kwargs)
        if not first:  # the timeout: nothing is ready
            self._last.seen = None
            return first, list(refs)
        now = {**kwargs, "timeout": 0}
        ready, rest = self._ray.wait(refs, num_returns=num_returns, **now)
        if getattr(self._last, "seen", None) == (list(refs), ready):
            self._pause(rest, kwargs)
            ready, rest = self._ray.wait(refs, num_returns=num_returns, **now)
        self._last.seen = (list(refs), list(ready))
        return ready, rest

    def _pause(self, waiting: list[Any], kwargs: dict[str, Any]) -> None:
        """Up to :data:`PAUSE_S` for any of ``waiting`` to become ready."""
        timeout = kwargs.get("timeout")
        pause = PAUSE_S if timeout is None else min(timeout, PAUSE_S)
        if waiting:
            self._ray.wait(waiting, num_returns=1, **{**kwargs, "timeout": pause})
        else:
            time.sleep(pause)


def wake_on_first_ready() -> bool:
    """Make Ray Data's executor act on a finished task at once, not at its next 0.1 s tick.

    Idempotent. Returns whether the workaround is in place: False when this Ray's executor
    does not wait the known way (then nothing is changed).
    """
    try:
        from ray.data._internal.execution import streaming_executor_state as state
    except ImportError:
        return False
    current = getattr(state, "ray", None)
    if isinstance(current, _WakeOnFirstReady):
        return True
    if current is None or not hasattr(state, "WAIT_FOR_TASK_COMPLETION_TIMEOUT_S"):
        return False
    state.ray = _WakeOnFirstReady(current)
    return True
