"""One suite for both blob back ends: keys, expiry, /forget, the quota and the upload rate work alike."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shopshot.errors import InputExpired, StorageFull, TooManyUploads
from shopshot.queue.store import BlobStore, blob_name, open_store
from shopshot.storage import BlobMissing
from shopshot.storage.local import LocalBlobs

SELLER, OTHER = 41, 42
PHOTO = bytes(range(256)) * 400  # 100 KiB: bytes, not an image; the store never looks inside


def _store(redis, settings, **storage) -> BlobStore:
    changed = settings.model_copy(update={"storage": settings.storage.model_copy(update=storage)})
    return open_store(redis, changed)


def stored_in_back_end(store: BlobStore) -> dict[str, int]:
    """Every blob the back end holds, by name, with its size, listed from the back end itself."""
    blobs = store.blobs
    if isinstance(blobs, LocalBlobs):
        return (
            {path.name: path.stat().st_size for path in blobs.root.rglob("*") if path.is_file()}
            if blobs.root.exists()
            else {}
        )
    pages = blobs.client.get_paginator("list_objects_v2").paginate(Bucket=blobs.bucket, Prefix=blobs.prefix)
    return {item["Key"][len(blobs.prefix) :]: item["Size"] for page in pages for item in page.get("Contents", [])}


def test_keys_are_unguessable_and_the_bytes_come_back(redis, storage_settings):
    store = open_store(redis, storage_settings)
    key = store.put(PHOTO, SELLER)
    assert store.put(PHOTO, SELLER) != key and store.get(key) == PHOTO and store.size(key) == len(PHOTO)
    assert 0 < redis.ttl(key) <= storage_settings.queue.image_ttl_s
    store.delete([key])
    with pytest.raises(InputExpired):
        store.get(key)
    with pytest.raises(InputExpired):
        store.get("someone-elses-key")
    assert store.size(key) is None and len(stored_in_back_end(store)) == 1


def test_no_image_bytes_live_in_redis(redis, storage_settings):
    store = open_store(redis, storage_settings)
    key = store.put_upload(PHOTO, SELLER)
    store.put_beside(key, "gallery-0", PHOTO, SELLER)
    store.put(PHOTO)
    biggest = max(redis.memory_usage(name) for name in redis.scan_iter())
    assert biggest < 1024, f"a Redis key holds {biggest} bytes"
    assert sorted(stored_in_back_end(store).values()) == [len(PHOTO)] * 3


def test_an_expired_blob_is_gone_at_once_and_its_bytes_at_the_next_sweep(redis, storage_settings):
    store = open_store(
        redis,
        storage_settings.model_copy(update={"queue": storage_settings.queue.model_copy(update={"image_ttl_s": 1})}),
    )
    key = store.put(PHOTO, SELLER)
    lasting = _store(redis, storage_settings).put(PHOTO, SELLER)
    time.sleep(2.1)
    with pytest.raises(InputExpired):
        store.get(key)
    assert store.sweep(force=True) == 1
    with pytest.raises(BlobMissing):
        store.blobs.read(blob_name(key))
    assert store.get(lasting) == PHOTO and len(stored_in_back_end(store)) == 1
    assert redis.smembers(f"shopshot:blobs-of:{SELLER}") == {lasting.encode()}


def test_a_sweep_runs_once_per_interval_fleet_wide(redis, storage_settings):
    store = _store(redis, storage_settings, sweep_s=60)
    store.put(PHOTO)  # its write swept (nothing yet) and took the interval
    assert redis.ttl("shopshot:blob-sweep") > 0 and store.sweep() == 0


def test_forget_deletes_every_blob_of_the_seller_and_no_other(redis, storage_settings):
    store = open_store(redis, storage_settings)
    photo = store.put_upload(PHOTO, SELLER)
    store.put_beside(photo, "gallery-0", PHOTO, SELLER)
    results = [store.put(PHOTO, SELLER) for _ in range(2)]
    theirs = store.put_upload(PHOTO, OTHER)
    assert store.forget(SELLER) == 4
    for key in (photo, *results):
        with pytest.raises(InputExpired):
            store.get(key)
    assert store.get(theirs) == PHOTO and len(stored_in_back_end(store)) == 1
    assert store.stored_bytes(SELLER) == 0 and not redis.exists(f"shopshot:blobs-of:{SELLER}")


def test_one_sellers_uploads_cannot_grow_storage_past_the_quota(redis, storage_settings):
    store = _store(redis, storage_settings, quota_mb=1, uploads_per_minute=1000)
    quota = 2**20
    taken = refused = 0
    # Eight at a time: the check and the record are one step, so a burst cannot slip past it either.
    with ThreadPoolExecutor(8) as pool:
        for outcome in pool.map(lambda _: _try(store.put_upload, PHOTO, SELLER), range(40)):
            taken, refused = taken + (outcome is None), refused + isinstance(outcome, StorageFull)
    assert taken == quota // len(PHOTO) and refused == 40 - taken
    assert store.stored_bytes(SELLER) <= quota and sum(stored_in_back_end(store).values()) <= quota
    assert store.put_upload(PHOTO, OTHER)  # the quota is each seller's own
    error = _try(store.put_upload, PHOTO, SELLER)
    assert isinstance(error, StorageFull) and error.params == {"mb": 1}
    store.forget(SELLER)
    assert store.put_upload(PHOTO, SELLER)


def test_an_expired_upload_gives_its_room_back(redis, storage_settings):
    short = storage_settings.model_copy(update={"queue": storage_settings.queue.model_copy(update={"image_ttl_s": 1})})
    store = _store(redis, short, quota_mb=1, uploads_per_minute=1000)
    for _ in range(2**20 // len(PHOTO)):
        store.put_upload(PHOTO, SELLER)
    assert isinstance(_try(store.put_upload, PHOTO, SELLER), StorageFull)
    time.sleep(2.1)
    assert store.put_upload(PHOTO, SELLER) and store.stored_bytes(SELLER) == len(PHOTO)


def test_uploads_a_minute_are_limited_per_seller(redis, storage_settings):
    store = _store(redis, storage_settings, uploads_per_minute=3)
    for _ in range(3):
        store.put_upload(PHOTO, SELLER)
    error = _try(store.put_upload, PHOTO, SELLER)
    assert isinstance(error, TooManyUploads) and error.params["count"] == 3 and 1 <= error.params["seconds"] <= 60
    assert store.put_upload(PHOTO, OTHER) and store.put(PHOTO, SELLER)  # another seller; a worker's result is no upload
    assert len(stored_in_back_end(store)) == 5


def test_a_replaced_photo_goes_with_its_pages_unless_a_job_uses_it(redis, storage_settings):
    store = open_store(redis, storage_settings)
    first = store.put_upload(PHOTO, SELLER)
    store.put_beside(first, "gallery-0", PHOTO, SELLER)
    assert store.replace(first)
    with pytest.raises(InputExpired):
        store.get_beside(first, "gallery-0")
    used = store.put_upload(PHOTO, SELLER)
    assert store.keep(used) and not store.replace(used) and store.get(used) == PHOTO
    assert len(stored_in_back_end(store)) == 1 and not store.keep(first)  # gone: not brought back


def test_kept_and_shortened_lives(redis, storage_settings):
    store = open_store(redis, storage_settings)
    photo, result, other = (store.put(PHOTO, SELLER) for _ in range(3))
    redis.expire(photo, 5)
    assert store.keep(photo) and redis.ttl(photo) > 5
    store.expire([result], 1)
    store.expire([other], 0)
    assert 0 < redis.ttl(result) <= 1 and store.size(other) is None
    time.sleep(2.1)
    assert store.sweep(force=True) == 1 and len(stored_in_back_end(store)) == 1


def _try(call, *args):
    try:
        call(*args)
    except (StorageFull, TooManyUploads) as error:
        return error
    return None
