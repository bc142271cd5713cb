"""What a model takes and gives, so it can be run over whole scenes (mapping).

A signature says the kind of input (``pixel``: pixels × bands; ``series``: pixels × dates ×
bands; ``chip``: chips × bands × h × w), the names of the output classes in the model's
output order, the source bands the model takes (in order), and the preprocessing applied
to raw pixel values before the model sees them. It is stored in the model's record, so
training and mapping cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from eo_ray._params import invalid, one_of
from eo_ray.models.errors import ModelFormatError

INPUTS = ("pixel", "series", "chip")
InputKind = Literal["pixel", "series", "chip"]

# A qualitative palette (Tableau 20) for class colours when none are given.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip


def _per_band(name: str, value: Any) -> list[float] | float | None:
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.ndim > 1 or not np.isfinite(array).all():
        raise ModelFormatError(
            f"The preprocess {name!r} must be a finite number or one number per band; "
            f"got {value!r}."
        )
    return float(array) if array.ndim == 0 else array.tolist()


@dataclass(frozen=True)
class Preprocess:
    """``((x * scale + offset) - mean) / std`` per band, in float32.

    Each term is a number or one number per band (``None``: left out). It is the
    normalisation a model was trained with, applied identically when it maps a scene.
    """

    scale: list[float] | float | None = None
    offset: list[float] | float | None = None
    mean: list[float] | float | None = None
    std: list[float] | float | None = None

    @classmethod
    def coerce(cls, value: Any) -> Preprocess | None:
        """A Preprocess from itself, a dict of its terms, or ingest's BandStats/Normalize."""
        if value is None or isinstance(value, cls):
            return value
        stats = getattr(value, "stats", value)  # ingest.Normalize holds its BandStats
        if hasattr(stats, "mean") and hasattr(stats, "std") and not isinstance(value, Mapping):
            return cls(mean=_per_band("mean", stats.mean), std=_per_band("std", stats.std))
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"scale", "offset", "mean", "std"})
            if unknown:
                raise ModelFormatError(
                    f"The preprocess dict takes the keys scale, offset, mean and std; got "
                    f"{unknown}."
                )
            terms = {k: _per_band(k, value.get(k)) for k in ("scale", "offset", "mean", "std")}
            if terms["std"] is not None and np.any(np.asarray(terms["std"]) == 0):
                raise ModelFormatError("The preprocess 'std' must not be 0 for any band.")
            return cls(**terms)
        raise ModelFormatError(
            "The 'preprocess' parameter of register must be a dict with scale/offset/mean/std, "
            f"an eo.models.Preprocess, or ingest BandStats/Normalize; got {type(value).__name__}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}

    def check_bands(self, bands: int) -> None:
        """Refuse per-band terms whose length is not ``bands``."""
        for name, value in self.to_dict().items():
            if isinstance(value, list) and len(value) != bands:
                raise ModelFormatError(
                    f"The preprocess {name!r} has {len(value)} values but the model takes "
                    f"{bands} bands; give one value per band or a single number."
                )

    def apply(self, x: np.ndarray, band_axis: int) -> np.ndarray:
        """``x`` preprocessed as float32, the per-band terms broadcast along ``band_axis``."""
        out = np.asarray(x, dtype=np.float32)
        shape = [1] * out.ndim
        shape[band_axis] = -1

        def term(value: list[float] | float) -> np.ndarray:
            array = np.asarray(value, dtype=np.float32)
            return array.reshape(shape) if array.ndim else array

        if self.scale is not None:
            out = out * term(self.scale)
        if self.offset is not None:
            out = out + term(self.offset)
        if self.mean is not None:
            out = out - term(self.mean)
        if self.std is not None:
            out = out / term(self.std)
        return out


@dataclass(frozen=True)
class Signature:
    """The model's input kind, output classes, source bands and preprocessing."""

    input: InputKind
    classes: tuple[str, ...]
    bands: tuple[str, ...] | None = None
    preprocess: Preprocess | None = None
    colors: tuple[str, ...] | None = None
    dates: int | None = None  # series models: the number of dates they were trained on

    @classmethod
    def build(
        cls,
        input: str,
        classes: Sequence[Any] | None,
        bands: Sequence[str] | None = None,
        preprocess: Any = None,
        colors: Sequence[str] | None = None,
        dates: int | None = None,
    ) -> Signature:
        """Validate the signature arguments of :func:`eo_ray.models.register`."""
        one_of(input, INPUTS, name="input", owner="register", error=ModelFormatError)
        if classes is None or isinstance(classes, str) or len(classes) < 2:
            raise ModelFormatError(
                f"A model registered with input={input!r} needs classes=[...], the names of "
                "at least two output classes in the model's output order."
            )
        names = tuple(str(c) for c in classes)
        if len(set(names)) != len(names):
            raise ModelFormatError(f"The class names must be unique; got {list(names)}.")
        if bands is not None:
            if isinstance(bands, str) or not all(isinstance(b, str) for b in bands) or not bands:
                raise ModelFormatError(
                    f"The 'bands' parameter of register must be a list of band names; got "
                    f"{bands!r}."
                )
            bands = tuple(bands)
        pre = Preprocess.coerce(preprocess)
        if pre is not None and bands is not None:
            pre.check_bands(len(bands))
        if colors is not None:
            colors = tuple(_hex_colour(c) for c in colors)
            if len(colors) != len(names):
                raise ModelFormatError(
                    f"Give one colour per class: {len(names)} classes, {len(colors)} colours."
                )
        if dates is not None and (not isinstance(dates, int) or dates < 1):
            raise invalid(ModelFormatError, "dates", "register", "a positive int", dates)
        return cls(input, names, bands, pre, colors, dates)  # type: ignore[arg-type]

    @property
    def palette(self) -> tuple[str, ...]:
        """One ``#rrggbb`` colour per class (the given ones, else a qualitative palette)."""
        if self.colors:
            return self.colors
        return tuple(PALETTE[i % len(PALETTE)] for i in range(len(self.classes)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "classes": list(self.classes),
            "bands": None if self.bands is None else list(self.bands),
            "preprocess": None if self.preprocess is None else self.preprocess.to_dict(),
            "colors": None if self.colors is None else list(self.colors),
            "dates": self.dates,
        }

    @classmethod
    def of(cls, model: Any) -> Signature | None:
        """The signature of a registered model version (None when it was registered without)."""
        return cls.from_dict(getattr(model, "signature", None))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Signature | None:
        """The signature stored in a model record, or None for a model without one."""
        if not data or data.get("input") is None:
            return None
        pre = data.get("preprocess")
        return cls(
            input=data["input"],
            classes=tuple(data["classes"]),
            bands=None if data.get("bands") is None else tuple(data["bands"]),
            preprocess=None if pre is None else Preprocess(**pre),
            colors=None if data.get("colors") is None else tuple(data["colors"]),
            dates=data.get("dates"),
        )


def _hex_colour(value: Any) -> str:
    text = str(value)
    if len(text) == 7 and text.startswith("#"):
        try:
            int(text[1:], 16)
            return text.lower()
        except ValueError:
            pass
    raise ModelFormatError(f"Colours must be '#rrggbb' strings; got {value!r}.")
