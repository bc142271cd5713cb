"""A size-aware classifier of small-object chips (ships in SAR), and its training loop.

Chips are padded to a fixed canvas at a fixed pixel scale, so an object's size survives:
the input is ``bands + 1`` channels, the last one the validity mask (1 on the chip, 0 on
the padding). :class:`ChipNet` reads the footprint (rows and columns covered) and the mean,
spread and peak of each band inside it, and concatenates them with a small CNN's pooled
features; :class:`ChipEnsemble` averages the class probabilities of a few members, and at
inference also over the eight flips and quarter turns (SAR chips have no up or down).

:func:`chip_ensemble_loop` trains an ensemble in the platform's loop style
(``loop(config, data, reporter)``, all-reduce ready): class-weighted loss, random flips and
quarter turns, and each member kept at its best validation loss (early stopping).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

EXTRA_FEATURES = 2 + 3 * 2  # footprint rows/columns + mean, std, peak of two bands


def chip_statistics(x: Any) -> Any:
    """Per chip: footprint rows and columns (fractions of the side), and the mean, standard
    deviation and peak of each image band over the valid pixels (the last channel is the mask)."""
    image, mask = x[:, :-1], x[:, -1]
    rows = mask.amax(dim=2).mean(dim=1)  # a fraction of the side, traced as tensor math
    cols = mask.amax(dim=1).mean(dim=1)
    weight = mask.unsqueeze(1)
    area = mask.sum(dim=(1, 2)).clamp(min=1.0).unsqueeze(1)
    mean = (image * weight).sum(dim=(2, 3)) / area
    var = ((image - mean[:, :, None, None]) ** 2 * weight).sum(dim=(2, 3)) / area
    peak = (image * weight - 10.0 * (1.0 - weight)).amax(dim=(2, 3))
    return torch.cat([rows[:, None], cols[:, None], mean, var.clamp(min=1e-6).sqrt(), peak], 1)


class ChipNet(nn.Module):
    """Three conv blocks (batch norm, global average) plus :func:`chip_statistics`, into an
    MLP head. Input: N × (2 bands + mask) × side × side."""

    def __init__(self, classes: int, filters: int = 16, dropout: float = 0.3) -> None:
        super().__init__()
        f = filters
        self.trunk = nn.Sequential(
            nn.Conv2d(3, f, 3, padding=1),
            nn.BatchNorm2d(f),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(f, 2 * f, 3, padding=1),
            nn.BatchNorm2d(2 * f),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * f, 2 * f, 3, padding=1),
            nn.BatchNorm2d(2 * f),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(2 * f + EXTRA_FEATURES, 32),
            nn.ReLU(),
            nn.Linear(32, classes),
        )

    def forward(self, x: Any) -> Any:
        return self.head(torch.cat([self.trunk(x), chip_statistics(x)], 1))


class ChipEnsemble(nn.Module):
    """``members`` :class:`ChipNet` s; in eval mode the log of the probabilities averaged over
    the members and the eight flips / quarter turns of the chip (argmax = the class)."""

    def __init__(self, classes: int, members: int = 3, filters: int = 16) -> None:
        super().__init__()
        self.members = nn.ModuleList(ChipNet(classes, filters) for _ in range(members))

    def forward(self, x: Any) -> Any:
        if self.training:  # the members' logits side by side: members × N × classes
            return torch.stack([member(x) for member in self.members])
        views = [torch.rot90(x, k, (2, 3)) for k in range(4)]
        views = views + [v.flip(3) for v in views]
        batch = torch.cat(views)
        probs = torch.stack([member(batch).softmax(1) for member in self.members]).mean(0)
        return probs.reshape(8, x.shape[0], -1).mean(0).clamp(min=1e-8).log()


def dihedral(x: Any, generator: Any = None) -> Any:
    """A random quarter turn and a random horizontal flip of each chip in the batch."""
    turns = torch.randint(0, 4, (len(x),), generator=generator)
    flips = torch.randint(0, 2, (len(x),), generator=generator)
    out = torch.empty_like(x)
    for k in range(4):
        for f in range(2):
            pick = (turns == k) & (flips == f)
            if pick.any():
                view = torch.rot90(x[pick], k, (2, 3))
                out[pick] = view.flip(3) if f else view
    return out


def class_weights(y: np.ndarray, classes: int, power: float = 0.5) -> Any:
    """Loss weights ``(n / (classes · count))**power``: 1 is balanced, 0 unweighted; the
    default, 0.5, keeps the small classes in sight without giving up much accuracy."""
    counts = np.maximum(np.bincount(np.asarray(y), minlength=classes), 1)
    return torch.tensor((len(y) / (classes * counts)) ** power, dtype=torch.float32)


def chip_ensemble_loop(config: dict[str, Any], data: Any, reporter: Any) -> None:
    """Train :class:`ChipEnsemble` on ``data`` (``x`` chips, ``y`` labels) with AdamW.

    ``config``: ``classes``, ``members`` (3), ``filters`` (16), ``lr`` (3e-3),
    ``weight_decay`` (1e-3), ``batch_size`` (32), ``epochs`` (30), ``class_weight_power``
    (0.5), ``seed`` and ``eval`` = ``(x, y)`` validation arrays. Each epoch reports the
    ensemble's validation accuracy; each member is restored to its epoch of lowest
    validation loss before the model is exported.
    """
    seed = int(config.get("seed", 0))
    torch.manual_seed(seed + reporter.rank)
    classes = int(config["classes"])
    model = ChipEnsemble(classes, int(config.get("members", 3)), int(config.get("filters", 16)))
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=float(config.get("lr", 3e-3)),
        weight_decay=float(config.get("weight_decay", 1e-3)),
    )
    model, opt = reporter.prepare(model, opt)
    net = getattr(model, "module", model)  # the ensemble itself under DDP
    xv = torch.as_tensor(np.asarray(config["eval"][0], dtype=np.float32))
    yv = torch.as_tensor(np.asarray(config["eval"][1], dtype=np.int64))
    shard = data.to_numpy()
    loss_fn = nn.CrossEntropyLoss(
        weight=class_weights(shard["y"], classes, float(config.get("class_weight_power", 0.5)))
    )
    best = [float("inf")] * len(net.members)
    states: list[dict[str, Any]] = [{} for _ in net.members]
    gen = torch.Generator().manual_seed(seed + 1000 * reporter.rank)
    for epoch in range(int(config.get("epochs", 30))):
        model.train()
        total, loss_sum = 0, 0.0
        for batch in data.iter_batches(int(config.get("batch_size", 32))):
            x = dihedral(torch.as_tensor(np.asarray(batch["x"], dtype=np.float32)), gen)
            y = torch.as_tensor(np.asarray(batch["y"]), dtype=torch.long)
            if epoch == 0 and total == 0:
                reporter.set_example(x[:1])
            opt.zero_grad()
            logits = model(x)
            loss = sum(loss_fn(member, y) for member in logits)
            loss.backward()
            opt.step()
            loss_sum, total = loss_sum + float(loss) * len(y), total + len(y)
        net.eval()
        with torch.no_grad():
            for i, member in enumerate(net.members):
                val_loss = float(nn.functional.cross_entropy(member(xv), yv))
                if val_loss < best[i]:
                    best[i] = val_loss
                    states[i] = {k: v.detach().clone() for k, v in member.state_dict().items()}
            accuracy = float((net(xv).argmax(1) == yv).float().mean())
        reporter.report(
            accuracy,
            step=epoch,
            accuracy=accuracy,
            loss=loss_sum / max(total, 1),
            val_loss=min(best),
        )
    for member, state in zip(net.members, states, strict=True):
        if state:
            member.load_state_dict(state)
    net.eval()
