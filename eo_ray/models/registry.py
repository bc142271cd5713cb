"""The model registry: named models with auto-incrementing versions under the workspace.

Layout: ``models/<name>/<version>/`` holds ``model.json`` (metrics, provenance, signature),
the model file in its framework's safe format and ``input_example.npy``. A version exists
once its ``model.json`` is written (last), so readers never see half a version.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eo_ray._params import metric_mode
from eo_ray.models._formats import get_format
from eo_ray.models._signature import InputKind, Signature
from eo_ray.models.errors import MetricNotFoundError, ModelFormatError, ModelNotFoundError
from eo_ray.storage import Workspace, validate_name, workspace

STORE = "models"
META = "model.json"
EXAMPLE = "input_example.npy"


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model, with its metrics and where it came from."""

    name: str
    version: int
    framework: str
    artifact: str
    uri: str
    metrics: dict[str, float]
    created_at: str
    description: str = ""
    training_dataset: Any = None
    experiment: str | None = None
    train_run: str | None = None
    signature: dict[str, Any] | None = None
    format_meta: dict[str, Any] = field(default_factory=dict)
    root: str = field(default="", repr=False)

    def load(self) -> Any:
        """The model, ready to predict (a TorchScript module, a Keras model, an estimator)."""
        ws = Workspace(self.root)
        fmt = get_format(self.framework)
        with tempfile.TemporaryDirectory(prefix="eo-ray-model-") as tmp:
            local = Path(tmp) / self.artifact
            local.write_bytes(ws.read_bytes(f"{self.uri}/{self.artifact}"))
            return fmt.load(local, self.format_meta)

    def input_example(self) -> np.ndarray | None:
        """The input example registered with the model, if any."""
        ws = Workspace(self.root)
        uri = f"{self.uri}/{EXAMPLE}"
        if not ws.exists(uri):
            return None
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / EXAMPLE
            path.write_bytes(ws.read_bytes(uri))
            return np.load(path, allow_pickle=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("root")
        return data


def _versions_uri(ws: Workspace, name: str) -> str:
    return ws.uri(STORE, validate_name(name, "model"))


def _version_numbers(ws: Workspace, name: str) -> list[int]:
    base = _versions_uri(ws, name)
    return sorted(
        int(v) for v in ws.list_dir(base) if v.isdigit() and ws.exists(f"{base}/{v}/{META}")
    )


def _numeric_metrics(metrics: dict[str, Any] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ModelFormatError(
                f"Metric {key!r} must be a number; got {type(value).__name__}. Register "
                "numeric metrics only."
            )
        out[str(key)] = float(value)
    return out


def _from_train_result(model: Any, framework: str | None, kwargs: dict[str, Any]) -> Any:
    """Unpack a ``TrainResult``: its exported model, framework, metrics, run and experiment."""
    if not hasattr(model, "model_uri") or not hasattr(model, "run_id"):
        return model, framework
    if model.model_uri is None:
        raise ModelFormatError(
            f"Training run {model.run_id} exported no loadable model; call reporter.prepare(...) "
            "in the training loop so the final model is exported."
        )
    if kwargs.get("train_run") is None:
        kwargs["train_run"] = model.run_id
    if kwargs.get("experiment") is None:
        kwargs["experiment"] = model.experiment_id
    if kwargs.get("metrics") is None:
        kwargs["metrics"] = {
            k: v for k, v in model.metrics.items() if isinstance(v, int | float) and k != "step"
        }
    ws = Workspace(model.root)
    local = Path(tempfile.mkdtemp(prefix="eo-ray-export-")) / model.model_uri.rsplit("/", 1)[1]
    local.write_bytes(ws.read_bytes(model.model_uri))
    return local, framework or model.framework


def register(
    name: str,
    model_or_path: Any,
    framework: str | None = None,
    *,
    metrics: dict[str, float] | None = None,
    input_example: Any = None,
    training_dataset: Any = None,
    experiment: str | None = None,
    description: str = "",
    train_run: str | None = None,
    input: InputKind | None = None,
    classes: Sequence[Any] | None = None,
    bands: Sequence[str] | None = None,
    preprocess: Any = None,
    colors: Sequence[str] | None = None,
    dates: int | None = None,
) -> ModelVersion:
    """Store a new version of model ``name`` and return it.

    ``model_or_path`` is a model object (torch module, Keras model, scikit-learn estimator), a
    file in the framework's safe format, or a ``TrainResult`` (its exported model, metrics,
    run and experiment are used). ``training_dataset`` and ``experiment`` are provenance.

    ``input`` (``"pixel"``, ``"series"`` or ``"chip"``) with ``classes`` (output names in
    the model's output order), ``bands`` (source bands it takes, in order; default: every
    band of the source), ``preprocess`` (see :class:`Preprocess`), ``colors`` (``#rrggbb``
    per class) and ``dates`` (series models) form the signature that lets
    :func:`eo_ray.mapping.predict` run the model over whole scenes. Models registered
    without ``input`` serve as before.
    """
    validate_name(name, "model")
    if input is None and any(v is not None for v in (classes, bands, preprocess, colors, dates)):
        raise ModelFormatError(
            "classes, bands, preprocess, colors and dates describe a model's input; pass "
            "input='pixel', 'series' or 'chip' with them."
        )
    io = None
    if input is not None:
        io = Signature.build(input, classes, bands, preprocess, colors, dates)
    extra: dict[str, Any] = {"metrics": metrics, "experiment": experiment, "train_run": train_run}
    model_or_path, framework = _from_train_result(model_or_path, framework, extra)
    if framework is None:
        raise ModelFormatError("framework is required: one of torch, tensorflow, sklearn.")
    fmt = get_format(framework)
    clean_metrics = _numeric_metrics(extra["metrics"])
    example = None if input_example is None else np.asarray(input_example)
    if example is not None and example.dtype == object:
        raise ModelFormatError("input_example must be a numeric array, not Python objects.")
    ws = workspace()
    with tempfile.TemporaryDirectory(prefix="eo-ray-register-") as tmp:
        folder = Path(tmp)
        format_meta = fmt.save(model_or_path, folder, example)
        if example is not None:
            np.save(folder / EXAMPLE, example, allow_pickle=False)
        version = _claim_version(ws, name)
        uri = f"{_versions_uri(ws, name)}/{version}"
        for path in sorted(folder.iterdir()):
            ws.write_bytes(f"{uri}/{path.name}", path.read_bytes())
    if isinstance(model_or_path, Path) and model_or_path.parent.name.startswith("eo-ray-export-"):
        shutil.rmtree(model_or_path.parent, ignore_errors=True)
    mv = ModelVersion(
        name=name,
        version=version,
        framework="tensorflow" if framework == "keras" else framework,
        artifact=fmt.filename,
        uri=uri,
        metrics=clean_metrics,
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        description=description,
        training_dataset=training_dataset,
        experiment=extra["experiment"],
        train_run=extra["train_run"],
        signature=_signature(example, io),
        format_meta=format_meta,
        root=ws.root,
    )
    ws.write_json(f"{uri}/{META}", mv.to_dict())
    return mv


def _signature(example: np.ndarray | None, io: Signature | None) -> dict[str, Any] | None:
    """The stored signature: the input example's shape and dtype, and the mapping signature."""
    out: dict[str, Any] = {}
    if example is not None:
        out = {"shape": list(example.shape[1:]), "dtype": str(example.dtype)}
    if io is not None:
        out.update(io.to_dict())
    return out or None


def _claim_version(ws: Workspace, name: str) -> int:
    """The next version number; on a local root the folder is created exclusively."""
    base = _versions_uri(ws, name)
    existing = [int(v) for v in ws.list_dir(base) if v.isdigit()]
    version = max(existing, default=0) + 1
    if ws.is_local:
        Path(base).mkdir(parents=True, exist_ok=True)
        while True:
            try:
                Path(base, str(version)).mkdir()
                return version
            except FileExistsError:
                version += 1
    return version


def get(name: str, version: int | None = None) -> ModelVersion:
    """Version ``version`` of model ``name`` (the latest when ``None``)."""
    ws = workspace()
    numbers = _version_numbers(ws, name)
    if not numbers:
        raise ModelNotFoundError(
            f"No model named {name!r} is registered in {ws.root}; see `eo-ray models list`."
        )
    if version is None:
        version = numbers[-1]
    if version not in numbers:
        raise ModelNotFoundError(
            f"Model {name!r} has no version {version!r}; its versions are {numbers}."
        )
    data = ws.read_json(f"{_versions_uri(ws, name)}/{version}/{META}")
    return ModelVersion(**data, root=ws.root)


def list_versions(name: str | None = None) -> list[ModelVersion]:
    """Every version of model ``name``, oldest first; without a name, the latest of each model."""
    ws = workspace()
    if name is not None:
        return [get(name, v) for v in _version_numbers(ws, name)]
    latest = []
    for model_name in ws.list_dir(ws.uri(STORE)):
        if _version_numbers(ws, model_name):
            latest.append(get(model_name))
    return latest


def best(name: str, metric: str = "accuracy", mode: str = "max") -> ModelVersion:
    """The version of ``name`` with the best ``metric`` (``mode`` "max" or "min"; ties: newest)."""
    metric_mode(mode, owner="models.best", error=ModelFormatError)
    versions = list_versions(name)
    if not versions:
        get(name)  # raises ModelNotFoundError with the standard message
    scored = [mv for mv in versions if metric in mv.metrics]
    if not scored:
        raise MetricNotFoundError(
            f"No version of model {name!r} has the metric {metric!r}; register it with "
            f"metrics={{{metric!r}: ...}}."
        )
    sign = 1.0 if mode == "max" else -1.0
    return max(scored, key=lambda mv: (sign * mv.metrics[metric], mv.version))
