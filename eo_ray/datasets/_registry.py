"""Where dataset files are found, how they are verified, and how they are fetched."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from eo_ray.config import get_settings
from eo_ray.errors import ChecksumMismatchError, DatasetNotFoundError, UnknownDatasetError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class DatasetSpec:
    """A public dataset: its files, their sha256 and where they can be downloaded."""

    name: str
    title: str
    description: str
    license: str
    homepage: str
    base_url: str | None
    files: dict[str, str]
    urls: dict[str, str] = field(default_factory=dict)

    def url(self, relpath: str) -> str | None:
        """The public download address of one file (None when the data is not downloadable)."""
        if relpath in self.urls:
            return self.urls[relpath]
        return self.base_url + relpath if self.base_url else None


@cache
def registry() -> dict[str, DatasetSpec]:
    """Every dataset eo-ray knows, by name."""
    raw = json.loads(resources.files("eo_ray.datasets").joinpath("manifest.json").read_text())
    return {name: DatasetSpec(name=name, **spec) for name, spec in raw.items()}


def get_spec(name: str) -> DatasetSpec:
    """The spec of dataset ``name``; a clear error names the known ones otherwise."""
    specs = registry()
    if name not in specs:
        raise UnknownDatasetError(
            f"Unknown dataset {name!r}; known datasets: {', '.join(sorted(specs))}."
        )
    return specs[name]


def sha256_of(path: Path) -> str:
    """The sha256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


_verified: dict[tuple[str, int, int], str] = {}


def _hash_cached(path: Path) -> str:
    """Hash a file once per process per (path, size, mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        _verified[key] = sha256_of(path)
    return _verified[key]


def search_dirs(name: str) -> list[Path]:
    """The folders looked in for dataset ``name``, in order: EO_RAY_DATA, then the cache."""
    settings = get_settings()
    dirs = []
    if settings.data_dir is not None:
        dirs.append(settings.data_dir / name)
    dirs.append(settings.cache_dir / "datasets" / name)
    return dirs


def _download(url: str, dest: Path, expected: str) -> None:
    """Download ``url`` to ``dest`` only if its sha256 matches; never leave a partial file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    try:
        digest = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=60) as resp, os.fdopen(fd, "wb") as out:  # noqa: S310
            while chunk := resp.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected:
            raise ChecksumMismatchError(
                f"Downloaded {url} has sha256 {digest.hexdigest()[:12]}..., expected "
                f"{expected[:12]}...; the file was discarded."
            )
        shutil.move(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def locate(name: str, *, download: bool | None = None) -> Path:
    """The verified local folder of dataset ``name``: every file present, every hash right.

    Looks in ``EO_RAY_DATA`` first, then the cache; downloads missing files into the cache
    when allowed (``EO_RAY_DOWNLOAD``, or ``download``). A file with a wrong hash is
    refused with :class:`ChecksumMismatchError`; missing files raise
    :class:`DatasetNotFoundError` naming them and the folders searched.
    """
    spec = get_spec(name)
    dirs = search_dirs(name)
    allow = get_settings().allow_download if download is None else download
    # Prefer the first folder that holds every file; else fill the cache.
    for folder in dirs:
        if all((folder / rel).is_file() for rel in spec.files):
            _verify_folder(spec, folder)
            return folder
    cache_dir = dirs[-1]
    missing = [rel for rel in spec.files if not (cache_dir / rel).is_file()]
    downloadable = all(spec.url(rel) for rel in missing)
    if allow and downloadable:
        errors = []
        for rel in missing:
            url = spec.url(rel)
            try:
                _download(url, cache_dir / rel, spec.files[rel])
            except OSError as exc:
                errors.append(f"{rel} ({url}: {getattr(exc, 'reason', exc)})")
        if not errors:
            _verify_folder(spec, cache_dir)
            return cache_dir
        detail = f"download failed for {len(errors)} file(s): {'; '.join(errors[:3])}"
    elif not downloadable:
        detail = f"it cannot be downloaded automatically; get it from {spec.homepage}"
    else:
        detail = "downloading is disabled (EO_RAY_DOWNLOAD=0)"
    first = [rel for rel in spec.files if not any((d / rel).is_file() for d in dirs)]
    shown = ", ".join(first[:3]) + (f" and {len(first) - 3} more" if len(first) > 3 else "")
    raise DatasetNotFoundError(
        f"Dataset {name!r} is incomplete: {len(first)} of {len(spec.files)} files missing "
        f"({shown}); looked in {', '.join(str(d) for d in dirs)}; {detail}. "
        "Set EO_RAY_DATA to the folder that holds the datasets."
    )


def _verify_folder(spec: DatasetSpec, folder: Path) -> None:
    bad = [rel for rel, expected in spec.files.items() if _hash_cached(folder / rel) != expected]
    if bad:
        shown = ", ".join(str(folder / rel) for rel in bad[:3])
        raise ChecksumMismatchError(
            f"Dataset {spec.name!r}: {len(bad)} file(s) do not have their published sha256 "
            f"({shown}); they are refused. Replace them with the original files."
        )


@dataclass(frozen=True)
class VerifyReport:
    """The result of checking one dataset's files."""

    name: str
    folder: str | None
    files: int
    ok: int
    missing: list[str]
    mismatched: list[str]

    @property
    def passed(self) -> bool:
        """True when every file is present with its published hash."""
        return self.ok == self.files

    def to_dict(self) -> dict:
        """A JSON-ready form."""
        return {
            "name": self.name,
            "folder": self.folder,
            "files": self.files,
            "ok": self.ok,
            "missing": self.missing,
            "mismatched": self.mismatched,
            "passed": self.passed,
        }


def verify(name: str) -> VerifyReport:
    """Check every file of dataset ``name`` where it is found; never downloads or raises."""
    spec = get_spec(name)
    dirs = search_dirs(name)
    missing, mismatched, ok = [], [], 0
    for rel, expected in spec.files.items():
        path = next((d / rel for d in dirs if (d / rel).is_file()), None)
        if path is None:
            missing.append(rel)
            continue
        if _hash_cached(path) == expected:
            ok += 1
        else:
            mismatched.append(rel)
    folder = next((str(d) for d in dirs if d.is_dir()), None)
    return VerifyReport(name, folder, len(spec.files), ok, missing, mismatched)
