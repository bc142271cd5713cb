"""The workspace: the one place that turns the root URI into paths and filesystems.

Every store (catalogs, feature groups, experiments, models, request logs) lives under one
root URI, local (``./.eo_ray``) or on S3 (``s3://bucket/prefix``), so that a root is a
complete, portable workspace. Code elsewhere never joins paths by hand; it asks the
:class:`Workspace` for ``uri(store, name, ...)`` and for the filesystem to use.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow.fs as pafs

from eo_ray.config import get_settings
from eo_ray.errors import ConfigError, InvalidNameError

MAX_NAME_LENGTH = 128
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_SCHEMES = {"", "file", "s3"}


def validate_name(name: object, kind: str = "object") -> str:
    """Return ``name`` if it is a valid name for a user object, else raise InvalidNameError.

    Names become path components under the workspace, so they must be plain: letters,
    digits, ``_``, ``-`` and ``.``, starting with a letter or digit, no ``..``, at most
    128 characters.
    """
    rule = (
        f"{kind} names must be 1 to {MAX_NAME_LENGTH} characters of letters, digits, '_', '-' "
        "or '.', start with a letter or digit and not contain '..'"
    )
    if not isinstance(name, str):
        raise InvalidNameError(f"Invalid {kind} name {name!r}: {rule}.")
    if not name:
        raise InvalidNameError(f"Invalid {kind} name '': the name is empty; {rule}.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(
            f"Invalid {kind} name '{name[:20]}...' ({len(name)} characters): {rule}."
        )
    if ".." in name or not _NAME_RE.match(name):
        raise InvalidNameError(f"Invalid {kind} name {name!r}: {rule}.")
    return name


def normalise_root(root: str) -> str:
    """Turn a root given by a user into a canonical URI (absolute local path or s3://...)."""
    root = str(root).strip()
    if not root:
        raise ConfigError(
            "The workspace root is empty: set EO_RAY_HOME to a folder or s3://bucket/prefix."
        )
    parsed = urlparse(root)
    scheme = parsed.scheme.lower()
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    if scheme not in _SCHEMES:
        raise ConfigError(
            f"Unsupported workspace root {root!r}: use a local folder or an s3://bucket/prefix URI."
        )
    if scheme == "s3":
        if not parsed.netloc:
            raise ConfigError(f"Workspace root {root!r} names no bucket: use s3://bucket/prefix.")
        return f"s3://{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/")
    path = parsed.path if scheme == "file" else root
    return str(Path(path).expanduser().resolve())


