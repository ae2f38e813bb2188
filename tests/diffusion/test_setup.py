import subprocess
import sys
import textwrap

import pytest

from shopshot.config import DiffusionSettings, Settings
from shopshot.errors import InvalidOption, ModelsMissing
from shopshot.pipeline.backends import load_backend
from shopshot.pipeline.diffusion.backend import DiffusionBackend
from shopshot.pipeline.diffusion.masks import ASPECTS, generation_sizes
from shopshot.pipeline.diffusion.registry import MATTING, SEGMENTER, load_registry
from shopshot.pipeline.studio import RenderRequest, StudioBackend
from tests.diffusion.conftest import klein_settings
from tests.hf_cache import write_cache


def test_importing_the_backends_loads_no_torch():
    # A fresh interpreter: this test process has torch loaded already.
    code = textwrap.dedent("""
        import sys
        from shopshot.config import Settings
        from shopshot.pipeline.backends import load_backend
        import shopshot.pipeline.gallery
        backend = load_backend("diffusion", Settings(_env_file=None))
        assert backend.tasks == {"backdrop", "model", "mannequin"}, backend.tasks
        heavy = sorted(name for name in ("torch", "diffusers", "transformers") if name in sys.modules)
        print(",".join(heavy) or "none")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"


def test_load_backend_passes_the_diffusion_settings(tmp_path):
    settings = Settings(_env_file=None, diffusion=DiffusionSettings(cache_dir=tmp_path, mode="quality"))
    backend = load_backend("diffusion", settings)
    assert isinstance(backend, DiffusionBackend) and backend.settings.cache_dir == tmp_path
    assert load_backend("studio").tasks == {"backdrop"}


def test_setup_without_weights_names_them_and_the_command(tmp_path):
    backend = DiffusionBackend(DiffusionSettings(cache_dir=tmp_path, device="cpu"))
    with pytest.raises(ModelsMissing) as caught:
        backend.setup()
    message = str(caught.value)
    assert "shopshot models pull" in message
    for spec in load_registry():
        # The neural matte's are optional (without them the classical cut-out runs); klein's belong to the other stack.
        assert (spec.repo_id in message) == (spec.key not in (SEGMENTER, MATTING) and "sdxl" in spec.stacks)


def test_setup_names_only_what_is_missing(repos, tmp_path):
    inpaint = load_registry()[0]
    write_cache(tmp_path, {repo: folder for repo, folder in repos.items() if repo != inpaint.repo_id})
    with pytest.raises(ModelsMissing) as caught:
        DiffusionBackend(DiffusionSettings(cache_dir=tmp_path, device="cpu")).setup()
    assert caught.value.params["models"] == f"{inpaint.key} ({inpaint.repo_id})"


def test_setup_reports_a_half_pulled_checkpoint_as_missing(repos, tmp_path):
    cache = write_cache(tmp_path, repos)
    [weights] = cache.glob("models--diffusers--stable-diffusion-xl*/snapshots/*/unet/*.safetensors")
    weights.unlink()
    with pytest.raises(ModelsMissing, match="sdxl-inpaint"):
        DiffusionBackend(DiffusionSettings(cache_dir=cache, device="cpu")).setup()


def test_studio_backend_takes_only_backdrops(product):
    with pytest.raises(InvalidOption):
        StudioBackend().run(RenderRequest(product, "white", "1:1", 1, 0, task="model", model="amara"))


@pytest.mark.parametrize("switch", [{"warmup": True}, {"compile": True}, {}])
def test_setup_warms_up_every_generation_size_on_both_pipelines(backend, monkeypatch, switch):
    from shopshot.pipeline.diffusion import generation, loading

    calls = []

    def counted(pipe, inputs, mode, seed, on_step):  # the runs themselves are the other tests' concern
        assert pipe is backend.models.pipeline(controlled=inputs.control_image is not None)
        calls.append((inputs.image.size, inputs.control_image is not None, mode.steps))

    monkeypatch.setattr(generation, "generate", counted)
    # The loaded tiny models stand in for loading (and for compiling: its graphs are the warm-up's concern).
    monkeypatch.setattr(loading, "load_models", lambda settings, check_outputs: backend.models)
    DiffusionBackend(backend.settings.model_copy(update=switch)).setup()
    sizes = generation_sizes(backend.models.native, backend.models.align)
    expected = {(size, controlled, 1) for size in sizes for controlled in (False, True)} if switch else set()
    assert len(calls) == len(expected) and set(calls) == expected


@pytest.mark.parametrize("switch", [{"warmup": True}, {"compile": True}, {}])
def test_klein_setup_warms_up_every_generation_size_with_and_without_a_reference(
    klein_models, tiny_klein, monkeypatch, switch
):
    from shopshot.pipeline.diffusion import klein

    calls = []

    def counted(pipe, inputs, mode, seed, on_step):
        calls.append((inputs.image.size, inputs.reference is not None, mode.num_inference_steps))

    monkeypatch.setattr(klein, "generate_klein", counted)
    # The loaded tiny models stand in for loading (and for compiling: its graphs are the warm-up's concern).
    monkeypatch.setattr(klein, "load_klein", lambda settings, check_outputs: klein_models)
    DiffusionBackend(klein_settings(tiny_klein[1], **switch)).setup()
    sizes = klein.klein_sizes(klein_models.native, klein_models.align)
    expected = {(size, referenced, 1) for size in sizes for referenced in (False, True)} if switch else set()
    assert len(sizes) == len(ASPECTS) and len(calls) == len(expected) and set(calls) == expected
