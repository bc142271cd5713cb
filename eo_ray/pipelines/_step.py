"""One step of a pipeline: a callable or a command line, with its execution policy."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eo_ray._params import invalid
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
            owner, expected = f"step {self.name!r}", "a positive number of seconds or None"
            raise invalid(PipelineDefinitionError, "timeout_s", owner, expected, self.timeout_s)
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
