"""One vocabulary: ``get``/``list`` in every stage with records, one ``ws=`` keyword for the
workspace, one name per thing, and the former names still working for one release."""

from __future__ import annotations

import pytest

import eo_ray as eo
from eo_ray.storage import Workspace


@pytest.mark.parametrize(
    "stage",
    [
        "datasets",
        "ingest",
        "featurestore",
        "experiments",
        "hpo",
        "ablation",
        "monitoring",
        "train",
        "models",
        "mapping",
        "serving",
        "pipelines",
    ],
)
def test_every_stage_with_records_offers_get_and_list(stage: str) -> None:
    module = getattr(eo, stage)
    assert callable(module.get)
    assert callable(module.list)


def test_stages_list_what_get_returns(workspace_root: Workspace) -> None:
    assert eo.ingest.list() == []
    assert eo.train.list() == []
    assert eo.experiments.list() == []
    assert eo.pipelines.list() == []
    assert eo.featurestore.list() == []


def test_featurestore_get_and_list_are_the_stores_groups(workspace_root: Workspace) -> None:
    fs = eo.feature_store()
    first = fs.create_feature_group("vocab", primary_key="id")
    second = fs.create_feature_group("vocab", primary_key="id")
    assert eo.featurestore.get("vocab").version == second.version
    assert eo.featurestore.get("vocab", version=first.version).version == first.version
    assert [(g.name, g.version) for g in eo.featurestore.list()] == [
        (g.name, g.version) for g in fs.list_feature_groups()
    ]
    with pytest.raises(eo.featurestore.NotFoundError):
        eo.featurestore.get("no-such-group")


def test_train_list_is_newest_first_like_the_other_stages(workspace_root: Workspace) -> None:
    import os

    from eo_ray.train.result import RUN_FILE

    for n, run_id in enumerate(["b-older", "a-newer"]):  # ids sort the other way round
        record = {
            "run_id": run_id, "strategy": "allreduce", "framework": "torch", "num_workers": 1,
            "config": {}, "history": [], "metrics": {}, "checkpoint": None,
            "best_checkpoint": None, "export_uri": None, "export_files": [],
            "wall_time_s": 1.0, "root": workspace_root.root,
        }  # fmt: skip
        uri = workspace_root.uri("train", run_id, RUN_FILE)
        workspace_root.write_json(uri, record)
        os.utime(workspace_root.fs_path(uri), (1_000_000 + n, 1_000_000 + n))
    assert [r.run_id for r in eo.train.list()] == ["a-newer", "b-older"]


def test_hpo_and_ablation_get_and_list_are_their_experiment_records(
    workspace_root: Workspace,
) -> None:
    from eo_ray.tracking import ExperimentNotFoundError, start

    search = start("vocab-search", "hpo")
    study = start("vocab-study", "ablation")
    assert [r.id for r in eo.hpo.list()] == [search.id]
    assert [r.id for r in eo.ablation.list()] == [study.id]
    assert eo.hpo.get(search.id).name == "vocab-search"
    assert eo.ablation.get(study.id).kind == "ablation"
    with pytest.raises(ExperimentNotFoundError, match="is a run of kind 'ablation', not 'hpo'"):
        eo.hpo.get(study.id)


def test_datasets_get_and_list_are_the_registered_specs() -> None:
    names = [spec.name for spec in eo.datasets.list()]
    assert "titanic" in names
    assert eo.datasets.get("titanic").name == "titanic"
    assert eo.datasets.list_datasets is eo.datasets.list  # the former names, one release
    assert eo.datasets.get_spec("titanic") == eo.datasets.get("titanic")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("SearchResult", "ItemCollection"),
        ("to_db", "to_decibel"),
        ("add_index", "spectral_index"),
        ("reproject_chips", "reproject"),
        ("register", "register_product"),
    ],
)
def test_former_ingest_names_are_aliases(old: str, new: str) -> None:
    assert getattr(eo.ingest, old) is getattr(eo.ingest, new)


def test_former_serving_name_is_an_alias() -> None:
    assert eo.serving.list_deployments is eo.serving.statuses


def test_the_two_register_and_search_result_names_are_different_things() -> None:
    assert eo.ingest.register_product is not eo.models.register
    assert eo.ingest.ItemCollection is not eo.hpo.SearchResult


def test_ws_takes_a_workspace_or_a_root(tmp_path) -> None:
    root = str(tmp_path / "other")
    assert eo.feature_store(ws=root).ws.root == Workspace(root).root
    assert eo.feature_store(ws=Workspace(root)).ws.root == Workspace(root).root
    assert eo.ingest.list(ws=root) == []
    assert eo.train.list(ws=root) == []
    assert eo.experiments.list(ws=root) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda root: eo.feature_store(home=root),
        lambda root: eo.experiments.list_experiments(root=root),
        lambda root: eo.ingest.Catalog("c", workspace=Workspace(root)),
    ],
)
def test_former_workspace_keywords_work_with_a_deprecation_warning(call, tmp_path) -> None:
    with pytest.warns(DeprecationWarning, match="is deprecated; use ws="):
        call(str(tmp_path / "old"))


def test_old_and_new_keyword_together_are_refused(tmp_path) -> None:
    with pytest.raises(TypeError, match="takes ws= only"):
        eo.feature_store(home=str(tmp_path), ws=str(tmp_path))
