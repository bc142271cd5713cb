"""Time-series classifiers of pixels: a TempCNN and a gradient-boosting baseline.

:class:`TempCNN` is the temporal convolutional network of Pelletier et al. (2019, "Temporal
Convolutional Neural Network for the Classification of Satellite Image Time Series", Remote
Sensing 11(5), 523): three blocks of a 1-D convolution over time (kernel 5), batch norm, ReLU
and dropout; flattened into a dense layer (batch norm, ReLU, dropout) and a softmax
classifier. Its input is pixels × dates × bands, the ``input="series"`` signature of
:func:`eo_ray.models.register`; it outputs logits (the softmax is the loss's in training and
the model runner's when a map is made).

:func:`tempcnn_loop` trains it in the platform's loop style (``loop(config, data,
reporter)``, for :func:`eo_ray.train.fit`); :func:`tempcnn_trial` is the same training as
an HPO training function (``train_fn(hparams, reporter)``, for :func:`eo_ray.hpo.search`).
:func:`gradient_boosting` fits scikit-learn's histogram gradient boosting on the same
series flattened dates-major (how the model runner passes series to 2-D estimators).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from eo_ray.train.chip_recipes import class_weights


class TempCNN(nn.Module):
    """Pelletier et al.'s TempCNN. Input: N × dates × bands (float32); output: N × classes
    logits."""

    def __init__(
        self,
        bands: int,
        dates: int,
        classes: int,
        filters: int = 64,
        hidden: int = 256,
        dropout: float = 0.2,
        kernel: int = 5,
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        channels = bands
        for _ in range(3):
            blocks += [
                nn.Conv1d(channels, filters, kernel, padding=kernel // 2),
                nn.BatchNorm1d(filters),
                nn.ReLU(),
                nn.Dropout(dropout),
            ]
            channels = filters
        self.convolutions = nn.Sequential(*blocks)
        self.dense = nn.Sequential(
            nn.Flatten(),
            nn.Linear(filters * dates, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
        )
        self.classifier = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dense(self.convolutions(x.transpose(1, 2))))


def build_tempcnn(config: dict[str, Any]) -> TempCNN:
    """A TempCNN sized by ``config``: ``bands``, ``dates``, ``classes`` (required),
    ``filters`` (64), ``hidden`` (256), ``dropout`` (0.2), ``kernel`` (5)."""
    missing = [k for k in ("bands", "dates", "classes") if k not in config]
    if missing:
        raise ValueError(f"A TempCNN needs {', '.join(missing)} in its config.")
    return TempCNN(
        int(config["bands"]),
        int(config["dates"]),
        int(config["classes"]),
        filters=int(config.get("filters", 64)),
        hidden=int(config.get("hidden", 256)),
        dropout=float(config.get("dropout", 0.2)),
        kernel=int(config.get("kernel", 5)),
    )


def series_accuracy(model: nn.Module, x: Any, y: Any, batch_size: int = 4096) -> float:
    """Accuracy of a series classifier on arrays or tensors (eval mode, no gradients)."""
    x = torch.as_tensor(np.asarray(x, dtype=np.float32))
    y = torch.as_tensor(np.asarray(y, dtype=np.int64))
    was_training = model.training
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            correct += int((model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
    model.train(was_training)
    return correct / max(len(x), 1)


def _optimizer(model: nn.Module, config: dict[str, Any]) -> torch.optim.Optimizer:
    return torch.optim.Adam(
        model.parameters(),
        lr=float(config.get("lr", 1e-3)),
        weight_decay=float(config.get("weight_decay", 1e-4)),
    )


def _loss(y: np.ndarray, config: dict[str, Any]) -> nn.Module:
    power = float(config.get("class_weight_power", 0.5))
    return nn.CrossEntropyLoss(weight=class_weights(y, int(config["classes"]), power))


def tempcnn_loop(config: dict[str, Any], data: Any, reporter: Any) -> None:
    """Train a :class:`TempCNN` on ``data`` (``x``: N × dates × bands, ``y``: class ids).

    ``config``: the :func:`build_tempcnn` sizes, ``lr`` (1e-3), ``weight_decay`` (1e-4),
    ``batch_size`` (128), ``epochs`` (20), ``class_weight_power`` (0.5), ``seed`` and
    ``eval`` = ``(x, y)`` validation arrays. Each epoch reports the validation accuracy
    (the training accuracy without ``eval``) and the training loss.
    """
    torch.manual_seed(int(config.get("seed", 0)) + reporter.rank)
    model = build_tempcnn(config)
    opt = _optimizer(model, config)
    model, opt = reporter.prepare(model, opt)
    shard = data.to_numpy()
    loss_fn = _loss(shard["y"], config)
    held_out = config.get("eval")
    batch_size = int(config.get("batch_size", 128))
    for epoch in range(reporter.restore(), int(config.get("epochs", 20))):
        model.train()
        total, correct, loss_sum = 0, 0, 0.0
        for batch in data.iter_batches(batch_size, shuffle=True):
            x = torch.tensor(batch["x"], dtype=torch.float32)  # a copy: batches are read-only
            y = torch.tensor(batch["y"], dtype=torch.long)
            if len(y) < 2:  # batch norm needs two samples
                continue
            if epoch == 0 and total == 0:
                reporter.set_example(x[:2])
            opt.zero_grad()
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            opt.step()
            loss_sum += loss.detach().item() * len(y)
            correct += int((logits.argmax(1) == y).sum())
            total += len(y)
        metrics = {"loss": loss_sum / max(total, 1), "train_accuracy": correct / max(total, 1)}
        if held_out is not None:
            metrics["accuracy"] = series_accuracy(model, held_out[0], held_out[1])
        reporter.report(metrics.get("accuracy", metrics["train_accuracy"]), step=epoch, **metrics)
    model.eval()


def tempcnn_trial(hparams: dict[str, Any], reporter: Any) -> dict[str, float]:
    """One HPO trial: a TempCNN trained as :func:`tempcnn_loop` trains it, with ``hparams``
    (the loop's config keys), on ``reporter.context["data"]``: a dict of ``x``, ``y``
    (training) and ``xv``, ``yv`` (validation) arrays. Reports validation accuracy each
    epoch, so median stopping can end poor trials early."""
    data = reporter.context["data"]
    torch.set_num_threads(1)
    seed = int(hparams.get("seed", 0))
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(np.asarray(data["x"], dtype=np.float32))
    y = torch.as_tensor(np.asarray(data["y"], dtype=np.int64))
    config = {**hparams, "dates": x.shape[1], "bands": x.shape[2]}
    config.setdefault("classes", int(max(y.max(), np.max(data["yv"]))) + 1)
    model = build_tempcnn(config)
    opt = _optimizer(model, config)
    loss_fn = _loss(y.numpy(), config)
    batch_size = int(config.get("batch_size", 128))
    accuracy = 0.0
    for epoch in range(1, int(config.get("epochs", 10)) + 1):
        model.train()
        for idx in torch.randperm(len(y), generator=gen).split(batch_size):
            if len(idx) < 2:  # batch norm needs two samples
                continue
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        accuracy = series_accuracy(model, data["xv"], data["yv"])
        reporter.report(accuracy, step=epoch)
    return {"accuracy": accuracy}


def flatten_series(x: np.ndarray) -> np.ndarray:
    """Pixels × dates × bands as pixels × (dates·bands), dates major, bands minor: the
    layout the model runner gives 2-D estimators registered with ``input="series"``."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"Series must be pixels × dates × bands; got shape {x.shape}.")
    return x.reshape(len(x), -1)


def gradient_boosting(
    x: np.ndarray, y: np.ndarray, *, seed: int = 0, **params: Any
) -> Any:  # sklearn.ensemble.HistGradientBoostingClassifier
    """A HistGradientBoostingClassifier fitted on series ``x`` (pixels × dates × bands)
    flattened dates-major; ``params`` override its defaults (balanced class weights, 200
    iterations, early stopping off so that a fit is reproducible)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    settings = {
        "max_iter": 200,
        "learning_rate": 0.1,
        "class_weight": "balanced",
        "early_stopping": False,
        "random_state": seed,
        **params,
    }
    return HistGradientBoostingClassifier(**settings).fit(flatten_series(x), np.asarray(y))
