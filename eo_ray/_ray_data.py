"""Two opt-in Ray Data workarounds (``eo.init(ray_data_fixes=True)``, ``EO_RAY_RAY_DATA_FIXES=1``).

They replace Ray Data internals, so they are applied only on the Ray versions they were
tested against (:data:`TESTED_RAY_VERSIONS`) and only when those internals still have the
signatures and code this module expects; otherwise one :class:`RayDataFixesWarning` says
why and Ray Data is left as it ships.

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
which Ray Train's ``get_dataset_shard`` reads from, runs one in a coordinator actor. With
the fixes on, :func:`eo_ray.init` registers :func:`install_when_imported` as the job's worker
setup hook (and sets ``EO_RAY_RAY_DATA_FIXES=1`` in the workers), so a worker that imports
Ray Data gets both workarounds; one that does not is not made to (importing Ray Data costs
a worker about 0.7 s). ``EO_RAY_STOCK_RAY_DATA=1`` (deprecated: the fixes are off by
default now) still turns them off.

Drop this module when Ray fixes both (the canaries in ``tests/test_ray_data.py`` tell).
"""

from __future__ import annotations

import functools
import importlib.abc
import inspect
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

# The Ray versions whose Ray Data these workarounds were checked against (code and tests).
TESTED_RAY_VERSIONS = frozenset({"2.60.0"})
ENV = "EO_RAY_RAY_DATA_FIXES"  # "1": apply the workarounds
STOCK_ENV = "EO_RAY_STOCK_RAY_DATA"  # deprecated; "1": leave Ray Data as it ships
SETUP_HOOK = f"{__name__}.install_when_imported"
PAUSE_S = 0.01  # the executor loop's pause when nothing changed since its last wait
_MARK = "_eo_ray_uses_cluster_until_reserved"
_TRUE = ("1", "true", "yes")
_warned: set[str] = set()
log = logging.getLogger(__name__)


class RayDataFixesWarning(UserWarning):
    """The Ray Data fixes were asked for but not applied (this Ray is not one they know)."""


def wanted(explicit: bool | None = None) -> bool:
    """Whether the fixes are asked for: ``explicit`` when given, else ``EO_RAY_RAY_DATA_FIXES=1``
    (off by default; the deprecated ``EO_RAY_STOCK_RAY_DATA=1`` also means off)."""
    if explicit is not None:
        return explicit
    if os.environ.get(STOCK_ENV, "").lower() in _TRUE:
        return False
    return os.environ.get(ENV, "").lower() in _TRUE


def unsupported_reason() -> str | None:
    """Why the fixes cannot be applied to this process's Ray, or None when they can.

    Checks the Ray version, then that both patched internals still have the signatures and
    the code the workarounds rely on (a renamed argument or a changed wait is caught here,
    not by a silently wrong patch).
    """
    import ray

    if ray.__version__ not in TESTED_RAY_VERSIONS:
        tested = ", ".join(sorted(TESTED_RAY_VERSIONS))
        return f"they were tested with Ray {tested}, not {ray.__version__}"
    try:
        from ray.data._internal.execution import streaming_executor_state as state
        from ray.data._internal.execution.resource_manager import ResourceManager
    except ImportError as exc:
        return f"Ray Data's internals moved ({exc})"
    return _resource_manager_mismatch(ResourceManager) or _executor_wait_mismatch(state)


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def _resource_manager_mismatch(manager: type) -> str | None:
    """What differs from the ResourceManager that :func:`use_cluster_until_reserved` patches."""
    init = getattr(manager.__init__, "__wrapped__", manager.__init__)
    if "get_total_resources" not in inspect.signature(init).parameters:
        return "ResourceManager() no longer takes get_total_resources"
    if "self._get_total_resources = get_total_resources" not in _source(init):
        return "ResourceManager no longer keeps get_total_resources as _get_total_resources"
    limits = _source(getattr(manager, "get_global_limits", None))
    if "self._get_total_resources()" not in limits:
        return "ResourceManager.get_global_limits no longer asks _get_total_resources()"
    return None


