"""Django's Redis cache, keeping its client objects.

django.core.cache.backends.redis builds a new redis.Redis client for every cache call; with
redis-py 8 that costs more than the GET itself, and the session and the per-user caches
make several calls per request. Clients are thread-safe and share the backend's connection
pool, so one per pool is enough.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.commands.core import Script


class ReusingRedisCacheClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(index)
        if client is None:
            client = clients[index] = self._client(connection_pool=self._get_connection_pool(index))
        return client


class PortalRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def script(self, source: str) -> Script:
        """``source`` as a Lua script on the server the cache writes to: it runs there
        atomically, in one round trip (EVALSHA, loaded on first use). Its keys must come
        from make_and_validate_key, as the cache's own do."""
        scripts = self.__dict__.setdefault("_scripts", {})
        script = scripts.get(source)
        if script is None:
            script = scripts[source] = self._cache.get_client(write=True).register_script(source)
        return script
