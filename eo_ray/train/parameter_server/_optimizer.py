"""The worker side: an optimizer whose ``step`` pushes gradients to the shards and pulls the
new parameters back, so a torch training loop is the same as with DDP or a single process."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from eo_ray.train.errors import TrainUsageError
from eo_ray.train.parameter_server._partition import partition
from eo_ray.train.parameter_server._shard import SYNC, OptimizerSpec


class ParameterClient:
    """Talks to the shards: where each parameter lives, push, pull, and time spent doing it."""

    def __init__(self, shards: list[Any], mode: str) -> None:
        self.shards = shards
        self.mode = mode
        self.placement: list[list[str]] = []
        self.comm_s = 0.0
        self.dropped = 0

    def place(self, named: dict[str, np.ndarray]) -> None:
        self.placement = partition({n: a.size for n, a in named.items()}, len(self.shards))

    def _split(self, named: dict[str, Any]) -> list[dict[str, Any]]:
        return [{n: named[n] for n in names if n in named} for names in self.placement]

    def initialize(self, named: dict[str, np.ndarray], spec: OptimizerSpec) -> None:
        import ray

        self.place(named)
        parts = self._split(named)
        ray.get([s.initialize.remote(p, spec) for s, p in zip(self.shards, parts, strict=True)])

    def pull(self, min_version: int = 0) -> tuple[int, dict[str, np.ndarray]]:
        import ray

        start = time.perf_counter()
        answers = ray.get([s.pull.remote(min_version) for s in self.shards])
        self.comm_s += time.perf_counter() - start
        params: dict[str, np.ndarray] = {}
        for _, part in answers:
            params.update(part)
        return min(v for v, _ in answers), params

    def push(self, grads: dict[str, np.ndarray], version: int) -> int:
        """Send the gradients; returns the version to pull next."""
        import ray

        start = time.perf_counter()
        parts = self._split(grads)
        results = ray.get(
            [s.push.remote(p, version) for s, p in zip(self.shards, parts, strict=True)]
        )
        self.comm_s += time.perf_counter() - start
        self.dropped += sum(not r.applied for r in results)
        return version + 1 if self.mode == SYNC else 0

    def states(self) -> list[dict[str, Any]]:
        import ray

        return ray.get([s.state.remote() for s in self.shards])

    def restore(self, step: int, named: dict[str, np.ndarray], states: list[dict]) -> None:
        import ray

        parts = self._split(named)
        ray.get(
            [
                s.restore.remote(step, p, st)
                for s, p, st in zip(self.shards, parts, states, strict=True)
            ]
        )


class ParameterServerOptimizer:
    """Drop-in for the user's torch optimizer under parameter-server training.

    The user's optimizer only describes the update rule (class and hyperparameters); its
    state lives on the shards, next to the parameters it updates.
    """

    def __init__(self, model: Any, optimizer: Any, client: ParameterClient) -> None:
        self.model = model
        self.inner = optimizer
        self.client = client
        self.version = 0
        self._named = dict(model.named_parameters())
        client.initialize(self._numpy_params(), OptimizerSpec.from_optimizer(optimizer))
        self.sync_model()

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.inner.param_groups

    def _numpy_params(self) -> dict[str, np.ndarray]:
        return {n: p.detach().cpu().numpy() for n, p in self._named.items()}

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.inner.zero_grad(set_to_none=set_to_none)

    def sync_model(self, min_version: int = 0) -> None:
        """Copy the shards' parameters into the local model."""
        import torch

        self.version, params = self.client.pull(min_version)
        with torch.no_grad():
            for name, value in params.items():
                self._named[name].copy_(torch.from_numpy(np.array(value)))

    def step(self, closure: Any = None) -> None:
        """Push this worker's gradients, then pull the updated parameters."""
        if closure is not None:
            raise TrainUsageError("Parameter-server training does not support optimizer closures.")
        grads = {
            n: p.grad.detach().cpu().numpy() for n, p in self._named.items() if p.grad is not None
        }
        self.sync_model(self.client.push(grads, self.version))

    def state_dict(self) -> dict[str, Any]:
        """The shards' optimizer states and versions (torch-saveable, no code)."""
        return {
            "shards": [
                {"optimizer": s["optimizer"], "version": s["version"]} for s in self.client.states()
            ]
        }

    def load_state_dict(self, state: dict[str, Any], step: int = 0) -> None:
        """Restore the shards from a checkpoint (the local model was loaded just before)."""
        self.client.restore(step, self._numpy_params(), state["shards"])
        self.sync_model()
