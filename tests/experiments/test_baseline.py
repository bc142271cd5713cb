"""The synchronous Experiment API on Ray, rerun of records, and the experiments CLI."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

import eo_ray as eo
from eo_ray import experiments
from eo_ray.cli import app
from eo_ray.hpo import Double, Integer, SearchSpace, TrialStatus


def sleepy(hparams, reporter):
    time.sleep(hparams["d"])
    reporter.report(hparams["d"])
    return {"accuracy": 1.0 - hparams["d"], "loss": hparams["d"]}


def test_grid_search_runs_in_batches_that_wait_for_the_slowest(ray_session):
    grid = {"d": [0.05, 0.6, 0.1, 0.15]}
    result = experiments.grid_search(sleepy, grid, workers=2, name="batches")
    trials = sorted(result.trials, key=lambda t: t.id)
    assert [t.hparams["d"] for t in trials] == [0.05, 0.1, 0.15, 0.6]
    assert all(t.status is TrialStatus.COMPLETED for t in trials)
    first, second = trials[:2], trials[2:]
    # The second batch starts only after the slowest trial of the first batch ended.
    assert min(t.started_at for t in second) >= max(t.ended_at for t in first) - 0.01
    assert result.best.hparams == {"d": 0.05}
    record = experiments.get(result.experiment_id)
    assert record.kind == "grid_search"
    assert record.params["early_stopping"] is None


def curve(hparams, reporter):
    for step in range(1, 4):
        reporter.report(hparams["x"] * step, step=step)
    return hparams["x"] * 3


SPACE = SearchSpace(x=Double(0.0, 1.0), k=Integer(1, 3))


def test_random_search_draws_what_async_random_search_draws(ray_session):
    sync = experiments.random_search(curve, SPACE, 4, workers=2, seed=9, metric="x")
    asynchronous = eo.hpo.search(
        curve, SPACE, 4, workers=2, seed=9, metric="x", early_stopping=None, progress=False
    )
    points = lambda r: sorted(tuple(sorted(t.hparams.items())) for t in r.trials)  # noqa: E731
    assert points(sync) == points(asynchronous)
    assert sync.best_value == pytest.approx(asynchronous.best_value)
    assert experiments.get(sync.experiment_id).kind == "random_search"


def scale(hparams, reporter):
    return {"accuracy": hparams["a"] * 2.0}


def test_launch_and_rerun_give_the_same_result(ray_session):
    first = experiments.launch(scale, {"a": 0.25}, name="one-off", dataset={"fv": "ships", "v": 1})
    assert first.best.value == 0.5
    record = experiments.get(first.experiment_id)
    assert record.kind == "launch"
    assert record.function.endswith(":scale")
    again = experiments.rerun(record.id)
    assert again.experiment_id != record.id
    assert again.best.value == 0.5
    redo = experiments.get(again.experiment_id)
    assert (redo.name, redo.kind, redo.source_hash) == (
        record.name,
        record.kind,
        record.source_hash,
    )
    assert redo.dataset == {"fv": "ships", "v": 1}
    assert redo.trials()[0]["hparams"] == {"a": 0.25}


def test_rerun_of_a_search_repeats_its_space_and_seed(ray_session):
    result = eo.hpo.search(
        curve,
        SPACE,
        3,
        workers=2,
        seed=4,
        metric="x",
        early_stopping=None,
        progress=False,
        name="rerun-me",
    )
    again = experiments.rerun(result.experiment_id)
    hp = lambda r: [dict(t.hparams) for t in sorted(r.trials, key=lambda t: t.id)]  # noqa: E731
    assert hp(again) == hp(result)


def test_an_old_record_naming_a_private_module_still_reruns(ray_session):
    """Records written before reruns went by kind name a private module as entry point."""
    first = eo.hpo.search(
        scale,
        None,
        1,
        optimizer=eo.hpo.TrialList([{"a": 0.5}]),
        early_stopping=None,
        workers=1,
        kind="my_search",
        progress=False,
    )
    record = experiments.get(first.experiment_id)
    assert record.entry_point == "eo_ray.hpo:search"
    ws = eo.workspace()
    uri = ws.uri("experiments", record.id, "record.json")
    ws.write_json(uri, {**ws.read_json(uri), "entry_point": "eo_ray.hpo._search:rerun_search"})
    again = experiments.rerun(record.id)
    assert again.best.value == 1.0
    assert experiments.get(again.experiment_id).kind == "my_search"


def test_rerun_of_an_unknown_id_is_one_clear_error(ray_session):
    with pytest.raises(experiments.ExperimentNotFoundError, match="No experiment"):
        experiments.rerun("hpo-20000101T000000-abcdef")


def test_cli_list_and_show(ray_session):
    result = experiments.launch(scale, {"a": 0.5}, name="cli-run")
    runner = CliRunner()
    listed = runner.invoke(app, ["experiments", "list", "--name", "cli-run", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.output)] == [result.experiment_id]
    shown = runner.invoke(app, ["experiments", "show", result.experiment_id, "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["trials"][0]["value"] == 1.0
    table = runner.invoke(app, ["experiments", "show", result.experiment_id])
    assert "cli-run" in table.output
    missing = runner.invoke(app, ["experiments", "show", "nope-1"])
    assert missing.exit_code != 0
