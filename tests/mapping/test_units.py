"""The pure parts of mapping and model signatures (no Ray)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eo_ray.mapping._blend import Accumulator, hann
from eo_ray.mapping._writer import own_span, quantise
from eo_ray.models import ModelFormatError, Preprocess, Signature
from eo_ray.models._runner import ModelOutputError, as_probabilities


def test_hann_weights_are_positive_symmetric_and_peak_in_the_centre() -> None:
    w = hann(8, 6)
    assert w.shape == (8, 6)
    assert (w > 0).all()
    np.testing.assert_allclose(w, w[::-1, ::-1])
    assert w[3:5, 2:4].min() == w.max()


@pytest.mark.parametrize(
    ("offset", "size", "length", "span"),
    [(0, 4, 10, (0, 4)), (4, 4, 10, (4, 8)), (6, 4, 10, (8, 10)), (0, 4, 3, (0, 3))],
)
def test_own_span_skips_what_an_earlier_window_wrote(offset, size, length, span) -> None:
    assert own_span(offset, size, length) == span


def test_accumulator_gives_the_weighted_mean_and_no_weight_where_nothing_landed(
    tmp_path: Path,
) -> None:
    acc = Accumulator(tmp_path / "acc.f32", 4, 5, 2)
    one = np.stack([np.full((3, 3), 0.2), np.full((3, 3), 0.8)]).astype(np.float32)
    two = np.stack([np.full((3, 3), 0.6), np.full((3, 3), 0.4)]).astype(np.float32)
    two[:, 0, 0] = np.nan  # no data at (1, 2) in the second window
    acc.add(0, 0, one, np.ones((3, 3), np.float32))
    acc.add(1, 2, two, np.full((3, 3), 3.0, np.float32))
    ((r0, proba, weight),) = list(acc.strips(rows=8))
    assert r0 == 0
    np.testing.assert_allclose(proba[:, 2, 2], [(0.2 + 3 * 0.6) / 4, (0.8 + 3 * 0.4) / 4])
    np.testing.assert_allclose(proba[:, 1, 2], [0.2, 0.8])  # the NaN pixel kept no weight
    assert weight[3, 0] == 0
    assert np.isnan(proba[:, 3, 0]).all()
    acc.close()
    assert not (tmp_path / "acc.f32").exists()


def test_quantised_probabilities_keep_255_for_nodata() -> None:
    q = quantise(np.array([0.0, 0.5, 1.0, np.nan], np.float32))
    assert q.tolist() == [0, 127, 254, 255]


def test_logits_become_probabilities_and_probabilities_stay() -> None:
    probs = np.array([[0.25, 0.75]], np.float32)
    assert as_probabilities(probs, 2) is not None
    np.testing.assert_allclose(as_probabilities(probs, 2), probs)
    np.testing.assert_allclose(as_probabilities(np.array([[0.0, 0.0]]), 2), [[0.5, 0.5]])
    with pytest.raises(ModelOutputError, match="gives 3 scores"):
        as_probabilities(np.zeros((1, 3)), 2)


def test_preprocess_is_applied_per_band_in_float32() -> None:
    pre = Preprocess.coerce({"scale": 0.5, "mean": [1.0, 2.0], "std": [2.0, 4.0]})
    x = np.array([[2, 8], [4, 16]], np.uint16)  # pixels × bands
    np.testing.assert_allclose(pre.apply(x, band_axis=1), [[0.0, 0.5], [0.5, 1.5]])
    assert pre.apply(x, 1).dtype == np.float32


def test_signature_round_trips_and_refuses_bad_arguments() -> None:
    sig = Signature.build(
        "pixel", ["a", "b"], ["B4", "B5"], {"scale": [1, 2]}, ["#000000", "#FFFFFF"]
    )
    assert Signature.from_dict(sig.to_dict()) == sig
    assert sig.palette == ("#000000", "#ffffff")
    with pytest.raises(ModelFormatError, match="must be one of"):
        Signature.build("image", ["a", "b"])
    with pytest.raises(ModelFormatError, match="unique"):
        Signature.build("pixel", ["a", "a"])
    with pytest.raises(ModelFormatError, match="has 3 values but the model takes 2 bands"):
        Signature.build("pixel", ["a", "b"], ["B4", "B5"], {"mean": [1, 2, 3]})
    with pytest.raises(ModelFormatError, match="one colour per class"):
        Signature.build("pixel", ["a", "b"], colors=["#000000"])
