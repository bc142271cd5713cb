"""Search spaces: typed parameters, random sampling by seed, grid enumeration, JSON form."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any, ClassVar

import numpy as np

from eo_ray._params import invalid
from eo_ray.hpo.errors import SearchSpaceError

Value = Any


class Parameter(ABC):
    """One dimension of a search space."""

    kind: ClassVar[str]

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Value:
        """A random value drawn with ``rng``."""

    @abstractmethod
    def grid(self, points: int) -> list[Value]:
        """Values to enumerate in a grid (``points`` for continuous ranges)."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (see :meth:`SearchSpace.from_dict`)."""

    def contains(self, value: Value) -> bool:
        """Whether ``value`` is a possible value of this parameter."""
        return value in self.grid(0)


def _number(name: str, owner: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(SearchSpaceError, name, owner, "a finite number", value)
    return value


@dataclass(frozen=True)
class Double(Parameter):
    """A real number in ``[low, high]``, uniform or (``log=True``) log-uniform."""

    low: float
    high: float
    log: bool = False
    kind: ClassVar[str] = "double"

    def __post_init__(self) -> None:
        low, high = _number("low", "Double", self.low), _number("high", "Double", self.high)
        if low >= high:
            raise invalid(SearchSpaceError, "high", "Double", f"above low ({low!r})", high)
        if self.log and low <= 0:
            raise invalid(SearchSpaceError, "low", "Double(log=True)", "above 0", low)

    def sample(self, rng: np.random.Generator) -> float:
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def grid(self, points: int) -> list[float]:
        points = max(points, 2)
        if self.log:
            return [float(v) for v in np.geomspace(self.low, self.high, points)]
        return [float(v) for v in np.linspace(self.low, self.high, points)]

    def contains(self, value: Value) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class Integer(Parameter):
    """An integer in ``[low, high]`` (both included), uniform or log-uniform."""

    low: int
    high: int
    log: bool = False
    kind: ClassVar[str] = "integer"

    def __post_init__(self) -> None:
        for label, v in (("low", self.low), ("high", self.high)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer):
                raise invalid(SearchSpaceError, label, "Integer", "an integer", v)
        if self.low >= self.high:
            expected = f"above low ({self.low!r})"
            raise invalid(SearchSpaceError, "high", "Integer", expected, self.high)
        if self.log and self.low <= 0:
            raise invalid(SearchSpaceError, "low", "Integer(log=True)", "above 0", self.low)

    def sample(self, rng: np.random.Generator) -> int:
        if self.log:
            v = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
            return int(min(max(math.floor(v), self.low), self.high))
        return int(rng.integers(self.low, self.high + 1))

    def grid(self, points: int) -> list[int]:
        count = self.high - self.low + 1
        if points <= 0 or count <= points:
            return list(range(self.low, self.high + 1))
        return sorted({round(v) for v in np.linspace(self.low, self.high, points)})

    def contains(self, value: Value) -> bool:
        return isinstance(value, int | np.integer) and self.low <= value <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "low": int(self.low), "high": int(self.high), "log": self.log}


def _values(kind: str, values: Sequence[Value]) -> tuple[Value, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise invalid(SearchSpaceError, "values", kind, "a list of values", values)
    out = tuple(v.item() if isinstance(v, np.generic) else v for v in values)
    if not out:
        raise invalid(SearchSpaceError, "values", kind, "a list of at least one value", [])
    for v in out:
        if not isinstance(v, str | int | float | bool) and v is not None:
            expected = "numbers, strings, booleans or None"
            raise invalid(SearchSpaceError, "values", kind, expected, v)
    if len(set(out)) != len(out):
        raise invalid(SearchSpaceError, "values", kind, "distinct values", list(out))
    return out


@dataclass(frozen=True, init=False)
class Discrete(Parameter):
    """One of a list of numbers (ordered, e.g. layer widths ``[32, 64, 128]``)."""

    values: tuple[float, ...]
    kind: ClassVar[str] = "discrete"

    def __init__(self, values: Sequence[float]) -> None:
        out = _values("Discrete", values)
        for v in out:
            _number("values", "Discrete", v)
        object.__setattr__(self, "values", tuple(sorted(out)))

    def sample(self, rng: np.random.Generator) -> float:
        return self.values[int(rng.integers(len(self.values)))]

    def grid(self, points: int) -> list[float]:
        return list(self.values)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "values": list(self.values)}


