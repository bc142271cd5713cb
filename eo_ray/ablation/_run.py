"""``eo.ablation.run``: plan the trials, run them on the HPO worker actors, rank, record."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from eo_ray._params import invalid, metric_mode, positive_int
from eo_ray.ablation._data import DataSource, check_features, check_frame
from eo_ray.ablation._progress import StudyProgress
from eo_ray.ablation._result import AblationResult
from eo_ray.ablation._trial import DATA_KEY, AblationTrainFn, Plan
from eo_ray.ablation.ablators import Ablator, Variant, make_ablator
from eo_ray.ablation.errors import StudyError
from eo_ray.ablation.study import BASE, AblationStudy, _is_feature_view
from eo_ray.ablation.surgery import ablate
from eo_ray.hpo import NoStopping, TrialList
from eo_ray.hpo._session import SessionPlan, default_workers, ensure_ray, finish, run_session
from eo_ray.storage import validate_name
from eo_ray.tracking import start as start_record

ENTRY_POINT = "eo_ray.ablation:run"


def _positive(value: Any, what: str) -> int:
    return positive_int(value, name=what, owner="ablation.run", error=StudyError)


def _check(train_fn: Any, study: Any, repeats: Any, metric: Any, mode: Any, workers: Any) -> None:
    def bad(name: str, expected: str, got: object) -> StudyError:
        return invalid(StudyError, name, "ablation.run", expected, got)

    if not callable(train_fn):
        raise bad("train_fn", "a function train_fn(hparams, reporter)", train_fn)
    if not isinstance(study, AblationStudy):
        raise bad("study", "an eo_ray.ablation.AblationStudy", type(study).__name__)
    _positive(repeats, "repeats")
    if workers is not None:
        _positive(workers, "workers")
    if not isinstance(metric, str) or not metric:
        raise bad("metric", "a non-empty string", metric)
    metric_mode(mode, owner="ablation.run", error=StudyError)
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
    ensure_ray()
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
    worker_builders = dict(builders or {})
    if data is not None:
        worker_builders[DATA_KEY] = DataSource(data, label, sorted(features))
    session = SessionPlan(
        optimizer=TrialList(trials),
        stopping=NoStopping(),  # LOCO trials all run to the end
        space=None,
        metric=metric,
        mode=mode,
        num_trials=len(trials),
        seed=seed,
        workers=workers,
        resources=resources,
        max_retries=max_retries,
        builders=worker_builders,
    )
    progress_bar = StudyProgress(len(trials), f"ablation {name}", enabled=progress)
    outcome = run_session(
        record, AblationTrainFn(train_fn, plan, metric), session, progress=progress_bar
    )
    views, stats = outcome.trials, outcome.stats
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
    finish(
        record,
        views,
        summary,
        what=f"study {study.name!r}",
        label=lambda view: f" ({view.hparams['component']})",
    )
    return result
