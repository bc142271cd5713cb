"""Torch surgery: named submodules replaced by identity, with entry/exit and shape checks."""

from __future__ import annotations

import pytest

from eo_ray.ablation import Component, SurgeryError
from eo_ray.ablation.surgery import ablate, replace_with_identity

torch = pytest.importorskip("torch")
nn = torch.nn


class Block(nn.Module):
    """A residual block: one tensor in, one out, same shape."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x):
        return x + torch.relu(self.conv(x))


class Pair(nn.Module):
    """Takes two tensors: cannot be replaced by identity."""

    def forward(self, x, y):
        return x + y


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.block_1 = Block(4)
        self.block_2 = Block(4)
        self.widen = nn.Conv2d(4, 8, 1)
        self.pair = Pair()
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(8 * 8 * 8, 3))

    def forward(self, x):
        x = self.block_2(self.block_1(self.stem(x)))
        x = self.widen(x)
        x = self.pair(x, x)
        return self.head(x)


EXAMPLE = torch.zeros(2, 1, 8, 8)


def test_named_submodules_become_identity_and_the_model_runs():
    model = replace_with_identity(Net(), ["block_2", "head.1"], EXAMPLE)
    assert isinstance(model.block_2, nn.Identity)
    assert isinstance(model.head[1], nn.Identity)
    assert isinstance(model.block_1, Block)
    assert model(EXAMPLE).shape == (2, 3)


def test_prefix_group_takes_the_top_most_matches():
    model = ablate(Net(), Component("block*", "layers", prefix="block"), EXAMPLE)
    assert isinstance(model.block_1, nn.Identity)
    assert isinstance(model.block_2, nn.Identity)
    assert not any(isinstance(m, Block) for m in model.modules())


def test_shape_changing_submodule_is_refused():
    with pytest.raises(SurgeryError, match="shapes no longer fit"):
        replace_with_identity(Net(), ["widen"], EXAMPLE)


def test_submodule_with_two_inputs_is_refused():
    with pytest.raises(SurgeryError, match="'pair' takes 2 tensors"):
        replace_with_identity(Net(), ["pair"], EXAMPLE)


def test_unknown_submodule_is_refused():
    with pytest.raises(SurgeryError, match="no submodule 'block_3'"):
        replace_with_identity(Net(), ["block_3"], EXAMPLE)


def test_output_shape_change_is_refused():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    with pytest.raises(SurgeryError, match="output shape"):
        replace_with_identity(model, ["1"], torch.zeros(1, 4))


def test_start_end_modules_are_keras_only():
    with pytest.raises(SurgeryError, match="only Keras functional"):
        ablate(Net(), Component("m", "module", start="stem", end="widen"))
