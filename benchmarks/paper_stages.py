"""The experiments of ``benchmarks/paper.py``, one function per stage, each returning a
JSON-ready dict. They call the existing benchmark and example code (hpo_async_vs_sync,
hpo_scale, eo_ray.hpo.examples, eo_ray.ablation.examples) rather than copying it."""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import hpo_async_vs_sync
import hpo_scale

import eo_ray as eo
from eo_ray.ablation.examples import (
    TITANIC_FEATURES,
    TITANIC_LABEL,
    mnist_data,
    mnist_layer_study,
    mnist_train,
    ship_data,
    ship_module_study,
    ship_train,
    single_thread_tf,
    titanic_frame,
    titanic_keras,
)
from eo_ray.hpo import MedianStoppingRule, TrialList
from eo_ray.hpo.examples import replay_curve

SEED = 2022


@dataclass(frozen=True)
class Size:
    """How large each experiment is run (the protocol of one mode)."""

    hpo_trials: int
    hpo_epochs: int
    hpo_train: int
    hpo_test: int
    replay_workers: tuple[int, ...]
    replay_trials: int
    replay_time_scale: float
    replay_rules: tuple[str, ...]
    titanic_repeats: int
    titanic_epochs: int
    mnist_train: int
    mnist_test: int
    mnist_epochs: int
    mnist_repeats: int
    mnist_filters: tuple[int, int]
    mnist_dense: int
    ship_modules: int
    ship_epochs: int
    ship_repeats: int
    ship_workers: tuple[int, ...] = (1, 2)  # real runs (the test's tiny mode: 1 only)
    ship_replay_scale: float = 1.0  # the replays sleep durations x this (tiny mode: less)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def key(self, stage: str) -> dict[str, Any]:
        """The sizes ``stage`` depends on: what its cached result is checked against."""
        prefixes = STAGE_FIELDS[stage]
        return {k: v for k, v in self.to_dict().items() if k.startswith(prefixes)}


# The Size fields each stage reads (the replays read the hpo stage's curves too).
STAGE_FIELDS = {
    "hpo": ("hpo_",),
    "replays": ("hpo_", "replay_"),
    "table3": ("titanic_",),
    "table4": ("mnist_",),
    "fig15": ("ship_",),
}


def paper_rule() -> MedianStoppingRule:
    """The median rule as the paper states it: in effect once four trials have finished
    (and, as eo-ray needs a reference set at the step, with at least four at that step)."""
    return MedianStoppingRule(min_trials=4, grace_reports=1, min_finished=4)


def default_rule() -> MedianStoppingRule:
    """eo-ray's default median rule (``early_stopping="median"``)."""
    return MedianStoppingRule()


RULES = {"paper": paper_rule, "eo-ray default": default_rule}


def _workers() -> int:
    return max(1, int(eo.info().resources.get("CPU", 1)))


def _search_row(result: Any, sync: Any) -> dict[str, Any]:
    return {
        "wall_s": result.wall_s,
        "ratio": result.wall_s / sync.wall_s,
        "best": result.best_value,
        "stopped": result.count("stopped"),
        "utilisation": result.utilisation,
    }


def hpo(size: Size) -> dict[str, Any]:
    """Tables 1-2 / Figures 13-14, real: the CNN on Fashion-MNIST, random search, sync
    (``eo.experiments.random_search``) and async with each rule of :data:`RULES`, on one
    worker per core of this machine. Also the curves the replays read."""
    workers = _workers()
    args = hpo_async_vs_sync.parse(
        [
            f"--trials={size.hpo_trials}",
            f"--workers={workers}",
            "--cpus-per-worker=1",
            f"--epochs={size.hpo_epochs}",
            f"--train-size={size.hpo_train}",
            f"--test-size={size.hpo_test}",
            "--reports-per-epoch=1",
        ]
    )
    sync = hpo_async_vs_sync.run_sync(args, SEED)
    rows = {}
    for name, rule in RULES.items():
        asy = hpo_async_vs_sync.run_async(args, SEED, rule())
        rows[name] = {**_search_row(asy, sync), **hpo_async_vs_sync.compare(asy, sync)}
    first = rows["paper"]
    return {
        "workers": workers,
        "sync": {
            "wall_s": sync.wall_s,
            "best": sync.best_value,
            "utilisation": sync.utilisation,
            "timeline": first["sync_timeline"],
        },
        "async": {
            name: {k: v for k, v in row.items() if k not in ("curves", "epoch_s")}
            for name, row in rows.items()
        },
        "curves": {
            "curves": first["curves"],
            "epoch_s": first["epoch_s"],
            "hparams": [dict(t.hparams) for t in sync.trials],
            "seed": SEED,
            "epochs": size.hpo_epochs,
            "train_size": size.hpo_train,
            "test_size": size.hpo_test,
        },
    }


