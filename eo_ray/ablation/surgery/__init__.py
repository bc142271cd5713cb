"""Model surgery for ablation: remove a component from a freshly built model.

Keras Sequential and functional models lose layers or modules and their consumers are
rewired (:mod:`._keras`); torch ``nn.Module``s have named submodules replaced by identity
(:mod:`._torch`). Both refuse, with one clear sentence, a component that has several
entries or exits or whose removal leaves shapes that no longer fit.
"""

from __future__ import annotations

from typing import Any

from eo_ray.ablation.errors import SurgeryError
from eo_ray.ablation.study import Component
from eo_ray.ablation.surgery import _keras, _torch
from eo_ray.ablation.surgery._keras import remove_layers, remove_module
from eo_ray.ablation.surgery._torch import replace_with_identity


def ablate(model: Any, component: Component, example_input: Any = None) -> Any:
    """``model`` without ``component`` (a layer, a group of layers or a module)."""
    if _keras.is_keras(model):
        if component.kind == "module" and component.start is not None:
            return remove_module(model, component.start, component.end)
        return remove_layers(model, _members(model, component, _keras.layer_names(model)))
    if _torch.is_torch(model):
        if component.start is not None:
            raise SurgeryError(
                f"Module {component.name!r} is given by start/end layers, which only Keras "
                "functional models have; name the torch submodule instead "
                "(modules.include('features.3'))."
            )
        if component.prefix is not None:
            names = _torch.by_prefix(model, component.prefix)
        else:
            names = list(component.members)
        if not names:
            raise SurgeryError(f"No submodule of the model starts with {component.prefix!r}.")
        return replace_with_identity(model, names, example_input)
    raise SurgeryError(
        f"Cannot remove {component.name!r} from a {type(model).__name__}: the base model must "
        "be a Keras model or a torch nn.Module."
    )


def _members(model: Any, component: Component, names: list[str]) -> list[str]:
    if component.prefix is None:
        return list(component.members)
    found = [n for n in names if n.startswith(component.prefix)]
    if not found:
        raise SurgeryError(
            f"No layer of the model starts with {component.prefix!r}; its layers are: "
            f"{', '.join(names[:12])}."
        )
    return found


__all__ = ["ablate", "remove_layers", "remove_module", "replace_with_identity"]
