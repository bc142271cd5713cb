"""Where the feature store keeps things under the workspace, and its small JSON documents.

Layout (all under ``<root>/featurestore``)::

    groups/<name>/<version>/group.json          schema, keys, options
    groups/<name>/<version>/table/              the Delta table
    groups/<name>/<version>/expectations.json   the expectation suite (Great Expectations form)
    groups/<name>/<version>/statistics/<v>.json statistics of Delta version <v>
    groups/<name>/<version>/validations/<ts>-<id>.json   validation reports
    groups/<name>/<version>/staging/<id>/       files written by Ray workers before a merge
    views/<name>/<version>/view.json            query, labels, transforms
    views/<name>/<version>/training/<td>/       a training dataset: meta.json + Delta table
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from eo_ray.featurestore.errors import NotFoundError
from eo_ray.storage import Workspace, validate_name

ROOT = "featurestore"


class MetadataStore:
    """Reads and writes the feature store's documents in one workspace."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    # -- paths ---------------------------------------------------------------------------
    def group_uri(self, name: str, version: int, *parts: str) -> str:
        """URI of a feature group version, or of something inside it."""
        return self.ws.uri(
            ROOT, "groups", validate_name(name, "feature group"), str(version), *parts
        )

    def view_uri(self, name: str, version: int, *parts: str) -> str:
        """URI of a feature view version, or of something inside it."""
        return self.ws.uri(ROOT, "views", validate_name(name, "feature view"), str(version), *parts)

    # -- listing -------------------------------------------------------------------------
    def names(self, kind: str) -> list[str]:
        """Names of the feature groups (``kind="groups"``) or views (``"views"``)."""
        return self.ws.list_dir(self.ws.uri(ROOT, kind))

    def versions(self, kind: str, name: str) -> list[int]:
        """Versions of one group or view, ascending (only complete ones)."""
        doc = "group.json" if kind == "groups" else "view.json"
        found = []
        for entry in self.ws.list_dir(self.ws.uri(ROOT, kind, name)):
            if entry.isdigit() and self.ws.exists(self.ws.uri(ROOT, kind, name, entry, doc)):
                found.append(int(entry))
        return sorted(found)

    def resolve(self, kind: str, name: str, version: int | None) -> int:
        """``version``, or the latest one; NotFoundError when there is none."""
        label = "feature group" if kind == "groups" else "feature view"
        validate_name(name, label)
        versions = self.versions(kind, name)
        if version is None:
            if not versions:
                raise NotFoundError(f"No {label} named {name!r}; list them with `eo-ray fs list`.")
            return versions[-1]
        if version not in versions:
            raise NotFoundError(
                f"{label.capitalize()} {name!r} has no version {version}; versions: {versions}."
            )
        return version

    # -- documents -----------------------------------------------------------------------
    def read(self, uri: str) -> Any:
        """A JSON document."""
        return self.ws.read_json(uri)

    def write(self, uri: str, obj: Any) -> None:
        """Write a JSON document atomically."""
        self.ws.write_json(uri, obj)

    def read_all(self, folder: str) -> list[Any]:
        """Every JSON document in ``folder``, in name order."""
        return [
            self.ws.read_json(f"{folder}/{entry}")
            for entry in self.ws.list_dir(folder)
            if entry.endswith(".json")
        ]


def new_id() -> str:
    """A sortable unique id: milliseconds since the epoch plus random hex."""
    return f"{int(time.time() * 1000):013d}-{uuid.uuid4().hex[:8]}"
