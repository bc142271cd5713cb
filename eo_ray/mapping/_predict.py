"""``eo.mapping.predict``: a registered model over whole scenes, one COG map per scene.

Windows are planned from the catalog's metadata and read by the ingest datasource; Ray
Data fuses each read into an actor of the inference pool (the model is loaded once per
actor), so a window's pixels go from the file to the model in one process. The driver
only routes small results to per-scene writers, which write them in place and publish
each map atomically once its last window has arrived.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eo_ray.ingest import ChipReader
from eo_ray.ingest.chips import make_options
from eo_ray.mapping._infer import InferSettings, bound_predictor
from eo_ray.mapping._inputs import (
    check_items,
    check_nodata,
    check_options,
    check_writable,
    chip_of,
    km2,
    map_name,
    probe,
    resolve_items,
    resolve_model,
)
from eo_ray.mapping._records import MAPS_CATALOG, MapRecord, add_to_catalog, read_sidecar
from eo_ray.mapping._series import order_series, stack_name
from eo_ray.mapping._writer import MapSpec, SceneWriter, publish_local
from eo_ray.mapping.errors import MapFailedError, MappingError, invalid
from eo_ray.storage import Workspace

if TYPE_CHECKING:
    import pandas as pd

    from eo_ray.ingest import Item

BLOCK_BYTES = 16 * 2**20  # read tasks of at most this many image bytes: memory stays flat
GDAL_CACHE_MB = 64  # the driver's GDAL block cache while it writes maps


@dataclass(frozen=True)
class MapOutput:
    """The outcome for one scene."""

    item_id: str
    source: str
    status: str  # "written", "resumed" or "failed"
    uri: str | None = None
    proba_uri: str | None = None
    pixels: int = 0
    windows: int = 0
    skipped_windows: int = 0
    seconds: float = 0.0
    km2: float = 0.0
    error: str | None = None


@dataclass
class MapResult:
    """Every scene's outcome of one ``predict`` call; ``summary()`` gives the totals."""

    model: str
    model_version: int
    out: str
    outputs: list[MapOutput] = field(default_factory=list)
    seconds: float = 0.0
    catalog: str | None = None

    def __iter__(self) -> Iterator[MapOutput]:
        return iter(self.outputs)

    def __len__(self) -> int:
        return len(self.outputs)

    @property
    def failed(self) -> list[MapOutput]:
        return [o for o in self.outputs if o.status == "failed"]

    @property
    def uris(self) -> list[str]:
        """The class (or, with output="proba", probability) maps, in source order."""
        return [o.uri or o.proba_uri for o in self.outputs if o.status != "failed"]  # type: ignore[misc]

    def summary(self) -> dict[str, Any]:
        """Totals: maps written / resumed / failed, pixels, windows, km², seconds, km²/s."""
        written = [o for o in self.outputs if o.status == "written"]
        area = sum(o.km2 for o in written)
        return {
            "model": f"{self.model}:{self.model_version}",
            "maps": len(written),
            "resumed": sum(o.status == "resumed" for o in self.outputs),
            "failed": len(self.failed),
            "pixels": sum(o.pixels for o in written),
            "windows": sum(o.windows for o in written),
            "skipped_windows": sum(o.skipped_windows for o in written),
            "km2": round(area, 3),
            "seconds": round(self.seconds, 3),
            "km2_per_s": round(area / self.seconds, 3) if self.seconds > 0 else 0.0,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "outputs": [asdict(o) for o in self.outputs]}

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([asdict(o) for o in self.outputs])