def _executor_wait_mismatch(state: ModuleType) -> str | None:
    """What differs from the executor wait that :func:`wake_on_first_ready` replaces."""
    import ray

    current = getattr(state, "ray", None)
    if current is not ray and not isinstance(current, _WakeOnFirstReady):
        return "the executor's state module no longer uses the ray module"
    if not isinstance(getattr(state, "WAIT_FOR_TASK_COMPLETION_TIMEOUT_S", None), (int, float)):
        return "the executor no longer waits WAIT_FOR_TASK_COMPLETION_TIMEOUT_S"
    wait = _source(getattr(state, "process_completed_tasks", None))
    if "ray.wait(" not in wait or "num_returns=len(active_tasks)" not in wait:
        return "the executor no longer waits for every active task with ray.wait"
    if not {"num_returns", "timeout"} <= set(inspect.signature(ray.wait).parameters):
        return "ray.wait no longer takes num_returns and timeout"
    return None


def _warn_once(reason: str) -> None:
    if reason in _warned:
        return
    _warned.add(reason)
    warnings.warn(
        f"eo-ray's Ray Data fixes are not applied: {reason}. Ray Data runs as it ships.",
        RayDataFixesWarning,
        stacklevel=3,
    )


def install() -> bool:
    """Both workarounds in this process (imports Ray Data); whether both are in place.

    On a Ray they were not tested with, or whose internals changed, nothing is patched and
    one :class:`RayDataFixesWarning` says why.
    """
    reason = unsupported_reason()
    if reason is not None:
        _warn_once(reason)
        return False
    return use_cluster_until_reserved() and wake_on_first_ready()


def uninstall() -> None:
    """Leave Ray Data as it ships again in this process (undoes :func:`install`)."""
    try:
        from ray.data._internal.execution import streaming_executor_state as state
        from ray.data._internal.execution.resource_manager import ResourceManager
    except ImportError:
        return
    if getattr(ResourceManager.__init__, _MARK, False):
        ResourceManager.__init__ = ResourceManager.__init__.__wrapped__
    if isinstance(getattr(state, "ray", None), _WakeOnFirstReady):
        state.ray = state.ray._ray


def install_when_imported() -> None:
    """Worker setup hook: both workarounds, applied when this process imports Ray Data.

    Applies them only when :func:`wanted` (``EO_RAY_RAY_DATA_FIXES=1``, which
    :func:`eo_ray.init` passes to its workers with the hook). Never raises (a setup hook that
    fails would fail the worker); at once if Ray Data is already imported.
    """
    if not wanted():
        return
    if "ray.data" in sys.modules:
        _install_in_worker()
    elif not any(isinstance(f, _AfterRayDataImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterRayDataImport())


def _install_in_worker() -> None:
    try:
        install()
    except Exception as exc:  # noqa: BLE001 - a workaround must never break a worker
        _warn_once(f"patching this worker failed ({type(exc).__name__}: {exc})")


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
            _install_in_worker()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def use_cluster_until_reserved() -> bool:
    """Give Ray Data's executor the cluster's resources until its reservation arrives.

    Idempotent; call it through :func:`install`, which checks this Ray first. Returns
    whether the workaround is in place.
    """
    from ray.data._internal.execution.resource_manager import ResourceManager

    original = ResourceManager.__init__
    if getattr(original, _MARK, False):
        return True

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        reserved = self._get_total_resources
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

    Idempotent; call it through :func:`install`, which checks this Ray first. Returns
    whether the workaround is in place.
    """
    from ray.data._internal.execution import streaming_executor_state as state

    if not isinstance(state.ray, _WakeOnFirstReady):
        state.ray = _WakeOnFirstReady(state.ray)
    return True
