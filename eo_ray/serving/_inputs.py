"""Turning the JSON ``instances`` of a request into a model input array, or a 4xx answer.

What an instance must look like (:class:`InputSpec`) and the stacking itself belong to the
model (``eo_ray.models``); this module answers HTTP: 400/413 for a bad body, 422 for instances
that do not fit the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from eo_ray.models import InputError, InputSpec, stack_instances
from eo_ray.serving.errors import RequestError

__all__ = ["InputSpec", "parse_body", "parse_request", "to_array"]


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
    try:
        return stack_instances(instances, spec)
    except InputError as exc:
        raise RequestError(422, str(exc)) from None