def hpo_replays(size: Size, curves_path: Path) -> dict[str, Any]:
    """Tables 1-2 / Figure 13, replayed: the curves recorded in ``curves_path`` (cycled to
    ``size.replay_trials`` trials, N fixed) on each of ``size.replay_workers`` sleeping
    workers (a core each), sync and async with each rule."""
    curves, epoch_s = hpo_scale.load_curves(curves_path, size.replay_time_scale)
    trials = [
        {"curve": curves[i % len(curves)], "epoch_s": epoch_s[i % len(curves)], "i": i}
        for i in range(size.replay_trials)
    ]
    cpus = float(eo.info().resources.get("CPU", 2))
    rows = []
    for workers in size.replay_workers:
        row: dict[str, Any] = {"workers": workers, "trials": len(trials)}
        sync = None
        for name in size.replay_rules:
            asy, got = hpo_scale.replay_pair(
                trials, workers, RULES[name](), cpus=cpus, heartbeat=0.0, sync=sync is None
            )
            if sync is None:
                sync = got
            row[name] = _search_row(asy, sync)
        row["sync"] = {
            "wall_s": sync.wall_s,
            "best": sync.best_value,
            "utilisation": sync.utilisation,
        }
        rows.append(row)
    return {"time_scale": size.replay_time_scale, "recorded": len(curves), "rows": rows}


def _ranking(result: Any) -> list[dict[str, Any]]:
    if result.failed:
        raise RuntimeError(f"an ablation trial failed: {result.failed[0].error}")
    return result.to_dict()["ranking"]


def titanic(size: Size) -> dict[str, Any]:
    """Table 3: LOCO over the six Titanic features, the paper's Keras model."""
    study = eo.ablation.AblationStudy("paper-titanic", data=titanic_frame(), label=TITANIC_LABEL)
    study.features.include(*TITANIC_FEATURES)
    result = eo.ablation.run(
        functools.partial(titanic_keras, epochs=size.titanic_epochs),
        study,
        workers=_workers(),
        repeats=size.titanic_repeats,
        builders={"tf": single_thread_tf},
        progress=False,
    )
    return {"wall_s": result.wall_s, "ranking": _ranking(result)}


def mnist(size: Size) -> dict[str, Any]:
    """Table 4: LOCO over the second conv, the dense layer and both dropouts."""
    result = eo.ablation.run(
        functools.partial(mnist_train, epochs=size.mnist_epochs),
        mnist_layer_study(size.mnist_filters, size.mnist_dense, name="paper-mnist"),
        workers=_workers(),
        repeats=size.mnist_repeats,
        builders={"mnist": functools.partial(mnist_data, size.mnist_train, size.mnist_test)},
        progress=False,
    )
    return {"wall_s": result.wall_s, "ranking": _ranking(result)}


def _ship_run(size: Size, workers: int) -> Any:
    return eo.ablation.run(
        functools.partial(ship_train, epochs=size.ship_epochs),
        ship_module_study(size.ship_modules, name=f"paper-ships-{workers}"),
        workers=workers,
        repeats=size.ship_repeats,
        builders={"ships": ship_data},
        progress=False,
    )


def _replay_trials(durations: list[float], workers: int, scale: float = 1.0) -> float:
    """Wall-clock of trials that sleep ``durations`` on ``workers`` sleeping workers; with
    ``scale`` < 1 they sleep ``durations x scale`` and the wall-clock is divided by it."""
    trials = [{"curve": [0.0], "epoch_s": d * scale, "i": i} for i, d in enumerate(durations)]
    cpus = float(eo.info().resources.get("CPU", 2))
    result = eo.hpo.search(
        replay_curve,
        None,
        len(trials),
        optimizer=TrialList(trials),
        early_stopping=None,
        workers=workers,
        resources_per_worker={"CPU": min(1.0, (cpus - 0.5) / workers)},
        heartbeat_interval=0.0,
        progress=False,
        plots=False,
        name=f"paper-ships-replay-{workers}",
    )
    return result.wall_s / scale


def ablation_scaling(size: Size) -> dict[str, Any]:
    """Figure 15: the module ablation of a small Inception-style net on OpenSARShip chips,
    real at ``size.ship_workers`` (1 and 2); the 1-worker run's trial durations replayed at
    1, 2 and 4."""
    real = {}
    durations: list[float] = []
    ranking: list[dict[str, Any]] = []
    for workers in size.ship_workers:
        start = time.perf_counter()
        result = _ship_run(size, workers)
        ranking = _ranking(result)
        real[workers] = {"wall_s": result.wall_s, "total_s": time.perf_counter() - start}
        if workers == 1:
            durations = [float(t.duration_s) for t in result.trials]
    scale = size.ship_replay_scale
    replayed = {w: _replay_trials(durations, w, scale) for w in (1, 2, 4)}
    return {
        "real": real,
        "replayed": replayed,
        "trial_durations_s": durations,
        "trials": len(durations),
        "replay_scale": scale,
        "ranking": ranking,
    }
