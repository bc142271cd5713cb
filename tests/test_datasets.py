"""The dataset loaders on the real data in EO_RAY_DATA, and their failure modes."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import eo_ray.datasets as ds
from eo_ray.datasets import _registry
from eo_ray.errors import ChecksumMismatchError, DatasetNotFoundError, UnknownDatasetError


def test_every_dataset_is_registered_with_hashes(data_dir):
    names = {spec.name for spec in ds.list_datasets()}
    assert names == set(ds.LOADERS)
    assert names == {p.name for p in data_dir.iterdir() if p.is_dir()}
    for spec in ds.list_datasets():
        assert spec.files
        assert all(len(h) == 64 for h in spec.files.values())
        assert spec.homepage.startswith("http")


@pytest.mark.parametrize("name", sorted(ds.LOADERS))
def test_every_dataset_verifies(name, data_dir):
    report = ds.verify(name)
    assert report.passed, report
    assert report.folder == str(data_dir / name)


def test_fashion_mnist_shapes_and_classes():
    (x, y), (xt, yt) = ds.load_fashion_mnist()
    assert x.shape == (60000, 28, 28)
    assert x.dtype == np.uint8
    assert xt.shape == (10000, 28, 28)
    assert np.bincount(y).tolist() == [6000] * 10
    assert np.bincount(yt).tolist() == [1000] * 10
    assert len(ds.FASHION_MNIST_CLASSES) == 10


def test_mnist_shapes_and_classes():
    (x, y), (xt, yt) = ds.load_mnist()
    assert x.shape == (60000, 28, 28)
    assert xt.shape == (10000, 28, 28)
    assert sorted(set(y.tolist())) == list(range(10))
    assert np.bincount(yt)[1] == 1135  # the published count of "1" in the MNIST test set


def test_titanic():
    df = ds.load_titanic()
    assert df.shape == (891, 12)
    assert {"Pclass", "Sex", "SibSp", "Age", "Parch", "Fare", "Survived"} <= set(df.columns)
    assert df["Survived"].sum() == 342


def test_landsat7_rgb():
    raster = ds.load_landsat7_rgb()
    image = raster.read()
    assert image.shape == (3, 718, 791)
    assert image.dtype == np.uint8
    profile = raster.profile
    assert profile["crs"].to_epsg() == 32618
    assert profile["nodata"] == 0


def test_landsat8_band_files():
    scene = ds.load_landsat8()
    assert scene.scene_id == "LC80200392015216LGN00"
    assert list(scene.bands) == [f"B{i}" for i in range(1, 12)] + ["BQA"]
    assert scene.read("B4").shape == (603, 627)
    assert scene.read("B8").shape[0] > 603  # the 15 m panchromatic band
    assert scene.metadata["SPACECRAFT_ID"] == "LANDSAT_8"


def test_s2_slovenia():
    patch = ds.load_s2_slovenia()
    assert patch.reference_scenes.shape == (5, 101, 100, 13)
    assert patch.crs == "EPSG:32633"
    assert len(patch.timestamps) == 68
    assert patch.data["data/NDVI"].shape[0] == 68
    assert set(np.unique(patch.data["mask_timeless/LULC"])) <= set(range(9))


def test_bigearthnet():
    ben = ds.load_bigearthnet()
    assert len(ben.metadata) == 24
    pid = ben.metadata["patch_id"].iloc[0]
    bands = ben.s2(pid)
    assert list(bands) == list(ds.S2_BANDS)
    assert bands["B02"].shape == (120, 120)
    assert bands["B05"].shape == (60, 60)
    assert ben.s1(pid)["VV"].shape == (120, 120)
    assert all(isinstance(labels, list) and labels for labels in ben.metadata["labels"])
    snowy = ben.metadata[ben.metadata["subset"] == "snow_cloud_shadow"]["patch_id"].iloc[0]
    assert ben.s2(snowy)["B04"].shape == (120, 120)


def test_opensarship_manifest_and_chips():
    sar = ds.load_opensarship()
    assert len(sar.manifest) == 351
    counts = sar.manifest["class"].value_counts()
    assert counts["Cargo"] == 194
    assert counts["Tanker"] == 112
    assert counts["Other Type"] == 39
    chip = sar.read(0)
    row = sar.manifest.iloc[0]
    assert chip.shape == (row["channels"], row["height"], row["width"])
    assert chip.dtype == np.float32


def _copy_dataset(data_dir: Path, name: str, dest: Path) -> Path:
    shutil.copytree(data_dir / name, dest / name)
    return dest / name


def test_missing_dataset_names_files_and_places(tmp_path, monkeypatch):
    monkeypatch.setenv("EO_RAY_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("EO_RAY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EO_RAY_DOWNLOAD", "0")
    with pytest.raises(DatasetNotFoundError) as err:
        ds.load_titanic()
    message = str(err.value)
    assert "train.csv" in message
    assert str(tmp_path / "empty" / "titanic") in message
    assert "EO_RAY_DOWNLOAD=0" in message
    assert "\n" not in message


def test_corrupted_file_is_refused(tmp_path, monkeypatch, data_dir):
    folder = _copy_dataset(data_dir, "titanic", tmp_path)
    with open(folder / "train.csv", "r+b") as fh:
        fh.seek(100)
        fh.write(b"X")
    monkeypatch.setenv("EO_RAY_DATA", str(tmp_path))
    with pytest.raises(ChecksumMismatchError, match="sha256"):
        ds.load_titanic()
    assert not ds.verify("titanic").passed
    assert ds.verify("titanic").mismatched == ["train.csv"]


def test_unknown_dataset():
    with pytest.raises(UnknownDatasetError, match="known datasets"):
        ds.verify("imagenet")


@pytest.fixture
def loopback_mirror(data_dir, tmp_path):
    """A real HTTP server on 127.0.0.1 serving a copy of the titanic dataset."""
    root = tmp_path / "mirror"
    _copy_dataset(data_dir, "titanic", root)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/titanic/"
    server.shutdown()


def _with_url(monkeypatch, base_url):
    specs = dict(_registry.registry())
    specs["titanic"] = _registry.DatasetSpec(
        **{**specs["titanic"].__dict__, "base_url": base_url, "urls": {}}
    )
    monkeypatch.setattr(_registry, "registry", lambda: specs)


def test_download_into_cache_is_verified(loopback_mirror, tmp_path, monkeypatch):
    _, url = loopback_mirror
    _with_url(monkeypatch, url)
    monkeypatch.setenv("EO_RAY_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("EO_RAY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EO_RAY_DOWNLOAD", "1")
    assert ds.load_titanic().shape == (891, 12)
    assert (tmp_path / "cache" / "datasets" / "titanic" / "train.csv").is_file()


def test_download_with_wrong_hash_leaves_nothing(loopback_mirror, tmp_path, monkeypatch):
    root, url = loopback_mirror
    (root / "titanic" / "train.csv").write_text("PassengerId\n1\n")
    _with_url(monkeypatch, url)
    monkeypatch.setenv("EO_RAY_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("EO_RAY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EO_RAY_DOWNLOAD", "1")
    with pytest.raises(ChecksumMismatchError, match="discarded"):
        ds.load_titanic()
    cache = tmp_path / "cache" / "datasets" / "titanic"
    assert not cache.exists() or not any(cache.iterdir())


def test_unreachable_download_is_a_clear_error(tmp_path, monkeypatch):
    _with_url(monkeypatch, "http://127.0.0.1:9/")  # discard port: nothing listens
    monkeypatch.setenv("EO_RAY_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("EO_RAY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EO_RAY_DOWNLOAD", "1")
    with pytest.raises(DatasetNotFoundError, match="download failed"):
        ds.load_titanic()
