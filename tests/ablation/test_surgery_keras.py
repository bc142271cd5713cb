"""Keras surgery: Sequential and functional models, Inception modules, the error cases."""

from __future__ import annotations

import pytest

from eo_ray.ablation import Component, SurgeryError
from eo_ray.ablation.surgery import ablate, remove_layers, remove_module

keras = pytest.importorskip("keras")


def mnist_cnn() -> keras.Model:
    """The paper's Table 4 layer-ablation model."""
    L = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            L.Conv2D(8, 3, activation="relu", name="first_conv"),
            L.Conv2D(8, 3, activation="relu", padding="same", name="second_conv"),
            L.MaxPooling2D(name="pool"),
            L.Dropout(0.25, name="dropout_1"),
            L.Flatten(name="flatten"),
            L.Dense(16, activation="relu", name="dense_layer"),
            L.Dropout(0.5, name="dropout_2"),
            L.Dense(10, activation="softmax", name="output"),
        ]
    )


def residual() -> keras.Model:
    """x -> a -> b -> c, add(a, c) -> out; plus a projection branch that changes width."""
    L = keras.layers
    x = keras.Input((6,), name="x")
    a = L.Dense(8, name="a")(x)
    b = L.Dense(8, name="b")(a)
    c = L.Dense(8, name="c")(b)
    s = L.Add(name="add")([a, c])
    narrow = L.Dense(4, name="narrow")(s)
    proj = L.Dense(8, name="proj")(narrow)
    joined = L.Add(name="join")([s, proj])
    out = L.Dense(1, name="out")(joined)
    return keras.Model(x, out)


def test_sequential_layer_removal_keeps_others_and_trains_shape():
    base = mnist_cnn()
    model = remove_layers(base, ["second_conv", "dropout_2"])
    names = [layer.name for layer in model.layers]
    assert "second_conv" not in names
    assert "dropout_2" not in names
    assert names == [
        n for n in (layer.name for layer in base.layers) if n not in {"second_conv", "dropout_2"}
    ]
    assert model.output_shape == base.output_shape
    assert model.count_params() < base.count_params()
    assert model.predict(keras.ops.zeros((2, 28, 28, 1)), verbose=0).shape == (2, 10)


def test_sequential_dense_removal_rewires_output_to_flatten():
    model = ablate(mnist_cnn(), Component("dense_layer", "layer", ("dense_layer",)))
    output = model.get_layer("output")
    assert output.kernel.shape[0] == 13 * 13 * 8  # now fed by the flatten layer directly


def test_sequential_group_by_prefix():
    model = ablate(mnist_cnn(), Component("dropout*", "layers", prefix="dropout"))
    assert not [layer for layer in model.layers if layer.name.startswith("dropout")]


def test_sequential_removal_that_changes_output_shape_is_refused():
    with pytest.raises(SurgeryError, match="output shape"):
        remove_layers(mnist_cnn(), ["flatten"])


def test_unknown_layer_is_refused_with_the_layer_list():
    with pytest.raises(SurgeryError, match=r"no layer 'third_conv'.*first_conv"):
        remove_layers(mnist_cnn(), ["third_conv"])


def test_functional_layer_removal_rewires_consumers():
    model = remove_layers(residual(), ["b"])
    assert "b" not in [layer.name for layer in model.layers]
    c_input = model.get_layer("c").input
    assert c_input is model.get_layer("a").output
    assert model.output_shape == (None, 1)


def test_functional_module_removal_skips_the_block():
    model = remove_module(residual(), "a", "c")
    names = {layer.name for layer in model.layers}
    assert not names & {"b", "c"}
    add_inputs = model.get_layer("add").input
    assert all(t is model.get_layer("a").output for t in add_inputs)


def test_layer_with_two_inputs_is_refused():
    with pytest.raises(SurgeryError, match="'add' has 2 inputs"):
        remove_layers(residual(), ["add"])


def test_module_with_two_entries_is_refused():
    with pytest.raises(SurgeryError, match=r"more than one entry.*'add' also takes 'a'"):
        remove_module(residual(), "b", "add")


def test_module_with_two_exits_is_refused():
    with pytest.raises(SurgeryError, match=r"more than one exit.*'add'"):
        remove_module(residual(), "a", "narrow")


def test_removal_whose_shapes_no_longer_fit_is_refused():
    with pytest.raises(SurgeryError, match="shapes no longer fit"):
        remove_layers(residual(), ["proj"])


def test_input_layer_is_refused():
    with pytest.raises(SurgeryError, match="input of the model"):
        remove_layers(residual(), ["x"])


def test_inception_v3_mixed_module_surgery():
    """Keras' InceptionV3 (no weights): removing the mixed2 block rewires mixed3's branches to
    mixed1; the rebuilt graph has none of the block's layers and the same output."""
    base = keras.applications.InceptionV3(weights=None)
    order = [layer.name for layer in base.layers]
    block = order[order.index("mixed1") + 1 : order.index("mixed2") + 1]
    model = remove_module(base, "mixed1", "mixed2")
    names = {layer.name for layer in model.layers}
    assert not names & set(block)
    assert len(model.layers) == len(base.layers) - len(block)
    assert model.output_shape == base.output_shape
    mixed1 = model.get_layer("mixed1").output
    first_after = order[order.index("mixed2") + 1]
    assert model.get_layer(first_after).input is mixed1
    mixed2 = base.get_layer("mixed2").output
    before = {layer.name for layer in base.layers if any(t is mixed2 for t in _inputs(layer))}
    after = {layer.name for layer in model.layers if any(t is mixed1 for t in _inputs(layer))}
    assert len(before) == 3  # the three branches of mixed3
    assert before <= after  # ... now read the mixed1 output
    with pytest.raises(SurgeryError, match="more than one entry"):
        remove_module(base, block[0], "mixed2")  # mixed2 also takes other branches


def _inputs(layer) -> list:
    value = layer.input
    return list(value) if isinstance(value, list | tuple) else [value]


def test_the_ship_module_study_removes_each_inception_module():
    """The study of Figure 15 (``ship_module_study``): one component per module, each
    removable, the variant smaller than the base and its output unchanged."""
    from eo_ray.ablation.examples import ship_module_study

    study = ship_module_study(modules=3)
    assert [(c.start, c.end) for c in study.components] == [
        ("stem", "mixed_a"),
        ("mixed_a", "mixed_b"),
        ("mixed_b", "mixed_c"),
    ]
    base = study.model.builder()
    for component in study.components:
        variant = ablate(study.model.builder(), component)
        assert variant.output.shape == base.output.shape
        assert variant.count_params() < base.count_params()
