"""The GPU tasks through the real bot, the queue and a real diffusion worker process (tiny models, CPU)."""

import asyncio
import io

import numpy as np
import pytest
from PIL import Image
from redis import Redis

from fixtures.diffusion.architectures import CLOTHES_LABELS
from fixtures.synthetic import synthetic_person
from shopshot.bot.callbacks import BackdropPicked, ModelPicked, Step, TaskPicked
from shopshot.config import Settings
from shopshot.launcher import worker_process
from shopshot.pipeline.diffusion.backend import DiffusionBackend
from shopshot.pipeline.gallery import sample_photo
from shopshot.pipeline.intake import load_image, stored_copy
from shopshot.pipeline.people import MODEL_PRESETS
from shopshot.pipeline.studio import RenderRequest
from shopshot.playground.scripted import buttons, newer_than, with_button
from shopshot.queue.enqueue import JobQueue
from tests.pipeline.conftest import assert_product_kept

USER = 801


@pytest.fixture
async def gpu_worker(model_cache, redis_url, settings, monkeypatch, tmp_path):
    """A `shopshot worker` with BACKEND=diffusion on the tiny models, registered before the test starts."""
    # The detail pass off, as the session's tiny backend runs it (it has its own tests, in test_detail.py); the face
    # pass on, as by default, so the person tasks run it through the worker (the session's backend leaves it off).
    environment = {
        "BACKEND": "diffusion",
        "DIFFUSION__CACHE_DIR": str(model_cache),
        "DIFFUSION__DEVICE": "cpu",
        "DIFFUSION__DTYPE": "float32",
        "DIFFUSION__DETAIL": "false",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    jobs = JobQueue(Redis.from_url(redis_url), settings.queue)
    with worker_process(redis_url, tmp_path / "gpu-worker.log") as process:
        for _ in range(600):
            if jobs.gpu_available():
                break
            await asyncio.sleep(0.1)
        assert jobs.gpu_available(), (tmp_path / "gpu-worker.log").read_text()
        yield process


async def _choose_task(api, task: str, photo: bytes) -> None:
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    await api.send_document(USER, photo, "photo.png", mime_type="image/png")
    tasks = await api.wait_for(USER, with_button("tk:"))
    assert {b["callback_data"] for b in buttons(tasks)} >= {
        TaskPicked(task=t).pack() for t in ("backdrop", "model", "mannequin")
    }
    await api.press(USER, tasks["message_id"], data=TaskPicked(task=task).pack())


async def _confirm_and_wait(api) -> dict:
    summary = await api.wait_for(USER, with_button(Step(action="confirm").pack()))
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    await api.wait_for(USER, with_button("rs:"), timeout=180)
    return summary


async def test_a_diffusion_backdrop_with_a_written_detail(gpu_worker, bot, api, diffusion_settings):
    await _choose_task(api, "backdrop", sample_photo())
    gallery = await api.wait_for(USER, with_button("bd:"))
    await api.press(USER, gallery["message_id"], data=BackdropPicked(key="studio").pack())
    options = await api.wait_for(USER, with_button(Step(action="detail").pack()))
    await api.press(USER, options["message_id"], data=Step(action="detail").pack())
    await api.wait_for(USER, lambda ms: ms if "Write one short line" in (ms[-1]["text"] or "") else None)
    await api.send_text(USER, "on a  marble table")
    options = await api.wait_for(
        USER,
        lambda ms: ms[-1] if ms[-1]["message_id"] != options["message_id"] and with_button("op:")(ms[-1:]) else None,
    )
    await api.press(USER, options["message_id"], data=Step(action="continue").pack())
    summary = await _confirm_and_wait(api)
    assert summary["text"].startswith("✏️ on a marble table\nReady to make:")
    final = (await api.messages(USER))[-1]
    assert "Here are your 2 images." in final["text"]
    await _assert_delivered_file_is_the_backends_with_the_product_intact(api, diffusion_settings)


async def _assert_delivered_file_is_the_backends_with_the_product_intact(api, diffusion_settings) -> None:
    document = next(m for m in await api.messages(USER) if m["kind"] == "document")
    delivered = np.asarray(Image.open(io.BytesIO(await api.download(document["file_id"]))).convert("RGB"))
    seed = int(document["caption"].removeprefix("Seed: "))
    image = load_image(
        stored_copy(sample_photo(), Settings().limits), Settings().limits
    )  # the copy the bot stored of the file
    backend = DiffusionBackend(diffusion_settings.model_copy(update={"mode": "fast"}))
    backend.setup()
    request = RenderRequest(
        image=image, preset="studio", ratio="1:1", variants=1, seed=seed, prompt_extra="on a marble table"
    )
    [local] = backend.run(request)
    assert np.array_equal(delivered, np.asarray(local.image))  # same inputs and seed, same image
    assert_product_kept(local, image)


@pytest.mark.parametrize("task", ["model", "mannequin"])
async def test_the_model_tasks_run_on_the_gpu_worker(gpu_worker, bot, api, task):
    person, _ = synthetic_person(CLOTHES_LABELS, size=(300, 500))
    buffer = io.BytesIO()
    person.save(buffer, "PNG")
    await _choose_task(api, task, buffer.getvalue())
    models = await api.wait_for(USER, with_button("md:"))
    assert models["caption"] == "Choose a model by their number:"
    await api.press(USER, models["message_id"], data=ModelPicked(key=MODEL_PRESETS[0].key).pack())
    gallery = await api.wait_for(USER, with_button("bd:"))
    await api.press(USER, gallery["message_id"], data=BackdropPicked(key="white").pack())
    options = await api.wait_for(USER, with_button("op:"))
    assert not any(b["callback_data"].startswith("op:ratio") for b in buttons(options))  # the photo's frame is kept
    await api.press(USER, options["message_id"], data=Step(action="continue").pack())
    summary = await _confirm_and_wait(api)
    assert "• Model: Amara, 20s" in summary["text"]
    files = [m for m in await api.messages(USER) if m["kind"] == "document"]
    assert len(files) == 2
