"""Random splits of training datasets, plain and stratified by a column (pure logic)."""

from __future__ import annotations

import numpy as np

from eo_ray.featurestore.training import assign_random


def test_stratified_split_takes_each_class_share_and_the_requested_size():
    labels = np.array([0] * 194 + [1] * 112 + [2] * 45)
    split = assign_random(len(labels), {"test": 0.2}, seed=4, strata=labels)
    test = split == "test"
    assert test.sum() == round(0.2 * len(labels))
    assert [int((labels[test] == c).sum()) for c in range(3)] == [39, 22, 9]


def test_stratified_split_depends_on_the_seed_only():
    labels = np.repeat(["a", "b"], [30, 20])
    first = assign_random(50, {"test": 0.2}, seed=1, strata=labels)
    assert (first == assign_random(50, {"test": 0.2}, seed=1, strata=labels)).all()
    assert (first != assign_random(50, {"test": 0.2}, seed=2, strata=labels)).any()


def test_plain_split_is_unchanged_by_the_stratify_option():
    expected = np.full(20, "train", dtype=object)
    expected[np.random.default_rng(7).permutation(20)[:5]] = "test"
    assert (assign_random(20, {"test": 0.25}, seed=7) == expected).all()
