"""Search spaces: validation, sampling by seed, grids, JSON round trip."""

from __future__ import annotations

import json

import pytest

from eo_ray.hpo import Categorical, Discrete, Double, Integer, SearchSpace, SearchSpaceError

SPACE = SearchSpace(
    lr=Double(1e-4, 1e-1, log=True),
    kernel=Integer(2, 8),
    opt=Categorical(["adam", "sgd"]),
    units=Discrete([128, 32, 64]),
)


def test_sampling_is_seeded_and_inside_the_space():
    assert SPACE.sample(42) == SPACE.sample(42)
    points = [SPACE.sample(seed) for seed in range(200)]
    for p in points:
        SPACE.validate(p)
    assert {p["kernel"] for p in points} == set(range(2, 9))
    assert {p["units"] for p in points} == {32, 64, 128}
    lrs = sorted(p["lr"] for p in points)
    assert lrs[0] < 1e-3 < lrs[-1]  # log-uniform reaches the low decade


def test_grid_enumerates_all_combinations():
    grid = SPACE.grid(points=3)
    assert len(grid) == SPACE.grid_size(3) == 3 * 3 * 2 * 3
    assert {g["units"] for g in grid} == {32, 64, 128}
    assert sorted({g["lr"] for g in grid}) == pytest.approx([1e-4, 10**-2.5, 1e-1])
    assert SearchSpace(k=Integer(2, 4)).grid(points=10) == [{"k": 2}, {"k": 3}, {"k": 4}]


def test_json_round_trip():
    data = json.loads(json.dumps(SPACE.to_dict()))
    assert SearchSpace.from_dict(data) == SPACE


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: SearchSpace(), "empty"),
        (
            lambda: SearchSpace(x=Double(1.0, 1.0)),
            r"The 'high' parameter of Double must be above low \(1.0\); got 1.0\.",
        ),
        (lambda: SearchSpace(x=Double(0.0, 1.0, log=True)), "must be above 0; got 0.0"),
        (lambda: SearchSpace(x=Double(0.0, float("nan"))), "finite number"),
        (lambda: SearchSpace(x=Integer(1.5, 3)), "'low' parameter of Integer must be an integer"),
        (lambda: SearchSpace(x=Integer(5, 2)), r"must be above low \(5\); got 2"),
        (lambda: SearchSpace(x=Categorical([])), "at least one value"),
        (lambda: SearchSpace(x=Categorical(["a", "a"])), "distinct"),
        (lambda: SearchSpace(x=Categorical("abc")), "list of values"),
        (lambda: SearchSpace(x=Discrete(["a"])), "finite number"),
        (lambda: SearchSpace(x=[1, 2]), "The 'x' parameter of SearchSpace must be a Double"),
        (lambda: SearchSpace({"bad name": Integer(1, 2)}), "identifiers"),
        (lambda: SearchSpace.from_dict({"x": {"type": "gamma"}}), "unknown type"),
    ],
)
def test_invalid_spaces_are_refused_with_a_clear_message(build, message):
    with pytest.raises(SearchSpaceError, match=message):
        build()


def test_validate_names_the_offending_value():
    with pytest.raises(SearchSpaceError, match="kernel=12"):
        SPACE.validate({"lr": 0.01, "kernel": 12, "opt": "adam", "units": 32})
    with pytest.raises(SearchSpaceError, match="missing"):
        SPACE.validate({"lr": 0.01})
