"""Lazy package exports (PEP 562): a package's public names are imported on first use.

A package lists its public imports once, in an ``if TYPE_CHECKING:`` block, so that editors
and type checkers see the real names; at run time :func:`attach` reads that block from the
package's source and imports each name when it is first looked up. ``import eo_ray`` and
``eo-ray --help`` thereby stay free of Ray, pandas, torch and the like::

    from typing import TYPE_CHECKING

    from eo_ray import _lazy

    if TYPE_CHECKING:
        from eo_ray.ingest.catalog import Catalog, scan

    __getattr__, __dir__ = _lazy.attach(__name__, __file__)
"""

from __future__ import annotations

import ast
import copyreg
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any


def exports(package: str, source: str) -> dict[str, tuple[str, str]]:
    """``{public name: (module, attribute)}`` of the ``if TYPE_CHECKING:`` imports in ``source``."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.ImportFrom):
                module = _absolute(package, stmt.module, stmt.level)
                for alias in stmt.names:
                    found[alias.asname or alias.name] = (module, alias.name)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _absolute(package: str, module: str | None, level: int) -> str:
    if level == 0:
        return module or package
    base = package.rsplit(".", level - 1)[0] if level > 1 else package
    return f"{base}.{module}" if module else base


class _LazyPackage(ModuleType):
    """Keeps an exported name when a submodule of the same name is imported later.

    ``eo_ray.monitoring.drift`` is both a function (exported) and a module; an eager
    ``__init__`` bound the function after the module was imported. Lazily, the import system
    would set the module on the package when it is first imported, hiding the function.
    """

    _lazy_exports: dict[str, tuple[str, str]]

    def __setattr__(self, name: str, value: Any) -> None:
        export = self._lazy_exports.get(name)
        is_submodule = isinstance(value, ModuleType) and value.__name__ == f"{self.__name__}.{name}"
        if is_submodule and export is not None and export != (self.__name__, name):
            return  # the exported object of that name wins, as with an eager import
        super().__setattr__(name, value)


def _reduce(module: _LazyPackage) -> tuple[Callable[[str], ModuleType], tuple[str]]:
    return importlib.import_module, (module.__name__,)


# Pickled by name, as plain modules are (Ray's cloudpickle sends a function's module globals).
copyreg.pickle(_LazyPackage, _reduce)


def attach(package: str, init_file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package`` whose ``__init__`` is
    ``init_file``: names from its ``if TYPE_CHECKING:`` block are imported on first use."""
    table = exports(package, Path(init_file).read_text(encoding="utf-8"))
    module = sys.modules[package]
    ModuleType.__setattr__(module, "_lazy_exports", table)
    module.__class__ = _LazyPackage

    def getattr_(name: str) -> Any:
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        source, attribute = table[name]
        if source == package:  # `from eo_ray import ingest`: a sub-package
            value = importlib.import_module(f"{package}.{attribute}")
        else:
            value = getattr(importlib.import_module(source), attribute)
        ModuleType.__setattr__(module, name, value)  # looked up once
        return value

    def dir_() -> list[str]:
        return sorted(set(vars(module)) | set(table))

    return getattr_, dir_
