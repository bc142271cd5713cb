"""The read path of read_chips: row-strip reads, whole-array blocks, read-task failures."""

from __future__ import annotations

import gc
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import rasterio
from rasterio.windows import Window

from eo_ray import ingest
from eo_ray.ingest._datasource import ReadSettings, read_chunk
from eo_ray.ingest._gdal import GdalOptions
from eo_ray.ingest._scan import expand_paths, plan_units, scan_unit
from eo_ray.ingest._strips import good_counts, plan_runs, valid_mask
from eo_ray.ingest.chips import make_options, plan_items

L8_STACK = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B9", "B10", "B11", "BQA"]


def _raw_items(path: Path) -> list[dict]:
    options = GdalOptions.from_env()
    files, _ = expand_paths([str(path)], options)
    return [raw for unit in plan_units(files) for raw in scan_unit(unit, options)[0]]


def _read_in_process(path: Path, bands, size: int, stride: int, **kw) -> tuple[pa.Table, object]:
    """read_chips' read task body run here (no Ray): every window of the first item."""
    opts = make_options(size, stride, bands, **kw)
    raws = [r for r in _raw_items(path) if bands is None or len(r["assets"]) > 1]
    plans, failures, _ = plan_items(raws[:1], opts, None, "EPSG:4326", GdalOptions.from_env())
    assert not failures
    plan = plans[0]
    settings = ReadSettings(opts, GdalOptions.from_env(), {}, None)
    blocks = list(read_chunk([(plan, list(range(len(plan.windows))))], settings))
    return pa.concat_tables(blocks), plan


def _expected(sources, row: int, col: int, h: int, w: int, fill: float) -> np.ndarray:
    """An independent per-window read (boundless: nodata beyond the raster)."""
    return np.concatenate(
        [s.read(window=Window(col, row, w, h), boundless=True, fill_value=fill) for s in sources]
    )


@pytest.mark.parametrize(
    ("size", "stride", "edge", "max_nodata"),
    [(64, 32, "drop", 1.0), (256, 256, "drop", 1.0), (100, 80, "pad", 0.5)],
)
def test_strip_reads_equal_per_window_reads_on_the_landsat_8_stack(
    l8_dir: Path, size: int, stride: int, edge: str, max_nodata: float
) -> None:
    table, plan = _read_in_process(l8_dir, L8_STACK, size, stride, edge=edge, max_nodata=max_nodata)
    images = table.column("image").combine_chunks().to_numpy()
    assert images.shape[1:] == (11, size, size)
    assert images.dtype == np.uint16
    if max_nodata == 1.0:
        assert table.num_rows == len(plan.windows)
    else:  # padded windows that are mostly beyond the raster are dropped
        assert 0 < table.num_rows < len(plan.windows)
    files = [l8_dir / f"l8_{band}.tif" for band in L8_STACK]
    sources = [rasterio.open(f) for f in files]
    try:
        rows = table.column("row_off").to_pylist()
        cols = table.column("col_off").to_pylist()
        # every window of the first and last row and column, and every 5th inside: each
        # window is 11 independent boundless reads, too slow to repeat for all of them
        edges = {min(rows), max(rows)}, {min(cols), max(cols)}
        for n in range(table.num_rows):
            if n % 5 and rows[n] not in edges[0] and cols[n] not in edges[1]:
                continue
            expected = _expected(sources, rows[n], cols[n], size, size, 0)
            np.testing.assert_array_equal(images[n], expected)
    finally:
        for source in sources:
            source.close()


