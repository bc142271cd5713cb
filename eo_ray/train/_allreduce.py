"""Ring all-reduce on Ray Train: torch DDP (gloo on CPU, NCCL on GPU) and TensorFlow
MultiWorkerMirroredStrategy. Each worker reads its own shard with ``get_dataset_shard``;
checkpoints go to the workspace through Ray Train's storage, so they work on S3 too."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from eo_ray.storage import Workspace
from eo_ray.train._data import Shard
from eo_ray.train.context import TrainContext
from eo_ray.train.errors import TrainLoopError
from eo_ray.train.strategy import Strategy, StrategyOutcome, TrainJob, call_loop


class RayTrainContext(TrainContext):
    """The reporter inside a Ray Train worker."""

    _tf_strategy: Any = None

    @property
    def device(self) -> Any:
        if self.spec.framework == "torch":
            import ray.train.torch

            return ray.train.torch.get_device()
        return super().device

    def start_tensorflow(self) -> None:
        """Create the MultiWorkerMirroredStrategy first, before any other TF op (TF_CONFIG set)."""
        import tensorflow as tf

        threads = int(os.environ.get("OMP_NUM_THREADS") or 0)  # Ray sets it to the worker's CPUs
        if threads > 0:  # TF would otherwise use every core of the node in every worker
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        self._tf_strategy = tf.distribute.MultiWorkerMirroredStrategy()

    @property
    def distribution(self) -> Any:
        if self._tf_strategy is not None:
            return self._tf_strategy
        return super().distribution

    def prepare(self, model: Any, optimizer: Any = None) -> Any:
        if self.spec.framework == "torch":
            import ray.train.torch

            model = ray.train.torch.prepare_model(model)
        return super().prepare(model, optimizer)

    def _publish(self, record: dict[str, Any], checkpoint: Path | None) -> None:
        import ray.train

        ckpt = ray.train.Checkpoint.from_directory(str(checkpoint)) if checkpoint else None
        ray.train.report(record, checkpoint=ckpt)

    @contextlib.contextmanager
    def _latest_checkpoint(self):
        import ray.train

        ckpt = ray.train.get_checkpoint()
        if ckpt is None:
            yield None
            return
        with ckpt.as_directory() as folder:
            yield Path(folder)


def _worker_fn(job: TrainJob):
    """Build the per-worker function Ray Train runs (a closure over the job)."""
    loop, config, spec = job.loop, job.config, job.spec
    has_data = job.dataset is not None

    def train_loop_per_worker() -> dict[str, Any]:
        import ray.train

        rank = ray.train.get_context().get_world_rank()
        shard = Shard(ray.train.get_dataset_shard("train")) if has_data else None
        ctx = RayTrainContext(spec, rank, shard)
        if spec.framework == "tensorflow":
            ctx.start_tensorflow()
        call_loop(loop, config, shard, ctx)
        return {"history": ctx.history, "export": ctx.finish()}

    return train_loop_per_worker


class AllReduceStrategy(Strategy):
    """Data-parallel training with ring all-reduce of gradients through Ray Train."""

    name = "allreduce"

    def run(self, job: TrainJob) -> StrategyOutcome:
        import ray.train

        spec = job.spec
        ws = Workspace(spec.root)
        run_config = ray.train.RunConfig(
            name=spec.run_id,
            storage_path=ws.fs_path(ws.uri("train")),
            storage_filesystem=ws.filesystem,
            failure_config=ray.train.FailureConfig(max_failures=job.max_failures),
            checkpoint_config=ray.train.CheckpointConfig(
                num_to_keep=job.options.get("keep_checkpoints", 3),
                checkpoint_score_attribute="value" if job.options.get("score") else None,
                checkpoint_score_order=job.mode,
            ),
        )
        scaling = ray.train.ScalingConfig(
            num_workers=spec.num_workers,
            use_gpu=spec.use_gpu,
            resources_per_worker={"CPU": job.cpus_per_worker},
        )
        kwargs: dict[str, Any] = {
            "scaling_config": scaling,
            "run_config": run_config,
            "datasets": {"train": job.dataset} if job.dataset is not None else None,
        }
        if spec.framework == "torch":
            from ray.train.torch import TorchTrainer

            trainer = TorchTrainer(_worker_fn(job), **kwargs)
        else:
            from ray.train.tensorflow import TensorflowTrainer

            trainer = TensorflowTrainer(_worker_fn(job), **kwargs)
        try:
            result = trainer.fit()
        except ray.train.TrainingFailedError as exc:
            raise TrainLoopError(_failure_message(exc)) from exc
        returned = result.return_value or {}
        history = _history(result, returned)
        best = None
        if result.best_checkpoints and _has_value(history):
            best = result.get_best_checkpoint("value", job.mode)
        return StrategyOutcome(
            history=history,
            checkpoint=_uri(ws, result.checkpoint),
            best_checkpoint=_uri(ws, best) or _uri(ws, result.checkpoint),
            export_files=list(returned.get("export", [])),
        )


def _uri(ws: Workspace, checkpoint: Any) -> str | None:
    if checkpoint is None:
        return None
    return checkpoint.path if ws.is_local else f"s3://{checkpoint.path}"


def _has_value(history: list[dict[str, Any]]) -> bool:
    return any("value" in rec for rec in history)


def _history(result: Any, returned: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record rank 0 reported, across restarts (Ray keeps them in metrics_dataframe)."""
    frame = None
    with contextlib.suppress(Exception):
        frame = result.metrics_dataframe
    if frame is not None and len(frame):
        records = frame.to_dict(orient="records")
        return [
            {k: v for k, v in rec.items() if not _is_nan(v) and not str(k).startswith("_")}
            for rec in records
        ]
    return list(returned.get("history", []))


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def _failure_message(exc: Exception) -> str:
    failures = getattr(exc, "worker_failures", None) or {}
    if failures:
        rank, err = sorted(failures.items())[0]
        first = str(err).strip().splitlines()
        detail = first[-1] if first else type(err).__name__
        return f"The training loop failed on worker {rank}: {detail}"
    text = str(exc).strip().splitlines()
    return f"Training failed: {text[-1] if text else type(exc).__name__}"
