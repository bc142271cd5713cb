"""Writing one scene's map as windows stream in, then publishing it as a COG atomically.

Window results go into a temporary tiled GeoTIFF on the source grid (uncompressed, so a
window is written in place), or, with overlap, into a blend accumulator. When every window
of the scene has arrived, the temporary file becomes a Cloud-Optimized GeoTIFF (DEFLATE,
internal tiles, overviews, colour table, class names) written under a hidden name beside
the final one and moved into place, so a map is either whole or absent.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eo_ray.mapping._blend import Accumulator, hann

COG_BLOCK = 512


@dataclass(frozen=True)
class MapSpec:
    """How the maps of one run look (shared by its scenes)."""

    classes: tuple[str, ...]
    colors: tuple[str, ...]
    output: str  # "class", "proba" or "both"
    proba_dtype: str  # "float32" or "uint8"
    class_dtype: str
    class_nodata: int
    chip: tuple[int, int]
    overlap: int
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def blend(self) -> bool:
        return self.overlap > 0

    @property
    def wants_class(self) -> bool:
        return self.output in ("class", "both")

    @property
    def wants_proba(self) -> bool:
        return self.output in ("proba", "both")


def own_span(offset: int, size: int, length: int) -> tuple[int, int]:
    """The part of a window (start ``offset``, ``size`` long) that no earlier grid window
    covers, clipped to ``length``: the whole window, except the last one of a row or column
    that was snapped back inside the scene."""
    start = offset if offset % size == 0 else (offset // size + 1) * size
    return start, min(offset + size, length)


def quantise(proba: np.ndarray) -> np.ndarray:
    """Probabilities as uint8 (0-254 for 0-1, 255 where there is no data)."""
    out = np.rint(np.nan_to_num(proba, nan=0.0) * 254.0).astype(np.uint8)
    out[np.isnan(proba)] = 255
    return out


def _rgb(colour: str) -> tuple[int, int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16), 255


class SceneWriter:
    """The map of one scene: ``add`` window results, then ``finish`` (or ``abort``)."""

    def __init__(
        self,
        plan: Any,
        spec: MapSpec,
        targets: dict[str, str],
        workdir: Path,
    ) -> None:
        self.plan = plan
        self.spec = spec
        self.targets = targets  # "class" / "proba" -> final URI
        self.workdir = workdir
        self.expected = {(int(w[0]), int(w[1])) for w in plan.windows}
        self.received: set[tuple[int, int]] = set()
        self.skipped = 0
        self.started = time.perf_counter()
        self._files: dict[str, Any] = {}
        self._acc: Accumulator | None = None
        self._weight = hann(*spec.chip) if spec.blend else None
        self.finished = False

    @property
    def complete(self) -> bool:
        return self.received >= self.expected

    @property
    def pixels(self) -> int:
        return int(self.plan.height) * int(self.plan.width)

    def _file(self, kind: str) -> Any:
        """The temporary GeoTIFF of ``kind`` ("class" or "proba"), opened on first use."""
        if kind not in self._files:
            import rasterio

            spec = self.spec
            if kind == "class":
                count, dtype, nodata = 1, spec.class_dtype, spec.class_nodata
            else:
                count = len(spec.classes)
                dtype = spec.proba_dtype
                nodata = 255 if dtype == "uint8" else float("nan")
            self._files[kind] = rasterio.open(
                self.workdir / f"{kind}.tif",
                "w",
                driver="GTiff",
                width=self.plan.width,
                height=self.plan.height,
                count=count,
                dtype=dtype,
                nodata=nodata,
                crs=self.plan.crs,
                transform=_affine(self.plan.transform),
                tiled=True,
                blockxsize=COG_BLOCK,
                blockysize=COG_BLOCK,
                BIGTIFF="IF_SAFER",
            )
        return self._files[kind]

    def add(
        self,
        row_off: int,
        col_off: int,
        skipped: bool,
        classes: np.ndarray | None = None,
        proba: np.ndarray | None = None,
    ) -> None:
        """One window's result (class indices h × w and/or probabilities classes × h × w)."""
        key = (int(row_off), int(col_off))
        if key in self.received:
            return  # a retried task delivered it again
        self.received.add(key)
        if skipped:
            self.skipped += 1
            if self.spec.blend:
                return  # no weight: nodata when the blend is drained
            classes, proba = self._nodata_window()
        if self.spec.blend:
            if self._acc is None:
                self._acc = Accumulator(
                    self.workdir / "blend.f32", self.plan.height, self.plan.width,
                    len(self.spec.classes),
                )  # fmt: skip
            if proba is None or self._weight is None:
                raise ValueError("Blending overlapping windows needs their probabilities.")
            self._acc.add(key[0], key[1], proba, self._weight)
            return
        h, w = (classes if classes is not None else proba).shape[-2:]  # type: ignore[union-attr]
        r0, r1 = own_span(key[0], h, self.plan.height)
        c0, c1 = own_span(key[1], w, self.plan.width)
        if r1 <= r0 or c1 <= c0:
            return
        from rasterio.windows import Window

        window = Window(c0, r0, c1 - c0, r1 - r0)
        rows = slice(r0 - key[0], r1 - key[0])
        cols = slice(c0 - key[1], c1 - key[1])
        if classes is not None and self.spec.wants_class:
            self._file("class").write(classes[rows, cols], 1, window=window)
        if proba is not None and self.spec.wants_proba:
            part = proba[:, rows, cols]
            if self.spec.proba_dtype == "uint8":
                part = quantise(part)
            self._file("proba").write(part, window=window)

    def _nodata_window(self) -> tuple[np.ndarray, np.ndarray]:
        """A window of nodata for both kinds of output (written for skipped windows)."""
        h, w = self.spec.chip
        classes = np.full((h, w), self.spec.class_nodata, dtype=self.spec.class_dtype)
        proba = np.full((len(self.spec.classes), h, w), np.nan, dtype=np.float32)
        return classes, proba

    def _drain_blend(self) -> None:
        """Turn the blended sums into class indices and probabilities, strip by strip."""
        if self._acc is None:
            return
        from rasterio.windows import Window

        for r0, proba, weight in self._acc.strips():
            window = Window(0, r0, self.plan.width, proba.shape[1])
            if self.spec.wants_class:
                best = np.nan_to_num(proba, nan=-1.0).argmax(axis=0)
                classes = np.where(weight > 0, best, self.spec.class_nodata)
                self._file("class").write(classes.astype(self.spec.class_dtype), 1, window=window)
            if self.spec.wants_proba:
                part = quantise(proba) if self.spec.proba_dtype == "uint8" else proba
                self._file("proba").write(part.astype(self.spec.proba_dtype), window=window)

    def finish(self, publish: Any) -> dict[str, str]:
        """Write the COGs and move them into place; returns kind -> final URI."""
        self._drain_blend()
        for kind in ("class", "proba"):
            if self.spec.wants_class if kind == "class" else self.spec.wants_proba:
                self._file(kind)  # a scene with only nodata windows still gets its maps
        self._decorate()
        for ds in self._files.values():
            ds.close()
        done = {}
        for kind, ds in self._files.items():
            cog = self.workdir / f"{kind}.cog.tif"
            _to_cog(Path(ds.name), cog, categorical=kind == "class")
            publish(cog, self.targets[kind])
            done[kind] = self.targets[kind]
        self.close()
        self.finished = True
        return done

    def _decorate(self) -> None:
        """Class names, colours and lineage tags in the files."""
        spec = self.spec
        tags = {**spec.tags, "EO_RAY_CLASSES": json.dumps(list(spec.classes))}
        if "class" in self._files:
            ds = self._files["class"]
            ds.update_tags(**tags)
            ds.set_band_description(1, "class")
            if spec.class_dtype == "uint8":
                colours = {i: _rgb(c) for i, c in enumerate(spec.colors)}
                ds.write_colormap(1, colours | {spec.class_nodata: (0, 0, 0, 0)})
        if "proba" in self._files:
            ds = self._files["proba"]
            scale = "1/254" if spec.proba_dtype == "uint8" else "1"
            ds.update_tags(**tags, EO_RAY_PROBABILITY_SCALE=scale)
            for i, name in enumerate(spec.classes, start=1):
                ds.set_band_description(i, f"p({name})")

    def close(self) -> None:
        """Drop every temporary file of the scene."""
        self.finished = True
        for ds in self._files.values():
            if not ds.closed:
                ds.close()
        if self._acc is not None:
            self._acc.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    abort = close


def _affine(transform: Any) -> Any:
    from affine import Affine

    return Affine(*transform[:6])


def _to_cog(src: Path, dst: Path, *, categorical: bool) -> None:
    """A Cloud-Optimized GeoTIFF of ``src``: DEFLATE, 512 px tiles, overviews."""
    import rasterio.shutil

    rasterio.shutil.copy(
        str(src),
        str(dst),
        driver="COG",
        COMPRESS="DEFLATE",
        BLOCKSIZE=str(COG_BLOCK),
        OVERVIEW_RESAMPLING="NEAREST" if categorical else "AVERAGE",
        NUM_THREADS="ALL_CPUS",
        BIGTIFF="IF_SAFER",
    )


def publish_local(cog: Path, final: str) -> None:
    """Move ``cog`` to ``final`` atomically (via a hidden name in the same folder)."""
    target = Path(final)
    hidden = target.with_name(f".{target.name}.partial")
    shutil.move(cog, hidden)  # a rename on the same disk, a copy otherwise
    os.replace(hidden, target)
