"""The FLUX.2 [klein] 4B stack on tiny random models from a Hugging Face cache, and its full size on the meta device."""

import asyncio
import io
import shutil

import numpy as np
import pytest
import torch
from diffusers import Flux2KleinInpaintPipeline
from PIL import Image
from redis import Redis

from fixtures.diffusion import architectures as arch
from fixtures.diffusion import klein_architecture as ka
from fixtures.synthetic import synthetic_person
from shopshot.bot.callbacks import BackdropPicked, ModelPicked, Step, TaskPicked
from shopshot.config import Settings
from shopshot.errors import ModelsMissing
from shopshot.launcher import worker_process
from shopshot.pipeline.diffusion.backdrop import plan_backdrop
from shopshot.pipeline.diffusion.backend import DiffusionBackend
from shopshot.pipeline.diffusion.fashion import GARMENT, plan_person
from shopshot.pipeline.diffusion.klein import (
    generate_klein,
    klein_frame,
    klein_inputs,
    klein_size,
    klein_sizes,
    load_klein,
    reference_crop,
)
from shopshot.pipeline.diffusion.modes import KLEIN_MODES
from shopshot.pipeline.diffusion.pull import pull_models
from shopshot.pipeline.diffusion.registry import CLOTHES, KLEIN, SAFETY, load_registry
from shopshot.pipeline.gallery import sample_photo
from shopshot.pipeline.intake import load_image, stored_copy
from shopshot.pipeline.layout import RATIOS
from shopshot.pipeline.people import MODEL_PRESETS
from shopshot.pipeline.studio import RenderRequest, StudioBackend
from shopshot.playground.scripted import newer_than, with_button
from shopshot.queue.enqueue import JobQueue
from tests.diffusion.conftest import LABEL, klein_settings
from tests.diffusion.hub_stub import HubStub
from tests.diffusion.test_fashion import DrawnParser
from tests.pipeline.conftest import assert_product_kept

SEED = 7


async def test_pull_takes_what_the_loader_needs_and_leaves_the_single_file_checkpoint(
    tiny_klein, matte_repos, tmp_path
):
    """`models pull` on the klein stack fetches klein, the clothes parser, the safety classifier and the neural
    matte only, and the loader runs on what it fetched."""
    specs = {spec.key: spec for spec in load_registry()}
    shadow = {specs[key].repo_id: tmp_path / "hub" / key for key in (KLEIN, CLOTHES, SAFETY)}
    for key in (KLEIN, CLOTHES, SAFETY):
        shutil.copytree(tiny_klein[0].parent / key, shadow[specs[key].repo_id])
    (shadow[specs[KLEIN].repo_id] / "flux-2-klein-4b.safetensors").write_bytes(b"the same transformer, for other tools")
    for repo_id, folder in matte_repos.items():
        shutil.copytree(folder, tmp_path / "hub" / repo_id)
        shadow[repo_id] = tmp_path / "hub" / repo_id
    stub = HubStub(shadow)
    url = await stub.start()
    try:
        settings = Settings(_env_file=None, diffusion=klein_settings(tmp_path / "cache"))
        folders = await asyncio.to_thread(pull_models, settings, url, lambda line: None)
    finally:
        await stub.stop()
    assert len(folders) == 5 and not any((folder / "flux-2-klein-4b.safetensors").exists() for folder in folders)
    models = await asyncio.to_thread(load_klein, settings.diffusion)
    assert isinstance(models.pipe, Flux2KleinInpaintPipeline)


@pytest.fixture(scope="module")
def klein_backend(tiny_klein, klein_models) -> DiffusionBackend:
    """The real backend on the klein stack, loaded through the production loader, with the production modes."""
    ready = DiffusionBackend(klein_settings(tiny_klein[1]))
    ready.models = klein_models
    return ready


def _request(image, **changes) -> RenderRequest:
    return RenderRequest(image, **({"preset": "podium", "ratio": "4:5", "variants": 1, "seed": 5} | changes))


def _no_progress(fraction: float) -> None:
    """Progress is not what these checks look at."""