def test_strip_reads_of_a_raster_with_nodata_count_nodata_per_chip(l7_rgb: Path) -> None:
    every, _ = _read_in_process(l7_rgb.parent, None, 64, 32, edge="pad", max_nodata=1.0)
    half, _ = _read_in_process(l7_rgb.parent, None, 64, 32, edge="pad", max_nodata=0.5)
    images = every.column("image").combine_chunks().to_numpy()
    fractions = every.column("nodata_fraction").to_numpy()
    with rasterio.open(l7_rgb) as src:
        rows, cols = every.column("row_off").to_pylist(), every.column("col_off").to_pylist()
        for n in range(every.num_rows):
            expected = _expected([src], rows[n], cols[n], 64, 64, 0)
            np.testing.assert_array_equal(images[n], expected)
            # nodata = no band holds data (RGB.byte.tif has nodata 0; padding is nodata too)
            assert fractions[n] == pytest.approx(1.0 - (expected != 0).any(axis=0).mean())
    assert 0 < half.num_rows < every.num_rows
    assert half.num_rows == int((fractions <= 0.5).sum())
    transforms = every.column("transform").combine_chunks().to_numpy()
    with rasterio.open(l7_rgb) as src:
        n = every.num_rows // 2
        assert tuple(transforms[n][[2, 5]]) == pytest.approx(src.xy(rows[n], cols[n], offset="ul"))


def test_windows_of_a_row_are_merged_into_one_read() -> None:
    windows = [(r, c, 64, 64, -1) for r in (0, 32) for c in (0, 32, 64, 96)]
    runs = plan_runs(windows, max_cols=10_000)
    assert [(span.row_off, span.col_off, span.width, members) for span, members in runs] == [
        (0, 0, 160, [0, 1, 2, 3]),
        (32, 0, 160, [4, 5, 6, 7]),
    ]
    assert len(plan_runs(windows, max_cols=100)) == 4  # wide rows are split
    assert len(plan_runs(windows, max_cols=10_000, merge=False)) == 8
    touching = [(0, c, 64, 64, -1) for c in (0, 64, 128)]
    assert len(plan_runs(touching, 10_000, gaps=False)) == 3  # large chips: direct reads
    assert len(plan_runs(touching, 10_000, gaps=True)) == 1


def test_valid_mask_marks_pixels_where_any_band_holds_data() -> None:
    data = np.array([[[0, 5], [0, 0]], [[0, 0], [7, 0]]], dtype=np.uint8)  # 2 bands, 2 x 2
    np.testing.assert_array_equal(valid_mask(data, 0.0), [[False, True], [True, False]])
    assert valid_mask(data, 9.0) is None  # no pixel equals nodata: all valid
    assert valid_mask(data, -1.0) is None  # nodata outside uint8: no pixel can equal it
    assert valid_mask(data, 0.5) is None
    assert valid_mask(data, None) is None
    floats = data.astype(np.float32)
    floats[floats == 0] = np.nan
    np.testing.assert_array_equal(valid_mask(floats, None), [[False, True], [True, False]])
    np.testing.assert_array_equal(valid_mask(floats, float("nan")), valid_mask(floats, None))
    assert valid_mask(np.ones((3, 4, 4), np.float32), None) is None
    signed = np.array([[[-9999, 1]], [[-9999, -9999]]], dtype=np.int16)
    np.testing.assert_array_equal(valid_mask(signed, -9999.0), [[False, True]])


def test_good_counts_count_valid_pixels_per_window_of_a_strip() -> None:
    valid = np.ones((300, 400), dtype=bool)  # 300 x 200 = 60,000 pixels a window
    valid[:, 390:] = False
    offsets, widths = np.array([0, 200]), np.array([200, 200])
    np.testing.assert_array_equal(good_counts(valid, offsets, widths, 300), [60_000, 57_000])
    np.testing.assert_array_equal(good_counts(None, offsets, widths, 300), [60_000, 60_000])


