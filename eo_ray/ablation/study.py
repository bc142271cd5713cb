"""The definition of an ablation study: its data, its base model and the components to leave
out (features, layers, layer groups, modules, hand-written model variants)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eo_ray.ablation.errors import StudyError
from eo_ray.storage import validate_name

BASE = "base"


@dataclass(frozen=True)
class Component:
    """One thing a trial leaves out.

    ``kind`` is ``feature`` (one feature or a named group of them), ``layer``, ``layers`` (a
    group of layers, by names or by ``prefix``), ``module`` (the block from ``start`` to
    ``end``, or a named torch submodule) or ``custom`` (``builder`` makes the variant model).
    """

    name: str
    kind: str
    members: tuple[str, ...] = ()
    prefix: str | None = None
    start: str | None = None
    end: str | None = None
    builder: Callable[[], Any] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (the builder by its qualified name)."""
        data: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.members:
            data["members"] = list(self.members)
        for key in ("prefix", "start", "end"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.builder is not None:
            data["builder"] = getattr(self.builder, "__qualname__", repr(self.builder))
        return data


def _names(values: Iterable[Any], what: str) -> tuple[str, ...]:
    names = tuple(values)
    for name in names:
        if not isinstance(name, str) or not name:
            raise StudyError(f"{what} must be given by non-empty string names; got {name!r}.")
    return names


class _Registry:
    """Components of one kind, in the order they were included."""

    def __init__(self, study: AblationStudy) -> None:
        self._study = study

    def _add(self, component: Component) -> None:
        self._study._add(component)


class Features(_Registry):
    """``study.features``: features to leave out, one by one or as named groups."""

    def include(self, *names: str, **groups: Sequence[str]) -> Features:
        """Ablate each feature in ``names`` alone and each keyword group together, e.g.
        ``include("age", "fare", family=["sibsp", "parch"])``."""
        for name in _names(names, "Features"):
            self._add(Component(name, "feature", (name,)))
        for group, members in groups.items():
            if isinstance(members, str) or not members:
                raise StudyError(
                    f"The feature group {group!r} must be a non-empty list of feature names; "
                    f"got {members!r}."
                )
            self._add(Component(group, "feature", _names(members, f"Group {group!r}")))
        return self

    @property
    def components(self) -> list[Component]:
        """The included feature components."""
        return [c for c in self._study.components if c.kind == "feature"]


class Layers(_Registry):
    """``study.model.layers``: layers to leave out alone or in groups."""

    def include(self, *names: str) -> Layers:
        """Ablate each named layer alone (Keras layer names or torch submodule paths)."""
        for name in _names(names, "Layers"):
            self._add(Component(name, "layer", (name,)))
        return self

    def include_groups(
        self,
        groups: Sequence[Sequence[str]] | Sequence[str] | None = None,
        *,
        prefix: str | None = None,
        name: str | None = None,
    ) -> Layers:
        """Ablate layers together: ``include_groups(["conv_1", "conv_2"])`` (one group),
        ``include_groups([["a", "b"], ["c", "d"]])`` (several) or every layer whose name
        starts with ``prefix`` (``include_groups(prefix="conv")``)."""
        if (groups is None) == (prefix is None):
            raise StudyError("include_groups needs either a list of layer names or prefix=...")
        if prefix is not None:
            _names([prefix], "The prefix")
            self._add(Component(name or f"{prefix}*", "layers", prefix=prefix))
            return self
        if isinstance(groups, str) or not groups:
            raise StudyError(
                f"include_groups needs a non-empty list of layer names; got {groups!r}."
            )
        nested = [groups] if all(isinstance(g, str) for g in groups) else list(groups)
        if name is not None and len(nested) > 1:
            raise StudyError("name= applies to a single group; give one list of layer names.")
        for group in nested:
            if isinstance(group, str) or len(group) < 2:
                raise StudyError(
                    f"A layer group needs at least two layer names; got {group!r} "
                    "(use layers.include for a single layer)."
                )
            members = _names(group, "Layer groups")
            self._add(Component(name or "+".join(members), "layers", members))
        return self


class Modules(_Registry):
    """``study.model.modules``: blocks to leave out."""

    def include(
        self, *names: str, start: str | None = None, end: str | None = None, name: str | None = None
    ) -> Modules:
        """Ablate the Keras block that begins after layer ``start`` and ends with layer ``end``
        (one entry, one exit: an Inception-style module), or torch submodules by path."""
        for module in _names(names, "Modules"):
            self._add(Component(module, "module", (module,)))
        if start is not None or end is not None:
            if not start or not end:
                raise StudyError("A Keras module needs both start= and end= layer names.")
            _names([start, end], "Module bounds")
            self._add(Component(name or f"{start}..{end}", "module", start=start, end=end))
        elif not names:
            raise StudyError("modules.include needs submodule names or start= and end=.")
        return self


class Model:
    """``study.model``: the base model and what to remove from it."""

    def __init__(self, study: AblationStudy) -> None:
        self._study = study
        self.builder: Callable[[], Any] | None = None
        self.example_input: Any = None
        self.layers = Layers(study)
        self.modules = Modules(study)

    def set_base_model(self, builder: Callable[[], Any], example_input: Any = None) -> Model:
        """The zero-argument function that builds a fresh base model (Keras or torch);
        for torch, ``example_input`` (a batch tensor) lets the surgery check shapes."""
        if not callable(builder):
            raise StudyError(f"The base model must be a function that builds it; got {builder!r}.")
        self.builder = builder
        self.example_input = example_input
        return self

    def add_custom(self, builder: Callable[[], Any], name: str) -> Model:
        """A hand-written variant of the model, trained as its own trial."""
        if not callable(builder):
            raise StudyError(f"A custom model must be a function that builds it; got {builder!r}.")
        self._study._add(Component(name, "custom", builder=builder))
        return self


class AblationStudy:
    """What to ablate, on which data.

    ``data`` is a pandas DataFrame holding ``label``, a feature view (its label by default),
    a zero-argument function returning such a DataFrame (called once on each worker), or
    None when the training function loads its own data (model-only studies)::

        study = AblationStudy("titanic", data=df, label="survived")
        study.features.include("pclass", "sex", family=["sibsp", "parch"])
        study.model.set_base_model(build_model)
        study.model.layers.include("dense_2")
    """

    def __init__(self, name: str, data: Any = None, label: str | None = None) -> None:
        self.name = validate_name(name, "ablation study")
        self.data = data
        self.label = label
        self.components: list[Component] = []
        self.features = Features(self)
        self.model = Model(self)
        if data is not None and label is None and not _is_feature_view(data):
            raise StudyError("Give label= the name of the label column of the study's data.")
        if label is not None and (not isinstance(label, str) or not label):
            raise StudyError(f"label must be a column name; got {label!r}.")

    def __repr__(self) -> str:
        return f"AblationStudy({self.name!r}, components={[c.name for c in self.components]})"

    def _add(self, component: Component) -> None:
        if not isinstance(component.name, str) or not component.name:
            raise StudyError(f"Component names must be non-empty strings; got {component.name!r}.")
        if component.name == BASE:
            raise StudyError(f"{BASE!r} names the base trial; give the component another name.")
        if any(c.name == component.name for c in self.components):
            raise StudyError(f"The study already has a component named {component.name!r}.")
        self.components.append(component)

    def component(self, name: str) -> Component:
        """The component called ``name``."""
        for comp in self.components:
            if comp.name == name:
                return comp
        raise StudyError(f"The study has no component {name!r}.")

    def validate(self) -> None:
        """Check that the study can run: something to ablate, a model for model components."""
        if not self.components:
            raise StudyError(
                f"Study {self.name!r} ablates nothing: include features, layers, modules or "
                "custom models."
            )
        needs_model = [c.name for c in self.components if c.kind in ("layer", "layers", "module")]
        if needs_model and self.model.builder is None:
            raise StudyError(
                f"Components {needs_model} remove parts of the model: call "
                "study.model.set_base_model(builder) first."
            )
        features = [c.name for c in self.components if c.kind == "feature"]
        if features and self.data is None:
            raise StudyError(
                f"Components {features} are features: give the study data= (a DataFrame, "
                "a feature view or a function returning a DataFrame)."
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (recorded with the experiment)."""
        return {
            "name": self.name,
            "label": self.label,
            "base_model": getattr(self.model.builder, "__qualname__", None),
            "components": [c.to_dict() for c in self.components],
        }


def _is_feature_view(data: Any) -> bool:
    return type(data).__name__ == "FeatureView" and hasattr(data, "labels")
