"""Keras model surgery: remove layers or single-entry/single-exit modules and rewire the
consumers, by editing the model's config and rebuilding it (fresh weights: ablation retrains).

Sequential models are rebuilt from their remaining layers; functional models from their
config with every reference to a removed layer's output pointed at that layer's input.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from eo_ray.ablation.errors import SurgeryError

TENSOR = "__keras_tensor__"


def is_keras(model: Any) -> bool:
    """Whether ``model`` is a Keras model."""
    import sys

    keras = sys.modules.get("keras")
    return keras is not None and isinstance(model, keras.Model)


def layer_names(model: Any) -> list[str]:
    """Names of the model's layers, in order."""
    return [layer.name for layer in model.layers]


def remove_layers(model: Any, names: Iterable[str]) -> Any:
    """A new model without the layers ``names``; each one must have one input tensor."""
    names = list(dict.fromkeys(names))
    _known(model, names)
    what = _what("layer", names)
    if _is_sequential(model):
        rebuilt = _rebuild_sequential(model, set(names), what)
    else:
        config = copy.deepcopy(model.get_config())
        for name in names:
            _drop_layer(config, name)
        rebuilt = _from_config(config, what)
    _same_outputs(model, rebuilt, what)
    return rebuilt


def remove_module(model: Any, start: str, end: str) -> Any:
    """A new model without the block that begins after layer ``start`` and ends with layer
    ``end``; the block's only entry must be ``start``'s output and its only exit ``end``'s."""
    _known(model, [start, end])
    what = f"the module {start}..{end}"
    if _is_sequential(model):
        order = layer_names(model)
        if order.index(end) <= order.index(start):
            raise SurgeryError(f"In {what}, layer {end!r} does not come after {start!r}.")
        members = set(order[order.index(start) + 1 : order.index(end) + 1])
        rebuilt = _rebuild_sequential(model, members, what)
    else:
        config = copy.deepcopy(model.get_config())
        _drop_module(config, start, end, what)
        rebuilt = _from_config(config, what)
    _same_outputs(model, rebuilt, what)
    return rebuilt


# -- helpers ---------------------------------------------------------------------------------
def _is_sequential(model: Any) -> bool:
    import keras

    return isinstance(model, keras.Sequential)


def _what(kind: str, names: list[str]) -> str:
    quoted = ", ".join(repr(n) for n in names)
    return f"the {kind}{'s' if len(names) > 1 else ''} {quoted}"


def _known(model: Any, names: Iterable[str]) -> None:
    present = set(layer_names(model))
    missing = [n for n in names if n not in present]
    if missing:
        sample = ", ".join(layer_names(model)[:12])
        raise SurgeryError(
            f"The model has no layer {missing[0]!r}; its layers are: {sample}"
            f"{', ...' if len(present) > 12 else ''} (see model.summary())."
        )


def _rebuild_sequential(model: Any, removed: set[str], what: str) -> Any:
    import keras

    configs = [keras.layers.serialize(layer) for layer in model.layers if layer.name not in removed]
    for config in configs:
        config.pop("build_config", None)  # stale input shapes; layers rebuild when called
    try:
        layers = [keras.layers.deserialize(config) for config in configs]
        return keras.Sequential(
            [keras.Input(shape=tuple(model.inputs[0].shape[1:])), *layers], name=model.name
        )
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds for shape errors
        raise SurgeryError(_misfit(what, exc)) from None


def _from_config(config: dict[str, Any], what: str) -> Any:
    import keras

    for layer in config["layers"]:
        layer.pop("build_config", None)  # stale input shapes; layers rebuild when called
    try:
        return keras.Model.from_config(config)
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds for shape errors
        raise SurgeryError(_misfit(what, exc)) from None


def _misfit(what: str, exc: Exception) -> str:
    detail = next((line.strip() for line in str(exc).splitlines() if line.strip()), repr(exc))
    return (
        f"Removing {what} leaves a model whose shapes no longer fit ({detail[:300]}); "
        "ablate a component whose output has the shape of its input."
    )


def _same_outputs(model: Any, rebuilt: Any, what: str) -> None:
    before = [tuple(t.shape) for t in model.outputs]
    after = [tuple(t.shape) for t in rebuilt.outputs]
    if before != after:
        raise SurgeryError(
            f"Removing {what} changes the model's output shape from {before} to {after}; "
            "ablate a component whose output has the shape of its input."
        )