def test_the_loader_builds_the_inpainting_pipeline_from_the_cache(klein_backend):
    models = klein_backend.models
    assert isinstance(models.pipe, Flux2KleinInpaintPipeline) and models.pipe.config.is_distilled
    assert (models.native, models.align) == (64, 4)  # the tiny VAE's sample size; factor 2 × 2×2 patches
    assert models.safety is not None and models.pipe.transformer.dtype == torch.float32
    assert models.clothes.model.dtype == torch.float32


def test_bfloat16_reaches_every_module_and_the_backdrop_still_keeps_the_product(tiny_klein, product):
    backend = DiffusionBackend(klein_settings(tiny_klein[1], dtype="bfloat16"))
    backend.setup()
    pipe = backend.models.pipe
    assert {module.dtype for module in (pipe.transformer, pipe.text_encoder, pipe.vae)} == {torch.bfloat16}
    [result] = backend.run(_request(product, preset="white"))
    assert_product_kept(result, product)


@pytest.fixture
def drawn(klein_backend, person, monkeypatch):
    """The drawn figure, with the clothes parser answering its drawn labels (the tiny SegFormer's are noise)."""
    image, label_map = person
    monkeypatch.setattr(klein_backend.models, "clothes", DrawnParser(klein_backend.models.clothes, label_map))
    return image, label_map


def _person(image, task: str) -> RenderRequest:
    return RenderRequest(image, preset="studio", ratio="3:4", variants=1, seed=4, task=task, model="amara")


@pytest.mark.parametrize("task", ["backdrop", "model", "mannequin"])
def test_oracle_the_task_call_is_diffusers_own_call(klein_backend, tiny_klein, product, drawn, task):
    """Same pixels as diffusers' pipeline loaded and called as its docs do, on the same repository, with klein's recipe."""
    models = klein_backend.models
    plan = (
        plan_backdrop(_request(product), models) if task == "backdrop" else plan_person(_person(drawn[0], task), models)
    )
    inputs, _ = klein_inputs(plan, models)
    ours = generate_klein(models.pipe, inputs, KLEIN_MODES["fast"], SEED, _no_progress)
    reference = Flux2KleinInpaintPipeline.from_pretrained(tiny_klein[0], dtype=torch.float32)
    reference.set_progress_bar_config(disable=True)
    call = {
        "prompt": inputs.prompt,
        "image": inputs.image,
        "mask_image": inputs.mask_image,
        "strength": 1.0,
        "num_inference_steps": 4,
        "guidance_scale": 1.0,
        "output_type": "np",
    }
    direct = reference(**call, image_reference=inputs.reference, generator=torch.Generator("cpu").manual_seed(SEED))
    assert ours.shape == (*inputs.image.size[::-1], 3)
    assert np.array_equal(ours, (direct.images[0] * 255).astype(np.float32))
    unreferenced = reference(**call, generator=torch.Generator("cpu").manual_seed(SEED))
    assert not np.array_equal(ours, (unreferenced.images[0] * 255).astype(np.float32))  # the product reference counts


def test_backdrop_end_to_end_keeps_the_product_exactly(klein_backend, product):
    """Podium asks for depth guidance, which is SDXL's ControlNet: klein runs it without (white runs in the bf16 test)."""
    seen = []
    [result] = klein_backend.run(_request(product), progress=seen.append)
    [studio] = StudioBackend().run(_request(product))
    assert result.image.size == studio.image.size and result.offset == studio.offset  # the studio's layout
    # klein's 4 distilled steps, then the detail pass's four tiles (the canvas is larger than the generation).
    assert seen == pytest.approx([0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0])
    assert result.scale > 1
    assert_product_kept(result, product)
    corner = np.asarray(result.image)[:8, :8].astype(int)
    assert np.abs(corner - np.asarray(studio.image)[:8, :8]).mean() > 3  # the scene is the model's