def test_one_block_holds_many_items_whose_properties_share_columns(l7_rgb: Path) -> None:
    """Items of a read task share a block (one metadata table, not one per scene) as long
    as their properties fit one column each; a property of another type starts a block."""
    opts = make_options(256, 256, None, max_nodata=1.0, properties=["platform"])
    raws = _raw_items(l7_rgb.parent)
    plans, failures, _ = plan_items(raws, opts, None, "EPSG:4326", GdalOptions.from_env())
    assert not failures
    plan = plans[0]
    every = list(range(len(plan.windows)))
    scenes = [
        replace(plan, item_id="a", extra={"platform": None}),
        replace(plan, item_id="b", extra={"platform": "landsat-7"}),
        replace(plan, item_id="c", extra={"platform": 7}),  # not a string: a new block
    ]
    settings = ReadSettings(opts, GdalOptions.from_env(), {}, None)
    blocks = list(read_chunk([(s, every) for s in scenes], settings))
    assert [b.column("item_id").unique().to_pylist() for b in blocks] == [["a", "b"], ["c"]]
    first = blocks[0]
    assert first.schema.field("platform").type == pa.string()
    assert first.column("platform").to_pylist() == [None] * len(every) + ["landsat-7"] * len(every)
    assert first.column("chip_id").to_pylist()[len(every)].startswith("b@")
    transforms = first.column("transform").combine_chunks().to_numpy()
    np.testing.assert_array_equal(transforms[: len(every)], transforms[len(every) :])
    assert blocks[1].schema.field("platform").type == pa.int64()


def test_blocks_are_whole_arrays_with_typed_list_columns(ray_session, l8_dir: Path) -> None:
    ds = ingest.read_chips(str(l8_dir / "l8_B4.tif"), 64, stride=32, max_nodata=1.0)
    schema = ds.schema()
    assert schema.base_schema.field("bands").type == pa.list_(pa.string())
    assert schema.base_schema.field("crs").type == pa.string()
    batch = next(iter(ds.iter_batches(batch_size=16, batch_format="numpy")))
    assert batch["image"].shape == (16, 1, 64, 64)
    assert batch["transform"].shape == (16, 6)


