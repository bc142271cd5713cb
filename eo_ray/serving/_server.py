"""The Ray Serve deployment behind ``POST /<name>/predict``, ``GET /health`` and ``/metadata``.

Requests are plain Starlette requests: the body is read with a size limit, parsed and checked
against the model's :class:`InputSpec` before the model sees it, so bad input gets a 4xx with
one clear sentence and never reaches (or kills) the replica's model. Optional dynamic batching
groups concurrent requests into one model call (``serve.batch``). The model runs on as many
intra-op threads as the replica reserves CPUs (at least one), so replicas sharing a machine do
not oversubscribe it; every request is spooled to the replica's :class:`RequestLog` (one file
write) and reaches the Delta table in bulk from a background thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import math
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from ray import serve
from starlette.requests import Request
from starlette.responses import Response

from eo_ray.models import InputSpec, predictor_for
from eo_ray.serving._inputs import parse_request, to_array
from eo_ray.serving.errors import RequestError

DRAIN_FACTOR = 16


@dataclass(frozen=True)
class ServerConfig:
    """Everything a replica needs, passed by value (workspace root included)."""

    name: str
    root: str
    model: str
    version: int
    batch_size: int | None = None
    batch_wait_s: float = 0.005
    feature_view: tuple[str, int | None] | None = None
    auth_sha256: str | None = None  # the bearer token's hash: the token itself is not shipped
    log_requests: bool = True
    max_instances: int = 1024
    max_body_bytes: int = 8 * 1024 * 1024
    num_cpus: float = 1.0

    @property
    def threads(self) -> int:
        """Intra-op threads of the model: the CPUs the replica reserves, at least one."""
        return max(1, math.floor(self.num_cpus))

    @staticmethod
    def token_hash(token: str | None) -> str | None:
        return None if token is None else hashlib.sha256(token.encode()).hexdigest()


@serve.deployment(
    max_ongoing_requests=64,
    graceful_shutdown_timeout_s=20,
    logging_config={"enable_access_log": False},
)
class ModelServer:
    """One replica: the loaded model, its input checks, and its request-log client."""

    def __init__(self, config: ServerConfig) -> None:
        from eo_ray import models
        from eo_ray.storage import set_workspace

        set_workspace(config.root)
        _limit_threads(config.threads)
        self.config = config
        self.version = models.get(config.model, config.version)
        self.predictor = predictor_for(
            self.version.framework, self.version.load(), self.version.signature
        )
        self.view = self._feature_view(config)
        self.replica = _replica_id()
        self._active = 0  # /predict requests being answered by this replica now
        self.log = None
        if config.log_requests:
            from eo_ray.serving.request_log import RequestLog

            self.log = RequestLog(config.root, config.name, owner=self.replica)
        if config.batch_size:
            self._batched.set_max_batch_size(config.batch_size)
            self._batched.set_batch_wait_timeout_s(config.batch_wait_s)

    @staticmethod
    def _feature_view(config: ServerConfig) -> Any:
        if config.feature_view is None:
            return None
        from eo_ray.featurestore import feature_store

        name, version = config.feature_view
        return feature_store(config.root).get_feature_view(name, version)

    # -- HTTP --------------------------------------------------------------------------------
    async def __call__(self, request: Request) -> Response:
        route = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            if route == "predict":
                return await self._predict_http(request)
            if route == "health":
                return _json({"status": "ok", "replica": self.replica})
            self._check_auth(request)
            if route == "metadata" and request.method == "GET":
                return _json(self.metadata())
            raise RequestError(
                404, f"No route {request.url.path!r}: use /predict, /health or /metadata."
            )
        except RequestError as exc:
            return _json({"error": exc.message}, exc.status)

    def _check_auth(self, request: Request) -> None:
        expected = self.config.auth_sha256
        if expected is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        digest = hashlib.sha256(given.encode()).hexdigest()
        if scheme.lower() != "bearer" or not hmac.compare_digest(digest, expected):
            raise RequestError(
                401, "Missing or wrong bearer token: send 'Authorization: Bearer <token>'."
            )

    async def _read_body(self, request: Request) -> bytes:
        """The body, at most ``max_body_bytes``; a longer one is drained and answered 413.

        The rest of an oversized body is read and dropped (up to a bound) so the client gets
        the 413 rather than a reset connection.
        """
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > DRAIN_FACTOR * limit:
                break
        if size > limit:
            shown = declared if declared and declared.isdigit() else f"over {limit}"
            raise RequestError(
                413, f"The request body is {shown} bytes; at most {limit} are accepted."
            )
        return b"".join(chunks)

    async def _predict_http(self, request: Request) -> Response:
        """Answer one ``/predict`` request and log it, refused ones (401, 4xx) included."""
        start = time.perf_counter()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        instances: list[Any] | None = None
        inputs = features = x = None
        self._active += 1
        try:
            self._check_auth(request)
            if request.method != "POST":
                raise RequestError(405, "Use POST for /predict.")
            body = await self._read_body(request)
            instances, inputs = parse_request(body, self.config.max_instances)
            if self.view is not None:
                features = self._lookup(instances)
            x = to_array(features if features is not None else instances, self.predictor.spec)
            predictions, scores = await self._predict(x)
        except RequestError as exc:
            logged = _logged_inputs(inputs, x, features)
            self._log(request_id, start, exc.status, exc.message, instances, *logged, features)
            raise
        finally:
            self._active -= 1
        answer = {
            "predictions": predictions,
            "model": self.config.model,
            "version": self.version.version,
            "request_id": request_id,
        }
        if scores is not None:
            answer["scores"] = scores
        logged = _logged_inputs(inputs, x, features)
        self._log(request_id, start, 200, None, instances, *logged, features, predictions)
        return _json(answer)

    def _lookup(self, entries: list[Any]) -> list[dict[str, Any]]:
        """Entity keys -> feature vectors from the feature view's online store."""
        if not all(isinstance(e, dict) for e in entries):
            raise RequestError(
                422, 'This deployment takes entity keys: send objects like {"id": 1}.'
            )
        try:
            vectors = self.view.get_feature_vectors(entries)
        except Exception as exc:  # noqa: BLE001 - a bad key (missing column, wrong type) is the client's
            raise RequestError(422, f"The entity keys could not be looked up ({exc}).") from None
        missing = [e for e, v in zip(entries, vectors, strict=True) if v is None]
        if missing:
            raise RequestError(404, f"No online features for the entities {missing[:5]}.")
        return vectors

    async def _predict(self, x: np.ndarray) -> tuple[list[Any], list[Any] | None]:
        """The model's answer; batched with concurrent requests when there are any.

        A request alone in the replica runs at once: waiting ``batch_wait_s`` for company that
        is not there would only add latency.
        """
        if self.config.batch_size and self._active > 1:
            out = await self._batched(x)
            if isinstance(out, RequestError):
                raise out
            return out
        return self._run_model(x)

    def _run_model(self, x: np.ndarray) -> tuple[list[Any], list[Any] | None]:
        try:
            return self.predictor.predict(x)
        except Exception as exc:  # noqa: BLE001 - an input the model cannot evaluate is a 422
            raise RequestError(
                422, f"The model could not evaluate instances of shape {list(x.shape[1:])} ({exc})."
            ) from None

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.005)
    async def _batched(self, xs: list[np.ndarray]) -> list[Any]:
        shapes = {x.shape[1:] for x in xs}
        if len(shapes) > 1:  # no fixed signature: requests of other shapes go one by one
            return [self._safe(x) for x in xs]
        out = self._safe(np.concatenate(xs))
        if isinstance(out, RequestError):
            return [self._safe(x) for x in xs]
        predictions, scores = out
        results, offset = [], 0
        for x in xs:
            n = len(x)
            part = None if scores is None else scores[offset : offset + n]
            results.append((predictions[offset : offset + n], part))
            offset += n
        return results

    def _safe(self, x: np.ndarray) -> Any:
        try:
            return self._run_model(x)
        except RequestError as exc:
            return exc

    # -- metadata and logging ------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        spec: InputSpec = self.predictor.spec
        return {
            "name": self.config.name,
            "model": self.config.model,
            "version": self.version.version,
            "framework": self.version.framework,
            "metrics": self.version.metrics,
            "input": spec.to_dict(),
            "feature_view": None if self.view is None else self.view.to_dict(),
            "batch_size": self.config.batch_size,
            "max_instances": self.config.max_instances,
            "max_body_bytes": self.config.max_body_bytes,
            "auth": self.config.auth_sha256 is not None,
            "threads": _model_threads(self.version.framework, self.config.threads),
        }

    def _log(
        self,
        request_id: str,
        start: float,
        status: int,
        error: str | None,
        instances: list[Any] | None,
        inputs: str | None,
        array: bytes | None,
        features: list[Any] | None,
        predictions: list[Any] | None = None,
    ) -> None:
        """Spool the request's row (one file write; the table gets it in bulk later)."""
        if self.log is None:
            return
        self.log.record(
            {
                "request_id": request_id,
                "time": time.time_ns() // 1000,
                "deployment": self.config.name,
                "model": self.config.model,
                "model_version": self.version.version,
                "replica": self.replica,
                "status": status,
                "error": error,
                "n_instances": len(instances) if isinstance(instances, list) else 0,
                "inputs": inputs,
                "inputs_array": array,
                "features": None if features is None else _dumps(features),
                "predictions": None if predictions is None else _dumps(predictions),
                "latency_ms": (time.perf_counter() - start) * 1000.0,
            }
        )

    def __del__(self) -> None:
        # Serve calls this on a clean stop: commit every spooled row before the replica goes.
        # (A replica that is killed leaves its spool for recovery: nothing answered is lost.)
        if getattr(self, "log", None) is not None:
            with contextlib.suppress(Exception):  # the workspace may already be gone
                self.log.close()