@pytest.mark.parametrize("task", ["model", "mannequin"])
def test_person_tasks_keep_the_garment_exactly_and_paint_a_new_face(klein_backend, drawn, task):
    image, label_map = drawn
    [result] = klein_backend.run(_person(image, task))
    output, source = np.asarray(result.image), np.asarray(image)
    protect = np.asarray(result.protect) == 255
    garment = np.isin(label_map, [LABEL[name] for name in GARMENT])
    assert result.image.size == image.size and protect.sum() > 0.5 * garment.sum() and not (protect & ~garment).any()
    assert np.array_equal(output[protect], source[protect])
    face = label_map == LABEL["Face"]
    assert np.abs(output[face].astype(int) - source[face]).mean() > 3


def test_the_reference_is_the_garment_not_the_old_person(klein_backend, drawn):
    """A model swap keeps most of the photo; its reference is only the garment's box, which leaves the old face out."""
    image, label_map = drawn
    models = klein_backend.models
    inputs, _ = klein_inputs(plan_person(_person(image, "model"), models), models)
    ys, _xs = np.nonzero(np.isin(label_map, [LABEL[name] for name in GARMENT]))
    scale = inputs.image.height / image.height
    assert inputs.reference.height <= (ys.max() - ys.min() + 1) * scale + 2 < inputs.image.height


def test_a_cache_without_klein_is_models_missing(tmp_path):
    with pytest.raises(ModelsMissing, match="FLUX.2-klein-4B"):
        load_klein(klein_settings(tmp_path), check_outputs=False)


def test_generation_sizes_stay_within_the_pipeline_megapixel():
    """At full size (1024, VAE 8 × 2×2 patches) no ratio's size is over 1024², where the pipeline would resize it;
    any photo's frame is one of the snapped set, so the warm-up and torch.compile's graphs cover every job."""
    for shape in RATIOS:
        width, height = klein_size((shape.width * 300, shape.height * 300), 1024, 16)
        assert width % 16 == height % 16 == 0 and 0.9 * 1024**2 < width * height <= 1024**2
    sizes = klein_sizes(1024, 16)
    assert all(width % 16 == height % 16 == 0 and 0.9 * 1024**2 < width * height <= 1024**2 for width, height in sizes)
    assert {klein_frame((width, 1000), 1024, 16) for width in range(300, 3000, 7)} == sizes


def test_a_thin_product_still_gets_a_reference_of_one_latent_patch():
    kept = np.zeros((104, 80), bool)
    kept[10:90, 79] = True  # one pixel wide, on the right edge
    columns = np.broadcast_to(np.arange(40, dtype=np.uint8)[None, :, None], (52, 40, 3))
    canvas = Image.fromarray(np.ascontiguousarray(columns))
    crop = np.asarray(reference_crop(canvas, kept, 16))
    assert crop.shape[1] == 16 and crop.shape[0] >= 16
    assert list(crop[0, :, 0]) == list(range(24, 40))  # widened inwards: the canvas's last 16 columns, no padding
    assert reference_crop(canvas, np.zeros_like(kept), 16).size == canvas.size  # nothing kept: the whole canvas


def test_full_size_klein_on_the_meta_device_matches_the_published_sizes():
    """Parameter counts of the vendored configs; bf16 bytes against the repository's published file sizes."""
    with torch.device("meta"):
        counts = {
            name: sum(p.numel() for p in build(ka.FULL).parameters())
            for name, build in (("transformer", ka.transformer), ("text", ka.text_encoder), ("vae", ka.vae))
        }
    # "4B": the single-file transformer flux-2-klein-4b.safetensors is 7.75 GB in bf16.
    assert counts["transformer"] == 3_875_544_576 and round(2 * counts["transformer"] / 1e9, 2) == 7.75
    # Qwen3-4B: "4.0B, 3.6B non-embedding" on its card; text_encoder/ holds two bf16 shards of 4.97 + 3.08 GB.
    assert counts["text"] == 4_022_468_096 and round(2 * counts["text"] / 1e9, 2) == 8.04
    assert 80e6 < counts["vae"] < 90e6  # FLUX.2's VAE, 84 M


