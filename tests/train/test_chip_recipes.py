"""The size-aware chip classifier: footprint statistics, augmentation, ensemble, export."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eo_ray.train.chip_recipes import (
    EXTRA_FEATURES,
    ChipEnsemble,
    chip_statistics,
    class_weights,
    dihedral,
)


def chips(n: int = 4, side: int = 16) -> torch.Tensor:
    """VV, VH and a footprint mask of ``rows`` x ``cols`` valid pixels per chip."""
    x = torch.zeros(n, 3, side, side)
    for i in range(n):
        rows, cols = 4 + 2 * i, 6 + i
        x[i, :2, :rows, :cols] = torch.randn(2, rows, cols)
        x[i, 2, :rows, :cols] = 1.0
    return x


def test_chip_statistics_read_the_footprint():
    x = chips()
    stats = chip_statistics(x)
    assert stats.shape == (4, EXTRA_FEATURES)
    assert torch.allclose(stats[:, 0] * 16, torch.tensor([4.0, 6.0, 8.0, 10.0]))
    assert torch.allclose(stats[:, 1] * 16, torch.tensor([6.0, 7.0, 8.0, 9.0]))
    valid = x[0, 0][x[0, 2] > 0]
    assert torch.isclose(stats[0, 2], valid.mean(), atol=1e-5)  # VV mean over the footprint
    assert torch.isclose(stats[0, 6], valid.max(), atol=1e-5)  # VV peak


def test_dihedral_turns_and_flips_whole_chips():
    x = chips()
    out = dihedral(x, torch.Generator().manual_seed(0))
    for original, moved in zip(x, out, strict=True):
        views = [torch.rot90(original, k, (1, 2)) for k in range(4)]
        views += [v.flip(2) for v in views]
        assert any(torch.equal(moved, v) for v in views)


def test_class_weights_lean_to_small_classes():
    y = np.array([0] * 8 + [1] * 2)
    balanced, mild = class_weights(y, 2, power=1.0), class_weights(y, 2)
    assert balanced[1] / balanced[0] == 4.0
    assert 1.0 < mild[1] / mild[0] < 4.0


@pytest.mark.filterwarnings("ignore:`torch.jit.trace` is deprecated:DeprecationWarning")
def test_ensemble_predicts_the_same_for_any_turn_of_a_chip_and_exports():
    torch.manual_seed(0)
    model = ChipEnsemble(classes=3, members=2, filters=4)
    x = chips()
    model.train()
    assert model(x).shape == (2, 4, 3)  # members' logits while training
    model.eval()
    with torch.no_grad():
        log_probs = model(x)
        turned = model(torch.rot90(x, 1, (2, 3)))
    assert torch.allclose(log_probs.exp().sum(1), torch.ones(4), atol=1e-5)
    assert torch.allclose(log_probs, turned, atol=1e-5)  # averaged over the eight views
    with torch.no_grad():  # how eo.train exports it (the fallback when scripting fails)
        traced = torch.jit.trace(model, x)
    assert torch.allclose(traced(torch.rot90(x, 2, (2, 3))), log_probs, atol=1e-5)
