"""Parameter-server logic without Ray: placement, sync averaging, async staleness."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import torch

from eo_ray.train.parameter_server import OptimizerSpec, ParameterShard, partition


def test_partition_balances_bytes_and_is_deterministic():
    sizes = {"a": 100, "b": 60, "c": 50, "d": 10}
    shards = partition(sizes, 2)
    assert shards == partition(dict(reversed(sizes.items())), 2)
    loads = [sum(sizes[n] for n in s) for s in shards]
    assert loads == [110, 110]  # a+d, b+c
    assert sorted(n for s in shards for n in s) == sorted(sizes)


def test_partition_rejects_zero_shards():
    with pytest.raises(ValueError, match="num_shards"):
        partition({"a": 1}, 0)


def test_optimizer_spec_describes_torch_optimizers_only():
    param = torch.nn.Parameter(torch.zeros(2))
    spec = OptimizerSpec.from_optimizer(torch.optim.SGD([param], lr=0.5, momentum=0.9))
    assert spec.name == "SGD"
    assert spec.kwargs["lr"] == 0.5
    assert spec.kwargs["momentum"] == 0.9

    class Custom(torch.optim.SGD):
        pass

    with pytest.raises(TypeError, match=r"torch\.optim"):
        OptimizerSpec.from_optimizer(Custom([param], lr=0.1))


def _run(coro):
    return asyncio.run(coro)


def test_sync_shard_averages_one_gradient_per_worker_then_steps():
    async def scenario():
        shard = ParameterShard(num_workers=2, mode="sync")
        await shard.initialize({"w": np.array([1.0, 1.0])}, OptimizerSpec("SGD", {"lr": 1.0}))
        waiter = asyncio.create_task(shard.pull(min_version=1))
        await shard.push({"w": np.array([1.0, 0.0])}, version=0)
        await asyncio.sleep(0.01)
        assert not waiter.done()  # the step waits for the second worker
        await shard.push({"w": np.array([3.0, 2.0])}, version=0)
        version, params = await waiter
        return version, params["w"], await shard.stats()

    version, w, stats = _run(scenario())
    assert version == 1
    np.testing.assert_allclose(w, [1.0 - 2.0, 1.0 - 1.0])  # mean gradient (2, 1), lr 1
    assert stats == {"version": 1, "applied": 1, "dropped": 0}


def test_async_shard_applies_each_gradient_and_drops_stale_ones():
    async def scenario():
        shard = ParameterShard(num_workers=2, mode="async", max_staleness=1)
        await shard.initialize({"w": np.zeros(1)}, OptimizerSpec("SGD", {"lr": 1.0}))
        results = [await shard.push({"w": np.ones(1)}, version=v) for v in (0, 1, 2, 0)]
        _, params = await shard.pull()
        return results, params["w"], await shard.stats()

    results, w, stats = _run(scenario())
    assert [r.applied for r in results] == [True, True, True, False]  # 3 - 0 > 1: too stale
    np.testing.assert_allclose(w, [-3.0])
    assert stats["dropped"] == 1


def test_first_initialize_wins_and_restore_runs_once_per_checkpoint():
    async def scenario():
        shard = ParameterShard(num_workers=1, mode="sync")
        spec = OptimizerSpec("SGD", {"lr": 0.1})
        first = await shard.initialize({"w": np.ones(2)}, spec)
        second = await shard.initialize({"w": np.zeros(2)}, spec)
        await shard.restore(3, {"w": np.full(2, 5.0)}, {"version": 7})
        await shard.restore(3, {"w": np.full(2, 9.0)}, {"version": 1})
        version, params = await shard.pull()
        return first, second, version, params["w"]

    first, second, version, w = _run(scenario())
    assert (first, second) == (True, False)
    assert version == 7
    np.testing.assert_allclose(w, [5.0, 5.0])


def test_shard_rejects_unknown_mode():
    with pytest.raises(ValueError, match="sync"):
        ParameterShard(2, mode="bounded")