def predict(
    model: Any,
    source: Any,
    out: str | Path,
    *,
    chip_size: int | tuple[int, int] | None = None,
    overlap: int = 0,
    batch_size: int | None = None,
    output: str = "class",
    proba_dtype: str = "uint8",
    nodata: float | None = None,
    num_gpus: float | None = None,
    workers: int | None = None,
    resume: bool = True,
    progress: bool | None = None,
    catalog: str | None = MAPS_CATALOG,
) -> MapResult:
    """Map every scene of ``source`` with a registered ``model``: one COG per scene in ``out``.

    ``model`` is a name, ``"name:version"`` or a ModelVersion registered with a signature
    (``input="pixel"``, ``"series"`` or ``"chip"``, ``classes``, optional ``bands`` and
    ``preprocess``). ``source`` is a catalog, a search result, items, or raster paths/URIs;
    ``out`` a folder or ``s3://`` URI. For a series model the items of ``source`` are one
    time series on one grid (as many dates as the model's ``dates``): one map is made on
    that grid, each pixel classified from its dates stacked in date order (pixels with no
    data on some date are nodata). Windows of ``chip_size`` (default: the model's chip, else 512 px)
    overlap by ``overlap`` pixels, blended with a Hann weight; with ``overlap=0`` each pixel
    comes from exactly one window. ``output`` is ``"class"`` (class indices into the
    model's classes, uint8 or uint16, nodata outside the class range), ``"proba"``
    (probabilities, ``proba_dtype`` uint8 0-254 or float32) or ``"both"`` (two files).
    ``nodata`` is the value of missing pixels in the source, overriding the file's.
    Inference runs on ``workers`` actors (default: one per CPU, or per GPU with
    ``num_gpus``, where torch models run on the actor's GPU). With ``resume``, a scene
    whose map was finished by the same model and parameters is not redone. Maps are
    recorded in the ``catalog`` (None: not recorded).
    """
    started = time.perf_counter()
    version, signature = resolve_model(model)
    chip = chip_of(chip_size, signature, version)
    overlap = check_options(output, proba_dtype, overlap, chip)
    nodata_override = check_nodata(nodata)
    batch = _batch_size(batch_size, signature.input)
    _ensure_ray()
    items = resolve_items(source)
    check_items(items, signature)
    series = None
    if signature.input == "series":
        series = order_series(items, signature, version.name)
        items = series[:1]  # windows are planned on the first date's grid
    bands = len(signature.bands) if signature.bands else len(items[0].band_names)
    probe(version, signature, bands, chip, len(series) if series else 1)
    out_ws = check_writable(str(out))
    n_classes = len(signature.classes)
    class_dtype, class_nodata = ("uint8", 255) if n_classes < 255 else ("uint16", 65535)
    parameters = {
        "chip_size": list(chip),
        "overlap": overlap,
        "output": output,
        "proba_dtype": proba_dtype,
        "nodata": nodata_override,
    }
    if series:
        parameters["dates"] = [item.datetime for item in series]
    spec = MapSpec(
        classes=signature.classes,
        colors=signature.palette,
        output=output,
        proba_dtype=proba_dtype,
        class_dtype=class_dtype,
        class_nodata=class_nodata,
        chip=chip,
        overlap=overlap,
        tags={"EO_RAY_MODEL": f"{version.name}:{version.version}"},
    )
    run = _Run(version, signature.bands, spec, out_ws, parameters, items, series)
    result = MapResult(version.name, version.version, out_ws.root, catalog=catalog)
    todo = []
    for item in items:
        done = read_sidecar(out_ws, run.targets(item)[_main(spec)]) if resume else None
        if done is not None and run.matches(done):
            result.outputs.append(_resumed(item, done))
        else:
            todo.append(item)
    if todo:
        result.outputs += run.execute(
            todo,
            workers=workers,
            num_gpus=num_gpus,
            batch_size=batch,
            nodata=nodata_override,
            progress=progress,
        )
    order = {item.id: n for n, item in enumerate(items)}
    result.outputs.sort(key=lambda o: order.get(o.item_id, len(order)))
    if catalog is not None:
        add_to_catalog(run.records, catalog)
    result.seconds = time.perf_counter() - started
    if result.failed and len(result.failed) == len(result.outputs):
        shown = "; ".join(f"{o.item_id}: {o.error}" for o in result.failed[:3])
        raise MapFailedError(f"No scene could be mapped ({len(result.failed)} failed): {shown}.")
    return result


