"""``eo-ray ui``: a read-only web interface over the workspace.

Server-rendered pages (``/``, ``/catalogs``, ``/maps``, ``/featurestore``, ``/experiments``,
``/models``, ``/deployments``, ``/pipelines``) and the same figures as JSON under ``/api/...``,
built from each stage's public Python API. Nothing is loaded from outside the server (plotly.js
comes from the plotly package), so the UI works on an air-gapped cluster. Browsing needs no Ray.

    app = eo.ui.create_app(token="s3cret")     # a FastAPI app (ASGI)
    eo.ui.serve(port=8265)                     # foreground, 127.0.0.1 by default
    eo.ui.deploy(route_prefix="/ui")           # as a Ray Serve application
"""

from __future__ import annotations

from eo_ray.ui.app import create_app
from eo_ray.ui.server import deploy, serve

__all__ = ["create_app", "deploy", "serve"]
