"""Placing parameters on parameter-server shards: greedy by size, so shards hold similar bytes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from eo_ray._params import invalid
from eo_ray.train.errors import TrainConfigError


def partition(sizes: Mapping[str, int], num_shards: int) -> list[list[str]]:
    """Split parameter names over ``num_shards`` shards, largest first onto the lightest shard.

    Deterministic (ties broken by name), so every worker and the coordinator compute the same
    placement from the same model.
    """
    if num_shards < 1:
        raise invalid(TrainConfigError, "num_shards", "partition", "an int >= 1", num_shards)
    shards: list[list[str]] = [[] for _ in range(num_shards)]
    loads = [0] * num_shards
    for name in sorted(sizes, key=lambda n: (-int(sizes[n]), n)):
        target = int(np.argmin(loads))
        shards[target].append(name)
        loads[target] += int(sizes[name])
    return shards