def _main(spec: MapSpec) -> str:
    return "class" if spec.wants_class else "proba"


def _batch_size(value: Any, kind: str) -> int:
    if value is None:
        return 65536 if kind == "pixel" else 16
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid("batch_size", "a positive number of pixels or chips per model call", value)
    return value


def _ensure_ray() -> None:
    import ray

    if not ray.is_initialized():
        from eo_ray.runtime import init

        init()


def _resumed(item: Item, record: MapRecord) -> MapOutput:
    return MapOutput(
        item_id=item.id,
        source=item.href,
        status="resumed",
        uri=record.uri if record.parameters.get("output") != "proba" else None,
        proba_uri=record.proba_uri,
        pixels=record.width * record.height,
        windows=record.windows,
        skipped_windows=record.skipped_windows,
        km2=record.km2,
    )


class _Run:
    """One mapping run: targets, the engine, publication and records."""

    def __init__(
        self,
        version: Any,
        bands: tuple[str, ...] | None,
        spec: MapSpec,
        out_ws: Workspace,
        parameters: dict[str, Any],
        items: list[Item],
        series: list[Item] | None = None,
    ) -> None:
        self.version = version
        self.series = series
        self.bands = None if bands is None else list(bands)
        self.spec = spec
        self.ws = out_ws
        self.parameters = parameters
        self.items = {item.id: item for item in items}
        self.records: list[MapRecord] = []
        self.run_id = uuid.uuid4().hex[:8]

    def stem(self, item: Item) -> str:
        """The map's file stem: the scene's id, or the series' first and last ids."""
        return map_name(stack_name(self.series) if self.series else item.id)

    @property
    def sources(self) -> list[Item]:
        """The items read for a map: every date of the series, or the scene."""
        return self.series or list(self.items.values())

    def targets(self, item: Item) -> dict[str, str]:
        stem = self.stem(item)
        return {
            "class": self.ws.uri(f"{stem}.tif"),
            "proba": self.ws.uri(f"{stem}.proba.tif" if self.spec.wants_class else f"{stem}.tif"),
        }

    def matches(self, record: MapRecord) -> bool:
        """Whether a finished map was made by this model with these parameters."""
        return (
            record.model == self.version.name
            and record.model_version == self.version.version
            and record.parameters == self.parameters
        )

    @property
    def workroot(self) -> Path:
        """Temporary files of the run: in the output folder when it is local (so a finished
        map is moved into place by a rename), else in the system's temporary folder."""
        if self.ws.is_local:
            return Path(self.ws.root) / f".eo-ray-work-{self.run_id}"
        return Path(tempfile.gettempdir()) / f"eo-ray-map-{self.run_id}"

    def _workdir(self, item_id: str) -> Path:
        path = self.workroot / map_name(item_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _publish(self, cog: Path, uri: str) -> None:
        if self.ws.is_local:
            publish_local(cog, uri)
            return
        fs = self.ws.filesystem
        with cog.open("rb") as src, fs.open_output_stream(self.ws.fs_path(uri)) as dst:
            shutil.copyfileobj(src, dst, 8 * 2**20)  # the object appears when complete

    def execute(
        self,
        items: list[Item],
        *,
        workers: int | None,
        num_gpus: float | None,
        batch_size: int,
        nodata: float | None,
        progress: bool | None,
    ) -> list[MapOutput]:
        """Map ``items``; every scene ends written or failed (with its reason)."""
        import rasterio

        spec = self.spec
        stride = (spec.chip[0] - spec.overlap, spec.chip[1] - spec.overlap)
        dates = len(self.series) if self.series else 1
        opts = make_options(
            spec.chip,
            stride,
            self.bands,
            edge="snap",
            max_nodata=1.0,
            properties=(),
            block_bytes=max(BLOCK_BYTES // dates, 2**20),  # an actor stacks every date
        )
        outputs: list[MapOutput] = []
        with ChipReader(items, opts) as reader:
            plans = reader.plan()
            planned = {p.item_id for p in plans}
            for failure in reader.failures:
                item = next((i for i in items if i.href == failure.path), None)
                if item is not None and item.id not in planned:
                    outputs.append(_failed(item, failure.reason))
            if not plans:
                return outputs
            later = self._later_dates(opts, nodata)
            if isinstance(later, MapOutput):
                return [*outputs, later]
            writers = {
                p.item_id: SceneWriter(
                    p, spec, self.targets(self.items[p.item_id]), self._workdir(p.item_id)
                )
                for p in plans
            }
            settings = InferSettings(
                model={**self.version.to_dict(), "root": self.version.root},
                nodata={p.item_id: nodata if nodata is not None else p.nodata for p in plans},
                class_dtype=spec.class_dtype,
                class_nodata=spec.class_nodata,
                send_classes=spec.wants_class and not spec.blend,
                send_proba=spec.blend or spec.wants_proba,
                batch_size=batch_size,
                series=later[0],
                series_nodata=later[1],
                device="cuda" if num_gpus else None,
            )
            try:
                with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), _Progress(plans, progress) as bar:
                    for batch in self._stream(reader, settings, workers, num_gpus):
                        outputs += self._route(batch, writers, bar)
            except Exception as exc:  # noqa: BLE001 - any failure: no partial map is left
                for writer in writers.values():
                    writer.abort()
                raise _engine_error(exc) from None
            finally:
                shutil.rmtree(self.workroot, ignore_errors=True)
            reasons = "; ".join(f"{f.path} {f.reason}" for f in reader.failures[:3])
            for item_id, writer in writers.items():
                if not writer.complete:
                    missing = len(writer.expected - writer.received)
                    writer.abort()
                    why = f"{missing} of {len(writer.expected)} windows could not be read"
                    outputs.append(
                        _failed(self.items[item_id], f"{why} ({reasons or 'no reason'})")
                    )
        return outputs

    def _later_dates(
        self, opts: Any, nodata: float | None
    ) -> tuple[tuple[Any, ...], tuple[float | None, ...]] | MapOutput:
        """The plans and nodata values of the series' dates after the first (none for a
        scene), or the failed map when one of them cannot be read."""
        if not self.series:
            return (), ()
        from eo_ray.ingest._gdal import GdalOptions
        from eo_ray.ingest.chips import plan_items

        plans, failed, _ = plan_items(
            self.series[1:], opts, None, "EPSG:4326", GdalOptions.from_env()
        )
        if failed:
            first = failed[0]
            return _failed(self.series[0], f"date {first['path']} {first['reason']}")
        return tuple(plans), tuple(nodata if nodata is not None else p.nodata for p in plans)

    def _stream(
        self,
        reader: ChipReader,
        settings: InferSettings,
        workers: int | None,
        num_gpus: float | None,
    ) -> Iterator[dict[str, Any]]:
        import ray
        import ray.data

        resource = "GPU" if num_gpus else "CPU"
        size = workers or max(1, int(ray.cluster_resources().get(resource, 1)))
        size = min(size, _blocks_at_least(reader.plan(), self.spec.chip))
        ds = reader.dataset(on_error="warn").map_batches(
            bound_predictor(settings),
            batch_size=None,  # a whole read block: Ray Data fuses the read into the actor
            batch_format="numpy",
            zero_copy_batch=True,
            compute=ray.data.ActorPoolStrategy(size=size),
            num_gpus=num_gpus,
        )
        context = ray.data.DataContext.get_current()
        shown = context.enable_progress_bars
        context.enable_progress_bars = False
        try:
            yield from ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=1)
        finally:
            context.enable_progress_bars = shown

    def _route(
        self, batch: dict[str, Any], writers: dict[str, SceneWriter], bar: _Progress
    ) -> list[MapOutput]:
        """Hand each window to its scene's writer; publish the scenes it completes."""
        finished = []
        classes, proba = batch.get("classes"), batch.get("proba")
        for n, item_id in enumerate(batch["item_id"].tolist()):
            writer = writers[item_id]
            writer.add(
                batch["row_off"][n],
                batch["col_off"][n],
                bool(batch["skipped"][n]),
                None if classes is None else classes[n],
                None if proba is None else proba[n],
            )
            bar.advance(writer)
            if writer.complete and not writer.finished:
                finished.append(self._finish(writer))
        return finished

    def _finish(self, writer: SceneWriter) -> MapOutput:
        item = self.items[writer.plan.item_id]
        try:
            done = writer.finish(self._publish)
        except Exception as exc:  # noqa: BLE001 - one scene failing must not lose the others
            writer.abort()
            return _failed(item, f"its map could not be written ({type(exc).__name__}: {exc})")
        seconds = time.perf_counter() - writer.started
        area = km2(writer.plan)
        record = MapRecord(
            map_id=self.stem(item),
            uri=done.get("class") or done["proba"],
            proba_uri=done.get("proba") if "class" in done else None,
            model=self.version.name,
            model_version=self.version.version,
            sources=[a.href for i in (self.series or [item]) for a in i.assets.values()],
            source_item=item.id,
            classes=list(self.spec.classes),
            colors=list(self.spec.colors),
            created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            parameters=self.parameters,
            width=writer.plan.width,
            height=writer.plan.height,
            crs=str(writer.plan.crs),
            transform=list(writer.plan.transform),
            km2=round(area, 6),
            seconds=round(seconds, 3),
            skipped_windows=writer.skipped,
            windows=len(writer.expected),
            datetime=item.datetime,
        )
        from eo_ray.mapping._records import sidecar_uri

        self.ws.write_json(sidecar_uri(record.uri), record.to_dict())
        self.records.append(record)
        return MapOutput(
            item_id=item.id,
            source=item.href,
            status="written",
            uri=done.get("class"),
            proba_uri=done.get("proba"),
            pixels=writer.pixels,
            windows=len(writer.expected),
            skipped_windows=writer.skipped,
            seconds=seconds,
            km2=area,
        )


