"""A whole job on each back end: the real bot and a real worker process share the photo and the results through it."""

from shopshot.launcher import worker_process
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, play_conversation
from shopshot.queue.store import open_store
from tests.conftest import BotRunner
from tests.storage.test_blobs import stored_in_back_end

SELLER = 751


async def test_a_job_runs_through_either_back_end_and_redis_holds_no_image(
    storage_settings, redis, redis_url, stand_in, tmp_path
):
    runner = BotRunner(storage_settings, redis_url, stand_in)
    runner.start()
    try:
        with worker_process(redis_url, tmp_path / "worker.log"):  # reads STORAGE__* from the environment, as deployed
            transcript = await play_conversation(
                stand_in, SELLER, sample_photo(), tmp_path / "out", Choices(preset="white", ratio="1:1", variants=1)
            )
    finally:
        await runner.stop()
    assert len(transcript.images) == 1 and len(transcript.files) == 1
    # Keys and metadata only: the largest is an RQ job or the stream's entry, not a photo.
    biggest = max((redis.memory_usage(name), name) for name in redis.scan_iter())
    assert biggest[0] < 16 * 1024 < len(sample_photo()), biggest
    store = open_store(redis, storage_settings)
    # Left: the seller's photo (for "Another backdrop") and its gallery pages; the results went once delivered.
    owned = {key.decode() for key in redis.smembers(f"shopshot:blobs-of:{SELLER}")}
    assert len(stored_in_back_end(store)) == len(owned) and all(store.stored(key) for key in owned)
    assert sum(key.count(":") == 2 for key in owned) == 1
