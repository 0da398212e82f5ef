"""The result cache (issue 18): a folder of checksummed entries, keyed by what the markers depend on.

`store` owns the folder (entries, size bound, statistics); the engine that makes the keys
and the payloads is built on top of it.
"""

from pkgdrc.cache.store import DEFAULT_MAX_BYTES, CacheInfo, Store

__all__ = ["DEFAULT_MAX_BYTES", "CacheInfo", "Store"]
