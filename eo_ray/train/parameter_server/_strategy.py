"""The coordinator of parameter-server training: start shards and workers, split the data,
restart from the latest checkpoint when a worker dies (up to ``max_failures`` times)."""

from __future__ import annotations

import logging
from typing import Any

from eo_ray._params import one_of, positive_int
from eo_ray.storage import Workspace
from eo_ray.train.errors import TrainConfigError, TrainLoopError
from eo_ray.train.parameter_server._shard import ASYNC, SYNC, shard_actor
from eo_ray.train.parameter_server._worker import CHECKPOINTS, worker_actor
from eo_ray.train.strategy import Strategy, StrategyOutcome, TrainJob

log = logging.getLogger(__name__)


class ParameterServerStrategy(Strategy):
    """Parameter-server actors hold the parameters; worker actors compute gradients."""

    name = "parameter_server"
    frameworks = ("torch",)
    options = ("ps_mode", "max_staleness", "num_servers")

    def validate(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super().validate(options)
        mode = options.setdefault("ps_mode", SYNC)
        one_of(mode, (SYNC, ASYNC), name="ps_mode", owner="fit", error=TrainConfigError)
        options.setdefault("num_servers", 1)
        for label, low in (("max_staleness", 0), ("num_servers", 1)):
            val = options.get(label, low)
            positive_int(val, name=label, owner="fit", error=TrainConfigError, minimum=low)
        return options

    def run(self, job: TrainJob) -> StrategyOutcome:
        mode = job.options["ps_mode"]
        # Async default: a gradient may be two rounds of all workers old.
        staleness = job.options.get("max_staleness", 2 * job.spec.num_workers)
        servers = job.options["num_servers"]
        parts = self._split(job)
        failures = 0
        while True:
            try:
                return self._attempt(job, parts, mode, staleness, servers)
            except TrainLoopError as exc:
                if not getattr(exc, "retryable", False) or failures >= job.max_failures:
                    raise
                failures += 1
                log.warning(
                    "Worker failure (%s); restart %d of %d", exc, failures, job.max_failures
                )

    @staticmethod
    def _split(job: TrainJob) -> list[Any]:
        n = job.spec.num_workers
        if job.dataset is None:
            return [None] * n
        return job.dataset.split(n, equal=True)

    def _attempt(
        self, job: TrainJob, parts: list[Any], mode: str, staleness: int, servers: int
    ) -> StrategyOutcome:
        import ray

        spec = job.spec
        ws = Workspace(spec.root)
        resume = _latest(ws, spec.run_id)
        shards = [shard_actor(spec.num_workers, mode, staleness) for _ in range(servers)]
        workers = [worker_actor(r, spec, job.cpus_per_worker) for r in range(spec.num_workers)]
        try:
            refs = [
                w.run.remote(job.loop, job.config, part, shards, mode, resume)
                for w, part in zip(workers, parts, strict=True)
            ]
            outputs = _gather(refs)
            stats = ray.get([s.stats.remote() for s in shards])
        finally:
            for actor in (*workers, *shards):
                ray.kill(actor, no_restart=True)
        return _outcome(ws, spec.run_id, outputs, stats, job.mode)


def _gather(refs: list[Any]) -> list[dict[str, Any]]:
    """Wait for all workers; on the first failure raise TrainLoopError (retryable if a worker
    process died rather than the loop raising)."""
    import ray

    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        try:
            ray.get(done[0])
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if getattr(exc, "cause", None) is not None else exc
            raise TrainLoopError(
                f"The training loop failed: {type(cause).__name__}: {cause}"
            ) from cause
        except ray.exceptions.RayActorError as exc:
            err = TrainLoopError(f"A parameter-server worker died: {type(exc).__name__}.")
            err.retryable = True  # type: ignore[attr-defined]
            raise err from exc
    return ray.get(refs)


def _latest(ws: Workspace, run_id: str) -> str | None:
    names = [n for n in ws.list_dir(ws.uri("train", run_id, CHECKPOINTS)) if n.startswith("step-")]
    return ws.uri("train", run_id, CHECKPOINTS, max(names)) if names else None


def _outcome(
    ws: Workspace, run_id: str, outputs: list[dict[str, Any]], stats: list[dict], mode: str
) -> StrategyOutcome:
    chief = outputs[0]
    history = []
    for i, record in enumerate(chief["history"]):
        merged = dict(record)
        rates = [o["history"][i].get("samples_per_s") for o in outputs if len(o["history"]) > i]
        if all(r is not None for r in rates):
            merged["samples_per_s"] = float(sum(rates))
        history.append(merged)
    ckpts = []
    for name in ws.list_dir(ws.uri("train", run_id, CHECKPOINTS)):
        uri = ws.uri("train", run_id, CHECKPOINTS, name)
        metrics_uri = f"{uri}/metrics.json"
        if ws.exists(metrics_uri):
            ckpts.append((uri, ws.read_json(metrics_uri)))
    scored = [(u, m["value"]) for u, m in ckpts if "value" in m]
    best = None
    if scored:
        best = (max if mode == "max" else min)(scored, key=lambda t: t[1])[0]
    return StrategyOutcome(
        history=history,
        checkpoint=ckpts[-1][0] if ckpts else None,
        best_checkpoint=best or (ckpts[-1][0] if ckpts else None),
        export_files=list(chief["export"]),
        extra={
            "comm_s": [o["comm_s"] for o in outputs],
            "servers": stats,
        },
    )
