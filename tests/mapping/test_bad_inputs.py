"""Bad input gets one clear sentence, raised before anything is written."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import eo_ray as eo
from eo_ray.mapping import MappingInputError
from tests.mapping.conftest import PixelSegmenter


def _nothing_written(out: Path) -> bool:
    return not out.exists() or not any(p.suffix == ".tif" for p in out.rglob("*"))


def test_a_source_without_the_models_bands_is_named(l8_forest, l7_rgb: Path, tmp_path: Path):
    version, _ = l8_forest
    with pytest.raises(MappingInputError, match=r"lacks the bands the model takes: B2, B3, B4, B5"):
        eo.mapping.predict(version, [str(l7_rgb)], tmp_path / "out", progress=False)
    assert _nothing_written(tmp_path / "out")


def test_a_model_without_a_signature_is_refused(ray_session, l7_rgb: Path, tmp_path: Path):
    from sklearn.dummy import DummyClassifier

    model = DummyClassifier().fit(np.zeros((4, 3)), [0, 1, 0, 1])
    eo.models.register("map-no-signature", model, "sklearn")
    with pytest.raises(MappingInputError, match="has no signature"):
        eo.mapping.predict("map-no-signature", [str(l7_rgb)], tmp_path / "out", progress=False)
    assert _nothing_written(tmp_path / "out")


def test_a_model_whose_output_does_not_match_its_classes(ray_session, l7_rgb: Path, tmp_path):
    eo.models.register(
        "map-five-outputs",
        PixelSegmenter.build(3, 5),
        "torch",
        input="chip",
        classes=["a", "b", "c", "d"],
        input_example=np.zeros((1, 3, 32, 32), np.float32),
    )
    with pytest.raises(MappingInputError, match=r"gives 5 scores .* names 4 classes"):
        eo.mapping.predict("map-five-outputs", [str(l7_rgb)], tmp_path / "out", progress=False)
    assert _nothing_written(tmp_path / "out")


def test_a_segmentation_model_that_shrinks_its_chips_publishes_nothing(
    ray_session, l7_rgb: Path, tmp_path
):
    # Only the probe run before any scene is read can tell: its sentence, and nothing written.
    import torch

    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 4, 2, stride=2).eval()  # 64 px chips in, 32 px scores out
    eo.models.register(
        "map-shrinking", model, "torch", input="chip", classes=["a", "b", "c", "d"],
        input_example=np.zeros((1, 3, 64, 64), np.float32),
    )  # fmt: skip
    with pytest.raises(MappingInputError, match=r"gives 32x32 outputs for 64x64 chips"):
        eo.mapping.predict("map-shrinking", [str(l7_rgb)], tmp_path / "out", progress=False)
    assert _nothing_written(tmp_path / "out")


def test_mixed_crs_inside_one_product_is_refused(l8_forest, l8_dir: Path, tmp_path: Path):
    version, _ = l8_forest
    (item,) = eo.ingest.scan([str(l8_dir)], "map-mixed-crs").items()
    assets = dict(item.assets)
    key = next(iter(assets))
    assets[key] = dataclasses.replace(assets[key], crs="EPSG:4326")
    mixed = dataclasses.replace(item, assets=assets)
    with pytest.raises(MappingInputError, match=r"mixes CRSs across its files \(EPSG:32616, "):
        eo.mapping.predict(version, [mixed], tmp_path / "out", progress=False)
    assert _nothing_written(tmp_path / "out")


def test_a_chip_smaller_than_the_model_needs(l7_segmenter, l7_rgb: Path, tmp_path: Path):
    version, _ = l7_segmenter
    with pytest.raises(MappingInputError, match=r"32x32 chip is smaller than .* needs \(64x64"):
        eo.mapping.predict(version, [str(l7_rgb)], tmp_path / "out", chip_size=32)
    assert _nothing_written(tmp_path / "out")


def test_an_unwritable_output_folder(l7_segmenter, l7_rgb: Path, tmp_path: Path):
    version, _ = l7_segmenter
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(MappingInputError, match=r"Cannot write maps to .*a-file/maps"):
        eo.mapping.predict(version, [str(l7_rgb)], blocker / "maps", progress=False)


def test_a_source_that_is_not_a_raster(l7_segmenter, tmp_path: Path):
    version, _ = l7_segmenter
    text = tmp_path / "notes.tif"
    text.write_text("this is not a GeoTIFF")
    with pytest.raises(MappingInputError, match=r"not rasters GDAL can read: .*notes\.tif"):
        eo.mapping.predict(version, [str(text)], tmp_path / "out", progress=False)
    assert _nothing_written(tmp_path / "out")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"output": "probability"}, r"The 'output' parameter of predict must be one of"),
        ({"overlap": -1}, r"The 'overlap' parameter of predict must be a non-negative"),
        ({"overlap": 40, "chip_size": 64}, r"An overlap of 40 px leaves no centre"),
        ({"chip_size": 0}, r"The 'chip_size' parameter of predict must be a positive"),
        ({"nodata": "none"}, r"The 'nodata' parameter of predict must be a number"),
        ({"batch_size": 0}, r"The 'batch_size' parameter of predict must be a positive"),
    ],
)
def test_bad_options(l7_segmenter, l7_rgb: Path, tmp_path: Path, kwargs, message) -> None:
    version, _ = l7_segmenter
    with pytest.raises(MappingInputError, match=message):
        eo.mapping.predict(version, [str(l7_rgb)], tmp_path / "out", **kwargs)
    assert _nothing_written(tmp_path / "out")


def test_an_unknown_model_name(ray_session, l7_rgb: Path, tmp_path: Path) -> None:
    with pytest.raises(MappingInputError, match="No model named 'no-such-model'"):
        eo.mapping.predict("no-such-model", [str(l7_rgb)], tmp_path / "out")


def test_signature_arguments_need_an_input_kind(ray_session) -> None:
    from sklearn.dummy import DummyClassifier

    model = DummyClassifier().fit(np.zeros((4, 3)), [0, 1, 0, 1])
    with pytest.raises(eo.models.ModelFormatError, match="pass input='pixel'"):
        eo.models.register("map-half-signature", model, "sklearn", classes=["a", "b"])
    with pytest.raises(eo.models.ModelFormatError, match="needs classes="):
        eo.models.register("map-half-signature", model, "sklearn", input="pixel")
