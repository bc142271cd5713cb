"""Feature groups on Titanic: versions, writes, time travel, statistics, validation, bad input."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import eo_ray as eo
from eo_ray.errors import InvalidNameError
from eo_ray.featurestore import (
    AlreadyExistsError,
    DataError,
    NotFoundError,
    SchemaError,
    ValidationFailedError,
)

AGE_RULE = {
    "expectation_type": "expect_column_values_to_be_between",
    "kwargs": {"column": "Age", "min_value": 0, "max_value": 100},
}


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """By key, with every missing value as NaN (Delta gives strings back as None)."""
    df = df.sort_values("PassengerId").reset_index(drop=True)
    return df.mask(df.isna(), np.nan)


def test_eo_feature_store_is_the_workspace_store(workspace_root):
    fs = eo.feature_store()
    assert fs.ws == workspace_root


def test_versions_listing_get_or_create_and_delete(fs, titanic):
    v1 = fs.create_feature_group("titanic", primary_key=["PassengerId"], description="passengers")
    v2 = fs.create_feature_group("titanic", primary_key="PassengerId")
    assert (v1.version, v2.version) == (1, 2)
    assert fs.get_feature_group("titanic").version == 2
    assert fs.get_feature_group("titanic", 1).description == "passengers"
    with pytest.raises(AlreadyExistsError):
        fs.create_feature_group("titanic", version=1, primary_key=["PassengerId"])
    assert fs.get_or_create_feature_group("titanic", 1, primary_key=["x"]).version == 1
    assert fs.get_or_create_feature_group("other", primary_key=["x"]).name == "other"
    assert [(g.name, g.version) for g in fs.list_feature_groups()] == [
        ("other", 1),
        ("titanic", 1),
        ("titanic", 2),
    ]
    v1.insert(titanic.head(10))
    fs.delete_feature_group("titanic", 1)
    with pytest.raises(NotFoundError, match="no version 1"):
        fs.get_feature_group("titanic", 1)
    assert not fs.ws.exists(v1.table_uri)


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".hidden", "x" * 129])
def test_names_with_path_characters_are_refused(fs, name):
    with pytest.raises(InvalidNameError):
        fs.create_feature_group(name, primary_key=["id"])


def test_insert_upsert_report_and_time_travel(fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"])
    first = fg.insert(titanic.iloc[:500])
    assert (first.table_version, first.rows_inserted, first.rows_updated) == (1, 500, 0)
    assert not first.merged  # a new table needs no merge
    changed = titanic.iloc[400:].copy()
    changed["Fare"] = changed["Fare"] + 1.0
    t_between = datetime.now(timezone.utc)
    time.sleep(0.05)
    second = fg.insert(changed)
    assert second.merged
    assert (second.table_version, second.rows_inserted, second.rows_updated) == (2, 391, 100)
    latest = _sorted(fg.read().to_pandas())
    assert len(latest) == 891
    expected = titanic.copy()
    expected.loc[400:, "Fare"] += 1.0
    pd.testing.assert_frame_equal(latest, _sorted(expected), check_dtype=False)
    pd.testing.assert_frame_equal(
        _sorted(fg.read(as_of=1).to_pandas()), _sorted(titanic.iloc[:500]), check_dtype=False
    )
    assert len(fg.read(as_of=t_between).to_pandas()) == 500
    history = fg.history()
    assert [h["version"] for h in history] == [2, 1, 0]
    assert history[0]["rows_updated"] == 100
    assert history[0]["rows_inserted"] == 391
    changes = fg.read_changes(1).to_pandas()
    assert len(changes) == 491
    assert set(changes["_change_type"]) == {"insert", "update_postimage"}


def test_insert_of_new_keys_appends_without_merge(fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"])
    fg.insert(titanic.iloc[:300])
    report = fg.insert(titanic.iloc[300:])
    assert not report.merged
    assert report.rows_inserted == 591
    assert fg.history()[0]["delta_operation"] != "MERGE"


def test_partitioned_group_insert_into_new_partition_is_an_append(fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"], partition_key=["Pclass"])
    fg.insert(titanic[titanic.Pclass != 3].sample(frac=1.0, random_state=0))
    report = fg.insert(titanic[titanic.Pclass == 3])
    assert not report.merged
    got = _sorted(fg.read().to_pandas())
    pd.testing.assert_frame_equal(got[titanic.columns], _sorted(titanic), check_dtype=False)


def test_statistics_are_stored_per_commit(fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"])
    fg.insert(titanic.iloc[:600])
    fg.insert(titanic.iloc[600:])
    first, second = fg.statistics(1), fg.statistics(2)
    assert (first.row_count, second.row_count) == (600, 291)
    assert fg.statistics().version == 2
    age = first.features["Age"]
    ref = titanic.iloc[:600]["Age"]
    assert age["count"] == ref.count()
    assert age["completeness"] == pytest.approx(ref.count() / 600)
    assert age["mean"] == pytest.approx(ref.mean())
    assert age["std"] == pytest.approx(ref.std())
    assert (age["min"], age["max"]) == (ref.min(), ref.max())
    assert age["percentiles"]["p50"] == pytest.approx(ref.median(), rel=0.1)
    assert sum(age["histogram"]["counts"]) == ref.count()
    assert first.features["Sex"]["distinct"] == 2
    corr = titanic.iloc[:600][["Age", "Fare"]].corr().iloc[0, 1]
    assert first.correlations["Age"]["Fare"] == pytest.approx(corr, abs=1e-9)
    whole = fg.compute_statistics()
    assert whole.row_count == 891
    assert whole.scope == "table"
    fg.insert(titanic.iloc[:5], statistics=False)
    with pytest.raises(NotFoundError, match="no statistics for version 3"):
        fg.statistics(3)


def test_strict_validation_rejects_and_leaves_no_commit(fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"], expectations=[AGE_RULE])
    fg.insert(titanic.iloc[:100])
    bad = titanic.iloc[100:200].copy()
    bad.loc[bad.index[:7], "Age"] = 250.0
    with pytest.raises(ValidationFailedError) as err:
        fg.insert(bad)
    message = str(err.value)
    assert "expect_column_values_to_be_between" in message
    assert "7 of 100" in message
    assert "250.0" in message
    assert fg.table_version == 1
    assert len(fg.read().to_pandas()) == 100
    report = fg.insert(bad, validation="always")
    assert report.table_version == 2
    assert not report.validation.success
    history = fg.validation_history()
    assert [(r.ingestion, r.success) for r in history] == [
        ("INGESTED", True),
        ("REJECTED", False),
        ("INGESTED", False),
    ]
    assert history[-1].version == 2
    assert history[1].version is None
    assert not fg.validate().success  # the stored data now breaks the suite


def test_bad_input_gives_clear_errors_and_changes_nothing(fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"])
    fg.insert(titanic.iloc[:100])
    before = _sorted(fg.read().to_pandas())
    cases = [
        (titanic.iloc[100:110].drop(columns=["Fare"]), SchemaError, "missing columns"),
        (titanic.iloc[100:110].assign(extra=1), SchemaError, "unknown columns"),
        (titanic.iloc[100:110].assign(Age="old"), SchemaError, "must be double"),
        (titanic.iloc[100:110].drop(columns=["PassengerId"]), SchemaError, "key columns"),
        (pd.concat([titanic.iloc[100:105], titanic.iloc[100:101]]), DataError, "duplicate keys"),
        (
            titanic.iloc[100:110].assign(PassengerId=np.r_[np.nan, np.arange(9.0)]),
            DataError,
            "null or NaN key",
        ),
        ([1, 2, 3], DataError, "pandas DataFrame"),
    ]
    for data, error, text in cases:
        with pytest.raises(error, match=text):
            fg.insert(data)
    nan_key = pa.table({c: titanic.iloc[100:102][c].to_list() for c in titanic.columns})
    nan_key = nan_key.set_column(9, "Fare", pa.array([float("nan"), 1.0]))
    fg2 = fs.create_feature_group("floaty", primary_key=["Fare"])
    with pytest.raises(DataError, match="null or NaN"):
        fg2.insert(nan_key)
    with pytest.raises(DataError, match="duplicate"):
        fg.insert(pd.concat([titanic.iloc[200:202]] * 2), operation="insert")
    assert fg.table_version == 1
    pd.testing.assert_frame_equal(_sorted(fg.read().to_pandas()), before)


def test_additive_schema_evolution(fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"])
    fg.insert(titanic.iloc[:10])
    fg.add_features({"family_size": "int64"}, {"family_size": "SibSp + Parch + 1"})
    assert fg.schema.get("family_size").description == "SibSp + Parch + 1"
    more = titanic.iloc[10:20].assign(family_size=lambda d: d.SibSp + d.Parch + 1)
    fg.insert(more)
    df = _sorted(fg.read().to_pandas())
    assert df["family_size"].isna().sum() == 10
    assert (df["family_size"].iloc[10:] == more["family_size"].to_numpy()).all()
    with pytest.raises(SchemaError, match="already has"):
        fg.add_features({"Age": "double"})
