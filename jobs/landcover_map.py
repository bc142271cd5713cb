"""A land-cover map of the Slovenia Sentinel-2 EOPatch: features → feature store → model → map.

The eo-learn example patch (68 Sentinel-2 dates of NDVI with cloud masks, a DEM and the LULC
reference, 10 m, EPSG:32633) becomes per-pixel features: NDVI statistics over the cloud-free
observations, seasonal NDVI medians and the elevation. They go into the feature group
``eopatch_pixels`` with the reference class and a spatial block id; a random forest is trained
on the feature view's training data from 70 % of the 10 × 10 px blocks, registered with its
signature (pixel input, the LULC class names and colours, the feature bands), and run over
the whole patch by ``eo.mapping.predict``. The map is scored against the reference pixels of
the held-out blocks (overall accuracy, per-class F1) and drawn beside the reference.

    python jobs/landcover_map.py [--trees 200] [--json] [--smoke]
    ray job submit --working-dir . -- python jobs/landcover_map.py
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

import eo_ray as eo

GROUP = "eopatch_pixels"
MODEL = "eopatch-landcover"
BLOCK = 10  # pixels per side of a spatial block: train and test never share a block
# eo-learn's LULC classes and colours (its land-cover example).
LULC = {
    1: ("cultivated land", "#ffff00"),
    2: ("forest", "#054907"),
    3: ("grassland", "#ffa500"),
    4: ("shrubland", "#806000"),
    5: ("water", "#069af3"),
    6: ("wetlands", "#95d0fc"),
    7: ("tundra", "#967bb6"),
    8: ("artificial surface", "#dc143c"),
    9: ("bareland", "#a6a6a6"),
    10: ("snow and ice", "#000000"),
}


def pixel_features(patch: eo.datasets.EOPatch) -> dict[str, np.ndarray]:
    """Per-pixel features (height × width each) from the cloud-free NDVI observations."""
    ndvi = patch.data["data/NDVI"][..., 0].astype(np.float32)
    clear = patch.data["mask/IS_VALID"][..., 0] & (patch.data["mask/CLM"][..., 0] == 0)
    series = np.where(clear, ndvi, np.nan)
    with np.errstate(all="ignore"), _quiet_nan_warnings():
        features = {
            "ndvi_mean": np.nanmean(series, axis=0),
            "ndvi_std": np.nanstd(series, axis=0),
            "ndvi_p10": np.nanpercentile(series, 10, axis=0),
            "ndvi_p50": np.nanpercentile(series, 50, axis=0),
            "ndvi_p90": np.nanpercentile(series, 90, axis=0),
        }
        quarters = pd.DatetimeIndex(pd.to_datetime(patch.timestamps)).quarter.to_numpy()
        for q in sorted(set(quarters.tolist())):
            season = np.nanmedian(series[quarters == q], axis=0)
            features[f"ndvi_q{q}"] = np.where(np.isnan(season), features["ndvi_p50"], season)
    features["dem"] = patch.data["data_timeless/DEM"][..., 0].astype(np.float32)
    return features


class _quiet_nan_warnings:  # noqa: N801 - used as a context manager
    """Silence numpy's all-NaN slice warnings (pixels never seen cloud-free give NaN)."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)


