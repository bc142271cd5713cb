"""``eo.ablation.run``: plan the trials, run them on the HPO worker actors, rank, record."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from eo_ray.ablation._data import DataSource, check_features, check_frame
from eo_ray.ablation._progress import StudyProgress
from eo_ray.ablation._result import AblationResult
from eo_ray.ablation._trial import DATA_KEY, AblationTrainFn, Plan
from eo_ray.ablation.ablators import Ablator, Variant, make_ablator
from eo_ray.ablation.errors import AllTrialsFailedError, StudyError
from eo_ray.ablation.study import BASE, AblationStudy, _is_feature_view
from eo_ray.ablation.surgery import ablate
from eo_ray.hpo import NoStopping, TrialList, TrialStatus, WorkerPool, run_trials
from eo_ray.hpo import start_state_actor as start_trial_state
from eo_ray.storage import validate_name
from eo_ray.tracking import Run, RunStatus
from eo_ray.tracking import start as start_record

ENTRY_POINT = "eo_ray.ablation:run"


class _Journal:
    """Writes each finished trial to the experiment record (called in the state actor)."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def __call__(self, view: Any) -> None:
        self.run.log_trial(view.id, **view.to_dict())


def _positive(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StudyError(f"{what} must be an integer >= 1; got {value!r}.")
    return value


def _check(train_fn: Any, study: Any, repeats: Any, metric: Any, mode: Any, workers: Any) -> None:
    if not callable(train_fn):
        raise StudyError(
            f"train_fn must be a function train_fn(hparams, reporter); got {train_fn!r}."
        )
    if not isinstance(study, AblationStudy):
        raise StudyError(
            f"study must be an eo_ray.ablation.AblationStudy; got {type(study).__name__}."
        )
    _positive(repeats, "repeats")
    if workers is not None:
        _positive(workers, "workers")
    if not isinstance(metric, str) or not metric:
        raise StudyError(f"metric must be a non-empty string; got {metric!r}.")
    if mode not in ("max", "min"):
        raise StudyError(f"mode must be 'max' or 'min'; got {mode!r}.")
    study.validate()


def _resolve_data(study: AblationStudy, features: set[str]) -> tuple[Any, str | None, Any]:
    """The data a worker loads, the label and the dataset reference for the record (a
    feature view is checked first, then read into a new training dataset)."""
    data, label = study.data, study.label
    if data is None:
        return None, label, None
    if _is_feature_view(data):
        label = label or (data.labels[0] if data.labels else None)
        if label is None:
            raise StudyError(f"Feature view {data.name!r} has no label: give label=.")
        missing = sorted(features - set(data.features))
        if missing:
            raise StudyError(
                f"Feature view {data.name!r} has no feature {missing[0]!r}; its features are "
                f"{data.features}."
            )
        td = data.create_training_data(description=f"ablation study {study.name}")
        x, y = td.split("train").to_pandas()
        frame = x.assign(**{label: y[label].to_numpy()})
        ref = {"feature_view": data.name, "version": data.version, "training_dataset": td.version}
        return frame, label, ref
    if callable(data):
        return data, label, {"function": getattr(data, "__qualname__", repr(data))}
    check_frame(data, label)
    return (
        data,
        label,
        {"dataframe": {"rows": len(data), "columns": [str(c) for c in data.columns]}},
    )


def _check_models(study: AblationStudy, variants: list[Variant]) -> None:
    """Build every variant's model once on the driver so surgery errors come before any trial."""
    builder = study.model.builder
    for variant in variants:
        surgery = [c for c in variant if c.kind in ("layer", "layers", "module")]
        if builder is None or not surgery:
            continue
        model = builder()
        for component in surgery:
            model = ablate(model, component, study.model.example_input)


def _trial_hparams(variants: list[Variant], repeats: int, seed: int) -> list[dict[str, Any]]:
    trials = []
    for repeat in range(repeats):
        for variant in variants:
            names = [c.name for c in variant]
            kinds = {c.kind for c in variant}
            trials.append(
                {
                    "component": "+".join(names) if names else BASE,
                    "kind": (kinds.pop() if len(kinds) == 1 else "combined") if names else BASE,
                    "ablated": names,
                    "repeat": repeat,
                    "seed": seed + repeat,  # one seed per repeat: variants compared pairwise
                }
            )
    return trials


def run(
    train_fn: Callable[[dict, Any], Any],
    study: AblationStudy,
    *,
    ablator: str | Ablator = "loco",
    workers: int | None = None,
    repeats: int = 1,
    metric: str = "accuracy",
    mode: str = "max",
    seed: int = 0,
    resources_per_worker: Mapping[str, float] | None = None,
    builders: Mapping[str, Callable[[], Any]] | None = None,
    max_retries: int = 1,
    check_models: bool = True,
    name: str | None = None,
    progress: bool | None = None,
) -> AblationResult:
    """Run ``study`` on the long-lived HPO worker actors, every trial in parallel.

    Each trial calls ``train_fn(hparams, reporter)`` with ``hparams`` holding ``data`` (the
    study's DataFrame without the ablated features: checked on the worker before the trial
    runs), ``features``, ``label``, ``build_model`` (a function building the base model with
    the ablated layers or module removed, or the custom variant), ``seed``, ``component``,
    ``kind`` and ``repeat``; it returns ``metric`` (a number or a dict holding it).
    ``repeats`` runs of each variant with seeds ``seed``, ``seed+1``, ... give a mean and a
    standard deviation. A failing trial is recorded with its error; the others still count.
    The study is recorded as an experiment of kind ``ablation`` with its ranking, JSON and
    bar chart (PNG and HTML) as artifacts.
    """
    import ray

    import eo_ray
    from eo_ray.hpo import default_workers

    _check(train_fn, study, repeats, metric, mode, workers)
    policy = make_ablator(ablator)
    variants = list(policy.variants(study))
    if () not in variants:
        raise StudyError(f"The ablator {type(policy).__name__} must plan the base trial ().")
    name = validate_name(name or study.name, "experiment")
    features = {f for c in study.components if c.kind == "feature" for f in c.members}
    data, label, dataset_ref = _resolve_data(study, features)
    if data is not None and not callable(data):
        check_features(data, features, label)
    if check_models:
        _check_models(study, variants)
    if not eo_ray.is_initialized():
        eo_ray.init()
    resources = dict(resources_per_worker or {"CPU": 1})
    trials = _trial_hparams(variants, repeats, seed)
    workers = min(workers or default_workers(resources), len(trials))
    record = start_record(
        name,
        "ablation",
        fn=train_fn,
        params={
            "study": study.to_dict(),
            "ablator": type(policy).__name__,
            "metric": metric,
            "mode": mode,
            "repeats": repeats,
            "seed": seed,
            "workers": workers,
            "resources_per_worker": resources,
        },
        dataset=dataset_ref,
        entry_point=ENTRY_POINT,
        call={
            "study": study,
            "ablator": ablator,
            "workers": workers,
            "repeats": repeats,
            "metric": metric,
            "mode": mode,
            "seed": seed,
            "resources_per_worker": resources,
            "builders": builders,
            "max_retries": max_retries,
            "check_models": check_models,
        },
    )
    plan = Plan(
        components={c.name: c for c in study.components},
        label=label,
        builder=study.model.builder,
        example_input=study.model.example_input,
        has_data=data is not None,
    )
    state = start_trial_state(
        optimizer=TrialList(trials),
        stopping=NoStopping(),
        space=None,
        metric=metric,
        mode=mode,
        num_trials=len(trials),
        seed=seed,
        max_retries=max_retries,
        journal=_Journal(record),
    )
    pool = None
    try:
        worker_builders = dict(builders or {})
        if data is not None:
            worker_builders[DATA_KEY] = DataSource(data, label, sorted(features))
        pool = WorkerPool(
            AblationTrainFn(train_fn, plan, metric),
            workers=workers,
            resources_per_worker=resources,
            metric=metric,
            state=state,
            builders=worker_builders,
            await_decisions=False,  # LOCO trials all run to the end
        )
        pool.warm()
        with StudyProgress(len(trials), f"ablation {name}", enabled=progress) as bar:
            stats = run_trials(state, pool, listener=bar)
        views = tuple(ray.get(state.trials.remote()))
    except BaseException as exc:
        status = RunStatus.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        record.finish(status, {"error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        if pool is not None:
            pool.shutdown()
        with contextlib.suppress(Exception):  # already dead is fine
            ray.kill(state, no_restart=True)
    result = AblationResult(
        study=study.name,
        metric=metric,
        mode=mode,
        trials=views,
        wall_s=stats.wall_s,
        workers=workers,
        experiment_id=record.id,
        artifacts_uri=record.artifacts_uri,
    )
    result.save(record.artifacts_uri)
    summary = {
        "ranking": result.to_dict()["ranking"],
        "wall_s": stats.wall_s,
        "utilisation": stats.utilisation(workers),
        "failed": len(result.failed),
        "artifacts": result.artifacts,
    }
    if all(v.status is TrialStatus.FAILED for v in views):
        record.finish(RunStatus.FAILED, summary)
        first = min(views, key=lambda v: v.id)
        last_line = (first.error or "unknown error").strip().splitlines()[-1]
        raise AllTrialsFailedError(
            f"All {len(views)} trials of study {study.name!r} failed; trial {first.id} "
            f"({first.hparams['component']}) failed with: {last_line}"
        )
    record.finish(RunStatus.COMPLETED, summary)
    return result
