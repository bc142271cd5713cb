"""A ready-made training function: the 3-layer CNN on Fashion-MNIST of the Maggy paper's
headline experiment (kernel 2–8, pool 2–8, dropout 0.01–0.99). Used by the HPO benchmarks
and ``jobs/hpo_fashion_mnist.py``; also a template for your own functions. And
:func:`replay_curve`, a trial that sleeps through a recorded learning curve (the replays
of the scale benchmarks)."""

from __future__ import annotations

import functools
import json
import time
import warnings
import zlib
from typing import Any

from eo_ray.hpo._space import Double, Integer, SearchSpace

CNN_SPACE = SearchSpace(kernel=Integer(2, 8), pool=Integer(2, 8), dropout=Double(0.01, 0.99))


def load_data(train_size: int = 2000, test_size: int = 1000) -> dict[str, Any]:
    """The first ``train_size`` / ``test_size`` Fashion-MNIST images as float tensors in [0, 1]
    (one torch thread per worker, so that workers do not fight over cores)."""
    import numpy as np
    import torch

    from eo_ray.datasets import load_fashion_mnist

    torch.set_num_threads(1)
    (x, y), (xt, yt) = load_fashion_mnist()

    def tensor(images: Any, n: int) -> Any:
        return torch.from_numpy(np.array(images[:n])).float().div_(255).unsqueeze(1)

    return {
        "x": tensor(x, train_size),
        "y": torch.from_numpy(np.array(y[:train_size])).long(),
        "xt": tensor(xt, test_size),
        "yt": torch.from_numpy(np.array(yt[:test_size])).long(),
    }


def data_builder(train_size: int = 2000, test_size: int = 1000) -> Any:
    """A builder for ``eo.hpo.search(builders={"data": ...})``: loads once per worker."""
    return functools.partial(load_data, train_size, test_size)


def build_cnn(kernel: int, pool: int, dropout: float, channels: tuple[int, int, int] = (8, 16, 16)):
    """conv(k) → ReLU → maxpool(pool) → conv(k) → ReLU → conv(k) → ReLU → global average →
    dropout → linear(10)."""
    from torch import nn

    c1, c2, c3 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, kernel, padding="same"),
        nn.ReLU(),
        nn.MaxPool2d(pool, ceil_mode=True),
        nn.Conv2d(c1, c2, kernel, padding="same"),
        nn.ReLU(),
        nn.Conv2d(c2, c3, kernel, padding="same"),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(c3, 10),
    )


# Keys that change how a trial reports, not what it trains (left out of the seed).
_REPORTING_KEYS = ("reports_per_epoch",)


def _accuracy(model: Any, x: Any, y: Any) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        accuracy = float((model(x).argmax(1) == y).float().mean())
    model.train()
    return accuracy


def fashion_mnist_cnn(hparams: dict[str, Any], reporter: Any) -> dict[str, float]:
    """Train the CNN for ``hparams.get("epochs", 5)`` epochs; deterministic for given
    hyperparameters (the seed is derived from them).

    Reports test accuracy ``hparams.get("reports_per_epoch", 1)`` times per epoch, at steps
    counted in batches trained: within an epoch on the k-th of that many disjoint slices of
    the test set (every trial reports the same slice at the same step, so the median rule
    compares like with like, at a fraction of a full evaluation's cost), at the end of each
    epoch on the whole test set. Reporting more often lets a search stop poor trials sooner
    without changing what is trained."""
    import torch
    from torch import nn

    # padding="same" with an even kernel pads asymmetrically; torch warns each time.
    warnings.filterwarnings("ignore", message=".*padding='same'.*", category=UserWarning)
    data = reporter.context.get("data") if reporter is not None else None
    data = data or load_data()
    torch.set_num_threads(1)
    trained = {k: v for k, v in hparams.items() if k not in _REPORTING_KEYS}
    seed = zlib.crc32(json.dumps(trained, sort_keys=True, default=str).encode())
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = build_cnn(int(hparams["kernel"]), int(hparams["pool"]), float(hparams["dropout"]))
    opt = torch.optim.Adam(model.parameters(), lr=float(hparams.get("lr", 3e-3)))
    loss_fn = nn.CrossEntropyLoss()
    x, y, xt, yt = data["x"], data["y"], data["xt"], data["yt"]
    batch = int(hparams.get("batch_size", 64))
    batches = -(-len(x) // batch)
    per_epoch = max(1, min(int(hparams.get("reports_per_epoch", 1)), batches))
    # batch number within the epoch -> the test slice reported on after it
    report_at = {
        round(batches * k / per_epoch): slice(
            len(xt) * k // per_epoch, len(xt) * (k + 1) // per_epoch
        )
        for k in range(1, per_epoch)
    }
    accuracy, step = 0.0, 0
    model.train()
    for _epoch in range(int(hparams.get("epochs", 5))):
        order = torch.randperm(len(x), generator=gen)
        for b in range(batches):
            idx = order[b * batch : (b + 1) * batch]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
            step += 1
            if b + 1 in report_at and reporter is not None:
                part = report_at[b + 1]
                reporter.report(_accuracy(model, xt[part], yt[part]), step=step)
        accuracy = _accuracy(model, xt, yt)
        if reporter is not None:
            reporter.report(accuracy, step=step)
    return {"accuracy": accuracy}


def replay_curve(hparams: dict[str, Any], reporter: Any) -> float:
    """Sleep ``hparams["epoch_s"]`` per value of ``hparams["curve"]`` (a recorded learning
    curve), reporting each at steps 1, 2, ...: a trial that needs no core."""
    for epoch, accuracy in enumerate(hparams["curve"], start=1):
        time.sleep(hparams["epoch_s"])
        reporter.report(accuracy, step=epoch)
    return hparams["curve"][-1]
