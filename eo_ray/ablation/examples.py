"""Ready-made studies of the AutoAblation paper, used by ``jobs/ablation_*.py``, the scaling
benchmark and the tests; also templates for your own training functions.

- Titanic feature ablation (Table 3): :func:`titanic_frame`, :func:`titanic_keras` (two hidden
  dense layers, 80/20 split) and the fast :func:`titanic_logistic`.
- MNIST layer ablation (Table 4): :func:`mnist_model` (Conv2D, Conv2D, MaxPooling2D, Dropout,
  Flatten, Dense, Dropout, output), :func:`mnist_data`, :func:`mnist_train`.
- Module ablation of an Inception-style functional model on OpenSARShip chips:
  :func:`ship_inception`, :func:`ship_data`, :func:`ship_train`.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

TITANIC_FEATURES = ["pclass", "sex", "sibsp", "age", "parch", "fare"]
TITANIC_LABEL = "survived"
SPLIT_SEED = 12345  # the 80/20 split is the same in every trial; only training seeds vary


def titanic_frame() -> Any:
    """Titanic with the paper's six features (numeric; missing ages set to the median)."""
    from eo_ray.datasets import load_titanic

    df = load_titanic().rename(columns=str.lower)
    df = df[[*TITANIC_FEATURES, TITANIC_LABEL]].copy()
    df["sex"] = (df["sex"] == "female").astype("float32")
    df["age"] = df["age"].fillna(df["age"].median())
    return df.astype("float32")


def titanic_feature_view(name: str = "titanic_ablation") -> Any:
    """A feature view of :func:`titanic_frame` (feature group ``name`` keyed by passenger,
    label ``survived``), created on first use in the current workspace."""
    import eo_ray

    fs = eo_ray.feature_store()
    group = fs.get_or_create_feature_group(name, primary_key=["passenger_id"])
    if not group.history():
        frame = titanic_frame()
        group.insert(frame.assign(passenger_id=range(len(frame))))
    query = group.select([*TITANIC_FEATURES, TITANIC_LABEL])
    return fs.get_or_create_feature_view(name, query, labels=[TITANIC_LABEL])


def _split(hparams: dict) -> tuple[Any, Any, Any, Any]:
    """80/20 split of the trial's data (its features only), standardised on the train part."""
    import numpy as np

    data, features = hparams["data"], hparams["features"]
    x = data[features].to_numpy(dtype="float32")
    y = data[hparams["label"]].to_numpy(dtype="float32")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    cut = int(0.8 * len(x))
    train, test = order[:cut], order[cut:]
    mean, std = x[train].mean(0), x[train].std(0) + 1e-6
    return (x[train] - mean) / std, y[train], (x[test] - mean) / std, y[test]


def titanic_logistic(hparams: dict, reporter: Any) -> dict[str, float]:
    """Logistic regression on the trial's features: accuracy on the 20% test part."""
    from sklearn.linear_model import LogisticRegression

    x, y, xt, yt = _split(hparams)
    model = LogisticRegression(max_iter=500, random_state=hparams["seed"]).fit(x, y)
    return {"accuracy": float(model.score(xt, yt))}