class Workspace:
    """A workspace rooted at a local folder or an S3 prefix."""

    def __init__(self, root: str | None = None) -> None:
        self.root = normalise_root(root if root is not None else get_settings().home)

    def __repr__(self) -> str:
        return f"Workspace({self.root!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    @property
    def is_local(self) -> bool:
        """True when the root is a local folder."""
        return not self.root.startswith("s3://")

    def uri(self, *parts: str) -> str:
        """The URI of ``parts`` under the root (each part a store, name or file name)."""
        clean = [str(p).strip("/") for p in parts if str(p).strip("/")]
        for part in clean:
            if ".." in Path(part).parts:
                raise InvalidNameError(f"Path part {part!r} may not contain '..'.")
        return "/".join([self.root, *clean]) if clean else self.root

    def join(self, base: str, *parts: str) -> str:
        """``parts`` appended to ``base``, a URI already under this workspace."""
        if not (base == self.root or base.startswith(self.root + "/")):
            raise InvalidNameError(f"{base!r} is not under the workspace {self.root!r}.")
        relative = base[len(self.root) :].strip("/")
        return self.uri(relative, *parts)

    # -- filesystems -------------------------------------------------------------------
    @cached_property
    def filesystem(self) -> pafs.FileSystem:
        """A pyarrow filesystem for this workspace (paths from :meth:`fs_path`)."""
        if self.is_local:
            return pafs.LocalFileSystem()
        settings = get_settings()
        kwargs: dict[str, Any] = {}
        if settings.s3_endpoint:
            endpoint = urlparse(settings.s3_endpoint)
            kwargs["endpoint_override"] = endpoint.netloc or settings.s3_endpoint
            kwargs["scheme"] = endpoint.scheme or "http"
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            kwargs["region"] = region
        return pafs.S3FileSystem(**kwargs)

    def fs_path(self, uri: str) -> str:
        """The path of ``uri`` as :attr:`filesystem` expects it."""
        return uri[len("s3://") :] if uri.startswith("s3://") else uri

    @property
    def storage_options(self) -> dict[str, str]:
        """Options for deltalake / object_store so Delta tables work on this root."""
        if self.is_local:
            return {}
        settings = get_settings()
        options: dict[str, str] = {}
        if settings.s3_endpoint:
            options["AWS_ENDPOINT_URL"] = settings.s3_endpoint
            if settings.s3_endpoint.startswith("http://"):
                options["AWS_ALLOW_HTTP"] = "true"
        for key in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_REGION",
        ):
            if os.environ.get(key):
                options[key] = os.environ[key]
        options.setdefault("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        return options

    # -- small metadata files ----------------------------------------------------------
    def exists(self, uri: str) -> bool:
        """Whether a file or folder exists at ``uri``."""
        info = self.filesystem.get_file_info(self.fs_path(uri))
        return info.type != pafs.FileType.NotFound

    def makedirs(self, uri: str) -> None:
        """Create the folder ``uri`` (no-op on object stores, where folders are implicit)."""
        self.filesystem.create_dir(self.fs_path(uri), recursive=True)

    def write_bytes(self, uri: str, data: bytes) -> None:
        """Write ``data`` to ``uri`` atomically: readers see the old or the new file, never half."""
        path = self.fs_path(uri)
        if self.is_local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            tmp = f"{path}.{uuid.uuid4().hex}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            return
        with self.filesystem.open_output_stream(path) as out:  # an S3 PUT is atomic
            out.write(data)

    def read_bytes(self, uri: str) -> bytes:
        """Read the whole file at ``uri``."""
        with self.filesystem.open_input_stream(self.fs_path(uri)) as src:
            return src.read()

    def write_json(self, uri: str, obj: Any) -> None:
        """Write ``obj`` as indented JSON, atomically."""
        self.write_bytes(uri, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())

    def read_json(self, uri: str) -> Any:
        """Read a JSON file written by :meth:`write_json`."""
        return json.loads(self.read_bytes(uri))

    def list_dir(self, uri: str) -> list[str]:
        """Names of the entries directly under ``uri`` (empty if it does not exist)."""
        selector = pafs.FileSelector(self.fs_path(uri), allow_not_found=True, recursive=False)
        return sorted(info.base_name for info in self.filesystem.get_file_info(selector))

    def delete(self, uri: str) -> None:
        """Delete the file or folder at ``uri`` (no error if it is absent)."""
        info = self.filesystem.get_file_info(self.fs_path(uri))
        if info.type == pafs.FileType.Directory:
            self.filesystem.delete_dir(self.fs_path(uri))
        elif info.type == pafs.FileType.File:
            self.filesystem.delete_file(self.fs_path(uri))


_cache: dict[str, Workspace] = {}


def set_workspace(root: str | None) -> Workspace:
    """Make ``root`` (or the configured ``EO_RAY_HOME``) the workspace of this process.

    The process's workspace is ``EO_RAY_HOME`` and nothing else, so that code which
    restores the environment (a test, a worker running another task) restores it too.
    """
    ws = Workspace(root)
    os.environ["EO_RAY_HOME"] = ws.root
    _cache[ws.root] = ws
    return ws


def workspace() -> Workspace:
    """The workspace of this process: the one set by ``eo.init`` or ``EO_RAY_HOME``."""
    root = normalise_root(get_settings().home)
    if root not in _cache:
        _cache[root] = Workspace(root)
    return _cache[root]


def as_workspace(ws: Workspace | str | None) -> Workspace:
    """The ``ws=`` argument every stage takes: a Workspace, a root URI, or None (this
    process's workspace)."""
    if ws is None:
        return workspace()
    return ws if isinstance(ws, Workspace) else Workspace(str(ws))