@dataclass(frozen=True, init=False)
class Categorical(Parameter):
    """One of a list of unordered choices (strings, numbers, booleans)."""

    choices: tuple[Value, ...]
    kind: ClassVar[str] = "categorical"

    def __init__(self, choices: Sequence[Value]) -> None:
        object.__setattr__(self, "choices", _values("Categorical", choices))

    def sample(self, rng: np.random.Generator) -> Value:
        return self.choices[int(rng.integers(len(self.choices)))]

    def grid(self, points: int) -> list[Value]:
        return list(self.choices)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "choices": list(self.choices)}


_KINDS: dict[str, type[Parameter]] = {
    cls.kind: cls for cls in (Double, Integer, Discrete, Categorical)
}


class SearchSpace(Mapping[str, Parameter]):
    """Named parameters to search over, e.g.
    ``SearchSpace(lr=Double(1e-4, 1e-1, log=True), units=Discrete([32, 64]))``."""

    def __init__(self, params: Mapping[str, Parameter] | None = None, **kwargs: Parameter):
        merged = {**(params or {}), **kwargs}
        if not merged:
            raise SearchSpaceError(
                "The search space is empty: give at least one parameter, "
                "e.g. SearchSpace(lr=Double(1e-4, 1e-1, log=True))."
            )
        for name, param in merged.items():
            if not isinstance(name, str) or not name.isidentifier():
                expected = "Python identifiers as parameter names"
                raise invalid(SearchSpaceError, "params", "SearchSpace", expected, name)
            if not isinstance(param, Parameter):
                expected = "a Double, Integer, Discrete or Categorical"
                raise invalid(SearchSpaceError, name, "SearchSpace", expected, param)
        self._params = dict(merged)

    def __getitem__(self, name: str) -> Parameter:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"SearchSpace({inner})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and other._params == self._params

    __hash__ = None  # type: ignore[assignment]

    def sample(self, seed: int | Sequence[int] | np.random.Generator | None = None) -> dict:
        """One random point; the same ``seed`` gives the same point."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        return {name: param.sample(rng) for name, param in self._params.items()}

    def grid(self, points: int = 5) -> list[dict]:
        """Every combination of grid values (``points`` per continuous range)."""
        names = list(self._params)
        axes = [self._params[n].grid(points) for n in names]
        return [dict(zip(names, combo, strict=True)) for combo in product(*axes)]

    def grid_size(self, points: int = 5) -> int:
        """How many points :meth:`grid` enumerates."""
        return math.prod(len(p.grid(points)) for p in self._params.values())

    def validate(self, hparams: Mapping[str, Value]) -> None:
        """Raise SearchSpaceError unless ``hparams`` is a point of this space."""
        missing = [n for n in self._params if n not in hparams]
        if missing:
            raise SearchSpaceError(f"Hyperparameters {missing} of the space are missing.")
        for name, param in self._params.items():
            if not param.contains(hparams[name]):
                raise SearchSpaceError(
                    f"Hyperparameter {name}={hparams[name]!r} is outside {param!r}."
                )

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """JSON-ready form: ``{"lr": {"type": "double", "low": ..., ...}, ...}``."""
        return {name: param.to_dict() for name, param in self._params.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> SearchSpace:
        """The inverse of :meth:`to_dict`."""
        params = {}
        for name, spec in data.items():
            spec = dict(spec)
            kind = spec.pop("type", None)
            if kind not in _KINDS:
                raise SearchSpaceError(
                    f"Parameter {name!r} has unknown type {kind!r}; expected one of "
                    f"{sorted(_KINDS)}."
                )
            params[name] = _KINDS[kind](**spec)
        return cls(params)
