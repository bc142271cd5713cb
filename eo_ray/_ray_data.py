"""A Ray Data workaround eo-ray applies in every driver it starts (see :func:`eo_ray.init`).

Ray Data (2.60) learns how much of the cluster a Dataset may use from an
autoscaling-coordinator actor whose answer arrives asynchronously. Until it arrives the
executor's resource limits are zero, so each operator runs one task at a time (its minimum
reservation), and the executor keeps that empty answer for
``ResourceManager.GLOBAL_LIMITS_UPDATE_INTERVAL_S`` (1 s) before asking again. Every Dataset
therefore spent its first second on one core, whatever the cluster: on a 2-core machine
``read_chips`` of 600 MB ran its read tasks one after another (benchmarks/RESULTS.md,
"Ingest throughput", the evening of 2026-11-24).

:func:`use_cluster_until_reserved` makes an empty answer fall back to the cluster's
resources, which is what Ray Data used before the coordinator existed; once the
coordinator has answered, its reservation applies as before. Drop this module when Ray no
longer starts Datasets on empty limits
(``tests/test_runtime.py::test_ray_data_uses_every_cpu_from_the_start`` tells).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

_MARK = "_eo_ray_uses_cluster_until_reserved"
log = logging.getLogger(__name__)


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
