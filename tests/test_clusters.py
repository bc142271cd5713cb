"""The cluster configurations validate against Ray's and KubeRay's schemas, and bad ones fail."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("cluster_validate", REPO / "clusters" / "validate.py")
validate_mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(validate_mod)

CONFIGS = validate_mod.all_configs()


def test_every_kind_of_config_is_present():
    names = {f"{p.parent.name}/{p.name}" for p in CONFIGS}
    assert names == {
        "aws/eo-ray.yaml",
        "gcp/eo-ray.yaml",
        "kuberay/raycluster.yaml",
        "kuberay/rayjob.yaml",
        "kuberay/rayservice.yaml",
    }


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_config_is_valid(path):
    validate_mod.validate(path)


@pytest.mark.parametrize("provider", ["aws", "gcp"])
def test_launcher_configs_autoscale_cpu_and_gpu_workers_from_zero(provider):
    config = validate_mod.validate_launcher(REPO / "clusters" / provider / "eo-ray.yaml")
    types = config["available_node_types"]
    assert types["head"]["resources"]["CPU"] == 0
    assert types["gpu_worker"]["resources"]["GPU"] == 1
    assert types["gpu_worker"]["min_workers"] == 0
    assert types["cpu_worker"]["min_workers"] == 0
    assert types["cpu_worker"]["max_workers"] > 1
    assert any("EO_RAY_HOME=s3://" in cmd for cmd in config["setup_commands"])


def test_kuberay_cluster_has_an_autoscaling_gpu_group():
    manifest = validate_mod.validate_kuberay(REPO / "clusters" / "kuberay" / "raycluster.yaml")
    groups = {g["groupName"]: g for g in manifest["spec"]["workerGroupSpecs"]}
    assert manifest["spec"]["enableInTreeAutoscaling"] is True
    assert groups["gpu"]["minReplicas"] == 0
    assert groups["gpu"]["rayStartParams"]["num-gpus"] == "1"


def _mutated(tmp_path: Path, source: str, mutate) -> Path:
    data = yaml.safe_load((REPO / "clusters" / source).read_text())
    mutate(data)
    out = tmp_path / Path(source).parent.name / Path(source).name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data))
    return out


@pytest.mark.parametrize(
    ("source", "mutate", "error"),
    [
        ("aws/eo-ray.yaml", lambda d: d.update(max_wrokers=3), jsonschema.ValidationError),
        ("aws/eo-ray.yaml", lambda d: d.update(head_node_type="nope"), ValueError),
        (
            "kuberay/raycluster.yaml",
            lambda d: d["spec"]["workerGroupSpecs"][1]["rayStartParams"].update({"num-gpus": 1}),
            jsonschema.ValidationError,
        ),  # the CRD wants strings in rayStartParams
        (
            "kuberay/raycluster.yaml",
            lambda d: d["spec"].update(workerGroups=[]),
            jsonschema.ValidationError,
        ),
        (
            "kuberay/raycluster.yaml",
            lambda d: d["spec"]["workerGroupSpecs"][1]["template"]["spec"]["containers"][0][
                "resources"
            ]["limits"].pop("nvidia.com/gpu"),
            ValueError,
        ),
        ("kuberay/rayjob.yaml", lambda d: d["spec"].pop("entrypoint"), jsonschema.ValidationError),
    ],
)
def test_invalid_configs_are_rejected(tmp_path, source, mutate, error):
    with pytest.raises(error):
        validate_mod.validate(_mutated(tmp_path, source, mutate))


def test_validate_script_exit_code(tmp_path):
    bad = _mutated(tmp_path, "kuberay/rayjob.yaml", lambda d: d["spec"].pop("entrypoint"))
    assert validate_mod.main([str(bad)]) == 1
    assert validate_mod.main([]) == 0
