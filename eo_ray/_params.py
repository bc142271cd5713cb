"""One validation path for the arguments of every stage, with one message shape.

Every bad argument is reported as (after scikit-learn's parameter checks)::

    The 'mode' parameter of search must be one of {'max', 'min'}; got 'maximum'.

Each stage passes its own error class, which derives from both its stage error (an
:class:`~eo_ray.errors.EoRayError`, printed by the CLI as one line) and ``ValueError`` or
``TypeError``. The checkers return the value, so they read as assignments::

    mode = one_of(mode, ("max", "min"), name="mode", owner="search", error=SearchConfigError)
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

E = TypeVar("E", bound=Exception)
T = TypeVar("T")

MODES = ("max", "min")
"""The directions of a metric: every ``mode=`` parameter takes one of these."""


def message(name: str, owner: str, expected: str, got: object) -> str:
    """The one sentence of a bad argument: what was expected, and what was given."""
    return f"The {name!r} parameter of {owner} must be {expected}; got {got!r}."


def invalid(error: type[E], name: str, owner: str, expected: str, got: object) -> E:
    """An ``error`` for the parameter ``name`` of ``owner`` (raise it)."""
    return error(message(name, owner, expected, got))


def choices(values: Iterable[object]) -> str:
    """``{'a', 'b'}``: allowed values in a stable, readable order."""
    return "{" + ", ".join(repr(v) for v in sorted(values, key=str)) + "}"


def one_of(value: T, allowed: Iterable[object], *, name: str, owner: str, error: type[E]) -> T:
    """``value`` when it is one of ``allowed``; else raise ``error``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise invalid(error, name, owner, f"one of {choices(allowed)}", value)
    return value


def metric_mode(value: str, *, owner: str, error: type[E], name: str = "mode") -> str:
    """A metric direction, ``'max'`` or ``'min'``."""
    return one_of(value, MODES, name=name, owner=owner, error=error)


def positive_int(value: object, *, name: str, owner: str, error: type[E], minimum: int = 1) -> int:
    """``value`` when it is an int (not a bool) of at least ``minimum``; else raise ``error``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        expected = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise invalid(error, name, owner, expected, value)
    return value


def in_range(
    value: object,
    low: float,
    high: float,
    *,
    name: str,
    owner: str,
    error: type[E],
    inclusive: bool = True,
) -> float:
    """``value`` when it is a number between ``low`` and ``high``; else raise ``error``.

    With ``inclusive=False`` both bounds are excluded.
    """
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    inside = number and (
        low <= value <= high if inclusive else low < value < high  # type: ignore[operator]
    )
    if not inside:
        bounds = f"[{low}, {high}]" if inclusive else f"({low}, {high})"
        raise invalid(error, name, owner, f"a number in {bounds}", value)
    return value  # type: ignore[return-value]


def of_type(
    value: object, types: type | tuple[type, ...], *, name: str, owner: str, error: type[E]
) -> Any:
    """``value`` when it is an instance of ``types``; else raise ``error`` (a TypeError kind)."""
    if not isinstance(value, types):
        wanted = types if isinstance(types, tuple) else (types,)
        expected = " or ".join(f"a {t.__name__}" for t in wanted)
        raise invalid(error, name, owner, expected, value)
    return value


F = TypeVar("F", bound=Callable[..., Any])


def renamed_keywords(**old_to_new: str) -> Callable[[F], F]:
    """Keep former keyword names working for one release, with a DeprecationWarning::

    @renamed_keywords(workspace="ws")
    def scan(paths, *, ws=None): ...
    """

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(
                        f"{fn.__qualname__}() takes {new}= only; {old}= is its old name."
                    )
                warnings.warn(
                    f"{fn.__qualname__}({old}=...) is deprecated; use {new}=.",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return call  # type: ignore[return-value]

    return wrap
