"""Tiny random models saved as the registry's repositories, in a Hugging Face cache layout."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fixtures.diffusion import architectures as arch
from fixtures.diffusion import klein_architecture as ka
from fixtures.synthetic import synthetic_person
from shopshot.config import DiffusionSettings
from shopshot.pipeline.diffusion.backend import DiffusionBackend
from shopshot.pipeline.diffusion.modes import Mode
from shopshot.pipeline.diffusion.registry import (
    CLOTHES,
    CONTROLNET,
    DEPTH,
    INPAINT,
    KLEIN,
    MATTING,
    SAFETY,
    SEGMENTER,
    load_registry,
)
from shopshot.pipeline.gallery import sample_product
from tests.hf_cache import write_cache
from tests.matting.tiny import save_matting, save_segmenter

STEPS = 2
TEST_MODES = {
    "fast": Mode("fast", steps=STEPS, guidance_scale=5.0),
    "quality": Mode("quality", steps=STEPS + 1, guidance_scale=6.0),
}
LABEL = {name: index for index, name in enumerate(arch.CLOTHES_LABELS)}
# The tiny safety classifier's head leans this far to "normal" (negative) or "nsfw" (positive): random
# weights alone would score the tests' images anywhere around 0.5.
SAFE_BIAS, UNSAFE_BIAS = -8.0, 8.0


def save_safety(folder: Path, unsafe_bias: float | None) -> None:
    """A tiny safety classifier and its image processor, saved as the registry's repository holds them."""
    arch.safety_classifier(arch.TINY, unsafe_bias).save_pretrained(folder)
    arch.safety_processor(arch.TINY).save_pretrained(folder)


@pytest.fixture(scope="session")
def repos(tmp_path_factory) -> dict[str, Path]:
    """Each registry repository id mapped to a folder holding its tiny model, as the Hub lays it out."""
    root = tmp_path_factory.mktemp("repos")
    specs = {spec.key: spec for spec in load_registry()}
    arch.seeded(0)
    tokenizer = arch.tiny_tokenizer(root / "tokenizer-source")
    builds = {
        INPAINT: lambda folder: arch.inpaint_pipeline(arch.TINY, tokenizer).save_pretrained(folder, variant="fp16"),
        CONTROLNET: lambda folder: arch.controlnet(arch.TINY).save_pretrained(folder, variant="fp16"),
        DEPTH: lambda folder: arch.depth_model(arch.TINY).save_pretrained(folder),
        CLOTHES: lambda folder: arch.clothes_parser(arch.TINY).save_pretrained(folder),
        SAFETY: lambda folder: save_safety(folder, SAFE_BIAS),
    }
    folders = {}
    for key, build in builds.items():
        folder = root / key
        build(folder)
        folders[specs[key].repo_id] = folder
    return folders


@pytest.fixture(scope="session")
def model_cache(repos, tmp_path_factory) -> Path:
    return write_cache(tmp_path_factory.mktemp("hf-cache"), repos)


@pytest.fixture(scope="session")
def diffusion_settings(model_cache) -> DiffusionSettings:
    # The detail pass (four more runs per image) and the face pass are tested on their own, in test_detail.py
    # and test_face.py: here each image is one generation.
    return DiffusionSettings(cache_dir=model_cache, device="cpu", dtype="float32", detail=False, face_pass=False)


@pytest.fixture(scope="session")
def backend(diffusion_settings) -> DiffusionBackend:
    """The real backend, loaded once through the real loading code from the tiny cache."""
    ready = DiffusionBackend(diffusion_settings, modes=TEST_MODES)
    ready.setup()
    return ready


@pytest.fixture(scope="session")
def product() -> Image.Image:
    """The bundled mug photo, small: the composite runs at this photo's full resolution."""
    return sample_product().resize((160, 200), Image.Resampling.LANCZOS)


@pytest.fixture(scope="session")
def person() -> tuple[Image.Image, np.ndarray]:
    """A drawn figure in a patterned top and trousers, with its clothes-parsing label map."""
    return synthetic_person(arch.CLOTHES_LABELS)


@pytest.fixture(scope="session")
def matte_repos(tmp_path_factory) -> dict[str, Path]:
    """The neural matte's two repositories, tiny."""
    root = tmp_path_factory.mktemp("matte-repos")
    specs = {spec.key: spec for spec in load_registry()}
    save_segmenter(root / SEGMENTER)
    save_matting(root / MATTING)
    return {specs[SEGMENTER].repo_id: root / SEGMENTER, specs[MATTING].repo_id: root / MATTING}


@pytest.fixture(scope="session")
def tiny_klein(tmp_path_factory):
    """The tiny klein repository's folder, and a cache holding it, the clothes parser and the safety classifier."""
    root = tmp_path_factory.mktemp("klein-repos")
    specs = {spec.key: spec for spec in load_registry()}
    arch.seeded(0)
    ka.klein_pipeline(ka.TINY, ka.tiny_qwen_tokenizer(root / "tokenizer-source")).save_pretrained(root / KLEIN)
    arch.clothes_parser(arch.TINY).save_pretrained(root / CLOTHES)
    save_safety(root / SAFETY, SAFE_BIAS)
    cache = write_cache(
        tmp_path_factory.mktemp("klein-cache"), {specs[key].repo_id: root / key for key in (KLEIN, CLOTHES, SAFETY)}
    )
    return root / KLEIN, cache


def klein_settings(cache: Path, **changes) -> DiffusionSettings:
    """The klein stack on the CPU in float32 from `cache`, otherwise the production defaults."""
    return DiffusionSettings(**({"cache_dir": cache, "device": "cpu", "dtype": "float32", "stack": "klein"} | changes))


@pytest.fixture(scope="session")
def klein_models(tiny_klein):
    """The tiny klein stack loaded once through the production loader, for backends built around it in a test."""
    from shopshot.pipeline.diffusion.klein import load_klein

    return load_klein(klein_settings(tiny_klein[1]))