def test_list_columns_stay_typed_through_preprocessing(base_catalog: ingest.Catalog) -> None:
    l8 = base_catalog.search(collection="landsat-8")
    chips = ingest.read_chips(l8, 128, bands=["B4", "B5", "BQA"])
    ds = ingest.cloud_mask(ingest.spectral_index(chips, "NDVI"), drop_qa=True)
    fields = ds.schema().base_schema
    assert fields.field("bands").type == pa.list_(pa.string())
    row = ds.take(1)[0]
    assert "BQA" not in row["bands"]
    assert "B4" in row["bands"]


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A tiled, compressed raster and its pixels (damaged by ``damaged_items``)."""
    from rasterio.transform import from_origin

    path = tmp_path_factory.mktemp("damaged") / "damaged.tif"
    rng = np.random.default_rng(1)
    data = rng.integers(1, 255, (1, 256, 256), dtype=np.uint8)
    profile = {
        "driver": "GTiff",
        "count": 1,
        "height": 256,
        "width": 256,
        "dtype": "uint8",
        "crs": "EPSG:32618",
        "transform": from_origin(500000, 4500000, 30, 30),
        "tiled": True,
        "blockxsize": 64,
        "blockysize": 64,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path, data


@pytest.fixture(scope="module")
def damaged_items(ray_session, damaged) -> list:
    """The items of ``damaged``, scanned while intact; its tiles of rows 128..255 are then
    overwritten with garbage of the same length (the header stays valid)."""
    path, _ = damaged
    items, failures, _ = ingest.catalog.scan_items([str(path)])
    assert not failures
    raw = bytearray(path.read_bytes())
    with rasterio.open(path) as src:
        for x in range(4):
            for y in (2, 3):
                start = int(src.get_tag_item(f"BLOCK_OFFSET_{x}_{y}", "TIFF", bidx=1))
                size = int(src.get_tag_item(f"BLOCK_SIZE_{x}_{y}", "TIFF", bidx=1))
                raw[start : start + size] = bytes([7]) * size
    path.write_bytes(bytes(raw))
    return items


def test_read_task_failures_reach_the_reader(ray_session, damaged, damaged_items) -> None:
    path, data = damaged
    items = damaged_items
    reader = ingest.ChipReader(items, make_options(64, None, None, max_nodata=1.0))
    rows = reader.dataset().take_all()
    assert sorted(r["row_off"] for r in rows) == [0] * 4 + [64] * 4  # the intact half
    for row in rows:
        window = data[:, row["row_off"] : row["row_off"] + 64, row["col_off"] : row["col_off"] + 64]
        np.testing.assert_array_equal(row["image"], window)
    reasons = [f.reason for f in reader.failures if f.path == str(path)]
    assert len(reasons) == 8, reasons
    assert all("cannot be read" in r for r in reasons), reasons
    assert {f.stage for f in reader.failures} == {"chips"}

    strict = ingest.ChipReader(items, make_options(64, None, None, max_nodata=1.0))
    with pytest.raises(Exception, match="cannot be read") as info:
        strict.dataset(on_error="raise").take_all()
    assert "ChipReadError" in repr(info.value) or isinstance(info.value, ingest.ChipReadError)


def _failure_logs() -> int:
    """Live failure-log actors, from the GCS (``ray.util.state.list_actors`` needs the
    dashboard, which ``eo.init`` does not start)."""
    import ray

    return sum(
        1
        for actor in ray._private.state.actors().values()
        if actor["ActorClassName"].endswith("_FailureLog") and actor["State"] == "ALIVE"
    )


def _wait_for_failure_logs(count: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while (found := _failure_logs()) != count and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def test_failure_logs_do_not_outlive_their_reader(ray_session, damaged, damaged_items) -> None:
    path, _ = damaged
    gc.collect()  # earlier tests' readers are gone: their logs end
    before = _wait_for_failure_logs(0)
    opts = make_options(64, None, None, max_nodata=1.0)
    for _ in range(3):  # read_chips: failures are only logged, no actor at all
        assert len(ingest.read_chips(damaged_items, 64, max_nodata=1.0).take_all()) == 8
    assert _failure_logs() == before

    for _ in range(3):  # each reader's log ends when the reader and its Dataset are dropped
        reader = ingest.ChipReader(damaged_items, opts)
        ds = reader.dataset()
        assert len(ds.take_all()) == 8
        assert len(reader.failures) == 8
        assert _failure_logs() == before + 1
        del reader, ds
        gc.collect()
        assert _wait_for_failure_logs(before) == before

    with ingest.ChipReader(damaged_items, opts) as reader:  # close() ends it at once
        ds = reader.dataset()
        assert len(ds.take_all()) == 8
        assert len(ds.take_all()) == 8  # a second pass reports the same failures again
    assert _wait_for_failure_logs(before) == before
    reasons = [f.reason for f in reader.failures if f.path == str(path)]  # kept after close
    assert len(reasons) == 8, reasons
    assert all("cannot be read" in r for r in reasons), reasons


def test_ray_data_keeps_the_read_blocks_whole(ray_session, l7_rgb: Path) -> None:
    # Left alone, Ray Data splits each read task's output until the read has 200 blocks
    # (about 1 MiB each here), which halves throughput; read_chips asks for one block per
    # read task, and read tasks are at most block_bytes.
    ds = ingest.read_chips(str(l7_rgb), 64, stride=32, max_nodata=1.0).materialize()
    nbytes = sum(row["image"].nbytes for row in ds.select_columns(["image"]).take_all())
    assert nbytes > 4 * 2**20  # enough chips that Ray Data would have split them
    assert ds.num_blocks() <= -(-nbytes // ingest.ChipOptions.block_bytes) + 1


def test_planning_opens_no_file_unless_it_checks_for_nodata(l7_rgb: Path, monkeypatch) -> None:
    # The read task opens each file once; planning works from the catalog's metadata, and
    # opens files only for the all-nodata check (max_nodata < 1).
    raws = _raw_items(l7_rgb)

    def no_open(*args, **kwargs):
        raise AssertionError("planning opened a file")

    monkeypatch.setattr(rasterio, "open", no_open)
    options = GdalOptions.from_env()
    opts = make_options(64, None, None, max_nodata=1.0)
    plans, failures, _ = plan_items(raws, opts, None, "EPSG:4326", options)
    assert len(plans) == 1
    assert not failures
    with pytest.raises(AssertionError, match="planning opened a file"):
        plan_items(raws, make_options(64, None, None), None, "EPSG:4326", options)


def test_files_changed_or_gone_since_the_scan_are_reported(
    ray_session, l7_rgb: Path, tmp_path: Path
) -> None:
    kept, changed, gone = (tmp_path / f"{name}.tif" for name in ("kept", "changed", "gone"))
    for path in (kept, changed, gone):
        path.write_bytes(l7_rgb.read_bytes())
    items = ingest.scan([str(tmp_path)], catalog="since_scan").items()
    with rasterio.open(l7_rgb) as src:  # the same scene, cropped: another size
        profile = src.profile | {"width": 200, "height": 100}
        data = src.read(window=Window(0, 0, 200, 100))
    with rasterio.open(changed, "w", **profile) as dst:
        dst.write(data)
    gone.unlink()

    reader = ingest.ChipReader(items, make_options(64, None, None, max_nodata=1.0))
    rows = reader.dataset().take_all()
    assert {Path(r["source"]).name for r in rows} == {"kept.tif"}
    reasons = {Path(f.path).name: f.reason for f in reader.failures}
    assert reasons == {
        "changed.tif": "changed since it was scanned: scan it again",
        "gone.tif": "cannot be opened: it does not exist; restore it or scan again",
    }


def test_read_tasks_cover_every_window_once(l7_rgb: Path) -> None:
    from dataclasses import replace

    from eo_ray.ingest._datasource import ChipDatasource

    raws = _raw_items(l7_rgb)
    opts = make_options(64, 32, None, max_nodata=1.0)
    (plan,), _, _ = plan_items(raws, opts, None, "EPSG:4326", GdalOptions.from_env())
    short, empty = replace(plan, windows=plan.windows[:7]), replace(plan, windows=[])
    plans = [plan, empty, short, replace(plan)]
    source = ChipDatasource(plans, ReadSettings(replace(opts, block_bytes=2**20), None, {}, None))
    tasks = source.get_read_tasks(1000)
    assert len(tasks) == source.output_blocks() > 2
    got: dict[int, list[int]] = {}
    for task in tasks:
        for part_plan, indexes in task.read_fn.args[0]:
            got.setdefault(next(n for n, p in enumerate(plans) if p is part_plan), []).extend(
                indexes
            )
    windows = [len(p.windows) for p in plans]
    assert got == {n: list(range(w)) for n, w in enumerate(windows) if w}
    assert sum(t.metadata.size_bytes for t in tasks) == source.estimate_inmemory_data_size()
    assert source.estimate_inmemory_data_size() == sum(windows) * 3 * 64 * 64


def test_a_finished_block_array_is_not_kept_for_reuse() -> None:
    # Reusing it when nothing seemed to refer to it (a reference count) could overwrite
    # chips a block still held: every block gets a fresh array.
    import weakref

    from eo_ray.ingest._datasource import _Blocks

    blocks = _Blocks(target=1 << 20, windows=8, settings=None)
    assert list(blocks.room(2, (3, 8, 8), np.dtype(np.uint8))) == []
    first = weakref.ref(blocks.images)
    assert list(blocks.flush()) == []  # no chips were added: no block
    assert first() is None  # nothing keeps the array alive for a later block
    list(blocks.room(2, (3, 8, 8), np.dtype(np.uint8)))
    assert blocks.images.shape == (8, 3, 8, 8)