def _blocks_at_least(plans: list[Any], chip: tuple[int, int]) -> int:
    """The fewest read blocks the plans make (image bytes over the block size): a pool of
    more actors than blocks would leave actors idle (and Ray Data warns about it)."""
    import math

    import numpy as np

    total = sum(
        len(p.windows) * chip[0] * chip[1] * len(p.band_names) * np.dtype(p.dtype).itemsize
        for p in plans
    )
    return max(1, math.ceil(total / BLOCK_BYTES))


def _failed(item: Item, reason: str) -> MapOutput:
    return MapOutput(item_id=item.id, source=item.href, status="failed", error=reason)


def _engine_error(exc: Exception) -> Exception:
    """The user's error behind a Ray task failure (a model error raised in an actor)."""
    if isinstance(exc, MappingError):
        return exc
    cause = getattr(exc, "cause", None) or exc.__cause__ or exc
    if isinstance(cause, ValueError):
        return MappingError(f"Mapping stopped: {cause}")
    return MappingError(f"Mapping stopped: {type(cause).__name__}: {cause}")


class _Progress:
    """A progress bar of windows, km² and km²/s (shown on a terminal, or when asked)."""

    def __init__(self, plans: list[Any], show: bool | None) -> None:
        import sys

        self.total = sum(len(p.windows) for p in plans)
        self.show = sys.stderr.isatty() if show is None else show
        self.area = 0.0
        self.started = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn("mapping"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("windows · {task.fields[km2]:.1f} km² · {task.fields[rate]:.2f} km²/s"),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("map", total=self.total, km2=0.0, rate=0.0)
        return self

    def advance(self, writer: SceneWriter) -> None:
        if self._bar is None:
            return
        self.area += km2(writer.plan) / max(1, len(writer.expected))
        rate = self.area / max(1e-9, time.perf_counter() - self.started)
        self._bar.update(self._task, advance=1, km2=self.area, rate=rate)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
