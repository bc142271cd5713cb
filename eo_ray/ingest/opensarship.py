"""The reference use case: OpenSARShip's Sentinel-1 ship chips as a labelled chip Dataset.

The scene zips are scanned into a catalog (the class comes from each chip's file name,
the AIS record from ``Ship.xml``), the calibrated chips (``Patch_Cal``) are read through
``read_chips`` as whole rasters fitted to one size, and single-polarisation chips get a
zero VH channel so every image has the same shape for training.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from eo_ray.ingest._blocks import arrow_friendly, string_lists
from eo_ray.ingest.catalog import Catalog, scan
from eo_ray.ingest.chips import ChipReader, make_options
from eo_ray.ingest.errors import IngestError, invalid

if TYPE_CHECKING:
    import ray.data

CATALOG = "opensarship"
PATCH = "Patch_Cal"  # calibrated float32 sigma0 chips, the ones the manifest lists
AIS_PROPERTIES = (
    "ais:mmsi",
    "ais:ship_type",
    "ais:name",
    "ais:length",
    "ais:width",
    "ais:draught",
    "ais:sog",
    "ais:cog",
    "ais:true_head",
    "ais:elaborated_type",
    "opensarship:longitude",
    "opensarship:latitude",
    "sar:incidence_angle",
)
CHIP_PROPERTIES = ("label", "platform", "sar:polarizations", "opensarship:center", *AIS_PROPERTIES)


def opensarship_classes() -> list[str]:
    """The class names of the subset, most frequent first (ties by name): label ids."""
    from eo_ray.datasets import load_opensarship

    counts = load_opensarship().manifest["class"].value_counts()
    return sorted(counts.index, key=lambda c: (-counts[c], c))


_CROSS_POL = {"VV": "VH", "HH": "HV"}


class _FixChannels:
    """Pad single-polarisation chips to ``channels`` bands (zeros) and add label ids."""

    def __init__(self, channels: int, classes: list[str]) -> None:
        self.channels = channels
        self.ids = {name: n for n, name in enumerate(classes)}

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out, counts, names = [], [], []
        for image, bands in zip(batch["image"], batch["bands"], strict=True):
            bands = [str(b) for b in bands]
            counts.append(image.shape[0])
            if image.shape[0] < self.channels:
                pad = np.zeros((self.channels - image.shape[0], *image.shape[1:]), image.dtype)
                image = np.concatenate([image, pad])
                bands += [_CROSS_POL.get(bands[-1], "pad")] * (self.channels - len(bands))
            out.append(image[: self.channels])
            names.append(bands[: self.channels])
        batch["image"] = np.stack(out)
        batch["bands"] = string_lists(names)
        batch["channels"] = np.asarray(counts, dtype=np.int64)
        batch["label_id"] = np.asarray([self.ids.get(str(v), -1) for v in batch["label"]])
        return arrow_friendly(batch)


def opensarship_catalog(*, rescan: bool = False) -> Catalog:
    """The catalog of the OpenSARShip zips (scanned on first use; verified by sha256)."""
    from eo_ray.datasets import locate

    catalog = Catalog(CATALOG)
    if rescan or not catalog.exists():
        catalog = scan([str(locate("opensarship_subset"))], catalog=CATALOG)
    return catalog


def opensarship_chips(
    size: int = 64,
    *,
    fit: Literal["pad", "resize"] = "pad",
    channels: int = 2,
    rescan: bool = False,
) -> ray.data.Dataset:
    """OpenSARShip's 351 calibrated ship chips as a labelled Dataset of ``size`` x ``size``.

    ``fit="pad"`` centres each chip on a nodata (0) canvas, cropping larger ones;
    ``"resize"`` resamples bilinearly. Rows carry the chip contract columns plus
    ``label`` (class from the file name), ``label_id`` (index in
    :func:`opensarship_classes`), ``channels`` (bands before padding) and the AIS fields
    of ``Ship.xml`` where the ship has a record (None otherwise).
    """
    if not isinstance(channels, int) or channels not in (1, 2):
        raise invalid("channels", "opensarship_chips", "1 or 2", channels)
    items = opensarship_catalog(rescan=rescan).search(
        collection="opensarship", **{"opensarship:patch": PATCH}
    )
    if not items:
        raise IngestError(
            "The OpenSARShip catalog has no calibrated chips: rescan it with rescan=True."
        )
    opts = make_options(
        size,
        None,
        None,
        fit=fit,
        max_nodata=1.0,
        allow_ungeoreferenced=True,
        properties=CHIP_PROPERTIES,
    )
    ds = ChipReader(items, opts).dataset(on_error="raise")
    return ds.map_batches(_FixChannels(channels, opensarship_classes()), batch_format="numpy")
