"""Online stores: the latest feature row per primary key, for low-latency lookups.

``open_online_store()`` picks the implementation from ``EO_RAY_ONLINE``: SQLite (default,
a file in the workspace, or in the local cache for an S3 workspace) or ``redis://host:port``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from eo_ray.config import get_settings
from eo_ray.featurestore.online.base import OnlineStore, decode_row, encode_key, encode_row
from eo_ray.storage import Workspace

_OPEN: dict[tuple[str, str], OnlineStore] = {}


def open_online_store(ws: Workspace, uri: str | None = None) -> OnlineStore:
    """The online store of workspace ``ws`` (``uri`` overrides ``EO_RAY_ONLINE``); cached."""
    uri = uri or get_settings().online
    cache_key = (ws.root, uri)
    if cache_key not in _OPEN:
        namespace = hashlib.sha256(ws.root.encode()).hexdigest()[:12]
        if uri.startswith(("redis://", "rediss://")):
            from eo_ray.featurestore.online._redis import RedisOnlineStore

            _OPEN[cache_key] = RedisOnlineStore(uri, namespace)
        else:
            from eo_ray.featurestore.online._sqlite import SQLiteOnlineStore

            if uri.startswith("sqlite:///"):
                path = Path(uri[len("sqlite:///") - 1 :])
            elif ws.is_local:
                path = Path(ws.root) / "featurestore" / "online.sqlite"
            else:
                path = get_settings().cache_dir / "online" / f"{namespace}.sqlite"
            _OPEN[cache_key] = SQLiteOnlineStore(path)
    return _OPEN[cache_key]


__all__ = ["OnlineStore", "decode_row", "encode_key", "encode_row", "open_online_store"]
