"""DuckDB helpers: one in-process connection over Arrow tables and datasets."""

from __future__ import annotations

from typing import Any

import duckdb


def quote(name: str) -> str:
    """A SQL identifier, double-quoted."""
    return '"' + name.replace('"', '""') + '"'


def connect(threads: int | None = None, **relations: Any) -> duckdb.DuckDBPyConnection:
    """A fresh connection with each Arrow table/dataset/reader registered under its name."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # never draw on the user's terminal
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    for name, obj in relations.items():
        con.register(name, obj)
    return con
