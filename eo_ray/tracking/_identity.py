"""What identifies the code of a run: function name and source hash, git commit, versions."""

from __future__ import annotations

import hashlib
import inspect
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

SOURCE_HASH_ATTR = "__eo_ray_source_hash__"  # set on functions loaded back from a record
PACKAGES = ("eo-ray", "ray", "numpy", "pandas", "torch", "tensorflow", "optuna", "pyarrow")


def qualified_name(fn: Any) -> str:
    """``module:qualname`` of a function (or of a callable object's class)."""
    target = fn if inspect.isfunction(fn) or inspect.ismethod(fn) else type(fn)
    module = getattr(target, "__module__", None) or "__main__"
    return f"{module}:{getattr(target, '__qualname__', repr(target))}"


def source_hash(fn: Any) -> str | None:
    """sha256 of the function's source, or None when the source is not available (a function
    re-loaded from a record keeps the hash recorded with it)."""
    recorded = getattr(fn, SOURCE_HASH_ATTR, None)
    if isinstance(recorded, str):
        return recorded
    try:
        source = inspect.getsource(fn if callable(fn) and inspect.isroutine(fn) else type(fn))
    except (OSError, TypeError):
        return None
    return hashlib.sha256(source.encode()).hexdigest()


def git_commit(fn: Any) -> str | None:
    """The git commit of the repository holding the function's file, if any."""
    try:
        folder = Path(inspect.getfile(fn if inspect.isroutine(fn) else type(fn))).parent
    except (OSError, TypeError):
        folder = Path.cwd()
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def package_versions() -> dict[str, str]:
    """Versions of the packages that decide what a run computes (the installed ones)."""
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return versions
