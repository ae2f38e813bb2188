"""The output safety check and the NSFW negative prompt, on tiny random models (CPU)."""

import io

import numpy as np
import pytest
import torch
from aiogram.utils.i18n import I18n
from PIL import Image
from transformers import ViTForImageClassification, ViTImageProcessorPil

from fixtures.diffusion import architectures as arch
from shopshot.bot import texts
from shopshot.config import DiffusionSettings, PolicySettings
from shopshot.errors import JobFailed, UnsafeOutput
from shopshot.pipeline.diffusion import generation
from shopshot.pipeline.diffusion.backend import DiffusionBackend
from shopshot.pipeline.diffusion.loading import load_safety
from shopshot.pipeline.diffusion.prompts import NEGATIVE_NSFW, backdrop_prompts, estimate_tokens, person_prompts
from shopshot.pipeline.diffusion.registry import SAFETY, load_registry
from shopshot.pipeline.people import MODEL_PRESETS
from shopshot.pipeline.presets import BACKDROPS
from shopshot.pipeline.studio import RenderRequest
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.events import JobEvent
from shopshot.queue.jobs import WorkerContext
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import open_store
from shopshot.queue.worker import StudioWorker
from tests.diffusion.conftest import TEST_MODES, UNSAFE_BIAS, save_safety
from tests.hf_cache import write_cache
from tests.languages import DOMAIN, LANGUAGES

SPEC = next(spec for spec in load_registry() if spec.key == SAFETY)


def _images(product: Image.Image) -> list[Image.Image]:
    noise = np.random.default_rng(0).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    return [product, Image.fromarray(noise), Image.new("RGB", (40, 40), (250, 200, 180))]


@pytest.fixture(scope="module")
def spread_classifier(tmp_path_factory):
    """A tiny classifier whose head is scaled up, so its scores vary with the image; saved and laid out as a cache."""
    folder = tmp_path_factory.mktemp("spread") / "repo"
    arch.seeded(1)
    model = arch.safety_classifier(arch.TINY)
    with torch.no_grad():
        model.classifier.weight.mul_(60)
    model.save_pretrained(folder)
    arch.safety_processor(arch.TINY).save_pretrained(folder)
    return folder, write_cache(tmp_path_factory.mktemp("spread-cache"), {SPEC.repo_id: folder})


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_checkers_scores_are_transformers_own(spread_classifier, product, dtype):
    folder, cache = spread_classifier
    checker = load_safety(SPEC, DiffusionSettings(cache_dir=cache, device="cpu"), dtype)
    assert next(checker.model.parameters()).dtype == dtype and isinstance(checker.processor, ViTImageProcessorPil)
    images = _images(product)
    ours = checker.scores(images)
    # The oracle: transformers' own processor and model, loaded from the folder, called as their docs call them.
    processor = ViTImageProcessorPil.from_pretrained(folder)
    model = ViTForImageClassification.from_pretrained(folder, dtype=dtype).eval()
    with torch.inference_mode():
        inputs = processor(images=images, return_tensors="pt")
        logits = model(pixel_values=inputs["pixel_values"].to(dtype)).logits
    expected = logits.float().softmax(-1)[:, model.config.label2id["nsfw"]].tolist()
    assert ours == expected
    assert max(ours) - min(ours) > 0.05  # the images are told apart: the comparison means something


def test_bfloat16_scores_stay_close_to_float32(spread_classifier, product):
    _, cache = spread_classifier
    settings = DiffusionSettings(cache_dir=cache, device="cpu")
    full = load_safety(SPEC, settings, torch.float32).scores(_images(product))
    half = load_safety(SPEC, settings, torch.bfloat16).scores(_images(product))
    assert np.allclose(full, half, atol=0.03) and full != half


@pytest.fixture(scope="module")
def unsafe_cache(repos, tmp_path_factory):
    """The tiny cache, with a safety classifier whose head makes "nsfw" win on every image."""
    root = tmp_path_factory.mktemp("unsafe")
    folder = root / "safety"
    save_safety(folder, UNSAFE_BIAS)
    return write_cache(root / "cache", repos | {SPEC.repo_id: folder})


@pytest.fixture(scope="module")
def unsafe_backend(unsafe_cache):
    backend = DiffusionBackend(
        DiffusionSettings(cache_dir=unsafe_cache, device="cpu", dtype="float32", detail=False), modes=TEST_MODES
    )
    backend.setup()
    return backend


