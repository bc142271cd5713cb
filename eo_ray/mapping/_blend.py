"""Blending overlapping windows: smooth weights and a weighted sum kept on disk.

With overlap, each window's class probabilities are weighted by a 2-D Hann window (as
TorchGeo's and TerraTorch's tiled inference do) so a pixel near a window's edge counts
little and seams vanish. The sums live in a file (height × width × (classes + 1)
float32, the last channel the weight), read and written a window row at a time, so
memory does not grow with the scene.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np


def hann(height: int, width: int) -> np.ndarray:
    """A 2-D Hann weight, positive everywhere (half-pixel offset: no zero at the border)."""

    def one(n: int) -> np.ndarray:
        return np.sin(np.pi * (np.arange(n) + 0.5) / n) ** 2

    return np.outer(one(height), one(width)).astype(np.float32)


class Accumulator:
    """Weighted probability sums of one scene, in a sparse file of float32."""

    def __init__(self, path: Path, height: int, width: int, classes: int) -> None:
        self.path = path
        self.height, self.width, self.classes = height, width, classes
        self.channels = classes + 1
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.ftruncate(self.fd, height * width * self.channels * 4)  # zeros, stored sparsely

    def add(self, row_off: int, col_off: int, proba: np.ndarray, weight: np.ndarray) -> None:
        """Add ``weight * proba`` (classes × h × w; NaN where the pixel has no data) at the
        window's place, clipped to the scene."""
        _, h, w = proba.shape
        r0, c0 = max(row_off, 0), max(col_off, 0)
        r1, c1 = min(row_off + h, self.height), min(col_off + w, self.width)
        if r1 <= r0 or c1 <= c0:
            return
        part = proba[:, r0 - row_off : r1 - row_off, c0 - col_off : c1 - col_off]
        wpart = weight[r0 - row_off : r1 - row_off, c0 - col_off : c1 - col_off]
        valid = ~np.isnan(part[0])
        wpart = np.where(valid, wpart, np.float32(0.0))
        update = np.empty((r1 - r0, c1 - c0, self.channels), dtype=np.float32)
        update[..., :-1] = np.moveaxis(np.nan_to_num(part, nan=0.0), 0, -1) * wpart[..., None]
        update[..., -1] = wpart
        row_bytes = (c1 - c0) * self.channels * 4
        for i in range(r1 - r0):
            offset = ((r0 + i) * self.width + c0) * self.channels * 4
            current = np.frombuffer(os.pread(self.fd, row_bytes, offset), dtype=np.float32)
            os.pwrite(self.fd, (current + update[i].ravel()).tobytes(), offset)

    def strips(self, rows: int = 256) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(first row, probabilities classes × rows × width, weight rows × width) per strip;
        probabilities are NaN where no window had data."""
        for r0 in range(0, self.height, rows):
            n = min(rows, self.height - r0)
            nbytes = n * self.width * self.channels * 4
            raw = os.pread(self.fd, nbytes, r0 * self.width * self.channels * 4)
            sums = np.frombuffer(raw, dtype=np.float32).reshape(n, self.width, self.channels)
            weight = sums[..., -1]
            with np.errstate(invalid="ignore", divide="ignore"):
                proba = np.moveaxis(sums[..., :-1] / weight[..., None], -1, 0)
            yield r0, proba, weight

    def close(self) -> None:
        """Close and delete the file."""
        os.close(self.fd)
        self.path.unlink(missing_ok=True)
