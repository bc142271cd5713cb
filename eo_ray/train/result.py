"""The result of a training run and its record under the workspace (``train/<run_id>/run.json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from eo_ray.storage import Workspace, as_workspace, validate_name
from eo_ray.train.errors import RunNotFoundError

RUN_FILE = "run.json"


@dataclass
class TrainResult:
    """Metrics history, final metrics, checkpoints and the exported model of one run."""

    run_id: str
    strategy: str
    framework: str
    num_workers: int
    config: dict[str, Any]
    history: list[dict[str, Any]]
    metrics: dict[str, Any]
    checkpoint: str | None
    best_checkpoint: str | None
    export_uri: str | None
    export_files: list[str]
    wall_time_s: float
    root: str
    experiment_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model_uri(self) -> str | None:
        """The exported model file a registry can take (TorchScript or ``.keras``)."""
        for name in ("model.torchscript.pt", "model.keras"):
            if name in self.export_files and self.export_uri:
                return f"{self.export_uri}/{name}"
        return None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def save_run(result: TrainResult) -> str:
    """Write the run record next to the run's checkpoints; return its URI."""
    ws = Workspace(result.root)
    uri = ws.uri("train", result.run_id, RUN_FILE)
    ws.write_json(uri, result.to_dict())
    return uri


def load_run(run_id: str, ws: Workspace | str | None = None) -> TrainResult:
    """The record of run ``run_id``."""
    ws = as_workspace(ws)
    uri = ws.uri("train", validate_name(run_id, "run"), RUN_FILE)
    if not ws.exists(uri):
        raise RunNotFoundError(
            f"No training run {run_id!r} in {ws.root}; list runs with `eo-ray train list`."
        )
    return TrainResult(**ws.read_json(uri))


def list_runs(ws: Workspace | str | None = None) -> list[TrainResult]:
    """Every recorded run of the workspace, newest first (as every stage's ``list``): by
    when its record was written, then by id."""
    ws = as_workspace(ws)
    runs = []
    for name in ws.list_dir(ws.uri("train")):
        uri = ws.uri("train", name, RUN_FILE)
        info = ws.filesystem.get_file_info(ws.fs_path(uri))
        if info.is_file:
            written = info.mtime_ns or 0
            runs.append((written, name, TrainResult(**ws.read_json(uri))))
    return [run for _, _, run in sorted(runs, key=lambda r: (r[0], r[1]), reverse=True)]
