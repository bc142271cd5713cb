"""Pickling user code by value, so that it runs where its module cannot be imported
(Ray workers started elsewhere, a later ``rerun``)."""

from __future__ import annotations

import os
import sys
import sysconfig
from types import ModuleType
from typing import Any

_LIBRARY_ROOTS = tuple(
    os.path.realpath(p)
    for p in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}
)


def is_user_module(module: ModuleType) -> bool:
    """Whether ``module`` is the user's own code (not eo-ray, an installed library or stdlib)."""
    name = module.__name__
    if name in ("__main__", "builtins") or name.split(".")[0] == "eo_ray":
        return False
    path = getattr(module, "__file__", None)
    if not path:
        return False
    path = os.path.realpath(path)
    if "site-packages" in path or "dist-packages" in path:
        return False
    return not path.startswith(_LIBRARY_ROOTS)


def dumps_by_value(obj: Any) -> bytes:
    """cloudpickle ``obj`` with every loaded user module pickled by value."""
    import cloudpickle

    modules = [m for m in list(sys.modules.values()) if m is not None and is_user_module(m)]
    for module in modules:
        cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(obj)
    finally:
        for module in modules:
            cloudpickle.unregister_pickle_by_value(module)
