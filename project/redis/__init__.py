"""The ground floor: everything that knows how to reach Redis, and nothing else.

It imports no app and no other part of the project, so every app can stand on it:

- ``client``: the one way to get a client (:func:`get_client`, the shared pool) and a
  dedicated one for long-lived loops (:func:`dedicated_client`);
- ``config``: what ``REDIS_URL`` names (standalone, Sentinel, Cluster) and the cache
  settings that reach it; ``cluster``: the django-redis client for Redis Cluster;
- ``local``: the project's own ``redis-server`` when ``REDIS_URL`` is unset;
- ``keys``: the key grammar every app's key builder uses;
- ``scripts``: the one loader of Lua files, and the shared compare-and-delete script;
- ``breaker``: the circuit breaker in front of Redis; ``timing``: round trips per request.
"""
