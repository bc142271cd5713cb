"""One validation path: every stage reports a bad argument in one message shape, with an error
that is both the stage's error and a ValueError/TypeError, and the CLI prints it as one line."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

import pytest

import eo_ray as eo
from eo_ray import _params
from eo_ray.errors import EoRayError

SHAPE = re.compile(r"^The '[\w\[\]']+' parameter of [\w.]+ must be .+; got .+\.$", re.DOTALL)


def _fn(hparams, reporter):
    return 0.5


def _hpo_mode() -> None:
    from eo_ray.hpo import Double, SearchSpace

    eo.hpo.search(_fn, SearchSpace(x=Double(0, 1)), 2, mode="maximum")


def _ablation_mode() -> None:
    eo.ablation.run(_fn, eo.ablation.AblationStudy("study"), mode="maximum")


def _train_mode() -> None:
    eo.train.fit(_fn, mode="maximum")


def _models_mode() -> None:
    eo.models.best("any", "accuracy", mode="maximum")


def _train_ps_shards() -> None:
    from eo_ray.train.parameter_server._partition import partition

    partition({"w": 4}, 0)


def _featurestore_expectation() -> None:
    eo.featurestore.Expectation("expect_column_to_be_pretty", {"column": "x"})


def _ingest_decibel() -> None:
    from eo_ray.ingest.preprocess import ToDecibel

    ToDecibel(floor=-1)


def _mapping_model() -> None:
    eo.mapping.predict(3, [], "out")


def _hpo_result_plot() -> None:
    from eo_ray.hpo._result import SearchResult

    SearchResult(None, "accuracy", "max", (), 0.0, 1, 0.0).plot()


CASES: dict[str, tuple[Callable[[], None], str, type[Exception]]] = {
    "hpo.search mode": (_hpo_mode, "The 'mode' parameter of search", ValueError),
    "ablation.run mode": (_ablation_mode, "The 'mode' parameter of ablation.run", ValueError),
    "train.fit mode": (_train_mode, "The 'mode' parameter of fit", ValueError),
    "models.best mode": (_models_mode, "The 'mode' parameter of models.best", ValueError),
    "parameter server": (_train_ps_shards, "The 'num_shards' parameter", ValueError),
    "feature store": (_featurestore_expectation, "The 'expectation_type'", ValueError),
    "ingest": (_ingest_decibel, "The 'floor' parameter of ToDecibel", ValueError),
    "mapping": (_mapping_model, "The 'model' parameter of predict", ValueError),
    "hpo result": (_hpo_result_plot, "The 'folder' parameter of SearchResult.plot", ValueError),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_stage_reports_bad_arguments_in_one_shape(case: str) -> None:
    call, start, kind = CASES[case]
    with pytest.raises(EoRayError) as caught:
        call()
    assert isinstance(caught.value, kind)
    message = str(caught.value)
    assert message.startswith(start)
    assert SHAPE.match(message), message


def test_the_mode_check_names_the_choices_and_the_value() -> None:
    class BadModeError(EoRayError, ValueError):
        pass

    with pytest.raises(BadModeError) as caught:
        _params.metric_mode("maximum", owner="search", error=BadModeError)
    expected = "The 'mode' parameter of search must be one of {'max', 'min'}; got 'maximum'."
    assert str(caught.value) == expected


@pytest.mark.parametrize(
    ("check", "got"),
    [
        (lambda e: _params.positive_int(0, name="n", owner="f", error=e), "0"),
        (lambda e: _params.positive_int(True, name="n", owner="f", error=e), "True"),
        (lambda e: _params.in_range(1.5, 0, 1, name="p", owner="f", error=e), "1.5"),
        (lambda e: _params.in_range(0, 0, 1, name="p", owner="f", error=e, inclusive=False), "0"),
        (lambda e: _params.of_type([], dict, name="c", owner="f", error=e), "[]"),
        (lambda e: _params.one_of("c", ("a", "b"), name="k", owner="f", error=e), "'c'"),
    ],
)
def test_checkers_refuse_in_the_one_shape(check, got) -> None:
    with pytest.raises(ValueError, match="parameter of f must be") as caught:
        check(ValueError)
    assert SHAPE.match(str(caught.value))
    assert str(caught.value).endswith(f"; got {got}.")


def test_checkers_return_good_values() -> None:
    assert _params.positive_int(3, name="n", owner="f", error=ValueError) == 3
    assert _params.positive_int(0, name="n", owner="f", error=ValueError, minimum=0) == 0
    assert _params.in_range(1, 0, 1, name="p", owner="f", error=ValueError) == 1
    assert _params.one_of("a", ("a", "b"), name="k", owner="f", error=ValueError) == "a"


def test_the_cli_prints_a_bad_argument_as_one_red_line_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "eo_ray.cli", "models", "best", "any", "--mode", "maximum"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "error: The 'mode' parameter of models.best must be one of {'max', 'min'}; got 'maximum'."
    ]
