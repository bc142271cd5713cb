"""Preprocessing of chip Datasets as Ray Data transforms (``map_batches``, numpy batches).

Each transform is a small callable class usable directly in ``ds.map_batches(T(...),
batch_format="numpy")``; the functions below wrap the common calls. Transforms keep the
chip contract: ``image`` stays bands x height x width and ``transform``/``crs`` stay true.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from eo_ray.ingest._blocks import arrow_friendly, string_lists
from eo_ray.ingest.errors import InvalidOptionError, invalid

if TYPE_CHECKING:
    import ray.data

Batch = dict[str, np.ndarray]

# Normalised-difference indices: name -> (a, b) common band names, index = (a - b) / (a + b).
INDICES: dict[str, tuple[str, str]] = {
    "NDVI": ("nir", "red"),
    "NDWI": ("green", "nir"),
    "MNDWI": ("green", "swir16"),
    "NDBI": ("swir16", "nir"),
    "NBR": ("nir", "swir22"),
    "NDSI": ("green", "swir16"),
}


def images(batch: Batch) -> list[np.ndarray]:
    """The chips of a batch as a list of bands x height x width arrays."""
    return list(batch["image"])


def set_images(batch: Batch, values: list[np.ndarray], key: str = "image") -> None:
    """Store arrays in a batch column: stacked when shapes agree, ragged otherwise."""
    if values and len({v.shape for v in values}) == 1:
        batch[key] = np.stack(values)
        return
    ragged = np.empty(len(values), dtype=object)
    for n, value in enumerate(values):
        ragged[n] = value
    batch[key] = ragged


def _bands(batch: Batch, n: int) -> list[str]:
    return [str(b) for b in batch["bands"][n]]


def _nodata(batch: Batch, n: int) -> float | None:
    if "nodata" not in batch:
        return None
    try:
        value = float(batch["nodata"][n])
    except (TypeError, ValueError):
        return None
    return None if np.isnan(value) else value


class ToDecibel:
    """SAR backscatter from linear power to dB: ``10 log10(max(x, floor))`` as float32."""

    def __init__(self, floor: float = 1e-10) -> None:
        if not floor > 0:
            raise invalid("floor", "ToDecibel", "a positive number", floor)
        self.floor = floor

    def __call__(self, batch: Batch) -> Batch:
        out = []
        for n, image in enumerate(images(batch)):
            data = image.astype(np.float32)
            nodata = _nodata(batch, n)
            invalid_px = data == nodata if nodata is not None else np.zeros(data.shape, bool)
            db = 10.0 * np.log10(np.maximum(data, self.floor))
            out.append(np.where(invalid_px, np.nan, db).astype(np.float32))
        set_images(batch, out)
        return arrow_friendly(batch)


@dataclass(frozen=True)
class BandStats:
    """Per-band mean and standard deviation over a dataset (nodata and NaN excluded)."""

    bands: list[str]
    mean: list[float]
    std: list[float]
    count: list[int]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"bands": self.bands, "mean": self.mean, "std": self.std, "count": self.count}


def _partial_sums(batch: Batch) -> Batch:
    sums, squares, counts, names = [], [], [], []
    for n, image in enumerate(images(batch)):
        data = image.astype(np.float64).reshape(image.shape[0], -1)
        ok = ~np.isnan(data)
        nodata = _nodata(batch, n)
        if nodata is not None:
            ok &= data != nodata
        clean = np.where(ok, data, 0.0)
        sums.append(clean.sum(axis=1))
        squares.append((clean**2).sum(axis=1))
        counts.append(ok.sum(axis=1))
        names.append("\x1f".join(_bands(batch, n)))
    out: Batch = {"bands_key": np.array(names, dtype=object)}
    set_images(out, sums, "sum")
    set_images(out, squares, "sumsq")
    set_images(out, counts, "count")
    return out


def band_stats(ds: ray.data.Dataset) -> BandStats:
    """Mean and std of every band over the whole dataset (one pass, partial sums per block)."""
    parts = ds.map_batches(_partial_sums, batch_format="numpy").take_all()
    if not parts:
        raise InvalidOptionError("band_stats needs a non-empty dataset of chips.")
    keys = {p["bands_key"] for p in parts}
    if len(keys) != 1:
        raise InvalidOptionError(
            "band_stats needs chips with the same bands; select bands in read_chips(bands=...)."
        )
    total = sum(np.asarray(p["sum"], np.float64) for p in parts)
    squares = sum(np.asarray(p["sumsq"], np.float64) for p in parts)
    count = sum(np.asarray(p["count"], np.int64) for p in parts)
    mean = total / np.maximum(count, 1)
    std = np.sqrt(np.maximum(squares / np.maximum(count, 1) - mean**2, 0.0))
    return BandStats(keys.pop().split("\x1f"), mean.tolist(), std.tolist(), count.tolist())


class Normalize:
    """``(x - mean) / std`` per band, as float32; nodata pixels become NaN."""

    def __init__(self, stats: BandStats, eps: float = 1e-12) -> None:
        self.stats = stats
        self.mean = np.asarray(stats.mean, np.float32)[:, None, None]
        self.std = np.maximum(np.asarray(stats.std, np.float32), eps)[:, None, None]

    def __call__(self, batch: Batch) -> Batch:
        out = []
        for n, image in enumerate(images(batch)):
            if _bands(batch, n) != self.stats.bands:
                raise InvalidOptionError(
                    f"Normalize was fitted on bands {self.stats.bands}, "
                    f"got a chip with {_bands(batch, n)}."
                )
            data = image.astype(np.float32)
            nodata = _nodata(batch, n)
            result = (data - self.mean) / self.std
            if nodata is not None:
                result[data == nodata] = np.nan
            out.append(result.astype(np.float32))
        set_images(batch, out)
        return arrow_friendly(batch)


def _common_names(collection: str) -> dict[str, str]:
    """Band name -> common name of a product (e.g. Landsat 8 ``B5`` -> ``nir``)."""
    from eo_ray.ingest.products import product_by_name

    product = product_by_name(collection)
    return dict(product.common_names) if product else {}


class SpectralIndex:
    """A normalised-difference index (NDVI, NDWI, ...) as a float32 height x width column
    (dates x height x width for the chips of a cube: one index per date).

    Bands are found by common name from the chip's product, or by ``bands`` (e.g.
    ``{"nir": "B5", "red": "B4"}``). Pixels where the denominator is 0 become NaN.
    """

    def __init__(
        self, name: str, bands: Mapping[str, str] | None = None, column: str | None = None
    ) -> None:
        key = name.upper()
        if key not in INDICES:
            raise invalid("name", "SpectralIndex", f"one of {sorted(INDICES)}", name)
        self.name = key
        self.needs = INDICES[key]
        self.bands = dict(bands or {})
        self.column = column or key.lower()

    def _position(self, batch: Batch, n: int, common: str) -> int:
        names = _bands(batch, n)
        if common in self.bands:
            wanted = self.bands[common]
        else:
            collection = str(batch["collection"][n]) if "collection" in batch else ""
            mapping = {c: b for b, c in _common_names(collection).items()}
            wanted = mapping.get(common, common)
        for i, band in enumerate(names):
            if band.lower() == str(wanted).lower():
                return i
        raise InvalidOptionError(
            f"{self.name} needs the {common} band ({wanted}) but the chip has {names}; "
            f"read it with bands=... or pass bands={{'{common}': NAME}}."
        )

    def __call__(self, batch: Batch) -> Batch:
        out = []
        for n, image in enumerate(images(batch)):
            axis = image.ndim - 3  # bands x h x w, or dates x bands x h x w (a cube)
            a = np.take(image, self._position(batch, n, self.needs[0]), axis).astype(np.float32)
            b = np.take(image, self._position(batch, n, self.needs[1]), axis).astype(np.float32)
            total = a + b
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(total != 0, (a - b) / total, np.nan).astype(np.float32)
            nodata = _nodata(batch, n)
            if nodata is not None:
                value[(image == nodata).all(axis=axis)] = np.nan
            out.append(value)
        set_images(batch, out, self.column)
        return arrow_friendly(batch)


# QA bit layouts: scheme -> list of (first bit, bit count, value at or above which = cloud).
QA_SCHEMES: dict[str, list[tuple[int, int, int]]] = {
    # Pre-collection Landsat 8 BQA: cloud confidence bits 14-15, cirrus bits 12-13 (3 = high).
    "pre-collection": [(14, 2, 3), (12, 2, 3)],
    # Collection 1 BQA: cloud bit 4, cloud shadow confidence 7-8, cirrus confidence 11-12.
    "collection-1": [(4, 1, 1), (7, 2, 3), (11, 2, 3)],
    # Collection 2 QA_PIXEL: dilated cloud 1, cirrus 2, cloud 3, cloud shadow 4.
    "collection-2": [(1, 1, 1), (2, 1, 1), (3, 1, 1), (4, 1, 1)],
}


def qa_cloud_mask(qa: np.ndarray, scheme: str) -> np.ndarray:
    """Boolean cloud mask (True = cloud/shadow/cirrus) from a Landsat QA band."""
    if scheme not in QA_SCHEMES:
        raise invalid("scheme", "CloudMask", f"one of {sorted(QA_SCHEMES)}", scheme)
    qa = qa.astype(np.uint32)
    mask = np.zeros(qa.shape, dtype=bool)
    for first, count, threshold in QA_SCHEMES[scheme]:
        mask |= ((qa >> first) & ((1 << count) - 1)) >= threshold
    return mask


class CloudMask:
    """Landsat QA-band cloud mask: adds ``cloud_mask`` and ``cloud_fraction`` columns.

    With ``apply=True`` cloudy pixels of the other bands are set to the chip's nodata
    (NaN for float chips, 0 when no nodata is set); ``drop_qa`` removes the QA band.
    """

    def __init__(
        self,
        qa_band: str = "BQA",
        scheme: str | None = None,
        apply: bool = False,
        drop_qa: bool = False,
    ) -> None:
        if scheme is not None and scheme not in QA_SCHEMES:
            raise invalid("scheme", "CloudMask", f"None or one of {sorted(QA_SCHEMES)}", scheme)
        self.qa_band, self.scheme, self.apply, self.drop_qa = qa_band, scheme, apply, drop_qa

    def __call__(self, batch: Batch) -> Batch:
        masks, fractions, out, names = [], [], [], []
        for n, image in enumerate(images(batch)):
            bands = _bands(batch, n)
            if self.qa_band not in bands:
                raise InvalidOptionError(
                    f"CloudMask needs the QA band {self.qa_band!r}; the chip has {bands}."
                )
            qa_index = bands.index(self.qa_band)
            scheme = self.scheme or (
                str(batch["landsat:qa_scheme"][n])
                if "landsat:qa_scheme" in batch
                else "collection-2"
            )
            mask = qa_cloud_mask(image[qa_index], scheme)
            masks.append(mask)
            fractions.append(float(mask.mean()))
            result = image
            if self.apply:
                result = image.copy()
                nodata = _nodata(batch, n)
                fill = np.nan if np.issubdtype(image.dtype, np.floating) else (nodata or 0)
                keep = [i for i in range(len(bands)) if i != qa_index]
                result[keep] = np.where(mask, fill, image[keep])
            if self.drop_qa:
                result = np.delete(result, qa_index, axis=0)
                bands = [b for b in bands if b != self.qa_band]
            out.append(result)
            names.append(bands)
        set_images(batch, out)
        set_images(batch, masks, "cloud_mask")
        batch["cloud_fraction"] = np.asarray(fractions, dtype=np.float32)
        if self.drop_qa:
            batch["bands"] = string_lists(names)
        return arrow_friendly(batch)


class Reproject:
    """Warp each chip to ``crs`` (and ``resolution``), updating transform, crs and size."""

    def __init__(
        self, crs: str, resolution: float | None = None, resampling: str = "bilinear"
    ) -> None:
        from rasterio.crs import CRS
        from rasterio.enums import Resampling
        from rasterio.errors import CRSError

        try:
            CRS.from_user_input(crs)
        except CRSError:
            raise invalid("crs", "Reproject", "a CRS such as 'EPSG:4326'", crs) from None
        if resampling not in Resampling.__members__:
            raise invalid("resampling", "Reproject", "a rasterio resampling name", resampling)
        self.crs, self.resolution, self.resampling = crs, resolution, Resampling[resampling]

    def __call__(self, batch: Batch) -> Batch:
        from affine import Affine
        from rasterio.warp import calculate_default_transform, reproject

        out, transforms, heights, widths = [], [], [], []
        for n, image in enumerate(images(batch)):
            src_crs = batch["crs"][n]
            if src_crs is None:
                raise InvalidOptionError(
                    f"Chip {batch['chip_id'][n]} has no CRS, so it cannot be reprojected."
                )
            src_transform = Affine(*batch["transform"][n][:6])
            bands, h, w = image.shape
            left, top = src_transform @ (0, 0)
            right, bottom = src_transform @ (w, h)
            kwargs = {"resolution": self.resolution} if self.resolution else {}
            dst_transform, dst_w, dst_h = calculate_default_transform(
                src_crs, self.crs, w, h, left=left, bottom=bottom, right=right, top=top, **kwargs
            )
            nodata = _nodata(batch, n)
            fill = nodata if nodata is not None else 0
            dst = np.full((bands, dst_h, dst_w), fill, dtype=image.dtype)
            reproject(
                image,
                dst,
                src_transform=src_transform,
                src_crs=src_crs,
                dst_transform=dst_transform,
                dst_crs=self.crs,
                src_nodata=nodata,
                dst_nodata=nodata,
                resampling=self.resampling,
            )
            out.append(dst)
            transforms.append(np.array(dst_transform[:6], dtype=np.float64))
            heights.append(dst_h)
            widths.append(dst_w)
        set_images(batch, out)
        batch["transform"] = np.stack(transforms)
        batch["crs"] = np.array([self.crs] * len(out), dtype=object)
        batch["height"] = np.asarray(heights, dtype=np.int64)
        batch["width"] = np.asarray(widths, dtype=np.int64)
        return arrow_friendly(batch)


def to_decibel(ds: ray.data.Dataset, floor: float = 1e-10) -> ray.data.Dataset:
    """SAR chips from linear power to dB (:class:`ToDecibel` over ``ds``)."""
    return ds.map_batches(ToDecibel(floor), batch_format="numpy")


def normalize(ds: ray.data.Dataset, stats: BandStats | None = None) -> ray.data.Dataset:
    """Per-band standardisation with ``stats`` (computed over ``ds`` when not given)."""
    return ds.map_batches(Normalize(stats or band_stats(ds)), batch_format="numpy")


def spectral_index(
    ds: ray.data.Dataset, name: str, bands: Mapping[str, str] | None = None
) -> ray.data.Dataset:
    """Add a spectral index column (``ndvi``, ``ndwi``, ...: :class:`SpectralIndex` over ``ds``)."""
    return ds.map_batches(SpectralIndex(name, bands), batch_format="numpy")


def cloud_mask(
    ds: ray.data.Dataset, qa_band: str = "BQA", *, apply: bool = False, drop_qa: bool = False
) -> ray.data.Dataset:
    """Add the Landsat QA cloud mask (and optionally blank cloudy pixels)."""
    return ds.map_batches(CloudMask(qa_band, apply=apply, drop_qa=drop_qa), batch_format="numpy")


def reproject(
    ds: ray.data.Dataset, crs: str, resolution: float | None = None, resampling: str = "bilinear"
) -> ray.data.Dataset:
    """Warp chips to a target CRS and resolution (:class:`Reproject` over ``ds``)."""
    return ds.map_batches(Reproject(crs, resolution, resampling), batch_format="numpy")


# Former names of the functions, kept for one release: each transform has one name, as a
# class for ``map_batches`` and as a function over a Dataset.
to_db = to_decibel
add_index = spectral_index
reproject_chips = reproject


__all__: Sequence[str] = [
    "INDICES",
    "BandStats",
    "CloudMask",
    "Normalize",
    "Reproject",
    "SpectralIndex",
    "ToDecibel",
    "add_index",
    "band_stats",
    "cloud_mask",
    "normalize",
    "qa_cloud_mask",
    "reproject",
    "reproject_chips",
    "spectral_index",
    "to_db",
    "to_decibel",
]
