"""Images by random key: the bytes in a blob back end (files or a bucket), their metadata in Redis.

Redis keeps, per blob, a small hash under the blob's key (its size, its owner, whether it is a seller's
upload and whether a job uses it)
that expires with the blob, the per-seller index `/forget` deletes by, and one sorted set of expiry
times the sweep reads to delete the bytes of expired blobs from the back end. The image bytes never
enter Redis, whichever back end holds them.
"""

import secrets
from pathlib import Path
from typing import cast

from redis import Redis

from shopshot.config import Settings, StorageSettings
from shopshot.errors import InputExpired, StorageFull, TooManyUploads
from shopshot.storage import BlobMissing, Blobs, open_blobs

# redis-py types each command once for its sync and asyncio clients (`Awaitable[T] | T`), and as text where a
# client without decode_responses, as every one here, answers bytes: the casts name what the sync client returns.

PREFIX = "shopshot:blob:"
OWNED_KEY = "shopshot:blobs-of:"
EXPIRY_KEY = "shopshot:blob-expiry"  # members "<owner>|<key>", scored by when the blob expires (Redis time)
UPLOADS_KEY = "shopshot:uploads-of:"  # a seller's uploads of the last minute, scored by when they came
SWEEP_KEY = "shopshot:blob-sweep"
UPLOAD_WINDOW_S = 60
SWEEP_BATCH = 500

# Reserve room for one blob, atomically with the seller's quota and upload rate (each checked when its
# ARGV is above 0, for an upload): a burst of uploads, on one replica or several, cannot slip past
# either. The quota counts the seller's uploads: their gallery pages and results are bounded by the
# photos and the job limits, and results leave at delivery. Answers {"ok"}, {"quota", bytes stored}
# or {"rate", uploads this minute, seconds until one more fits}.
RESERVE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1e6
local size, ttl, quota, rate, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if quota > 0 then
  local stored = 0
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    local size, upload = unpack(redis.call('HMGET', key, 'size', 'upload'))
    if upload == '1' then stored = stored + tonumber(size) end
  end
  if stored + size > quota then
    return {'quota', stored}
  end