def single_thread_tf() -> None:
    """One TensorFlow thread per worker, so that parallel workers do not fight over cores."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised in this process: keep its setting
        pass


def titanic_keras(hparams: dict, reporter: Any, epochs: int = 10) -> dict[str, float]:
    """The paper's Titanic model: two hidden dense layers, ``epochs`` epochs, test accuracy."""
    single_thread_tf()
    import keras

    keras.utils.set_random_seed(hparams["seed"])
    x, y, xt, yt = _split(hparams)
    model = keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Dense(64, activation="relu", name="hidden_1"),
            keras.layers.Dense(32, activation="relu", name="hidden_2"),
            keras.layers.Dense(1, activation="sigmoid", name="output"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    for epoch in range(epochs):
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        _, accuracy = model.evaluate(xt, yt, verbose=0)
        reporter.report(accuracy, step=epoch + 1)
    return {"accuracy": float(accuracy)}


def mnist_model(filters: tuple[int, int] = (32, 64), dense: int = 128) -> Any:
    """The paper's Table 4 CNN, with named layers for ``layers.include``."""
    import keras

    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(filters[0], 3, activation="relu", name="first_conv"),
            layers.Conv2D(filters[1], 3, activation="relu", padding="same", name="second_conv"),
            layers.MaxPooling2D(2, name="pooling"),
            layers.Dropout(0.25, name="dropout_1"),
            layers.Flatten(name="flatten"),
            layers.Dense(dense, activation="relu", name="dense_layer"),
            layers.Dropout(0.5, name="dropout_2"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name="mnist_cnn",
    )


def mnist_data(train_size: int = 10000, test_size: int = 2000) -> dict[str, Any]:
    """The first MNIST images as float32 NHWC in [0, 1] (a worker builder: loads once)."""
    import numpy as np

    from eo_ray.datasets import load_mnist

    single_thread_tf()
    (x, y), (xt, yt) = load_mnist()

    def images(a: Any, n: int) -> Any:
        return (np.asarray(a[:n], dtype="float32") / 255.0)[..., None]

    return {
        "x": images(x, train_size),
        "y": np.asarray(y[:train_size]),
        "xt": images(xt, test_size),
        "yt": np.asarray(yt[:test_size]),
    }


def fit_classifier(hparams: dict, reporter: Any, data: dict[str, Any], epochs: int) -> dict:
    """Train ``hparams["build_model"]()`` on ``data`` and report the test accuracy per epoch."""
    import keras

    keras.utils.set_random_seed(hparams["seed"])
    model = hparams["build_model"]()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    for epoch in range(epochs):
        model.fit(data["x"], data["y"], batch_size=64, epochs=1, verbose=0)
        _, accuracy = model.evaluate(data["xt"], data["yt"], verbose=0, batch_size=256)
        reporter.report(accuracy, step=epoch + 1)
    return {"accuracy": float(accuracy), "params": float(model.count_params())}


def mnist_train(hparams: dict, reporter: Any, epochs: int = 1) -> dict[str, float]:
    """Train the trial's variant of the MNIST CNN (data from the ``mnist`` worker builder)."""
    return fit_classifier(hparams, reporter, reporter.context["mnist"], epochs)


def ship_data(size: int = 32, classes: int = 3) -> dict[str, Any]:
    """OpenSARShip chips of the ``classes`` most frequent classes: VV backscatter in dB,
    centre-cropped or padded to ``size``, standardised; 80/20 split (a worker builder)."""
    import numpy as np

    from eo_ray.datasets import load_opensarship

    single_thread_tf()
    ships = load_opensarship()
    keep = ships.classes[:classes]
    rows = [i for i, c in enumerate(ships.manifest["class"]) if c in keep]
    chips = []
    for i in rows:
        db = 10.0 * np.log10(np.maximum(ships.read(i)[0].astype("float64"), 1e-6))
        out = np.full((size, size), db.min(), dtype="float32")  # pad with the chip's floor
        h, w = min(size, db.shape[0]), min(size, db.shape[1])
        top, left = (db.shape[0] - h) // 2, (db.shape[1] - w) // 2
        oy, ox = (size - h) // 2, (size - w) // 2
        out[oy : oy + h, ox : ox + w] = db[top : top + h, left : left + w]
        chips.append(out)
    x = np.stack(chips)[..., None]
    x = (x - x.mean()) / (x.std() + 1e-6)
    y = np.array([keep.index(ships.manifest["class"].iloc[i]) for i in rows])
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    cut = int(0.8 * len(x))
    tr, te = order[:cut], order[cut:]
    return {"x": x[tr], "y": y[tr], "xt": x[te], "yt": y[te], "classes": keep}


def ship_inception(size: int = 32, classes: int = 3, width: int = 8, modules: int = 2) -> Any:
    """A small functional model with ``modules`` Inception-style modules (``mixed_a``,
    ``mixed_b``, ...): 1×1, 3×3 and pool→1×1 branches concatenated; each module has one
    entry and one exit."""
    import keras

    layers = keras.layers
    inputs = keras.Input((size, size, 1), name="chip")
    x = layers.Conv2D(3 * width, 3, activation="relu", padding="same", name="stem")(inputs)
    for block in "abcdefghijk"[:modules]:
        b1 = layers.Conv2D(width, 1, activation="relu", name=f"{block}_1x1")(x)
        b3 = layers.Conv2D(width, 1, activation="relu", name=f"{block}_3x3_reduce")(x)
        b3 = layers.Conv2D(width, 3, activation="relu", padding="same", name=f"{block}_3x3")(b3)
        bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{block}_pool")(x)
        bp = layers.Conv2D(width, 1, activation="relu", name=f"{block}_pool_proj")(bp)
        x = layers.Concatenate(name=f"mixed_{block}")([b1, b3, bp])
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="ship_inception")


def ship_module_study(modules: int = 2, name: str = "ships-modules") -> Any:
    """The module ablation of :func:`ship_inception` with ``modules`` modules: each module
    (from the stem or the previous module's output to its own ``mixed_*`` output) left out
    in turn."""
    from eo_ray.ablation.study import AblationStudy

    study = AblationStudy(name)
    study.model.set_base_model(functools.partial(ship_inception, modules=modules))
    ends = ["stem", *(f"mixed_{b}" for b in "abcdefghijk"[:modules])]
    for start, end in itertools.pairwise(ends):
        study.model.modules.include(start=start, end=end)
    return study


def mnist_layer_study(
    filters: tuple[int, int] = (32, 64), dense: int = 128, name: str = "mnist-layers"
) -> Any:
    """The paper's Table 4 study: :func:`mnist_model` with the second conv, the dense layer
    and each dropout left out in turn."""
    from eo_ray.ablation.study import AblationStudy

    study = AblationStudy(name)
    study.model.set_base_model(functools.partial(mnist_model, filters=filters, dense=dense))
    study.model.layers.include("second_conv", "dense_layer", "dropout_1", "dropout_2")
    return study


def ship_train(hparams: dict, reporter: Any, epochs: int = 3) -> dict[str, float]:
    """Train the trial's variant of :func:`ship_inception` (data from the ``ships`` builder)."""
    return fit_classifier(hparams, reporter, reporter.context["ships"], epochs)
