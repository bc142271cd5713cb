"""The default online store: one SQLite file, in-process, WAL mode for concurrent writers."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from eo_ray.featurestore.online.base import OnlineStore


def _table(name: str) -> str:
    return '"fg_' + name.replace('"', "") + '"'


class SQLiteOnlineStore(OnlineStore):
    """Latest rows per key in a SQLite file (one table per feature group version)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._known: set[str] = set()

    def _ensure(self, table: str) -> str:
        name = _table(table)
        if table not in self._known:
            with self._con:
                self._con.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} "
                    "(k TEXT PRIMARY KEY, ts REAL NOT NULL, v TEXT NOT NULL) WITHOUT ROWID"
                )
            self._known.add(table)
        return name

    def write(self, table: str, rows: Iterable[tuple[str, float, str]]) -> None:
        with self._lock:
            name = self._ensure(table)
            with self._con:
                self._con.executemany(
                    f"INSERT INTO {name} (k, ts, v) VALUES (?, ?, ?) "  # noqa: S608 - quoted
                    "ON CONFLICT(k) DO UPDATE SET ts = excluded.ts, v = excluded.v "
                    "WHERE excluded.ts >= ts",
                    rows,
                )

    def read(self, table: str, keys: Sequence[str]) -> list[str | None]:
        with self._lock:
            name = self._ensure(table)
            if len(keys) == 1:
                row = self._con.execute(
                    f"SELECT v FROM {name} WHERE k = ?",  # noqa: S608 - quoted
                    (keys[0],),
                ).fetchone()
                return [row[0] if row else None]
            marks = ",".join("?" * len(keys))
            found = dict(
                self._con.execute(
                    f"SELECT k, v FROM {name} WHERE k IN ({marks})",  # noqa: S608 - quoted
                    list(keys),
                ).fetchall()
            )
            return [found.get(k) for k in keys]

    def drop(self, table: str) -> None:
        with self._lock, self._con:
            self._con.execute(f"DROP TABLE IF EXISTS {_table(table)}")
            self._known.discard(table)

    def close(self) -> None:
        with self._lock:
            self._con.close()
