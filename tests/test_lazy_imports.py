"""Lazy imports: the CLI starts without Ray or the ML frameworks; every public name resolves.

Start-up time itself is measured by ``benchmarks/cli_startup.py``, not here.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import eo_ray
from eo_ray import _lazy

HEAVY = ("ray", "torch", "tensorflow", "keras", "pandas", "pyarrow", "deltalake", "optuna")
PACKAGES = sorted(
    f"eo_ray.{p.parent.name}"
    for p in Path(eo_ray.__file__).parent.glob("*/__init__.py")
    if "TYPE_CHECKING" in p.read_text(encoding="utf-8")
)
_PRINT_MODULES = (
    "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
)


def _heavy_modules_after(code: str) -> list[str]:
    """The heavy top-level packages imported by ``code`` in a fresh interpreter."""
    probe = f"{code}\n{_PRINT_MODULES}"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    return sorted(loaded & set(HEAVY))


def test_importing_the_cli_imports_no_heavy_library():
    assert _heavy_modules_after("import eo_ray.cli") == []


def test_stage_help_imports_no_heavy_library():
    code = """
import typer.main
from typer.testing import CliRunner
from eo_ray.cli import app
group = typer.main.get_command(app)
runner = CliRunner()
for name, command in group.commands.items():
    if hasattr(command, "commands"):
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
"""
    assert _heavy_modules_after(code) == []


def test_import_eo_ray_and_stages_is_light():
    stages = "\n".join(f"import {p}" for p in PACKAGES)
    assert _heavy_modules_after(f"import eo_ray as eo\n{stages}") == []


@pytest.mark.parametrize("package", ["eo_ray", *PACKAGES])
def test_every_lazy_export_resolves(package):
    module = importlib.import_module(package)
    table = _lazy.exports(package, Path(module.__file__).read_text(encoding="utf-8"))
    assert table, f"{package} declares no lazy exports"
    for name in table:
        assert getattr(module, name) is not None
    missing = [name for name in getattr(module, "__all__", ()) if not hasattr(module, name)]
    assert missing == []
    assert set(table) <= set(dir(module))


def test_an_export_is_not_hidden_by_its_submodule_of_the_same_name():
    code = """
import eo_ray.monitoring.drift
import eo_ray as eo
assert callable(eo.monitoring.drift), eo.monitoring.drift
import eo_ray.analysis.report
from eo_ray.analysis import report
assert callable(report), report
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        eo_ray.ingest.no_such_name  # noqa: B018


def test_a_function_using_a_lazy_package_pickles_for_ray_workers():
    import ray.cloudpickle

    from eo_ray import ingest

    def uses_ingest():
        return ingest.arrow_friendly

    again = ray.cloudpickle.loads(ray.cloudpickle.dumps(uses_ingest))
    assert again() is ingest.arrow_friendly
    assert ray.cloudpickle.loads(ray.cloudpickle.dumps(eo_ray.hpo)) is eo_ray.hpo
