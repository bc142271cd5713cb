"""The Redis online store: one string per key holding ``<event time>|<row JSON>``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice

from eo_ray.featurestore.online.base import OnlineStore

# Keep the stored row unless the new one is at least as recent (atomic per batch).
_UPSERT = """
for i = 1, #KEYS do
  local ts = tonumber(ARGV[2 * i - 1])
  local cur = redis.call('GET', KEYS[i])
  local keep = false
  if cur then
    local bar = string.find(cur, '|', 1, true)
    keep = tonumber(string.sub(cur, 1, bar - 1)) > ts
  end
  if not keep then
    redis.call('SET', KEYS[i], ARGV[2 * i - 1] .. '|' .. ARGV[2 * i])
  end
end
return #KEYS
"""
_BATCH = 1000


class RedisOnlineStore(OnlineStore):
    """Latest rows per key in Redis, under the prefix ``eo-ray:<namespace>:<table>:``."""

    def __init__(self, url: str, namespace: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=10)
        self._namespace = namespace
        self._script = self._redis.register_script(_UPSERT)

    def _prefix(self, table: str) -> str:
        return f"eo-ray:{self._namespace}:{table}:"

    def write(self, table: str, rows: Iterable[tuple[str, float, str]]) -> None:
        prefix = self._prefix(table)
        it = iter(rows)
        while batch := list(islice(it, _BATCH)):
            keys = [prefix + k for k, _, _ in batch]
            args: list[str] = []
            for _, ts, value in batch:
                args += [repr(float(ts)), value]
            self._script(keys=keys, args=args)

    def read(self, table: str, keys: Sequence[str]) -> list[str | None]:
        prefix = self._prefix(table)
        if len(keys) == 1:
            raw = [self._redis.get(prefix + keys[0])]
        else:
            raw = self._redis.mget([prefix + k for k in keys])
        return [None if v is None else v.decode().split("|", 1)[1] for v in raw]

    def drop(self, table: str) -> None:
        for key in self._redis.scan_iter(match=self._prefix(table) + "*", count=1000):
            self._redis.delete(key)

    def close(self) -> None:
        self._redis.close()