def _logged_inputs(
    text: str | None, x: np.ndarray | None, features: list[Any] | None
) -> tuple[str | None, bytes | None]:
    """What the log keeps of the inputs: (JSON text, NPY bytes), one of them.

    Image chips (instances of two or more axes) are kept as the array the model received,
    five times smaller than their JSON text; everything else (tabular instances, entity keys
    of a feature view, input that did not make an array) as the request's JSON text.
    """
    if x is None or x.ndim < 3 or features is not None:
        return text, None
    from eo_ray.serving.request_log import encode_array

    return None, encode_array(x)


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _json(content: Any, status: int = 200) -> Response:
    """A JSON response encoded with orjson (several times faster than the standard library)."""
    body = orjson.dumps(content, default=str, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(body, status_code=status, media_type="application/json")


def _model_threads(framework: str, configured: int) -> int:
    """The intra-op threads the model really runs on (torch's own count for torch models)."""
    if framework == "torch":
        import torch

        return torch.get_num_threads()
    return configured


def _limit_threads(threads: int) -> None:
    """Run torch (and TensorFlow, if it is loaded later) on ``threads`` intra-op threads."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import torch

        torch.set_num_threads(threads)
        with contextlib.suppress(RuntimeError):  # set already in this process
            torch.set_num_interop_threads(1)
    except ImportError:
        pass
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


def _replica_id() -> str:
    try:
        return serve.get_replica_context().replica_id.unique_id
    except Exception:  # noqa: BLE001 - outside Serve (unit tests)
        return f"pid-{os.getpid()}"
