"""Online serving on every backend (SQLite and a real redis-server): equal to offline data."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from eo_ray.featurestore import OnlineStoreError
from eo_ray.featurestore.online import open_online_store
from eo_ray.featurestore.online.base import OnlineStore, decode_row, encode_key, encode_row


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if a is None and isinstance(b, float) and math.isnan(b):
        return True
    if isinstance(a, pd.Timestamp) or isinstance(b, pd.Timestamp):
        return pd.Timestamp(a) == pd.Timestamp(b)
    return a == b


def test_store_contract_keeps_the_latest_event_time(online_backend, workspace_root):
    store = open_online_store(workspace_root)
    assert isinstance(store, OnlineStore)
    table = f"contract_{online_backend}"
    store.drop(table)
    key = encode_key([7])
    store.write(table, [(key, 20.0, encode_row({"v": "new"}))])
    store.write(table, [(key, 10.0, encode_row({"v": "old"}))])  # older: ignored
    assert decode_row(store.read(table, [key])[0]) == {"v": "new"}
    store.write(table, [(key, 20.0, encode_row({"v": "same time, later write"}))])
    assert decode_row(store.read(table, [key])[0]) == {"v": "same time, later write"}
    assert store.read(table, [encode_key([8]), key])[0] is None
    store.drop(table)
    assert store.read(table, [key]) == [None]
    assert encode_key([7.0]) == encode_key([7]) != encode_key(["7"])


def test_online_vectors_equal_offline_latest_commit(online_backend, fs, titanic):
    fg = fs.create_feature_group("titanic", primary_key=["PassengerId"], online=True)
    fg.insert(titanic.iloc[:600])
    update = titanic.iloc[500:].copy()
    update["Fare"] = update["Fare"] * 2
    fg.insert(update)
    fv = fs.create_feature_view(
        "survival",
        fg.select(["PassengerId", "Pclass", "Sex", "Age", "Fare", "Survived"]),
        labels=["Survived"],
    )
    offline = fg.read().to_pandas().set_index("PassengerId")
    keys = [{"PassengerId": int(k)} for k in titanic.PassengerId]
    vectors = fv.get_feature_vectors(keys)
    assert len(vectors) == 891
    for key, vec in zip(keys, vectors, strict=True):
        row = offline.loc[key["PassengerId"]]
        assert set(vec) == {"PassengerId", "Pclass", "Sex", "Age", "Fare"}
        for col in ("Pclass", "Sex", "Age", "Fare"):
            assert _same(vec[col], row[col]), (key, col, vec[col], row[col])
    assert fv.get_feature_vector({"PassengerId": 510})["Fare"] == pytest.approx(
        titanic.set_index("PassengerId").loc[510, "Fare"] * 2
    )
    assert fv.get_feature_vector({"PassengerId": 10_000}) is None
    assert fg.materialize() == 891
    assert fv.get_feature_vectors(keys[:5]) == vectors[:5]


def test_online_keeps_latest_event_time_and_serves_joined_views(online_backend, fs, chip_features):
    chips = fs.create_feature_group(
        "chips", primary_key=["chip_id"], event_time="time", online=True
    )
    chips.insert(chip_features)
    older = chip_features.head(5).copy()
    older["time"] = older["time"] - pd.Timedelta(days=30)
    older["vv_mean_db"] = 99.0
    chips.insert(older)  # new (key, time) rows offline; older, so online keeps the current
    stats = chip_features.groupby("ship_class", as_index=False).agg(
        time=("time", "max"), class_vv=("vv_mean_db", "mean")
    )
    classes = fs.create_feature_group(
        "classes", primary_key=["ship_class"], event_time="time", online=True
    )
    classes.insert(stats)
    fv = fs.create_feature_view(
        "ships",
        chips.select(["chip_id", "ship_class", "vv_mean_db"]).join(
            classes.select(["class_vv"]), on="ship_class"
        ),
    )
    vec = fv.get_feature_vector({"chip_id": 0})
    row = chip_features.iloc[0]
    stored = chips.get_online_rows([{"chip_id": 0}])[0]
    assert pd.Timestamp(stored["time"]) == row["time"]  # timestamps round-trip exactly
    assert stored["scene"] == row["scene"]
    assert vec["vv_mean_db"] == pytest.approx(row["vv_mean_db"])
    assert vec["class_vv"] == pytest.approx(
        stats.set_index("ship_class").loc[row["ship_class"], "class_vv"]
    )
    offline = chips.read().to_pandas()
    latest = offline.sort_values("time").groupby("chip_id").last()
    vectors = fv.get_feature_vectors([{"chip_id": int(i)} for i in latest.index])
    assert [v["vv_mean_db"] for v in vectors] == pytest.approx(latest["vv_mean_db"].tolist())
    offline_only = fs.create_feature_group("cold", primary_key=["chip_id"])
    offline_only.insert(chip_features[["chip_id", "height"]])
    with pytest.raises(OnlineStoreError, match="not online"):
        fs.create_feature_view("cold_view", offline_only.select_all()).get_feature_vector(
            {"chip_id": 1}
        )
