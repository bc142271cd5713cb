"""Point-in-time joins and feature views on OpenSARShip chip features (real Sentinel-1 chips)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eo_ray.featurestore import FeatureStoreError, QueryError

CHIP_FEATURES = ["chip_id", "ship_class", "vv_mean_db", "vh_mean_db", "vv_std_db", "vh_p90_db"]


def class_stats(chips: pd.DataFrame) -> pd.DataFrame:
    """Per ship class and scene: the mean VV backscatter of that scene's chips of the class."""
    return (
        chips.groupby(["ship_class", "time"], as_index=False)
        .agg(class_vv_mean_db=("vv_mean_db", "mean"), class_chips=("chip_id", "count"))
        .astype({"class_chips": "int64"})
    )


@pytest.fixture
def groups(fs, chip_features):
    chips = fs.create_feature_group(
        "sar_chips",
        primary_key=["chip_id"],
        event_time="time",
        description="Sentinel-1 ship chip backscatter statistics",
        tags={"sensor": "sentinel-1"},
        feature_descriptions={"vv_mean_db": "mean VV backscatter (dB)"},
    )
    chips.insert(chip_features)
    stats = fs.create_feature_group(
        "class_scene_stats", primary_key=["ship_class"], event_time="time"
    )
    stats.insert(class_stats(chip_features))
    return chips, stats


def test_point_in_time_join_on_chip_features_never_leaks(groups, chip_features):
    chips, stats = groups
    query = chips.select(CHIP_FEATURES).join(
        stats.select(["class_vv_mean_db"]), on=["ship_class"], prefix="cls_"
    )
    got = query.read().to_pandas().sort_values("chip_id").reset_index(drop=True)
    assert list(got.columns) == [*CHIP_FEATURES, "cls_class_vv_mean_db"]
    expected = pd.merge_asof(
        chip_features.sort_values("time"),
        class_stats(chip_features).sort_values("time"),
        on="time",
        by="ship_class",
        direction="backward",
    ).sort_values("chip_id")
    np.testing.assert_allclose(got["cls_class_vv_mean_db"], expected["class_vv_mean_db"])
    # A naive join on the class alone takes each class's latest scene: a value from the future
    # for every chip seen before that scene. The PIT join must differ from it there.
    latest = class_stats(chip_features).sort_values("time").groupby("ship_class").last()
    naive = chip_features.sort_values("chip_id")["ship_class"].map(latest["class_vv_mean_db"])
    future = (
        chip_features.sort_values("chip_id")["time"].to_numpy()
        < chip_features.sort_values("chip_id")["ship_class"].map(latest["time"]).to_numpy()
    )
    assert future.sum() > 50
    assert not np.allclose(got["cls_class_vv_mean_db"][future], naive[future])


def test_filters_and_select_except(groups, chip_features):
    chips, _ = groups
    q = chips.select(["chip_id", "vv_mean_db"]).filter(
        (chips["vv_mean_db"] > -15) & chips["ship_class"].isin(["Cargo", "Tanker"])
    )
    got = q.read().to_pandas()
    want = chip_features[
        (chip_features.vv_mean_db > -15) & chip_features.ship_class.isin(["Cargo", "Tanker"])
    ]
    assert sorted(got.chip_id) == sorted(want.chip_id)
    assert "scene" not in chips.select_except(["scene"]).read().to_arrow().column_names
    with pytest.raises(QueryError, match="prefix"):
        chips.select(["chip_id", "time"]).join(chips.select(["time"]), on="chip_id").plan()


def test_feature_view_splits_are_reproducible_and_recorded(fs, groups):
    chips, stats = groups
    query = chips.select(CHIP_FEATURES).join(stats.select(["class_vv_mean_db"]), on="ship_class")
    fv = fs.create_feature_view(
        "ship_classifier",
        query,
        labels=["ship_class"],
        transforms={"ship_class": "label_encoder", "vv_mean_db": "standard_scaler"},
        description="classify ships from SAR backscatter",
    )
    x_train, x_test, y_train, _y_test = fv.train_test_split(test_size=0.25, seed=7)
    assert (len(x_train), len(x_test)) == (263, 88)
    assert set(x_train.chip_id).isdisjoint(x_test.chip_id)
    assert y_train["ship_class"].dtype.kind in "iu"  # label-encoded on the train split
    assert x_train["vv_mean_db"].mean() == pytest.approx(0.0, abs=1e-9)
    again = fv.train_test_split(test_size=0.25, seed=7)
    pd.testing.assert_frame_equal(again[0], x_train)
    other = fv.train_test_split(test_size=0.25, seed=8)
    assert set(other[1].chip_id) != set(x_test.chip_id)
    td = fv.get_training_dataset(1)
    assert td.splits == {"train": 263, "test": 88}
    assert td.meta["split"]["seed"] == 7
    assert [g["table_version"] for g in td.meta["group_versions"]] == [1, 1]
    # Inserting more data later does not change a recorded training dataset.
    chips.insert(chips.read().to_pandas().head(3).assign(chip_id=lambda d: d.chip_id + 10_000))
    x_again, y_again = fv.get_training_dataset(1).split("train").to_pandas()
    pd.testing.assert_frame_equal(x_again, x_train)
    pd.testing.assert_frame_equal(y_again, y_train)
    assert fv.training_dataset_versions() == [1, 2, 3]
    assert [v.name for v in fs.views_using(chips)] == ["ship_classifier"]


def test_time_split_and_three_way_split(fs, groups, chip_features):
    chips, _ = groups
    fv = fs.create_feature_view("by_time", chips.select(CHIP_FEATURES), labels=["ship_class"])
    td = fv.create_train_test_split(train_end="2016-01-01", test_start="2016-01-01")
    train, _ = td.split("train").to_pandas()
    test, _ = td.split("test").to_pandas()
    times = chip_features.set_index("chip_id")["time"]
    assert times[train.chip_id].max() < times[test.chip_id].min()
    assert len(train) + len(test) == len(chip_features)
    parts = fv.train_validation_test_split(validation_size=0.2, test_size=0.2, seed=1)
    assert [len(p) for p in parts[:3]] == [211, 70, 70]
    with pytest.raises(FeatureStoreError, match="nothing to train"):
        fv.train_test_split(test_size=0.99999, seed=1)


def test_training_data_as_tf_and_torch(fs, groups):
    chips, _ = groups
    fv = fs.create_feature_view(
        "tensors",
        chips.select(["vv_mean_db", "vh_mean_db", "vv_std_db", "height"]),
        labels=["height"],
    )
    td = fv.create_train_test_split(test_size=0.2, seed=0)
    xb, _yb = next(iter(td.split("train").to_torch(batch_size=16)))
    assert tuple(xb.shape) == (16, 3)
    batch = next(iter(td.split("test").to_tf(batch_size=8)))
    assert tuple(batch[0].shape) == (8, 3)
    x_test, _y_test = td.split("test").to_pandas()
    np.testing.assert_allclose(batch[0].numpy(), x_test.to_numpy(np.float32)[:8])
    with pytest.raises(FeatureStoreError, match="not numeric"):
        fs.create_feature_view(
            "text", chips.select(["scene", "height"]), labels=["height"]
        ).create_training_data(seed=0).split("train").to_torch()
