import asyncio
import shutil

import pytest

from shopshot.config import DiffusionSettings, MatteSettings, Settings
from shopshot.pipeline.diffusion.backend import DiffusionBackend
from shopshot.pipeline.diffusion.pull import pull_models
from shopshot.pipeline.diffusion.registry import MATTING, SEGMENTER, load_registry
from shopshot.pipeline.studio import RenderRequest, StudioBackend
from tests.diffusion.conftest import TEST_MODES
from tests.diffusion.hub_stub import HubStub

# Files the real repositories hold beside what the pipelines load (fp32 and pickle weights, ONNX,
# processor configs): pull must leave them behind, and the loader must not ask for them.
UNUSED = {
    "diffusers/stable-diffusion-xl-1.0-inpainting-0.1": [
        "README.md",
        "unet/diffusion_pytorch_model.safetensors",
        "text_encoder/model.safetensors",
        "vae/diffusion_pytorch_model.safetensors",
    ],
    "diffusers/controlnet-depth-sdxl-1.0": ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.bin"],
    "depth-anything/Depth-Anything-V2-Small-hf": ["README.md", "preprocessor_config.json"],
    "mattmdjaga/segformer_b2_clothes": ["onnx/model.onnx", "preprocessor_config.json"],
    "Falconsai/nsfw_image_detection": ["README.md", "onnx/model.onnx", "training_args.bin"],
    "facebook/sam2.1-hiera-tiny": ["README.md", "sam2.1_hiera_tiny.pt", "processor_config.json"],
    "hustvl/vitmatte-small-composition-1k": ["README.md"],
}


@pytest.fixture
async def hub(repos, matte_repos, tmp_path):
    shadow = {}
    for repo_id, folder in {**repos, **matte_repos}.items():
        shadow[repo_id] = tmp_path / "hub" / repo_id
        shutil.copytree(folder, shadow[repo_id])
        for name in UNUSED[repo_id]:
            (shadow[repo_id] / name).parent.mkdir(parents=True, exist_ok=True)
            (shadow[repo_id] / name).write_bytes(b"not loaded")
    stub = HubStub(shadow)
    url = await stub.start()
    yield stub, url
    await stub.stop()


async def test_pull_downloads_the_default_set_into_the_cache(hub, tmp_path, product):
    stub, url = hub
    settings = Settings(_env_file=None, diffusion=DiffusionSettings(cache_dir=tmp_path / "cache", device="cpu"))
    lines = []
    folders = await asyncio.to_thread(pull_models, settings, url, lines.append)
    specs = [spec for spec in load_registry() if "sdxl" in spec.stacks]  # the default stack's
    assert len(folders) == len(specs) and all(folder.is_dir() for folder in folders)
    assert lines[0] == f"pulling {specs[0].key}: {specs[0].repo_id} @ main (licence {specs[0].licence})"
    assert lines[1].startswith(f"  {specs[0].key} ready in ")
    pulled = {path.name for path in (tmp_path / "cache").rglob("*") if path.is_file()}
    for repo_id, unused in UNUSED.items():
        snapshot = next((tmp_path / "cache" / ("models--" + repo_id.replace("/", "--")) / "snapshots").iterdir())
        assert not [name for name in unused if (snapshot / name).exists()], repo_id
    assert "diffusion_pytorch_model.fp16.safetensors" in pulled and "diffusion_pytorch_model.safetensors" not in pulled
    safety = next((tmp_path / "cache").glob("models--Falconsai--nsfw_image_detection/snapshots/*"))
    assert {path.name for path in safety.iterdir()} == {"config.json", "preprocessor_config.json", "model.safetensors"}
    assert any(request.startswith("GET /api/models/") for request in stub.requests)
    backend = DiffusionBackend(settings.diffusion, modes=TEST_MODES)
    await asyncio.to_thread(backend.setup)  # the pulled cache is what the loader reads
    [result] = await asyncio.to_thread(backend.run, RenderRequest(product, "white", "1:1", 1, 1))
    assert result.image.size[0] > 64


async def test_pull_cpu_fetches_only_what_a_cpu_worker_loads(hub, tmp_path):
    _stub, url = hub
    settings = Settings(_env_file=None, diffusion=DiffusionSettings(cache_dir=tmp_path / "cache"))
    lines = []
    folders = await asyncio.to_thread(pull_models, settings, url, lines.append, True)
    assert [line.split(":")[0] for line in lines[::2]] == [f"pulling {SEGMENTER}", f"pulling {MATTING}"]
    assert {path.name for path in (tmp_path / "cache").iterdir() if path.name.startswith("models--")} == {
        "models--facebook--sam2.1-hiera-tiny",
        "models--hustvl--vitmatte-small-composition-1k",
    }
    assert len(folders) == 2
    backend = StudioBackend(MatteSettings(device="cpu", dtype="float32"), tmp_path / "cache")
    await asyncio.to_thread(backend.setup)  # the pulled cache is what the CPU worker's loader reads
    assert backend.neural is not None
