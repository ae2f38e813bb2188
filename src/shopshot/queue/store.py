"""Images kept in Redis under random keys, each with a TTL, indexed by the seller they belong to."""

import secrets

from redis import Redis

from shopshot.errors import InputExpired

PREFIX = "shopshot:blob:"
OWNED_KEY = "shopshot:blobs-of:"


class BlobStore:
    """Put and get image bytes in Redis.

    Keys are random, not content hashes: anyone holding a photo could compute its hash, and with it
    the key of the stored copy. The per-seller index is what `/forget` deletes by.
    """

    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    def put(self, data: bytes, owner: int | None = None) -> str:
        """Store bytes (for a seller, when `owner` is given) and return their new key."""
        key = PREFIX + secrets.token_urlsafe(24)
        pipe = self.redis.pipeline(transaction=True).set(key, data, ex=self.ttl_s)
        if owner is not None:
            pipe.sadd(OWNED_KEY + str(owner), key).expire(OWNED_KEY + str(owner), self.ttl_s)
        pipe.execute()
        return key

    def put_beside(self, key: str, name: str, data: bytes, owner: int) -> None:
        """Store bytes made from the image at `key` (its gallery pages) for the same seller, about as long as it."""
        beside = f"{key}:{name}"
        pipe = self.redis.pipeline(transaction=True).set(beside, data, ex=self.ttl_s)
        pipe.sadd(OWNED_KEY + str(owner), beside).expire(OWNED_KEY + str(owner), self.ttl_s).execute()

    def get_beside(self, key: str, name: str) -> bytes:
        """Return bytes stored beside an image, or raise InputExpired."""
        return self.get(f"{key}:{name}")

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

    def forget(self, owner: int) -> int:
        """Delete every image stored for a seller; return how many were still there."""
        index = OWNED_KEY + str(owner)
        keys = [key.decode() for key in self.redis.smembers(index)]
        deleted = self.redis.delete(*keys) if keys else 0
        self.redis.delete(index)
        return deleted
