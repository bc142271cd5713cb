"""Steps and the DAG they form: definition and validation, no execution."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eo_ray.pipelines.errors import PipelineDefinitionError
from eo_ray.storage import validate_name


@dataclass(frozen=True)
class Step:
    """One named step: a Python callable or a command line, with its execution policy.

    A callable receives the outputs of the steps it depends on as keyword arguments named
    after them, plus ``ctx`` (a :class:`StepContext`) if it declares that parameter. A
    command is a list of arguments in which ``{run_dir}``, ``{step}`` and ``{<dep>}`` (a
    dependency's output) are substituted; its output is its stdout.
    """

    name: str
    fn: Callable[..., Any] | None = None
    command: tuple[str, ...] | None = None
    depends_on: tuple[str, ...] = ()
    retries: int = 0
    backoff_s: float = 1.0
    backoff_factor: float = 2.0
    timeout_s: float | None = None
    resources: dict[str, float] = field(default_factory=lambda: {"CPU": 1.0})

    def __post_init__(self) -> None:
        validate_name(self.name, "step")
        if (self.fn is None) == (self.command is None):
            raise PipelineDefinitionError(
                f"Step {self.name!r} needs exactly one of fn= (a callable) or command= (a list)."
            )
        if self.retries < 0 or self.backoff_s < 0 or self.backoff_factor < 1:
            raise PipelineDefinitionError(
                f"Step {self.name!r}: retries and backoff_s must be >= 0 and backoff_factor >= 1."
            )
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise PipelineDefinitionError(f"Step {self.name!r}: timeout_s must be positive.")
        if self.fn is not None:
            params = inspect.signature(self.fn).parameters
            accepts_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
            missing = [d for d in self.depends_on if d not in params and not accepts_any]
            if missing:
                raise PipelineDefinitionError(
                    f"Step {self.name!r} depends on {missing} but its function has no parameter "
                    "of that name to receive the output; add one (or **outputs)."
                )

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before ``attempt`` (1-based): exponential back-off after failures."""
        return 0.0 if attempt <= 1 else self.backoff_s * self.backoff_factor ** (attempt - 2)


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
