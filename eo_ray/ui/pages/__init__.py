"""The UI's pages, one module per group; each module has a ``router``."""

from eo_ray.ui.pages import (
    catalogs,
    deployments,
    experiments,
    featurestore,
    maps,
    models,
    overview,
    pipelines,
)

ROUTERS = [
    overview.router,
    catalogs.router,
    maps.router,
    featurestore.router,
    experiments.router,
    models.router,
    deployments.router,
    pipelines.router,
]
