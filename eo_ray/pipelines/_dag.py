"""The DAG that steps form: definition and validation; :meth:`Pipeline.run` hands it to the
runner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eo_ray.pipelines._step import Step
from eo_ray.pipelines.errors import PipelineDefinitionError
from eo_ray.storage import validate_name


class Pipeline:
    """A DAG of named steps, run on Ray with :meth:`run`.

    ``@pipeline.step(depends_on=[...], retries=2, timeout_s=600, resources={"CPU": 2})``
    adds a function; ``pipeline.add(Step(...))`` adds any step, command steps included.
    """

    def __init__(self, name: str, steps: Sequence[Step] = ()) -> None:
        self.name = validate_name(name, "pipeline")
        self._steps: dict[str, Step] = {}
        for step in steps:
            self.add(step)

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, steps={list(self._steps)})"

    @property
    def steps(self) -> dict[str, Step]:
        """The steps by name, in insertion order."""
        return dict(self._steps)

    def add(self, step: Step) -> Step:
        """Add ``step``; its dependencies must already be in the pipeline (so no cycles)."""
        if step.name in self._steps:
            raise PipelineDefinitionError(
                f"Pipeline {self.name!r} already has a step {step.name!r}."
            )
        unknown = [d for d in step.depends_on if d not in self._steps]
        if unknown:
            raise PipelineDefinitionError(
                f"Step {step.name!r} depends on unknown step(s) {unknown}; add them first."
            )
        self._steps[step.name] = step
        return step

    def step(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        depends_on: Sequence[str] = (),
        **policy: Any,
    ) -> Any:
        """Decorator adding a function as a step (``name`` defaults to the function's)."""

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            self.add(Step(name or func.__name__, fn=func, depends_on=tuple(depends_on), **policy))
            return func

        return register(fn) if fn is not None else register

    def command(
        self, name: str, argv: Sequence[str], *, depends_on: Sequence[str] = (), **policy: Any
    ) -> Step:
        """Add a command-line step (any executable; its stdout is its output)."""
        return self.add(Step(name, command=tuple(argv), depends_on=tuple(depends_on), **policy))

    def order(self) -> list[str]:
        """Step names in a valid execution order (insertion order is already topological)."""
        return list(self._steps)

    def downstream(self, name: str) -> set[str]:
        """Every step that depends on ``name``, directly or not."""
        found: set[str] = set()
        for other in self._steps.values():
            if name in other.depends_on or found & set(other.depends_on):
                found.add(other.name)
        return found

    def run(self, **kwargs: Any) -> Any:
        """Execute the pipeline on Ray; see :func:`eo_ray.pipelines.run`."""
        from eo_ray.pipelines._runner import run

        return run(self, **kwargs)
