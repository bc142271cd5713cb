"""eo-ray: scalable AI for Earth-observation data on Ray.

``import eo_ray as eo`` then ``eo.init()``; stages are sub-packages loaded on first use
(``eo.datasets``, ``eo.ingest``, ``eo.featurestore``, ...), so importing eo-ray stays fast.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from eo_ray import _lazy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

if TYPE_CHECKING:  # `x as x`: re-exported, loaded on first use
    from eo_ray import ablation as ablation
    from eo_ray import analysis as analysis
    from eo_ray import datasets as datasets
    from eo_ray import experiments as experiments
    from eo_ray import featurestore as featurestore
    from eo_ray import hpo as hpo
    from eo_ray import ingest as ingest
    from eo_ray import mapping as mapping
    from eo_ray import models as models
    from eo_ray import monitoring as monitoring
    from eo_ray import pipelines as pipelines
    from eo_ray import serving as serving
    from eo_ray import tracking as tracking
    from eo_ray import train as train
    from eo_ray import ui as ui
    from eo_ray.featurestore import feature_store as feature_store
    from eo_ray.runtime import info, init, is_initialized, shutdown
    from eo_ray.storage import Workspace, workspace

__getattr__, __dir__ = _lazy.attach(__name__, __file__)

__all__ = ["Workspace", "__version__", "info", "init", "is_initialized", "shutdown", "workspace"]
