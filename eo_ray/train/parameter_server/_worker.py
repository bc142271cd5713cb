"""Worker actors of parameter-server training and the reporter they hand the loop."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

from eo_ray.storage import Workspace
from eo_ray.train._data import Shard
from eo_ray.train.context import RunSpec, TrainContext, download_dir, upload_dir
from eo_ray.train.errors import TrainUsageError
from eo_ray.train.parameter_server._optimizer import ParameterClient, ParameterServerOptimizer
from eo_ray.train.strategy import call_loop

CHECKPOINTS = "checkpoints"


def checkpoint_name(step: int) -> str:
    return f"step-{step:06d}"


class ParameterServerContext(TrainContext):
    """The reporter on a parameter-server worker: checkpoints go to ``train/<run>/checkpoints``."""

    def __init__(
        self,
        spec: RunSpec,
        rank: int,
        shard: Shard | None,
        client: ParameterClient,
        resume_uri: str | None,
    ) -> None:
        super().__init__(spec, rank, shard)
        self.client = client
        self.resume_uri = resume_uri
        self._comm_mark = 0.0

    def prepare(self, model: Any, optimizer: Any = None) -> Any:
        if optimizer is None:
            raise TrainUsageError(
                "Parameter-server training needs the optimizer: call "
                "reporter.prepare(model, optimizer)."
            )
        return super().prepare(model, ParameterServerOptimizer(model, optimizer, self.client))

    def _global_rows(self, local_rows: int) -> float:
        return float(local_rows)  # the coordinator sums the workers' own rates

    def report(self, value: float | None = None, step: int | None = None, **metrics: Any) -> None:
        comm = self.client.comm_s - self._comm_mark
        self._comm_mark = self.client.comm_s
        if self.is_chief and self.optimizer is not None:
            self.optimizer.sync_model()  # checkpoint the shards' newest parameters
        super().report(value, step, comm_s=comm, dropped_gradients=self.client.dropped, **metrics)

    def _publish(self, record: dict[str, Any], checkpoint: Path | None) -> None:
        if checkpoint is None:
            return
        (checkpoint / "metrics.json").write_text(json.dumps(record))
        ws = Workspace(self.spec.root)
        uri = ws.uri("train", self.spec.run_id, CHECKPOINTS, checkpoint_name(record["step"]))
        upload_dir(ws, checkpoint, uri)

    @contextlib.contextmanager
    def _latest_checkpoint(self):
        if self.resume_uri is None:
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="eo-ray-resume-") as tmp:
            yield download_dir(Workspace(self.spec.root), self.resume_uri, Path(tmp))


class ParameterServerWorker:
    """Runs the user's loop on one data shard, exchanging parameters with the shards."""

    def __init__(self, rank: int, spec: RunSpec) -> None:
        self.rank = rank
        self.spec = spec

    def run(
        self,
        loop: Any,
        config: dict[str, Any],
        data: Any,
        shards: list[Any],
        mode: str,
        resume_uri: str | None,
    ) -> dict[str, Any]:
        shard = Shard(data.iterator()) if data is not None else None
        client = ParameterClient(shards, mode)
        ctx = ParameterServerContext(self.spec, self.rank, shard, client, resume_uri)
        call_loop(loop, config, shard, ctx)
        return {"history": ctx.history, "export": ctx.finish(), "comm_s": client.comm_s}


def worker_actor(rank: int, spec: RunSpec, cpus: float) -> Any:
    import ray

    return ray.remote(num_cpus=cpus, max_restarts=0)(ParameterServerWorker).remote(rank, spec)
