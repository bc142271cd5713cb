"""One parameter-server shard: a slice of the parameters and its optimizer state.

Synchronous mode waits for a gradient from every worker, averages them and applies one
update per step; asynchronous mode applies each gradient as it arrives unless it was
computed on parameters more than ``max_staleness`` updates old, in which case it is
dropped and the worker pulls fresh parameters. The class is a plain asyncio object (tested
without Ray); :func:`shard_actor` turns it into a Ray actor.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eo_ray._params import one_of
from eo_ray.train.errors import TrainConfigError, TrainUsageError

SYNC, ASYNC = "sync", "async"


@dataclass(frozen=True)
class OptimizerSpec:
    """A torch optimizer by class name and hyperparameters (no pickled objects)."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_optimizer(cls, optimizer: Any) -> OptimizerSpec:
        """Describe a ``torch.optim`` optimizer (its class and its ``defaults``)."""
        import torch

        name = type(optimizer).__name__
        if getattr(torch.optim, name, None) is not type(optimizer):
            raise TrainUsageError(
                f"Parameter-server training supports torch.optim optimizers; got {name}."
            )
        plain = (int, float, bool, str, tuple, type(None))
        kwargs = {
            k: v
            for k, v in optimizer.defaults.items()
            if isinstance(v, plain) and k not in ("params", "differentiable", "foreach", "fused")
        }
        return cls(name, kwargs)

    def build(self, params: list[Any]) -> Any:
        import torch

        return getattr(torch.optim, self.name)(params, **self.kwargs)


@dataclass(frozen=True)
class PushResult:
    """What the shard did with a gradient."""

    applied: bool
    version: int


class ParameterShard:
    """Holds named parameters and their optimizer; applies gradients in sync or async mode."""

    def __init__(self, num_workers: int, mode: str = SYNC, max_staleness: int = 4) -> None:
        one_of(mode, (SYNC, ASYNC), name="mode", owner="ParameterServer", error=TrainConfigError)
        self.num_workers = num_workers
        self.mode = mode
        self.max_staleness = max_staleness
        self.version = 0
        self.applied = 0
        self.dropped = 0
        self.restored_from: int | None = None
        self._params: dict[str, Any] = {}
        self._optimizer: Any = None
        self._pending: dict[str, np.ndarray] = {}
        self._pending_count = 0
        self._changed = asyncio.Condition()

    @property
    def initialized(self) -> bool:
        return self._optimizer is not None

    async def initialize(self, params: dict[str, np.ndarray], spec: OptimizerSpec) -> bool:
        """Set the parameters and optimizer; the first caller wins. Returns True if it did."""
        if self.initialized:
            return False
        import torch

        self._params = {
            name: torch.nn.Parameter(torch.tensor(np.asarray(arr))) for name, arr in params.items()
        }
        self._optimizer = spec.build(list(self._params.values()))
        return True

    async def restore(
        self, step: int, params: dict[str, np.ndarray], state: dict[str, Any]
    ) -> None:
        """Load a checkpoint's parameters, optimizer state and version (once per checkpoint)."""
        import torch

        if self.restored_from == step:
            return
        with torch.no_grad():
            for name, arr in params.items():
                self._params[name].copy_(torch.as_tensor(np.asarray(arr)))
        if state.get("optimizer"):
            self._optimizer.load_state_dict(state["optimizer"])
        async with self._changed:
            self.version = int(state.get("version", 0))
            self._pending, self._pending_count = {}, 0
            self.restored_from = step
            self._changed.notify_all()

    async def pull(self, min_version: int = 0) -> tuple[int, dict[str, np.ndarray]]:
        """The parameters once ``version >= min_version`` (sync workers wait for the step)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.version >= min_version)
            return self.version, {n: p.detach().numpy().copy() for n, p in self._params.items()}

    async def push(self, grads: dict[str, np.ndarray], version: int) -> PushResult:
        """A worker's gradient, computed on parameters of ``version``."""
        async with self._changed:
            if self.mode == ASYNC:
                if self.version - version > self.max_staleness:
                    self.dropped += 1
                    return PushResult(False, self.version)
                self._apply(grads)
                return PushResult(True, self.version)
            for name, grad in grads.items():
                self._pending[name] = self._pending.get(name, 0) + np.asarray(grad)
            self._pending_count += 1
            if self._pending_count >= self.num_workers:
                mean = {n: g / self._pending_count for n, g in self._pending.items()}
                self._pending, self._pending_count = {}, 0
                self._apply(mean)
            return PushResult(True, self.version)

    def _apply(self, grads: dict[str, np.ndarray]) -> None:
        import torch

        for name, param in self._params.items():
            grad = grads.get(name)
            param.grad = None if grad is None else torch.tensor(np.asarray(grad), dtype=param.dtype)
        self._optimizer.step()
        self.version += 1
        self.applied += 1
        self._changed.notify_all()

    async def state(self) -> dict[str, Any]:
        """Parameters, optimizer state and version, for a checkpoint."""
        async with self._changed:
            return {
                "params": {n: p.detach().numpy().copy() for n, p in self._params.items()},
                "optimizer": self._optimizer.state_dict() if self._optimizer else {},
                "version": self.version,
            }

    async def stats(self) -> dict[str, int]:
        return {"version": self.version, "applied": self.applied, "dropped": self.dropped}


def shard_actor(num_workers: int, mode: str, max_staleness: int) -> Any:
    """Start a :class:`ParameterShard` as an asyncio Ray actor (no CPU reserved: it is light)."""
    import ray

    actor_cls = ray.remote(num_cpus=0)(ParameterShard)
    return actor_cls.remote(num_workers, mode, max_staleness)
