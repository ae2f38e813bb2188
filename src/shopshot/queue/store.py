"""Images kept in Redis under content-addressed keys, each with a TTL."""

import hashlib

from redis import Redis

from shopshot.errors import InputExpired

PREFIX = "shopshot:blob:"


class BlobStore:
    """Put and get image bytes in Redis; keys are the SHA-256 of the content."""

    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    def put(self, data: bytes) -> str:
        """Store bytes (refreshing the TTL if already present) and return their key."""
        key = PREFIX + hashlib.sha256(data).hexdigest()
        self.redis.set(key, data, ex=self.ttl_s)
        return key

    def get(self, key: str) -> bytes:
        """Return stored bytes, or raise InputExpired when the TTL has passed."""
        if not key.startswith(PREFIX):
            raise InputExpired()
        data = self.redis.get(key)
        if data is None:
            raise InputExpired()
        return data

    def delete(self, keys: list[str]) -> None:
        """Forget stored bytes."""
        if keys:
            self.redis.delete(*keys)