def _refs(obj: Any) -> Iterable[dict[str, Any]]:
    """Every tensor reference (``__keras_tensor__`` dict) inside a node's arguments."""
    if isinstance(obj, dict):
        if obj.get("class_name") == TENSOR:
            yield obj
        else:
            for value in obj.values():
                yield from _refs(value)
    elif isinstance(obj, list | tuple):
        for value in obj:
            yield from _refs(value)


def _rewrite(obj: Any, swap: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Any:
    """``obj`` with each tensor reference for which ``swap`` returns a new one replaced."""
    if isinstance(obj, dict):
        if obj.get("class_name") == TENSOR:
            new = swap(obj)
            return copy.deepcopy(new) if new is not None else obj
        return {k: _rewrite(v, swap) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_rewrite(v, swap) for v in obj)
    return obj


def _source(ref: dict[str, Any]) -> str:
    return ref["config"]["keras_history"][0]


def _layer(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(layer for layer in config["layers"] if layer["name"] == name)


def _inputs(layer: dict[str, Any]) -> list[dict[str, Any]]:
    return list(_refs(layer.get("inbound_nodes", [])))


def _output_names(config: dict[str, Any]) -> list[str]:
    outputs = config["output_layers"]
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if outputs and isinstance(outputs[0], str):
        outputs = [outputs]
    return [o[0] for o in outputs]


def _repoint(config: dict[str, Any], old: str, new_ref: dict[str, Any]) -> None:
    """Point every consumer of layer ``old``'s output (and the model outputs) at ``new_ref``."""

    def swap(ref: dict[str, Any]) -> dict[str, Any] | None:
        return new_ref if _source(ref) == old else None

    for layer in config["layers"]:
        layer["inbound_nodes"] = _rewrite(layer.get("inbound_nodes", []), swap)
    history = list(new_ref["config"]["keras_history"])

    def out(entry: Any) -> Any:
        if isinstance(entry, list | tuple) and entry and isinstance(entry[0], str):
            return history if entry[0] == old else entry
        if isinstance(entry, dict):
            return {k: out(v) for k, v in entry.items()}
        if isinstance(entry, list | tuple):
            return type(entry)(out(v) for v in entry)
        return entry

    config["output_layers"] = out(config["output_layers"])


def _drop_layer(config: dict[str, Any], name: str) -> None:
    layer = _layer(config, name)
    if layer["class_name"] == "InputLayer":
        raise SurgeryError(f"{name!r} is an input of the model; it cannot be removed.")
    nodes = layer.get("inbound_nodes", [])
    if len(nodes) != 1:
        raise SurgeryError(
            f"Layer {name!r} is called {len(nodes)} times in the model (a shared layer); only "
            "layers used once can be removed."
        )
    inputs = _inputs(layer)
    if len(inputs) != 1:
        raise SurgeryError(
            f"Layer {name!r} has {len(inputs)} inputs; only a layer with one input can be "
            "removed (ablate the whole block with modules.include(start=..., end=...))."
        )
    config["layers"].remove(layer)
    _repoint(config, name, inputs[0])


def _drop_module(config: dict[str, Any], start: str, end: str, what: str) -> None:
    consumers: dict[str, set[str]] = {}
    for layer in config["layers"]:
        for ref in _inputs(layer):
            consumers.setdefault(_source(ref), set()).add(layer["name"])
    downstream = _closure(start, consumers)
    producers: dict[str, set[str]] = {}
    for source, targets in consumers.items():
        for target in targets:
            producers.setdefault(target, set()).add(source)
    upstream = _closure(end, producers) | {end}
    members = (downstream & upstream) - {start}
    if end not in downstream:
        raise SurgeryError(f"In {what}, layer {end!r} does not depend on {start!r}.")
    entry_ref = None
    for name in members:
        for ref in _inputs(_layer(config, name)):
            source = _source(ref)
            if source == start:
                entry_ref = ref
            elif source not in members:
                raise SurgeryError(
                    f"{what.capitalize()} has more than one entry: its layer {name!r} also "
                    f"takes {source!r}, which is outside it; choose start/end around a block "
                    "with one input and one output."
                )
        if name != end:
            outside = sorted(consumers.get(name, set()) - members)
            if outside or name in _output_names(config):
                raise SurgeryError(
                    f"{what.capitalize()} has more than one exit: its layer {name!r} also feeds "
                    f"{outside or 'the model output'}; choose start/end around a block with one "
                    "input and one output."
                )
    config["layers"] = [layer for layer in config["layers"] if layer["name"] not in members]
    _repoint(config, end, entry_ref)


def _closure(root: str, edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [root]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
