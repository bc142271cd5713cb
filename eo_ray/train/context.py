"""The reporter a training loop receives: metrics, checkpoints, strategy-specific preparation.

A training loop is ``train_loop(config, data, reporter)`` (or ``train_fn(config, reporter)``
as in hyperparameter search). It runs unchanged on 1 or N workers and under either strategy:

.. code-block:: python

    def train_loop(config, data, reporter):
        model = Net()
        opt = torch.optim.SGD(model.parameters(), lr=config["lr"])
        model, opt = reporter.prepare(model, opt)   # DDP, or a parameter-server optimizer
        for epoch in range(reporter.restore(), config["epochs"]):  # resumes after a failure
            for batch in data.iter_torch_batches(64, device=reporter.device):
                ...
            reporter.report(accuracy, step=epoch, loss=loss)  # checkpoints every N steps
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eo_ray.storage import Workspace
from eo_ray.train._data import Shard
from eo_ray.train._frameworks import Framework, get_framework


@dataclass(frozen=True)
class RunSpec:
    """What every worker needs to know about the run (small and picklable)."""

    run_id: str
    root: str
    strategy: str
    framework: str
    num_workers: int
    checkpoint_every: int = 1
    use_gpu: bool = False

    @property
    def run_uri(self) -> str:
        return Workspace(self.root).uri("train", self.run_id)


class TrainContext:
    """Base of the reporter: strategies override ``prepare``, ``_publish`` and checkpoint lookup."""

    def __init__(self, spec: RunSpec, rank: int, shard: Shard | None) -> None:
        self.spec = spec
        self.rank = rank
        self.world_size = spec.num_workers
        self.shard = shard
        self.history: list[dict[str, Any]] = []
        self.framework: Framework = get_framework(spec.framework)
        self.model: Any = None
        self.optimizer: Any = None
        self.restored_step: int | None = None
        self._example: Any = None
        self._last_time = time.perf_counter()
        self._last_rows = 0
        self._tb: Any = None

    # -- what the loop calls -------------------------------------------------------------
    @property
    def is_chief(self) -> bool:
        """True on the worker of rank 0 (the one that writes logs, checkpoints, exports)."""
        return self.rank == 0

    @property
    def device(self) -> Any:
        """The torch device of this worker (``cpu`` unless the run uses GPUs)."""
        import torch

        return torch.device("cpu")

    @property
    def distribution(self) -> Any:
        """The ``tf.distribute`` strategy of this run (TensorFlow only; default strategy alone)."""
        import tensorflow as tf

        return tf.distribute.get_strategy()

    def scope(self) -> contextlib.AbstractContextManager:
        """Build Keras models and optimizers inside ``with reporter.scope():``."""
        if self.spec.framework == "tensorflow":
            return self.distribution.scope()
        return contextlib.nullcontext()

    def prepare(self, model: Any, optimizer: Any = None) -> Any:
        """Make ``model``/``optimizer`` ready for the strategy; returns them (a pair if both)."""
        self.model, self.optimizer = model, optimizer
        return model if optimizer is None else (model, optimizer)

    def set_example(self, example: Any) -> None:
        """An input batch, used to trace the exported TorchScript when scripting fails."""
        self._example = example

    def restore(self) -> int:
        """Load the latest checkpoint into the prepared model; return the step to start from."""
        if self.model is None:
            return 0
        with self._latest_checkpoint() as folder:
            if folder is None:
                return 0
            self.restored_step = self.framework.load_state(self.model, self.optimizer, folder)
        return self.restored_step + 1

    def report(self, value: float | None = None, step: int | None = None, **metrics: Any) -> None:
        """Record metrics of one step (epoch); checkpoints every ``checkpoint_every`` steps."""
        now = time.perf_counter()
        step = len(self.history) if step is None else int(step)
        record: dict[str, Any] = {"step": step}
        if value is not None:
            record["value"] = float(value)
        record.update({k: _plain(v) for k, v in metrics.items()})
        rows = self.shard.rows_seen if self.shard is not None else 0
        elapsed = max(now - self._last_time, 1e-9)
        if rows > self._last_rows:
            record["samples_per_s"] = self._global_rows(rows - self._last_rows) / elapsed
        record["epoch_time_s"] = elapsed
        if self.restored_step is not None:
            record["resumed_from_step"] = self.restored_step
        self.history.append(record)
        self._log_tensorboard(record)
        every = max(self.spec.checkpoint_every, 1)
        if self.model is not None and (step + 1) % every == 0:
            with tempfile.TemporaryDirectory(prefix="eo-ray-ckpt-") as tmp:
                folder = Path(tmp)
                if self.is_chief:
                    self.framework.save_state(self.model, self.optimizer, folder, step)
                self._publish(record, folder if self.is_chief else None)
        else:
            self._publish(record, None)
        self._last_time, self._last_rows = time.perf_counter(), rows

    # -- what strategies implement ----------------------------------------------------------
    def _global_rows(self, local_rows: int) -> float:
        """Rows processed by all workers, from this worker's count (equal shards, lock-step)."""
        return float(local_rows * self.world_size)

    def _publish(self, record: dict[str, Any], checkpoint: Path | None) -> None:
        """Hand a metrics record (and a checkpoint folder on the chief) to the strategy."""

    @contextlib.contextmanager
    def _latest_checkpoint(self):
        """Yield a local folder holding the latest checkpoint, or None."""
        yield None

    # -- end of the loop ----------------------------------------------------------------------
    def finish(self) -> list[str]:
        """On the chief: export the final model under the run; close the logs."""
        if self._tb is not None:
            self._tb.close()
            self._sync_tensorboard()
        if not self.is_chief or self.model is None:
            return []
        ws = Workspace(self.spec.root)
        with tempfile.TemporaryDirectory(prefix="eo-ray-export-") as tmp:
            files = self.framework.export(self.model, Path(tmp), self._example)
            upload_dir(ws, Path(tmp), ws.uri("train", self.spec.run_id, "export"))
        return files

    def _tb_dir(self) -> Path:
        ws = Workspace(self.spec.root)
        if ws.is_local:
            return Path(ws.uri("train", self.spec.run_id, "tensorboard"))
        return Path(tempfile.gettempdir()) / f"eo-ray-tb-{self.spec.run_id}"

    def _log_tensorboard(self, record: dict[str, Any]) -> None:
        if not self.is_chief:
            return
        if self._tb is None:
            from tensorboardX import SummaryWriter

            self._tb = SummaryWriter(str(self._tb_dir()))
        for key, val in record.items():
            if key != "step" and isinstance(val, int | float):
                self._tb.add_scalar(key, val, record["step"])
        self._tb.flush()

    def _sync_tensorboard(self) -> None:
        ws = Workspace(self.spec.root)
        if not ws.is_local and self.is_chief:
            upload_dir(ws, self._tb_dir(), ws.uri("train", self.spec.run_id, "tensorboard"))
            shutil.rmtree(self._tb_dir(), ignore_errors=True)


