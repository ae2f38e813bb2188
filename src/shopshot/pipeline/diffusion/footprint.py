"""What each stack's weights take on the GPU, counted on the meta device from the full-size configs.

No weights and no memory: the models are built on the meta device from the vendored configs
(`architectures.FULL`, `klein_architecture.FULL`), as `setup()` would hold them on a bf16 GPU: every
model in bf16 but the clothes parser, which loading keeps in float32. The safety classifier is
counted (outputs are checked by default); the neural product matte (SAM 2.1 + ViTMatte, its own
settings) is not. These are the weights alone: activations, the VAE decode's workspace and CUDA's
own context come on top, and were not measured (no GPU was lent).
"""

from collections.abc import Callable

import torch
from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from shopshot.pipeline.diffusion import architectures as arch
from shopshot.pipeline.diffusion import klein_architecture as ka

BF16, FLOAT32 = 2, 4  # bytes per parameter

_SDXL: dict[str, tuple[Callable[[], torch.nn.Module], int]] = {
    "unet": (lambda: UNet2DConditionModel.from_config(arch.FULL.unet), BF16),
    "controlnet": (lambda: ControlNetModel.from_config(arch.FULL.controlnet), BF16),
    "vae": (lambda: AutoencoderKL.from_config(arch.FULL.vae), BF16),
    "text_encoder": (lambda: CLIPTextModel(CLIPTextConfig(**arch.FULL.text[0])), BF16),
    "text_encoder_2": (lambda: CLIPTextModelWithProjection(CLIPTextConfig(**arch.FULL.text[1])), BF16),
    "depth": (lambda: arch.depth_model(arch.FULL), BF16),
    "clothes": (lambda: arch.clothes_parser(arch.FULL), FLOAT32),
    "safety": (lambda: arch.safety_classifier(arch.FULL), BF16),
}
_KLEIN: dict[str, tuple[Callable[[], torch.nn.Module], int]] = {
    "transformer": (lambda: ka.transformer(ka.FULL), BF16),
    "text_encoder": (lambda: ka.text_encoder(ka.FULL), BF16),
    "vae": (lambda: ka.vae(ka.FULL), BF16),
    "clothes": (lambda: arch.clothes_parser(arch.FULL), FLOAT32),
    "safety": (lambda: arch.safety_classifier(arch.FULL), BF16),
}


def weight_bytes(stack: str) -> dict[str, int]:
    """Bytes of each model's weights on a bf16 GPU for the stack ("sdxl" or "klein"), counted on the meta device."""
    builds = _SDXL if stack == "sdxl" else _KLEIN
    sizes = {}
    with torch.device("meta"):
        for name, (build, width) in builds.items():
            sizes[name] = width * sum(parameter.numel() for parameter in build().parameters())
    return sizes