def test_full_size_klein_flops_per_step_at_1024():
    """One step at 1024² (64 × 64 latent tokens, 512 prompt tokens): close to 2 FLOPs per parameter per token (the
    double blocks' text weights see only the prompt's tokens, attention adds some)."""
    with torch.device("meta"):
        model = ka.transformer(ka.FULL)
    plain, referenced = ka.step_flops(model, 64 * 64), ka.step_flops(model, 2 * 64 * 64)
    tokens = 64 * 64 + 512
    assert 0.9 < plain / (2 * 3_875_544_576 * tokens) < 1.05  # 34.8 TFLOP
    assert (
        2.1 < referenced / plain < 2.3
    )  # a reference as large as the canvas: 76.7 TFLOP, attention grows quadratically


@pytest.fixture
async def klein_worker(tiny_klein, redis_url, settings, monkeypatch, tmp_path):
    """A `shopshot worker` with BACKEND=diffusion on the klein stack's tiny models, registered before the test starts."""
    env = {
        "BACKEND": "diffusion",
        "DIFFUSION__STACK": "klein",
        "DIFFUSION__CACHE_DIR": str(tiny_klein[1]),
        "DIFFUSION__DEVICE": "cpu",
        "DIFFUSION__DTYPE": "float32",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    jobs = JobQueue(Redis.from_url(redis_url), settings.queue)
    with worker_process(redis_url, tmp_path / "klein-worker.log") as process:
        for _ in range(600):
            if jobs.gpu_available():
                break
            await asyncio.sleep(0.1)
        assert jobs.gpu_available(), (tmp_path / "klein-worker.log").read_text()
        yield process


async def _start_task(api, user: int, task: str, photo: bytes) -> None:
    await api.send_text(user, "/start")
    await api.wait_for(user, newer_than(0))
    await api.send_document(user, photo, "photo.png", mime_type="image/png")
    tasks = await api.wait_for(user, with_button("tk:"))
    await api.press(user, tasks["message_id"], data=TaskPicked(task=task).pack())


async def _pick_and_confirm(api, user: int, backdrop_key: str) -> None:
    gallery = await api.wait_for(user, with_button("bd:"))
    await api.press(user, gallery["message_id"], data=BackdropPicked(key=backdrop_key).pack())
    options = await api.wait_for(user, with_button("op:"))
    await api.press(user, options["message_id"], data=Step(action="continue").pack())
    summary = await api.wait_for(user, with_button(Step(action="confirm").pack()))
    await api.press(user, summary["message_id"], data=Step(action="confirm").pack())


async def test_through_the_bot_klein_delivers_a_backdrop_and_a_model_swap(klein_worker, bot, api, tiny_klein):
    await _start_task(api, 811, "backdrop", sample_photo())
    await _pick_and_confirm(api, 811, "studio")
    await api.wait_for(811, with_button("rs:"), timeout=180)
    assert "Here are your 2 images." in (await api.messages(811))[-1]["text"]
    document = next(m for m in await api.messages(811) if m["kind"] == "document")
    delivered = np.asarray(Image.open(io.BytesIO(await api.download(document["file_id"]))).convert("RGB"))
    image = load_image(stored_copy(sample_photo(), Settings().limits), Settings().limits)  # the copy the bot stored
    local = DiffusionBackend(klein_settings(tiny_klein[1]))
    local.setup()
    seed = int(document["caption"].removeprefix("Seed: "))
    [result] = local.run(RenderRequest(image, preset="studio", ratio="1:1", variants=1, seed=seed))
    assert np.array_equal(delivered, np.asarray(result.image))  # the worker ran the klein stack, this seed
    assert_product_kept(result, image)

    person, _ = synthetic_person(arch.CLOTHES_LABELS, size=(300, 500))
    buffer = io.BytesIO()
    person.save(buffer, "PNG")
    await _start_task(api, 812, "model", buffer.getvalue())
    models = await api.wait_for(812, with_button("md:"))
    await api.press(812, models["message_id"], data=ModelPicked(key=MODEL_PRESETS[0].key).pack())
    await _pick_and_confirm(api, 812, "white")
    await api.wait_for(812, with_button("rs:"), timeout=180)
    assert len([m for m in await api.messages(812) if m["kind"] == "document"]) == 2
