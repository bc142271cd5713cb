"""Settings of eo-ray, read from the environment.

``EO_RAY_HOME``     root URI of every store (default ``./.eo_ray``; ``s3://bucket/prefix`` works).
``EO_RAY_DATA``     folder holding local copies of the public datasets (looked in first).
``EO_RAY_CACHE``    download cache of the datasets (default ``~/.cache/eo-ray``).
``EO_RAY_DOWNLOAD`` ``1`` to allow downloading a missing dataset (default ``1``; ``0`` forbids).
``EO_RAY_ONLINE``   online store URI: ``sqlite`` (default) or ``redis://host:port``.
``AWS_ENDPOINT_URL`` an S3-compatible endpoint (MinIO, moto, ...) for ``s3://`` roots.

``eo.init(home=...)`` overrides ``EO_RAY_HOME`` for the process and every Ray worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from eo_ray.errors import ConfigError

DEFAULT_HOME = "./.eo_ray"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    """A snapshot of eo-ray's settings."""

    home: str
    data_dir: Path | None
    cache_dir: Path
    allow_download: bool
    online: str
    s3_endpoint: str | None


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true/false); got {raw!r}.")


def get_settings() -> Settings:
    """Read the settings from the environment (cheap; call it where a value is needed)."""
    data = os.environ.get("EO_RAY_DATA")
    cache = os.environ.get("EO_RAY_CACHE") or str(Path.home() / ".cache" / "eo-ray")
    online = os.environ.get("EO_RAY_ONLINE", "sqlite").strip() or "sqlite"
    if online != "sqlite" and not online.startswith(("redis://", "rediss://", "sqlite://")):
        raise ConfigError(
            "EO_RAY_ONLINE must be 'sqlite', 'sqlite:///path' or 'redis://host:port'; "
            f"got {online!r}."
        )
    return Settings(
        home=os.environ.get("EO_RAY_HOME") or DEFAULT_HOME,
        data_dir=Path(data).expanduser().resolve() if data else None,
        cache_dir=Path(cache).expanduser(),
        allow_download=_flag("EO_RAY_DOWNLOAD", True),
        online=online,
        s3_endpoint=os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3"),
    )
