"""Expectation suites: Great Expectations JSON form, vectorised evaluation (no Ray)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from eo_ray.featurestore import Expectation, ExpectationSuite, FeatureStoreError
from eo_ray.featurestore.expectations import validate
from eo_ray.featurestore.schema import normalise_table


@pytest.fixture(scope="module")
def table(titanic):
    return normalise_table(pa.Table.from_pandas(titanic, preserve_index=False))


def _run(table, expectation_type, **kwargs):
    suite = ExpectationSuite("s", [Expectation(expectation_type, kwargs)])
    return validate(suite, table, table.schema).results[0]


def test_suite_round_trips_through_great_expectations_json():
    doc = {
        "expectation_suite_name": "titanic",
        "expectations": [
            {
                "expectation_type": "expect_column_values_to_be_between",
                "kwargs": {"column": "Age", "min_value": 0, "max_value": 100},
                "meta": {"notes": "ages are plausible"},
            }
        ],
        "meta": {},
    }
    suite = ExpectationSuite.from_dict(json.loads(json.dumps(doc)))
    assert suite.to_dict() == doc
    assert ExpectationSuite.from_dict(json.loads(suite.to_json())).to_dict() == doc


def test_unknown_expectation_type_is_rejected():
    message = "'expectation_type' parameter of Expectation must be one of"
    with pytest.raises(FeatureStoreError, match=message):
        Expectation("expect_column_to_be_pretty", {"column": "Age"})


def test_values_between_counts_failures_and_gives_examples(table, titanic):
    r = _run(table, "expect_column_values_to_be_between", column="Age", min_value=1, max_value=70)
    ages = titanic["Age"].dropna()
    expected = int(((ages < 1) | (ages > 70)).sum())
    assert not r.success
    assert r.unexpected_count == expected
    assert all(v < 1 or v > 70 for v in r.partial_unexpected_list)
    assert r.unexpected_percent == pytest.approx(100 * expected / len(ages))


def test_mostly_tolerates_a_fraction(table):
    r = _run(
        table,
        "expect_column_values_to_be_between",
        column="Age",
        min_value=1,
        max_value=70,
        mostly=0.9,
    )
    assert r.success


def test_not_null_unique_in_set_regex(table, titanic):
    r = _run(table, "expect_column_values_to_not_be_null", column="Age")
    assert not r.success
    assert r.unexpected_count == int(titanic["Age"].isna().sum())
    assert _run(table, "expect_column_values_to_be_unique", column="PassengerId").success
    r = _run(table, "expect_column_values_to_be_unique", column="Ticket")
    assert not r.success
    assert r.partial_unexpected_list
    dup = titanic["Ticket"].value_counts()
    assert set(r.partial_unexpected_list) <= set(dup[dup > 1].index)
    r = _run(table, "expect_column_values_to_be_in_set", column="Embarked", value_set=["S", "C"])
    assert r.unexpected_count == int((titanic["Embarked"] == "Q").sum())
    assert set(r.partial_unexpected_list) == {"Q"}
    r = _run(table, "expect_column_values_to_match_regex", column="Name", regex=r"^[A-Z]")
    assert r.unexpected_count == int((~titanic["Name"].str.match(r"^[A-Z]")).sum())


def test_aggregates_row_count_and_type(table, titanic):
    r = _run(table, "expect_column_mean_to_be_between", column="Fare", min_value=30, max_value=35)
    assert r.success
    assert r.observed_value == pytest.approx(titanic["Fare"].mean())
    r = _run(table, "expect_column_max_to_be_between", column="Age", max_value=60)
    assert not r.success
    assert r.observed_value == 80
    assert _run(table, "expect_column_min_to_be_between", column="Fare", min_value=0).success
    assert _run(table, "expect_table_row_count_to_be_between", min_value=800, max_value=900).success
    assert not _run(table, "expect_table_row_count_to_be_between", max_value=100).success
    assert _run(table, "expect_column_values_to_be_of_type", column="Age", type_="float64").success
    assert not _run(
        table, "expect_column_values_to_be_of_type", column="Age", type_="string"
    ).success


def test_missing_column_fails_the_expectation(table):
    r = _run(table, "expect_column_values_to_not_be_null", column="nope")
    assert not r.success
    assert "missing" in r.observed_value
