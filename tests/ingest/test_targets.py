"""target_shape: the size, shape and backscatter profile of the ship at a SAR chip's centre."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from eo_ray import ingest
from eo_ray.ingest.errors import InvalidOptionError
from eo_ray.ingest.targets import GEOMETRY, TargetShape

SEA = 1e-3  # linear power: -30 dB


def ship_chip(length: int, width: int, angle: float, *, size: int = 64) -> np.ndarray:
    """A ``size`` x ``size`` chip of sea with a ``length`` x ``width`` ship at its centre,
    turned by ``angle`` degrees, 25 dB above the sea along the hull and 35 dB at one end (the
    bridge), on a canvas padded with zeros (nodata) on every side."""
    hull = np.zeros((size, size))
    top, left = (size - width) // 2, (size - length) // 2
    hull[top : top + width, left : left + length] = 25.0
    hull[top : top + width, left : left + 3] = 35.0
    hull = ndimage.rotate(hull, angle, reshape=False, order=0)
    chip = SEA * 10.0 ** (hull / 10.0)
    return np.pad(chip, 8)  # padding: outside the chip's footprint


def measure(chip: np.ndarray) -> dict[str, float]:
    geometry, profile, radial = TargetShape().measure(chip)
    return {**dict(zip(GEOMETRY, geometry, strict=True)), "profile": profile, "radial": radial}


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 135.0])
def test_length_width_and_peak_of_a_turned_ship(angle: float) -> None:
    got = measure(ship_chip(24, 6, angle))
    assert got["length"] == pytest.approx(24, abs=2.5)
    assert got["width"] == pytest.approx(6, abs=2.5)
    assert got["aspect"] == pytest.approx(4, rel=0.35)
    assert got["area"] == pytest.approx(24 * 6, rel=0.2)
    assert got["peak_db"] == pytest.approx(35.0, abs=0.01)  # above the sea (the median)
    assert got["spread_major"] > 2 * got["spread_minor"]


def test_profile_puts_the_brighter_end_first_whatever_the_heading() -> None:
    level = measure(ship_chip(24, 6, 0.0))["profile"]
    assert level[0] == pytest.approx(35.0, abs=1.0)  # the bridge first, then the deck
    np.testing.assert_allclose(level[2:], 25.0, atol=1.0)
    assert np.allclose(measure(ship_chip(24, 6, 180.0))["profile"], level, atol=1.0)
    ahead = measure(ship_chip(24, 6, 30.0))["profile"]
    astern = measure(ship_chip(24, 6, 210.0))["profile"]  # the same ship, turned round
    assert ahead[:2].max() == pytest.approx(35.0, abs=1.0)
    np.testing.assert_allclose(ahead, astern, atol=2.0)


def test_longer_ships_measure_longer_and_the_radial_profile_falls_off() -> None:
    short, long = measure(ship_chip(12, 5, 0.0)), measure(ship_chip(36, 5, 0.0))
    assert long["length"] > 2.5 * short["length"]
    radial = long["radial"]
    assert radial[0] > 10.0  # the ship
    assert radial[-1] == pytest.approx(0.0, abs=0.5)  # the sea
    assert np.all(np.diff(radial) <= 1e-9)


def test_a_chip_of_sea_alone_has_no_target() -> None:
    rng = np.random.default_rng(0)
    sea = SEA * rng.uniform(0.8, 1.25, size=(40, 40))  # within +-1 dB
    got = measure(sea)
    assert all(np.isnan(got[name]) for name in GEOMETRY)
    assert np.isnan(got["profile"]).all()
    assert np.isfinite(got["radial"]).all()  # the rings are measured all the same
    empty = measure(np.zeros((16, 16)))  # all nodata
    assert np.isnan(empty["radial"]).all()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"band": -1}, "band"),
        ({"threshold_db": 0.0}, "threshold_db"),
        ({"profile_bins": 1}, "profile_bins"),
        ({"rings": 2.5}, "rings"),
    ],
)
def test_bad_options_are_refused_in_one_sentence(kwargs: dict, words: str) -> None:
    with pytest.raises(InvalidOptionError, match=words) as info:
        TargetShape(**kwargs)
    assert "\n" not in str(info.value)


def test_on_opensarship_chips_lengths_follow_the_chip_sizes(ray_session, sar_dir) -> None:
    import pandas as pd

    manifest = pd.read_csv(sar_dir / "chips_manifest.csv")
    ships = ingest.target_shape(ingest.opensarship_chips(128), profile_bins=8, rings=4)
    rows = ships.drop_columns(["image"]).to_pandas()
    assert len(rows) == len(manifest) == 351
    assert {f"target_{name}" for name in GEOMETRY} <= set(rows.columns)
    assert {len(p) for p in rows["target_profile"]} == {8}
    assert {len(r) for r in rows["target_radial"]} == {4}
    assert rows["target_length"].notna().all()  # every chip holds its ship
    # OpenSARShip cuts each chip around its ship, about four ship lengths wide: the measured
    # length follows the chip's size (rank correlation), and is a fraction of it.
    keys = manifest["zip"].str.removesuffix(".zip") + ":" + manifest["member_suffix"]
    sizes = dict(zip(keys.str.removesuffix(".tif"), manifest["height"], strict=True))
    size = rows["item_id"].map(sizes)
    assert size.notna().all()
    assert rows["target_length"].corr(size, method="spearman") > 0.85
    assert (rows["target_length"] < size).mean() > 0.95


def test_a_batch_gets_one_row_per_chip_and_an_empty_batch_empty_columns() -> None:
    chips = np.stack([ship_chip(24, 6, 0.0), ship_chip(12, 5, 45.0)])[:, None]  # 2 x 1 band
    batch = TargetShape(profile_bins=8, rings=4)({"image": chips})
    assert batch["target_length"].shape == (2,)
    assert batch["target_profile"].shape == (2, 8)
    assert batch["target_radial"].shape == (2, 4)
    assert batch["target_length"][0] > batch["target_length"][1]
    empty = TargetShape(profile_bins=8, rings=4)({"image": np.zeros((0, 1, 16, 16))})
    assert empty["target_length"].shape == (0,)
    assert empty["target_profile"].shape == (0, 8)