def _plain(value: Any) -> Any:
    """Numbers from numpy/torch/tf scalars as Python numbers (JSON- and Ray-friendly)."""
    if hasattr(value, "item") and callable(value.item):
        with contextlib.suppress(Exception):
            return value.item()
    if hasattr(value, "numpy") and callable(value.numpy):
        with contextlib.suppress(Exception):
            return value.numpy().item()
    return value


def upload_dir(ws: Workspace, local: Path, uri: str) -> None:
    """Copy a local folder to ``uri`` in the workspace (local path or S3)."""
    import pyarrow.fs as pafs

    ws.makedirs(uri)
    pafs.copy_files(
        str(local),
        ws.fs_path(uri),
        source_filesystem=pafs.LocalFileSystem(),
        destination_filesystem=ws.filesystem,
    )


def download_dir(ws: Workspace, uri: str, local: Path) -> Path:
    """Copy the folder at ``uri`` in the workspace into ``local``; return ``local``."""
    import pyarrow.fs as pafs

    if ws.is_local:
        return Path(uri)
    local.mkdir(parents=True, exist_ok=True)
    pafs.copy_files(
        ws.fs_path(uri),
        str(local),
        source_filesystem=ws.filesystem,
        destination_filesystem=pafs.LocalFileSystem(),
    )
    return local