def pixel_frame(features: dict[str, np.ndarray], lulc: np.ndarray) -> pd.DataFrame:
    """One row per labelled pixel: id, features, reference class and spatial block."""
    height, width = lulc.shape
    rows, cols = np.mgrid[0:height, 0:width]
    frame = pd.DataFrame({name: values.ravel() for name, values in features.items()})
    frame.insert(0, "pixel_id", (rows * width + cols).ravel().astype(np.int64))
    frame["block"] = ((rows // BLOCK) * (width // BLOCK + 1) + cols // BLOCK).ravel()
    frame["lulc"] = lulc.ravel().astype(np.int64)
    return frame[frame["lulc"] > 0].dropna().reset_index(drop=True)  # 0 is "no data"


def main() -> int:
    from rich.console import Console
    from rich.table import Table
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score, f1_score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--test-blocks", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="Folder of the map (default: workspace).")
    parser.add_argument("--json", action="store_true", help="Print the scores as JSON last.")
    parser.add_argument("--smoke", action="store_true", help="A tiny, fast run (tests).")
    args = parser.parse_args()
    if args.smoke:
        args.trees = 10
    console = Console(stderr=args.json)
    start = time.perf_counter()
    eo.init()

    patch = eo.datasets.load_s2_slovenia()
    features = pixel_features(patch)
    lulc = patch.data["mask_timeless/LULC"][..., 0]
    out = Path(args.out or eo.workspace().uri("maps", "eopatch"))
    out.mkdir(parents=True, exist_ok=True)
    raster = patch.to_geotiff(out / "eopatch_features.tif", features)

    fs = eo.feature_store()
    group = fs.get_or_create_feature_group(
        GROUP,
        version=1,
        primary_key=["pixel_id"],
        description="Slovenia EOPatch pixels: cloud-free NDVI statistics, DEM, LULC reference",
        keywords=["sentinel-2", "land cover", "ndvi", "eo-learn"],
    )
    group.insert(pixel_frame(features, lulc), operation="upsert")
    names = list(features)
    view = fs.get_or_create_feature_view(
        "eopatch_landcover", group.select([*names, "block", "lulc"]), labels=["lulc"], version=1
    )
    x, y = view.training_data(seed=args.seed, description="every labelled pixel")
    blocks = np.unique(x["block"])
    rng = np.random.default_rng(args.seed)
    test_blocks = rng.choice(blocks, int(len(blocks) * args.test_blocks), replace=False)
    test = x["block"].isin(test_blocks).to_numpy()
    forest = RandomForestClassifier(
        args.trees, min_samples_leaf=2, class_weight="balanced", random_state=args.seed, n_jobs=1
    ).fit(x.loc[~test, names], y["lulc"][~test])
    codes = [int(c) for c in forest.classes_]
    version = eo.models.register(
        MODEL,
        forest,
        "sklearn",
        input="pixel",
        classes=[LULC[c][0] for c in codes],
        colors=[LULC[c][1] for c in codes],
        bands=names,
        training_dataset=f"eopatch_landcover v1, {int((~test).sum())} pixels",
        description="Random forest on cloud-free NDVI statistics of the Slovenia EOPatch",
    )

    result = eo.mapping.predict(version, [str(raster)], out, resume=False, progress=False)
    import rasterio

    with rasterio.open(result.outputs[0].uri) as src:
        mapped = src.read(1)
    height, width = lulc.shape
    frame = pixel_frame(features, lulc)
    held = frame[frame["block"].isin(test_blocks)]
    rows, cols = np.divmod(held["pixel_id"].to_numpy(), width)
    predicted = np.asarray(codes)[mapped[rows, cols]]
    truth = held["lulc"].to_numpy()
    scores = {
        "overall_accuracy": float(accuracy_score(truth, predicted)),
        "weighted_f1": float(f1_score(truth, predicted, average="weighted")),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "per_class_f1": {
            LULC[c][0]: float(f)
            for c, f in zip(
                codes, f1_score(truth, predicted, labels=codes, average=None), strict=True
            )
        },
        "test_pixels": len(truth),
        "train_pixels": int((~test).sum()),
        "map": result.outputs[0].uri,
        "model": f"{MODEL}:{version.version}",
        "seconds": round(time.perf_counter() - start, 1),
    }
    figure = draw(mapped, lulc, codes, out / "eopatch_landcover.png")

    table = Table(title=f"land-cover map of the Slovenia EOPatch ({height}×{width} px, 10 m)")
    for col in ("class", "F1 (held-out blocks)", "reference pixels"):
        table.add_column(col)
    for c in codes:
        f1 = scores["per_class_f1"][LULC[c][0]]
        table.add_row(LULC[c][0], f"{f1:.3f}", str((truth == c).sum()))
    console.print(table)
    console.print(
        f"overall accuracy {scores['overall_accuracy']:.3f}, weighted F1 "
        f"{scores['weighted_f1']:.3f} on {scores['test_pixels']} held-out pixels; map "
        f"{scores['map']}; figure {figure}; {scores['seconds']:.0f} s"
    )
    if args.json:
        print(json.dumps(scores))
    return 0


def draw(mapped: np.ndarray, lulc: np.ndarray, codes: list[int], path: Path) -> Path:
    """The map beside the reference, in eo-learn's LULC colours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    colours = ListedColormap([LULC[c][1] for c in codes])
    reference = np.full(lulc.shape, np.nan)
    for i, c in enumerate(codes):
        reference[lulc == c] = i
    shown = np.where(mapped == 255, np.nan, mapped.astype(float))
    fig, axes = plt.subplots(1, 2, figsize=(9, 5.2), layout="constrained")
    for ax, data, title in ((axes[0], shown, "eo-ray map"), (axes[1], reference, "LULC reference")):
        ax.imshow(data, cmap=colours, vmin=-0.5, vmax=len(codes) - 0.5, interpolation="nearest")
        ax.set_title(title)
        ax.set_axis_off()
    handles = [Patch(color=LULC[c][1], label=LULC[c][0]) for c in codes]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(codes), frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
