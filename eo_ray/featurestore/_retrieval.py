"""Lazy results of offline reads: nothing is read until ``to_arrow``/``to_pandas``/``to_ray``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import pyarrow as pa


class Retrieval(ABC):
    """A lazy offline read (the idea of Feast's ``RetrievalJob``)."""

    @abstractmethod
    def to_arrow(self) -> pa.Table:
        """Run the read; an Arrow table."""

    def to_pandas(self):
        """Run the read; a pandas DataFrame."""
        return self.to_arrow().to_pandas()

    def to_ray(self) -> Any:
        """A Ray Dataset of the result."""
        import ray.data

        return ray.data.from_arrow(self.to_arrow())


class TableRead(Retrieval):
    """A feature group's Delta table at one version, optionally some columns."""

    def __init__(
        self,
        uri: str,
        version: int,
        storage_options: dict[str, str],
        columns: list[str] | None = None,
        schema: pa.Schema | None = None,
    ) -> None:
        self.uri, self.version = uri, version
        self.storage_options = storage_options
        self.columns = columns
        self.schema = schema

    def __repr__(self) -> str:
        return f"TableRead({self.uri!r}, version={self.version})"

    def dataset(self):
        """A pyarrow dataset over the files of this version (lazy, filter/projection pushdown)."""
        from deltalake import DeltaTable

        dt = DeltaTable(self.uri, version=self.version, storage_options=self.storage_options)
        return dt.to_pyarrow_dataset()

    def to_arrow(self) -> pa.Table:
        table = self.dataset().to_table(columns=self.columns)
        if self.schema is not None:
            names = self.columns or self.schema.names
            table = table.select(names).cast(pa.schema([self.schema.field(n) for n in names]))
        return table

    def to_ray(self) -> Any:
        """A Ray Dataset read by Ray workers straight from the Delta table's files."""
        import ray.data

        return ray.data.read_delta(
            self.uri,
            version=self.version,
            storage_options=self.storage_options or None,
            columns=self.columns,
        )
