"""The full-size models, built from the vendored configs on the meta device: no memory, no weights."""

import pytest
import torch
from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel

from shopshot.pipeline.diffusion import architectures as arch

# Published sizes: SDXL inpainting UNet 2.567 B, SDXL depth ControlNet 1.251 B, SDXL VAE 83.7 M parameters.
PUBLISHED = {"unet": (UNet2DConditionModel, 2.567e9), "controlnet": (ControlNetModel, 1.251e9), "vae": (AutoencoderKL, 83.7e6)}


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
