"""eo-ray: scalable AI for Earth-observation data on Ray.

``import eo_ray as eo`` then ``eo.init()``; stages are sub-packages loaded on first use
(``eo.datasets``, ``eo.ingest``, ``eo.featurestore``, ...), so importing eo-ray stays fast.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from eo_ray.runtime import info, init, is_initialized, shutdown
from eo_ray.storage import Workspace, workspace

__version__ = "0.1.0"

_STAGES = (
    "datasets",
    "tracking",
    "ingest",
    "featurestore",
    "hpo",
    "ablation",
    "experiments",
    "train",
    "models",
    "mapping",
    "serving",
    "monitoring",
    "analysis",
    "pipelines",
    "ui",
)


def __getattr__(name: str) -> Any:
    if name in _STAGES:
        module = importlib.import_module(f"eo_ray.{name}")
        globals()[name] = module
        return module
    if name == "feature_store":
        from eo_ray.featurestore import feature_store

        return feature_store
    raise AttributeError(f"module 'eo_ray' has no attribute {name!r}")


__all__ = ["Workspace", "__version__", "info", "init", "is_initialized", "shutdown", "workspace"]
