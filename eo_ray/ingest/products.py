"""EO products declared as data, TorchGeo style: a file-name regex, bands and a date format.

A new sensor is a subclass with a handful of class attributes (see ``_sensors.py``); the
scanner asks each registered product, in order, whether it recognises a file name and what
properties that name (and any sidecar metadata file) tells.
"""

from __future__ import annotations

from eo_ray.ingest import _sensors  # noqa: F401 - registers the built-in sensors
from eo_ray.ingest._product import REGISTRY, Product, parse_datetime, register, register_product

__all__ = [
    "Product",
    "identify",
    "parse_datetime",
    "product_by_name",
    "products",
    "register",
    "register_product",
]


def products() -> list[type[Product]]:
    """The registered products, in the order the scanner tries them."""
    return [*REGISTRY, Product]


def identify(filename: str, container: str | None = None) -> tuple[type[Product], dict]:
    """The first product that recognises ``filename`` (in ``container``), with its groups."""
    for product in products():
        groups = product.match(filename, container)
        if groups is not None:
            return product, groups
    return Product, {}


def product_by_name(name: str) -> type[Product] | None:
    """The product class called ``name`` (registered ones and their subclasses)."""
    seen: list[type[Product]] = []
    stack = list(products())
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.append(cls)
        if cls.name == name:
            return cls
        stack += cls.__subclasses__()
    return None
