"""Search ranking and the `eo-ray fs` command."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from eo_ray.featurestore.cli import app
from eo_ray.featurestore.search import search, tokens


def test_tokens_split_snake_and_camel_case():
    assert tokens("vv_mean_dB PassengerId") == ["vv", "mean", "d", "b", "passenger", "id"]


def test_ranking_prefers_names_then_features_then_descriptions():
    groups = [
        {"name": "sar_backscatter", "version": 1, "description": "", "tags": {}, "schema": []},
        {
            "name": "chips",
            "version": 1,
            "description": "ship chips",
            "tags": {"sensor": "sentinel-1"},
            "schema": [{"name": "backscatter_vv", "description": ""}],
        },
        {"name": "weather", "version": 1, "description": "backscatter free", "schema": []},
        {"name": "titanic", "version": 1, "description": "passengers", "schema": []},
    ]
    hits = search("backscatter", groups, [])
    assert [h.name for h in hits if h.kind == "feature_group"] == [
        "sar_backscatter",
        "chips",
        "weather",
    ]
    assert any(h.kind == "feature" and h.group == "chips" for h in hits)
    assert [h.name for h in search("sentinel", groups, [])] == ["chips"]
    assert search("sentinel backscatter", groups, [])[0].name == "chips"  # all terms must match
    assert search("nothing-like-this", groups, []) == []


@pytest.fixture
def populated(fs, titanic, monkeypatch):
    monkeypatch.setenv("EO_RAY_HOME", fs.ws.root)
    fg = fs.create_feature_group(
        "titanic",
        primary_key=["PassengerId"],
        description="Titanic passengers and survival",
        tags={"domain": "tabular"},
        expectations=[
            {
                "expectation_type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "Age"},
            }
        ],
    )
    fg.insert(titanic, validation="always")
    fs.create_feature_view("survival", fg.select(["Age", "Fare", "Survived"]), ["Survived"])
    fs.create_feature_group("ships", primary_key=["chip_id"], keywords=["maritime", "SAR"])
    return fg


def _json(args: list[str]):
    result = CliRunner().invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


def test_cli_verbs_in_json(populated, fs):
    code, listed = _json(["list"])
    assert code == 0
    assert [g["name"] for g in listed["feature_groups"]] == ["ships", "titanic"]
    assert listed["feature_views"][0]["labels"] == ["Survived"]
    code, shown = _json(["show", "titanic"])
    assert shown["used_by_views"] == ["survival:1"]
    assert [f["name"] for f in shown["schema"]][:2] == ["PassengerId", "Survived"]
    fs.get_feature_view("survival").create_train_test_split(test_size=0.25, seed=5)
    code, view = _json(["show", "--view", "survival"])
    assert view["features"] == ["Age", "Fare"]
    assert view["training_datasets"][0]["row_counts"] == {"train": 668, "test": 223}
    assert view["training_datasets"][0]["group_versions"][0]["table_version"] == 1
    code, history = _json(["history", "titanic"])
    assert [h["version"] for h in history] == [1, 0]
    code, stats = _json(["stats", "titanic"])
    assert stats["row_count"] == 891
    assert stats["features"]["Age"]["count"] == 714
    code, hits = _json(["search", "survival"])
    assert {h["name"] for h in hits} >= {"titanic", "survival"}
    code, hits = _json(["search", "maritime"])
    assert [(h["kind"], h["name"]) for h in hits] == [("feature_group", "ships")]
    code, report = _json(["validate", "titanic"])
    assert code == 1  # 177 passengers have no age
    assert report["results"][0]["result"]["unexpected_count"] == 177


def test_cli_tables_and_errors(populated):
    runner = CliRunner()
    verbs = (["list"], ["show", "titanic"], ["history", "titanic"], ["stats", "titanic"])
    for verb in (*verbs, ["show", "--view", "survival"]):
        result = runner.invoke(app, verb)
        assert result.exit_code == 0, result.output
        assert "titanic" in result.output or "Age" in result.output or "survival" in result.output
    result = runner.invoke(app, ["show", "nope"])
    assert result.exit_code != 0
    assert "No feature group named 'nope'" in str(result.exception)
