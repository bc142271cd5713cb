"""GDAL access to rasters on local disks, inside zip archives and on S3.

Ray workers do not see the driver's credentials or endpoint when these were set after Ray
started, so the driver takes a snapshot (:class:`GdalOptions`) and ships it with each task.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlparse

RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".img", ".vrt", ".nc")
ARCHIVE_SUFFIXES = (".zip",)


@dataclass(frozen=True)
class GdalOptions:
    """GDAL configuration options for one job (S3 endpoint and credentials)."""

    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> GdalOptions:
        """Snapshot the S3 settings of this process (AWS_* variables, AWS_ENDPOINT_URL)."""
        opts: dict[str, str] = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            if os.environ.get(key):
                opts[key] = os.environ[key]
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            opts["AWS_REGION"] = region
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
            opts["AWS_S3_ENDPOINT"] = parsed.netloc
            opts["AWS_HTTPS"] = "NO" if parsed.scheme == "http" else "YES"
            opts["AWS_VIRTUAL_HOSTING"] = "FALSE"
        return cls(opts)

    @contextmanager
    def env(self) -> Iterator[None]:
        """A rasterio environment with these options; credentials go through an AWS session."""
        import rasterio
        from rasterio.errors import NotGeoreferencedWarning
        from rasterio.session import AWSSession

        config = {k: v for k, v in self.options.items() if k not in _SESSION_KEYS}
        session = AWSSession(
            aws_access_key_id=self.options.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=self.options.get("AWS_SECRET_ACCESS_KEY"),
            aws_session_token=self.options.get("AWS_SESSION_TOKEN"),
            region_name=self.options.get("AWS_REGION"),
            endpoint_url=self.options.get("AWS_S3_ENDPOINT"),
            aws_unsigned="AWS_ACCESS_KEY_ID" not in self.options,
        )
        with warnings.catch_warnings():
            # Rasters without a CRS are reported by eo-ray itself, with the file name.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.Env(session, **config):
                yield


_SESSION_KEYS = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_S3_ENDPOINT",
        "AWS_NO_SIGN_REQUEST",
    }
)


def is_s3(uri: str) -> bool:
    """Whether ``uri`` is an ``s3://`` URI."""
    return uri.startswith("s3://")


def zip_member_uri(archive: str, member: str) -> str:
    """The URI of ``member`` inside ``archive`` (a local path or s3:// URI)."""
    return f"zip://{archive}!/{member}"


def split_zip_uri(uri: str) -> tuple[str, str] | None:
    """``(archive, member)`` of a ``zip://archive!/member`` URI, else None."""
    if not uri.startswith("zip://") or "!" not in uri:
        return None
    archive, _, member = uri[len("zip://") :].partition("!")
    return archive, member.lstrip("/")


def gdal_path(uri: str) -> str:
    """The path GDAL opens for ``uri`` (s3:// and zip:// spelled as GDAL virtual files)."""
    parts = split_zip_uri(uri)
    if parts is not None:
        return f"/vsizip/{gdal_path(parts[0])}/{parts[1]}"
    if is_s3(uri):
        return "/vsis3/" + uri[len("s3://") :]
    return uri


def open_binary(uri: str, options: GdalOptions) -> IO[bytes]:
    """A seekable binary file for a local path or an s3:// URI (for zips and sidecars)."""
    if not is_s3(uri):
        return open(uri, "rb")
    fs = s3_filesystem(options)
    return fs.open_input_file(uri[len("s3://") :])


def s3_filesystem(options: GdalOptions):
    """A pyarrow S3 filesystem configured like GDAL (used to list prefixes)."""
    import pyarrow.fs as pafs

    opts = options.options
    kwargs: dict = {}
    if opts.get("AWS_S3_ENDPOINT"):
        kwargs["endpoint_override"] = opts["AWS_S3_ENDPOINT"]
        kwargs["scheme"] = "http" if opts.get("AWS_HTTPS") == "NO" else "https"
    if opts.get("AWS_ACCESS_KEY_ID"):
        kwargs["access_key"] = opts["AWS_ACCESS_KEY_ID"]
        kwargs["secret_key"] = opts.get("AWS_SECRET_ACCESS_KEY")
        kwargs["session_token"] = opts.get("AWS_SESSION_TOKEN")
    else:
        kwargs["anonymous"] = True
    if opts.get("AWS_REGION"):
        kwargs["region"] = opts["AWS_REGION"]
    return pafs.S3FileSystem(**kwargs)


def describe_error(exc: BaseException) -> str:
    """One readable sentence from a GDAL/rasterio error (its first line, no traceback)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.rstrip(".")
