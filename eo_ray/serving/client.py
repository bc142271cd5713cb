"""``Deployment``: a handle on a running deployment and its Python client over HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

from eo_ray.serving.errors import PredictionRequestError

# eo-ray's replicas answer every request they handle (4xx for bad ones, never a 5xx): a 5xx
# comes from Serve itself, e.g. a replica that died mid-request, and the call is retried on a
# live replica (predictions are pure; each answered request is logged once, by its replica).
RETRY_STATUS = frozenset({500, 502, 503, 504})
RETRIES = 3
RETRY_WAIT_S = 0.25


@dataclass(frozen=True)
class Deployment:
    """A model served at ``url`` (``POST {url}/predict``)."""

    name: str
    model: str
    version: int
    url: str
    min_replicas: int = 1
    max_replicas: int = 1
    batch_size: int | None = None
    feature_view: str | None = None
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def predict(
        self, instances: list[Any], *, token: str | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """POST ``instances`` and return the JSON answer (``predictions``, ``model``, ``version``).

        A refused request raises :class:`PredictionRequestError` with the server's message;
        one that Serve could not complete (a 5xx, e.g. its replica died) is retried on another
        replica, up to ``RETRIES`` times.
        """
        data = json.dumps({"instances": _plain(instances)}).encode()
        return self._call("predict", data, token, timeout)

    def metadata(self, *, token: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        """The deployment's input schema, model version and metrics."""
        return self._call("metadata", None, token, timeout)

    def health(self, timeout: float = 10.0) -> dict[str, Any]:
        return self._call("health", None, None, timeout)

    def _call(self, route: str, data: bytes | None, token: str | None, timeout: float) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = f"{self.url}/{route}"
        if not url.startswith(("http://", "https://")):
            raise PredictionRequestError(400, f"{self.url!r} is not an http(s) URL.")
        req = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - checked
        attempt = 0
        while True:
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUS or attempt == RETRIES:
                    raise _refused(exc) from None
            attempt += 1
            time.sleep(RETRY_WAIT_S * attempt)


def _refused(exc: urllib.error.HTTPError) -> PredictionRequestError:
    """The server's answer to a refused request, with its message."""
    try:
        message = json.loads(exc.read()).get("error", exc.reason)
    except (ValueError, AttributeError):
        message = str(exc.reason)
    return PredictionRequestError(exc.code, message)


def _plain(instances: Any) -> Any:
    """NumPy arrays and scalars (also inside lists and dicts) as JSON-ready values."""
    if hasattr(instances, "tolist"):
        return instances.tolist()
    if isinstance(instances, list | tuple):
        return [_plain(i) for i in instances]
    if isinstance(instances, dict):
        return {str(k): _plain(v) for k, v in instances.items()}
    return instances
