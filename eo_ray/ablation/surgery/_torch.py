"""Torch model surgery: replace named submodules with ``nn.Identity``.

An example input lets the surgery check what only a forward pass can tell: that each
replaced submodule takes one tensor and gives one tensor (one entry, one exit) and that the
model still runs and gives outputs of the same shape.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from eo_ray.ablation.errors import SurgeryError


def is_torch(model: Any) -> bool:
    """Whether ``model`` is a torch ``nn.Module``."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def submodule_names(model: Any) -> list[str]:
    """Dotted paths of every submodule (the names ``layers.include`` takes)."""
    return [name for name, _ in model.named_modules() if name]


def by_prefix(model: Any, prefix: str) -> list[str]:
    """Top-most submodules whose name (last path part or full path) starts with ``prefix``."""
    found: list[str] = []
    for name in submodule_names(model):
        if any(name.startswith(f"{top}.") for top in found):
            continue
        if name.startswith(prefix) or name.rsplit(".", 1)[-1].startswith(prefix):
            found.append(name)
    return found


def replace_with_identity(model: Any, names: Iterable[str], example_input: Any = None) -> Any:
    """``model`` (changed in place and returned) with the submodules ``names`` replaced by
    identities; with ``example_input`` the single entry/exit and the shapes are checked."""
    import torch

    names = list(dict.fromkeys(names))
    known = set(submodule_names(model))
    for name in names:
        if name not in known:
            sample = ", ".join(sorted(known)[:12])
            raise SurgeryError(
                f"The model has no submodule {name!r}; its submodules are: {sample}"
                f"{', ...' if len(known) > 12 else ''} (see model.named_modules())."
            )
    what = ", ".join(repr(n) for n in names)
    before = _probe(model, names, example_input) if example_input is not None else None
    for name in names:
        parent, _, child = name.rpartition(".")
        owner = model.get_submodule(parent) if parent else model
        setattr(owner, child, torch.nn.Identity())
    if before is not None:
        try:
            with torch.no_grad():
                after = model(example_input)
        except Exception as exc:  # noqa: BLE001 - any failure means the shapes do not fit
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise SurgeryError(
                f"Replacing {what} with identity leaves a model whose shapes no longer fit "
                f"({detail[:300]}); ablate a submodule whose output has the shape of its input."
            ) from None
        if _shapes(after) != before:
            raise SurgeryError(
                f"Replacing {what} with identity changes the model's output shape from "
                f"{before} to {_shapes(after)}; ablate a submodule that keeps the shape."
            )
    return model


def _shapes(out: Any) -> list[tuple[int, ...]]:
    import torch

    if isinstance(out, torch.Tensor):
        return [tuple(out.shape)]
    if isinstance(out, list | tuple):
        return [s for o in out for s in _shapes(o)]
    if isinstance(out, dict):
        return [s for o in out.values() for s in _shapes(o)]
    return []


def _probe(model: Any, names: list[str], example_input: Any) -> list[tuple[int, ...]]:
    """Run the original model once, checking each target takes and gives one tensor."""
    import torch

    calls: dict[str, tuple[int, bool]] = {}

    def hook(name: str):
        def record(_module: Any, args: tuple, kwargs: dict, output: Any) -> None:
            tensors = sum(isinstance(a, torch.Tensor) for a in (*args, *kwargs.values()))
            calls[name] = (tensors, isinstance(output, torch.Tensor))

        return record

    handles = [
        model.get_submodule(n).register_forward_hook(hook(n), with_kwargs=True) for n in names
    ]
    try:
        with torch.no_grad():
            out = model(example_input)
    finally:
        for handle in handles:
            handle.remove()
    for name in names:
        inputs, single_out = calls.get(name, (1, True))
        if inputs != 1 or not single_out:
            exits = "one tensor" if single_out else "several outputs"
            raise SurgeryError(
                f"Submodule {name!r} takes {inputs} tensors and gives {exits}; only a submodule "
                "with one input tensor and one output tensor can be replaced by identity."
            )
    return _shapes(out)