end
if rate > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
  local recent = redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES')
  if #recent / 2 >= rate then
    return {'rate', #recent / 2, math.ceil(tonumber(recent[(#recent / 2 - rate) * 2 + 2]) + window - now)}
  end
  redis.call('ZADD', KEYS[4], now, KEYS[1])
  redis.call('EXPIRE', KEYS[4], window)
end
redis.call('HSET', KEYS[1], 'size', size, 'owner', ARGV[3], 'upload', ARGV[7])
redis.call('EXPIRE', KEYS[1], ttl)
if ARGV[3] ~= '' then
  redis.call('SADD', KEYS[2], KEYS[1])
  if redis.call('TTL', KEYS[2]) < ttl then redis.call('EXPIRE', KEYS[2], ttl) end
end
redis.call('ZADD', KEYS[3], now + ttl, ARGV[3] .. '|' .. KEYS[1])
return {'ok'}
"""

# Give a stored blob a new time to live (and mark it used by a job when ARGV[2] is 1); nothing for one
# already expired, which must not come back as metadata without bytes. Answers 1 when renewed.
RENEW = """
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then return 0 end
local now = redis.call('TIME')
local ttl = tonumber(ARGV[1])
redis.call('EXPIRE', KEYS[1], ttl)
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'used', 1) end
redis.call('ZADD', KEYS[2], tonumber(now[1]) + ttl, owner .. '|' .. KEYS[1])
if owner ~= '' and redis.call('TTL', KEYS[3] .. owner) < ttl then redis.call('EXPIRE', KEYS[3] .. owner, ttl) end
return 1
"""


class BlobStore:
    """Put and get image bytes; expire, quota and forget them by the metadata Redis keeps.

    Keys are random, not content hashes: anyone holding a photo could compute its hash, and with it
    the key of the stored copy. The per-seller index is what `/forget` deletes by.
    """

    def __init__(self, redis: Redis, blobs: Blobs, ttl_s: int, settings: StorageSettings | None = None) -> None:
        self.redis = redis
        self.blobs = blobs
        self.ttl_s = ttl_s
        self.settings = settings or StorageSettings()
        self._reserve = redis.register_script(RESERVE)
        self._renew = redis.register_script(RENEW)

    def put(self, data: bytes, owner: int | None = None) -> str:
        """Store bytes (for a seller, when `owner` is given) and return their new key."""
        key = PREFIX + secrets.token_urlsafe(24)
        self._store(key, data, owner)
        return key

    def put_upload(self, data: bytes, owner: int) -> str:
        """Store a seller's photo within their quota and upload rate (raises StorageFull or TooManyUploads); return its key."""
        key = PREFIX + secrets.token_urlsafe(24)
        self._store(key, data, owner, limited=True)
        return key

    def put_beside(self, key: str, name: str, data: bytes, owner: int) -> None:
        """Store bytes made from the image at `key` (its gallery pages) for the same seller, about as long as it."""
        self._store(f"{key}:{name}", data, owner)

    def get_beside(self, key: str, name: str) -> bytes:
        """Return bytes stored beside an image, or raise InputExpired."""
        return self.get(f"{key}:{name}")

    def get(self, key: str) -> bytes:
        """Return stored bytes, or raise InputExpired when the TTL has passed."""
        if not key.startswith(PREFIX) or self.redis.hget(key, "size") is None:
            raise InputExpired()
        try:
            return self.blobs.read(blob_name(key))
        except BlobMissing:
            raise InputExpired() from None

    def size(self, key: str) -> int | None:
        """The stored size of a blob in bytes; None once it is gone."""
        size = cast(bytes | None, self.redis.hget(key, "size")) if key.startswith(PREFIX) else None
        return None if size is None else int(size)

    def stored(self, key: str) -> bool:
        """True while the blob at `key` is stored."""
        return self.size(key) is not None

    def keep(self, key: str) -> bool:
        """A job uses this photo: it stays its full time from now, and a new upload no longer replaces it; False once it is gone."""
        return bool(self._renew(keys=[key, EXPIRY_KEY, OWNED_KEY], args=[self.ttl_s, 1]))

    def expire(self, keys: list[str], ttl_s: int) -> None:
        """Shorten (or lengthen) the life of stored blobs; 0 deletes them now."""
        if ttl_s == 0:
            self.delete(keys)
            return
        for key in keys:
            self._renew(keys=[key, EXPIRY_KEY, OWNED_KEY], args=[ttl_s, 0])

    def replace(self, key: str) -> bool:
        """Drop a seller's photo that a new upload replaced, with what was made from it, unless a job uses it; True if dropped."""
        used, owner = cast(list[bytes | None], self.redis.hmget(key, ["used", "owner"]))
        if used is not None or owner is None:
            return False
        beside = [member.decode() for member in self.redis.sscan_iter(OWNED_KEY + owner.decode(), match=f"{key}:*")]
        self.delete([key, *beside])
        return True

    def delete(self, keys: list[str]) -> None:
        """Forget stored bytes."""
        keys = [key for key in keys if key.startswith(PREFIX)]
        if not keys:
            return
        owners = [owner.decode() if owner else "" for owner in self._owners(keys)]
        self._drop(list(zip(owners, keys)))

    def forget(self, owner: int) -> int:
        """Delete every image stored for a seller; return how many were still there."""
        index = OWNED_KEY + str(owner)
        keys = [key.decode() for key in cast(set[bytes], self.redis.smembers(index))]
        alive = sum(found is not None for found in self._owners(keys))
        self._drop([(str(owner), key) for key in keys])
        # The minute's uploads stay, as the minute's job starts do: a /forget must not reset the rate.
        self.redis.delete(index)
        return alive

    def stored_bytes(self, owner: int) -> int:
        """What a seller's uploads take now, as the quota counts them."""
        keys = [key.decode() for key in cast(set[bytes], self.redis.smembers(OWNED_KEY + str(owner)))]
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(key, ["size", "upload"])
        return sum(int(size) for size, upload in pipe.execute() if upload == b"1")

    def sweep(self, force: bool = False) -> int:
        """Delete the bytes of expired blobs, at most once per `sweep_s` fleet-wide unless forced; return how many."""
        if not force and not self.redis.set(SWEEP_KEY, 1, nx=True, ex=self.settings.sweep_s):
            return 0
        seconds, micros = cast(tuple[int, int], self.redis.time())
        swept = 0
        while members := cast(
            list[bytes], self.redis.zrangebyscore(EXPIRY_KEY, "-inf", seconds + micros / 1e6, start=0, num=SWEEP_BATCH)
        ):
            entries = [(owner, key) for owner, key in (member.decode().split("|", 1) for member in members)]
            # Still there: renewed after that score was read, or its TTL ends a moment after the score; left for later.
            gone = [entry for entry, owner in zip(entries, self._owners([key for _, key in entries])) if owner is None]
            self._drop(gone)
            swept += len(gone)
            if len(members) < SWEEP_BATCH or not gone:
                break
        return swept

    def _store(self, key: str, data: bytes, owner: int | None, limited: bool = False) -> None:
        settings = self.settings
        quota, rate = (settings.quota_mb * 2**20, settings.uploads_per_minute) if limited else (0, 0)
        index = OWNED_KEY + ("" if owner is None else str(owner))
        uploads = UPLOADS_KEY + ("" if owner is None else str(owner))
        answer = self._reserve(
            keys=[key, index, EXPIRY_KEY, uploads],
            args=[len(data), self.ttl_s, "" if owner is None else owner, quota, rate, UPLOAD_WINDOW_S, int(limited)],
        )
        if answer[0] == b"quota":
            raise StorageFull(mb=settings.quota_mb)
        if answer[0] == b"rate":
            raise TooManyUploads(count=int(answer[1]), seconds=max(1, int(answer[2])))
        try:
            self.blobs.write(blob_name(key), data)
        except BaseException:
            self._drop([("" if owner is None else str(owner), key)])
            raise
        # Every write offers to sweep (one SET NX, mostly refused): storage holds no more than what was
        # written within a TTL and a sweep interval, busy or quiet.
        self.sweep()

    def _owners(self, keys: list[str]) -> list[bytes | None]:
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hget(key, "owner")
        owners: list[bytes | None] = pipe.execute()
        return owners

    def _drop(self, entries: list[tuple[str, str]]) -> None:
        """Delete blobs' metadata, index entries and bytes, given as (owner, key)."""
        if not entries:
            return
        pipe = self.redis.pipeline(transaction=False)
        for owner, key in entries:
            pipe.delete(key)
            pipe.zrem(EXPIRY_KEY, f"{owner}|{key}")
            if owner:
                pipe.srem(OWNED_KEY + owner, key)
        pipe.execute()
        self.blobs.delete([blob_name(key) for _, key in entries])


def open_store(redis: Redis, settings: Settings) -> BlobStore:
    """The blob store the settings configure, on this Redis."""
    return BlobStore(
        redis, open_blobs(settings.storage, Path(settings.data_dir)), settings.queue.image_ttl_s, settings.storage
    )


def blob_name(key: str) -> str:
    """The back end's name for a key: its random part, and the name of what was made from it after a dot."""
    return key[len(PREFIX) :].replace(":", ".")
