"""Turning the JSON ``instances`` of a request into a model input array, or a 4xx answer.

An :class:`InputSpec` says what one instance must look like: a fixed shape and dtype (from the
input example registered with the model), named scalar features (a scikit-learn model fitted
on a DataFrame) or entity keys resolved through a feature view's online store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import orjson

from eo_ray.serving.errors import RequestError


@dataclass(frozen=True)
class InputSpec:
    """The shape, dtype and feature names one instance must have (``None``: not checked)."""

    shape: tuple[int, ...] | None = None
    dtype: str = "float32"
    feature_names: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["shape"] = None if self.shape is None else list(self.shape)
        data["feature_names"] = None if self.feature_names is None else list(self.feature_names)
        return data

    @property
    def is_image(self) -> bool:
        """Instances with two or more axes (chips) rather than a vector of features."""
        return self.shape is not None and len(self.shape) >= 2


def parse_body(body: bytes, max_instances: int) -> list[Any]:
    """The ``instances`` list of a JSON request body; 400/413 on anything else."""
    return parse_request(body, max_instances)[0]


def parse_request(body: bytes, max_instances: int) -> tuple[list[Any], str]:
    """The ``instances`` of a JSON request body and their JSON text (for the request log).

    The text is cut out of the body when the body holds nothing but ``instances`` (so a
    large chip is not encoded again on the request path), else encoded.
    """
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, f"The request body is not valid JSON ({exc}).") from None
    if not isinstance(payload, dict) or "instances" not in payload:
        raise RequestError(400, 'The request body must be a JSON object {"instances": [...]}.')
    instances = payload["instances"]
    if not isinstance(instances, list) or not instances:
        raise RequestError(400, '"instances" must be a non-empty list of instances.')
    if len(instances) > max_instances:
        raise RequestError(
            413,
            f"Too many instances: {len(instances)} sent, at most {max_instances} per request; "
            "split the request.",
        )
    if len(payload) == 1:
        # {"instances": X}: no other key, so the first ':' ends the key and the last '}'
        # closes the object; X is the text between them.
        text = body[body.index(b":") + 1 : body.rindex(b"}")].strip().decode()
    else:
        text = orjson.dumps(instances).decode()
    return instances, text


def to_array(instances: list[Any], spec: InputSpec) -> np.ndarray:
    """Stack instances into one array of ``spec``'s dtype and shape; 422 when they do not fit."""
    if spec.feature_names is not None and all(isinstance(i, dict) for i in instances):
        instances = [_ordered(i, spec.feature_names, n) for n, i in enumerate(instances)]
    if any(isinstance(i, dict) for i in instances):
        raise RequestError(
            422, "Instances must all be lists of numbers (or all objects of named features)."
        )
    try:
        x = np.asarray(instances, dtype=np.dtype(spec.dtype))
    except (ValueError, TypeError) as exc:
        raise RequestError(
            422,
            f"Instances must be numbers in nested lists of one shape ({_short(exc)}).",
        ) from None
    if x.ndim == 1 and spec.shape == (1,):
        x = x[:, None]
    if spec.shape is not None and tuple(x.shape[1:]) != spec.shape:
        raise RequestError(
            422,
            f"Each instance must have shape {list(spec.shape)}; got {list(x.shape[1:])}.",
        )
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise RequestError(422, "Instances contain NaN or infinite values.")
    return x


def _ordered(instance: dict[str, Any], names: tuple[str, ...], index: int) -> list[Any]:
    missing = [n for n in names if n not in instance]
    if missing:
        raise RequestError(422, f"Instance {index} lacks the features {missing}.")
    return [instance[n] for n in names]


def _short(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    return text if len(text) < 160 else text[:157] + "..."
