"""Ready-made image-classification loops (torch and Keras) for jobs, benchmarks and tests.

Both follow the platform's loop style, ``loop(config, data, reporter)``, and run unchanged on
one worker or many, with all-reduce or (torch) parameter servers. ``data`` holds an image
column ``x`` (N×H×W or N×C×H×W) and an integer label column ``y``; ``config`` may set
``epochs``, ``lr``, ``batch_size``, ``channels``, ``height``, ``width``, ``classes``,
``filters``, and ``eval`` = ``(x, y)`` arrays to report held-out accuracy each epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eo_ray.train._data import tf_dataset


def torch_cnn(channels: int, height: int, width: int, classes: int, filters: int = 16) -> Any:
    """A small CNN: two conv + max-pool blocks and a linear head."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(channels, filters, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(filters, 2 * filters, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * filters * (height // 4) * (width // 4), classes),
    )


def keras_cnn(channels: int, height: int, width: int, classes: int, filters: int = 16) -> Any:
    """The same CNN in Keras (channels-last input)."""
    import keras

    return keras.Sequential(
        [
            keras.Input((height, width, channels)),
            keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(2 * filters, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(classes),
        ]
    )


def _images(x: np.ndarray, channels: int, channels_last: bool) -> np.ndarray:
    """Float32 images, channels first (or last); uint8 pixels are scaled to [0, 1]."""
    x = np.asarray(x)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    if x.ndim == 3:
        x = x[:, None, :, :]
    if x.shape[1] != channels and x.shape[-1] == channels:
        x = np.moveaxis(x, -1, 1)
    return np.moveaxis(x, 1, -1) if channels_last else x


def _shape(config: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return (
        int(config.get("channels", 1)),
        int(config.get("height", 28)),
        int(config.get("width", 28)),
        int(config.get("classes", 10)),
        int(config.get("filters", 16)),
    )


def torch_classifier_loop(config: dict[str, Any], data: Any, reporter: Any) -> None:
    """Train :func:`torch_cnn` with SGD+momentum; reports accuracy (held-out if ``eval``)."""
    import torch

    torch.manual_seed(int(config.get("seed", 0)))
    channels, height, width, classes, filters = _shape(config)
    model = torch_cnn(channels, height, width, classes, filters)
    opt = torch.optim.SGD(
        model.parameters(), lr=float(config.get("lr", 0.05)), momentum=config.get("momentum", 0.9)
    )
    model, opt = reporter.prepare(model, opt)
    device = reporter.device
    loss_fn = torch.nn.CrossEntropyLoss()
    held_out = config.get("eval")
    for epoch in range(reporter.restore(), int(config.get("epochs", 1))):
        model.train()
        total, correct, loss_sum = 0, 0, 0.0
        for batch in data.iter_batches(int(config.get("batch_size", 64))):
            x = torch.as_tensor(_images(batch["x"], channels, False), device=device)
            y = torch.as_tensor(np.array(batch["y"]), dtype=torch.long, device=device)
            if epoch == 0 and total == 0:
                reporter.set_example(x[:1].cpu())
            opt.zero_grad()
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(y)
            correct += int((logits.argmax(1) == y).sum())
            total += len(y)
        metrics = {"loss": loss_sum / max(total, 1), "train_accuracy": correct / max(total, 1)}
        if held_out is not None:
            metrics["accuracy"] = torch_accuracy(model, held_out[0], held_out[1], channels, device)
        value = metrics.get("accuracy", metrics["train_accuracy"])
        reporter.report(value, step=epoch, **metrics)


def torch_accuracy(model: Any, x: np.ndarray, y: np.ndarray, channels: int, device: Any) -> float:
    """Accuracy of a torch classifier on arrays (in batches, no gradients)."""
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 512):
            xb = torch.as_tensor(_images(x[i : i + 512], channels, False), device=device)
            pred = model(xb).argmax(1).cpu().numpy()
            correct += int((pred == np.asarray(y[i : i + 512])).sum())
    model.train()
    return correct / max(len(x), 1)


def keras_classifier_loop(config: dict[str, Any], data: Any, reporter: Any) -> None:
    """Train :func:`keras_cnn` with a distributed custom step; reports accuracy.

    Keras 3 ``Model.fit`` fails under ``MultiWorkerMirroredStrategy`` (keras-team/keras
    #20585), so the step runs through ``strategy.run`` with a gradient tape; the Keras
    optimizer all-reduces the gradients across workers.
    """
    import keras
    import tensorflow as tf

    channels, height, width, classes, filters = _shape(config)
    keras.utils.set_random_seed(int(config.get("seed", 0)))
    strategy = reporter.distribution
    batch_size = int(config.get("batch_size", 64))
    global_batch = batch_size * strategy.num_replicas_in_sync
    with reporter.scope():
        model = keras_cnn(channels, height, width, classes, filters)
        optimizer = keras.optimizers.SGD(
            float(config.get("lr", 0.05)), momentum=float(config.get("momentum", 0.9))
        )
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    reporter.prepare(model, optimizer)

    def replica_step(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.nn.compute_average_loss(loss_fn(y, logits), global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        correct = tf.reduce_sum(tf.cast(tf.argmax(logits, 1) == y, tf.float32))
        return loss * tf.cast(tf.shape(y)[0], tf.float32) * global_batch / batch_size, correct

    @tf.function
    def train_step(x: Any, y: Any) -> Any:
        loss, correct = strategy.run(replica_step, args=(x, y))
        return (
            strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None),
            strategy.reduce(tf.distribute.ReduceOp.SUM, correct, axis=None),
        )

    held_out = config.get("eval")
    for epoch in range(reporter.restore(), int(config.get("epochs", 1))):
        arrays = data.to_numpy()
        x = _images(arrays["x"], channels, True)
        y = arrays["y"].astype("int64")
        dist = strategy.experimental_distribute_dataset(tf_dataset(x, y, batch_size))
        loss_sum, correct, total = 0.0, 0.0, 0
        for xb, yb in dist:
            loss, hits = train_step(xb, yb)
            loss_sum, correct = loss_sum + float(loss), correct + float(hits)
        total = len(y) * reporter.world_size
        metrics = {"loss": loss_sum / max(total, 1), "train_accuracy": correct / max(total, 1)}
        if held_out is not None:
            logits = model.predict(_images(held_out[0], channels, True), verbose=0)
            metrics["accuracy"] = float((logits.argmax(1) == np.asarray(held_out[1])).mean())
        value = metrics.get("accuracy", metrics["train_accuracy"])
        reporter.report(value, step=epoch, **metrics)
