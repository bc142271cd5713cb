"""Ray Dataset inserts written by the workers and committed once; a feature group on S3."""

from __future__ import annotations

import pandas as pd
import pytest

from eo_ray.featurestore import DataError, FeatureStore, ValidationFailedError
from eo_ray.storage import Workspace


def _files(fg) -> set[str]:
    import pyarrow.fs as pafs

    sel = pafs.FileSelector(fg.ws.fs_path(fg.table_uri), recursive=True)
    return {i.path for i in fg.ws.filesystem.get_file_info(sel) if i.path.endswith(".parquet")}


def test_ray_dataset_insert_is_one_commit_of_worker_written_files(ray_session, fs, chip_features):
    import ray.data

    fg = fs.create_feature_group(
        "chips",
        primary_key=["chip_id"],
        event_time="time",
        online=True,
        expectations=[
            {
                "expectation_type": "expect_column_values_to_be_between",
                "kwargs": {"column": "vv_mean_db", "min_value": -60, "max_value": 30},
            }
        ],
    )
    ds = ray.data.from_pandas(chip_features).repartition(4)
    report = fg.insert(ds)
    assert report.table_version == 1
    assert report.rows == report.rows_inserted == 351
    assert report.validation.success
    assert report.statistics.row_count == 351
    assert len(_files(fg)) == 4  # one file per block, written by the workers
    assert [h["version"] for h in fg.history()] == [1, 0]
    got = fg.read().to_pandas().sort_values("chip_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, chip_features, check_dtype=False)
    assert fg.read().to_ray().count() == 351
    assert fg.get_online_rows([{"chip_id": 3}])[0]["vv_mean_db"] == pytest.approx(
        chip_features.loc[3, "vv_mean_db"]
    )
    # A strict failure commits nothing and removes what the workers wrote.
    bad = chip_features.head(40).assign(vv_mean_db=99.0, chip_id=lambda d: d.chip_id + 1000)
    files = _files(fg)
    with pytest.raises(ValidationFailedError, match="40 of 40"):
        fg.insert(ray.data.from_pandas(bad).repartition(2))
    assert fg.table_version == 1
    assert _files(fg) == files
    # An upsert of overlapping keys merges the worker-written files into the table.
    changed = chip_features.head(100).assign(height=lambda d: d.height + 1)
    report = fg.insert(ray.data.from_pandas(changed).repartition(2))
    assert report.merged
    assert (report.rows_updated, report.rows_inserted) == (100, 0)
    after = fg.read().to_pandas().sort_values("chip_id").reset_index(drop=True)
    assert (after.height.iloc[:100] == chip_features.height.iloc[:100] + 1).all()
    assert _files(fg) - files  # the merge rewrote files; the staged ones are gone
    assert len(after) == 351


def test_feature_group_on_s3(s3_bucket, titanic):
    fs = FeatureStore(Workspace(f"s3://{s3_bucket}/ws"))
    fg = fs.create_feature_group(
        "titanic", primary_key=["PassengerId"], description="on S3", tags={"store": "s3"}
    )
    fg.insert(titanic.iloc[:500])
    report = fg.insert(titanic.iloc[450:].assign(Fare=lambda d: d.Fare + 1))
    assert (report.rows_updated, report.rows_inserted) == (50, 391)
    assert len(fg.read(as_of=1).to_pandas()) == 500
    assert len(fg.read().to_pandas()) == 891
    assert fg.statistics(2).row_count == 441
    assert fs.get_feature_group("titanic").description == "on S3"
    assert fs.search("titanic")[0].name == "titanic"
    fv = fs.create_feature_view(
        "s3view", fg.select(["PassengerId", "Age", "Survived"]), ["Survived"]
    )
    x_train, x_test, _, _ = fv.train_test_split(test_size=0.2, seed=3)
    assert len(x_train) + len(x_test) == 891
    pd.testing.assert_frame_equal(fv.get_training_dataset(1).split("test").to_pandas()[0], x_test)


def test_training_split_as_ray_dataset(ray_session, fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"])
    fg.insert(titanic)
    fv = fs.create_feature_view("v", fg.select(["Pclass", "Age", "Survived"]), labels=["Survived"])
    td = fv.create_train_test_split(test_size=0.2, seed=4)
    ds = td.split("test").to_ray()
    assert ds.count() == 178
    assert sorted(ds.schema().names) == ["Age", "Pclass", "Survived"]


def test_ray_dataset_with_null_keys_is_refused_in_one_sentence(ray_session, fs, chip_features):
    import ray.data

    fg = fs.create_feature_group("chips", primary_key=["chip_id"])
    fg.insert(chip_features.head(10))
    bad = chip_features.iloc[10:20].astype({"chip_id": "float64"})
    bad.loc[bad.index[0], "chip_id"] = float("nan")
    with pytest.raises(DataError, match="null or NaN key"):
        fg.insert(ray.data.from_pandas(bad))
    assert fg.table_version == 1


def test_concurrent_inserts_from_ray_tasks_into_one_s3_group_lose_nothing(
    ray_session, s3_server, s3_bucket, titanic
):
    """Four Ray tasks insert disjoint passengers into the same S3 feature group at once: every
    commit lands (Delta's optimistic concurrency on S3 conditional puts, no lost update)."""
    import os

    import ray

    root = f"s3://{s3_bucket}/ws"
    env = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    FeatureStore(Workspace(root)).create_feature_group("titanic", primary_key=["PassengerId"])

    @ray.remote(num_cpus=0)
    def insert(part: pd.DataFrame) -> int:
        os.environ.update(env)  # the workers were started before the S3 server
        group = FeatureStore(Workspace(root)).get_feature_group("titanic")
        return group.insert(part).rows_inserted

    parts = [titanic.iloc[i * 100 : (i + 1) * 100] for i in range(4)]
    assert ray.get([insert.remote(p) for p in parts]) == [100] * 4
    fg = FeatureStore(Workspace(root)).get_feature_group("titanic")
    got = fg.read().to_pandas()
    assert sorted(got.PassengerId) == sorted(titanic.PassengerId.iloc[:400])
    assert fg.table_version == 4  # one commit per insert, none lost or doubled