def _request(product: Image.Image, **changes) -> RenderRequest:
    return RenderRequest(product, **({"preset": "white", "ratio": "1:1", "variants": 2, "seed": 3} | changes))


def test_the_default_backend_delivers_what_the_classifier_passes(backend, product):
    assert backend.models.safety is not None  # the output check is on by default
    assert len(backend.run(_request(product))) == 2


def test_an_image_flagged_unsafe_is_not_delivered(unsafe_backend, product):
    with pytest.raises(UnsafeOutput):
        unsafe_backend.run(_request(product))


def test_the_threshold_is_the_operators(unsafe_backend, product):
    lenient = DiffusionBackend(unsafe_backend.settings, TEST_MODES, PolicySettings(unsafe_threshold=1.0))
    lenient.models = unsafe_backend.models  # the same loaded weights; only the policy differs
    [result] = lenient.run(_request(product, variants=1))
    [score] = lenient.models.safety.scores([result.image])
    assert 0.99 < score < 1.0  # withheld at the default threshold, delivered under 1.0


def test_with_the_output_check_off_no_classifier_is_needed(repos, tmp_path, product):
    cache = write_cache(tmp_path, {repo: folder for repo, folder in repos.items() if repo != SPEC.repo_id})
    backend = DiffusionBackend(
        DiffusionSettings(cache_dir=cache, device="cpu", dtype="float32", detail=False),
        TEST_MODES,
        PolicySettings(check_outputs=False),
    )
    backend.setup()
    assert backend.models.safety is None and len(backend.run(_request(product, variants=1))) == 1


def test_an_unsafe_output_fails_the_job_with_the_localized_refusal(
    unsafe_backend, product, redis, settings, compiled_locales
):
    blobs = open_store(redis, settings)
    photo = io.BytesIO()
    product.resize((256, 320)).save(photo, "PNG")  # the smallest photo the limits take: the cut-out runs at its size
    spec = JobSpec(
        chat_id=1,
        user_id=1,
        status_message_id=2,
        image_key=blobs.put(photo.getvalue()),
        preset="white",
        ratio="1:1",
        variants=2,
        seed=7,
        language="de",
        backend="diffusion",
    )
    jobs = JobQueue(redis, settings.queue)
    jobs.enqueue(spec)
    worker = StudioWorker(
        [jobs.gpu_queue], connection=redis, context=WorkerContext(settings=settings, backend=unsafe_backend)
    )
    worker.work(burst=True)
    [event] = [JobEvent.from_fields(fields) for _, fields in redis.xrange(settings.queue.events_stream)]
    assert event.kind == "failed" and event.error == UnsafeOutput.code and not event.images
    catalogs = I18n(path=compiled_locales, default_locale="en", domain=DOMAIN)
    with catalogs.context(), catalogs.use_locale("en"):
        english = texts.error(event.error, event.error_params)
        assert english == UnsafeOutput.message and english != texts.describe(JobFailed, {})
    for language in LANGUAGES:
        with catalogs.context(), catalogs.use_locale(language):
            assert language == "en" or texts.error(event.error, event.error_params) != english, language


def test_every_negative_prompt_opens_with_the_nsfw_terms():
    negatives = [backdrop_prompts(preset, extra)[1] for preset in BACKDROPS for extra in ("", "nsfw allowed, nude")]
    negatives += [person_prompts(person, task, "")[1] for person in MODEL_PRESETS for task in ("model", "mannequin")]
    for negative in negatives:
        assert negative.startswith(NEGATIVE_NSFW + ", ") and estimate_tokens(NEGATIVE_NSFW) < 75
    assert "nudity" in NEGATIVE_NSFW and "nsfw" in NEGATIVE_NSFW


def test_the_pipeline_gets_the_nsfw_negative_prompt(backend, product, monkeypatch):
    seen = []
    real = generation.generate

    def recording(pipe, inputs, *args):
        seen.append(inputs.negative_prompt)
        return real(pipe, inputs, *args)

    monkeypatch.setattr(generation, "generate", recording)
    backend.run(_request(product, preset="podium", variants=1))
    assert len(seen) == 1 and seen[0].startswith(NEGATIVE_NSFW)
