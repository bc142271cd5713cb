"""Validate eo-ray's cluster configurations without touching a cloud.

- Ray cluster-launcher YAMLs (``clusters/aws``, ``clusters/gcp``): filled out with the
  provider defaults and checked against Ray's own schema, as ``ray up`` does first.
- KubeRay manifests (``clusters/kuberay``): checked against the structure of the KubeRay
  v1 CRDs (``crd_structure.json``), plus the invariants the operator enforces at run time
  (replica bounds, the GPU request of GPU groups).

Usage: ``python clusters/validate.py [FILE ...]``; exit status 1 if any file is invalid.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import yaml

HERE = Path(__file__).resolve().parent


def validate_launcher(path: Path) -> dict:
    """Fill out and validate a Ray cluster-launcher config; return the filled config."""
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = prepare_config(yaml.safe_load(path.read_text()))
    validate_config(config)
    types = config["available_node_types"]
    for name, node in types.items():
        if name != config["head_node_type"] and node.get("min_workers", 0) > node.get(
            "max_workers", 0
        ):
            raise ValueError(f"{path.name}: node type {name!r} has min_workers > max_workers.")
    return config


def _check_groups(spec: dict, where: str) -> None:
    for group in spec.get("workerGroupSpecs", []):
        low, high = group.get("minReplicas", 0), group.get("maxReplicas", 2**31 - 1)
        if not low <= group.get("replicas", low) <= high:
            raise ValueError(f"{where}: group {group['groupName']!r} replicas outside [min, max].")
        gpus = group.get("rayStartParams", {}).get("num-gpus")
        if gpus is not None:
            for container in group["template"]["spec"]["containers"]:
                limit = container.get("resources", {}).get("limits", {}).get("nvidia.com/gpu")
                if str(limit) != gpus:
                    raise ValueError(
                        f"{where}: group {group['groupName']!r} starts Ray with num-gpus={gpus} "
                        f"but its container limits nvidia.com/gpu to {limit}."
                    )


def validate_kuberay(path: Path) -> dict:
    """Validate a RayCluster / RayJob / RayService manifest; return it."""
    structure = json.loads((HERE / "kuberay" / "crd_structure.json").read_text())
    manifest = yaml.safe_load(path.read_text())
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if kind not in ("RayCluster", "RayJob", "RayService"):
        raise ValueError(f"{path.name}: kind {kind!r} is not RayCluster, RayJob or RayService.")
    schema = {**structure[kind], "definitions": structure["definitions"]}
    jsonschema.validate(manifest, schema)
    cluster = {
        "RayCluster": lambda m: m["spec"],
        "RayJob": lambda m: m["spec"].get("rayClusterSpec", {}),
        "RayService": lambda m: m["spec"]["rayClusterConfig"],
    }[kind](manifest)
    _check_groups(cluster, path.name)
    return manifest


def validate(path: Path) -> dict:
    """Validate one configuration file of either kind."""
    return validate_kuberay(path) if path.parent.name == "kuberay" else validate_launcher(path)


def all_configs() -> list[Path]:
    """Every cluster configuration in this folder."""
    return sorted(p for p in HERE.glob("*/*.yaml"))


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or all_configs()
    failed = 0
    for path in paths:
        try:
            validate(path)
            print(f"ok      {path}")
        except (ValueError, jsonschema.ValidationError) as exc:
            failed += 1
            message = exc.message if isinstance(exc, jsonschema.ValidationError) else str(exc)
            location = "/".join(str(p) for p in getattr(exc, "absolute_path", []))
            print(f"INVALID {path}: {message}" + (f" (at {location})" if location else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
