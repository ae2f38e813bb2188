"""The full-size models, built from the vendored configs on the meta device: no memory, no weights."""

from pathlib import Path

import pytest
import torch
from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel

from fixtures.diffusion import architectures as arch
from fixtures.diffusion.footprint import weight_bytes

ROOT = Path(__file__).resolve().parents[2]

# Published sizes: SDXL inpainting UNet 2.567 B, SDXL depth ControlNet 1.251 B, SDXL VAE 83.7 M parameters.
PUBLISHED = {
    "unet": (UNet2DConditionModel, 2.567e9),
    "controlnet": (ControlNetModel, 1.251e9),
    "vae": (AutoencoderKL, 83.7e6),
}


@pytest.mark.parametrize("role", PUBLISHED)
def test_the_vendored_configs_build_the_published_sizes(role):
    kind, published = PUBLISHED[role]
    with torch.device("meta"):
        model = kind.from_config(getattr(arch.FULL, role))
    assert all(parameter.is_meta for parameter in model.parameters())
    assert sum(parameter.numel() for parameter in model.parameters()) == pytest.approx(published, rel=1e-3)


def test_flops_per_denoising_step_at_1024():
    flops = arch.step_flops(arch.FULL.unet, arch.FULL.controlnet, 1024)
    # docs/performance.md: per step (batch 2, classifier-free guidance) 13.5 TFLOP in the UNet, 6.0 in the ControlNet.
    assert flops["unet"] == pytest.approx(13.52e12, rel=0.01)
    assert flops["controlnet"] == pytest.approx(6.04e12, rel=0.01)


def test_the_weights_each_stack_holds_in_bf16_are_the_figures_the_docs_state():
    """Counted on the meta device (footprint.py); docs/performance.md and the settings state them as computed, not measured."""
    sdxl, klein = (weight_bytes(stack) for stack in ("sdxl", "klein"))
    # The published sizes in bytes: UNet 2.567 B, ControlNet 1.251 B, VAE 83.7 M, CLIP ViT-L text 123 M and
    # OpenCLIP bigG text 695 M, Depth Anything V2 Small 24.8 M, ViT-Base 86 M at 2 bytes; SegFormer-B2 27.4 M at 4.
    published = 2 * (2.567e9 + 1.251e9 + 83.7e6 + 123.1e6 + 694.7e6 + 24.8e6 + 85.8e6) + 4 * 27.4e6
    assert sum(sdxl.values()) == pytest.approx(published, rel=2e-3)
    with torch.device("meta"):
        parser = arch.clothes_parser(arch.FULL)
    assert sdxl["clothes"] == klein["clothes"] == 4 * sum(p.numel() for p in parser.parameters())  # kept in float32
    # klein: the transformer's single file (7.75 GB) and Qwen3-4B's two shards (8.05 GB), in bf16.
    assert klein["transformer"] == 2 * 3_875_544_576 and klein["text_encoder"] == 2 * 4_022_468_096
    stated = (ROOT / "docs" / "performance.md").read_text()
    for stack, sizes in (("sdxl", sdxl), ("klein", klein)):
        total = sum(sizes.values())
        assert f"| `{stack}`" in stated and f"{total / 1e9:.1f} GB ({total / 2**30:.1f} GiB)" in stated
    assert (sum(sdxl.values()) / 2**30, sum(klein.values()) / 2**30) == pytest.approx((9.1, 15.1), abs=0.05)
