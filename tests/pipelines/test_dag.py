"""Pipeline definitions and their validation; no Ray needed."""

from __future__ import annotations

import pytest

from eo_ray.errors import InvalidNameError
from eo_ray.pipelines import Pipeline, PipelineDefinitionError, Step


def _noop():
    return 1


def test_steps_in_dependency_order_and_downstream():
    pipe = Pipeline("p")
    pipe.add(Step("a", fn=_noop))
    pipe.add(Step("b", fn=lambda a: a, depends_on=("a",)))
    pipe.add(Step("c", fn=_noop))
    pipe.add(Step("d", fn=lambda b, c: b + c, depends_on=("b", "c")))
    assert pipe.order() == ["a", "b", "c", "d"]
    assert pipe.downstream("a") == {"b", "d"}
    assert pipe.downstream("c") == {"d"}
    assert pipe.downstream("d") == set()


def test_decorator_names_the_step_after_the_function():
    pipe = Pipeline("p")

    @pipe.step(retries=2)
    def scan():
        return ["x"]

    @pipe.step(depends_on=["scan"], timeout_s=5, resources={"CPU": 0.5})
    def chips(scan):
        return len(scan)

    assert list(pipe.steps) == ["scan", "chips"]
    assert pipe.steps["scan"].retries == 2
    assert pipe.steps["chips"].resources == {"CPU": 0.5}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.add(Step("b", fn=lambda a: a, depends_on=("a",))), "unknown step"),
        (lambda p: p.add(Step("x", fn=_noop)) and p.add(Step("x", fn=_noop)), "already has"),
        (lambda p: p.add(Step("x", fn=_noop, command=("ls",))), "exactly one"),
        (lambda p: p.add(Step("x")), "exactly one"),
        (lambda p: p.add(Step("x", fn=_noop, retries=-1)), "retries"),
        (lambda p: p.add(Step("x", fn=_noop, timeout_s=0)), "timeout_s"),
    ],
)
def test_invalid_definitions_are_clear_errors(make, message):
    with pytest.raises(PipelineDefinitionError, match=message):
        make(Pipeline("p"))


def test_dependency_without_parameter_is_refused():
    pipe = Pipeline("p")
    pipe.add(Step("a", fn=_noop))
    with pytest.raises(PipelineDefinitionError, match="no parameter"):
        pipe.add(Step("b", fn=_noop, depends_on=("a",)))
    pipe.add(Step("c", fn=lambda **outputs: outputs, depends_on=("a",)))  # **kwargs receives it


def test_names_are_validated():
    with pytest.raises(InvalidNameError):
        Pipeline("../etc")
    with pytest.raises(InvalidNameError):
        Step("a/b", fn=_noop)


def test_exponential_backoff():
    step = Step("s", fn=_noop, retries=3, backoff_s=0.5, backoff_factor=2.0)
    assert [step.delay_before(n) for n in (1, 2, 3, 4)] == [0.0, 0.5, 1.0, 2.0]
