"""Model configs and random-weight builds: tiny ones for the offline tests, full-size SDXL for
`bench/gpu.py` and the meta-device checks. Nothing here downloads: the full-size UNet, ControlNet
and VAE configs are the registry checkpoints' own, vendored in `configs/` (each names its source).
"""

import json
import string
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode
from diffusers import AutoencoderKL, ControlNetModel, EulerDiscreteScheduler, StableDiffusionXLInpaintPipeline
from diffusers import UNet2DConditionModel
from transformers import (CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer,
                          DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, SegformerConfig,
                          SegformerForSemanticSegmentation, ViTConfig, ViTForImageClassification, ViTImageProcessorPil)

# mattmdjaga/segformer_b2_clothes's id2label.
CLOTHES_LABELS = ("Background", "Hat", "Hair", "Sunglasses", "Upper-clothes", "Skirt", "Pants", "Dress", "Belt",
                  "Left-shoe", "Right-shoe", "Face", "Left-leg", "Right-leg", "Left-arm", "Right-arm", "Bag", "Scarf")
# Falconsai/nsfw_image_detection's id2label.
SAFETY_LABELS = ("normal", "nsfw")

CONFIGS = Path(__file__).with_name("configs")
_TINY_BLOCKS = {"down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
                "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"), "block_out_channels": (32, 64),
                "layers_per_block": 2, "attention_head_dim": (2, 4), "transformer_layers_per_block": (1, 2),
                "cross_attention_dim": 64, "use_linear_projection": True, "addition_embed_type": "text_time",
                "addition_time_embed_dim": 8, "projection_class_embeddings_input_dim": 80, "sample_size": 32}


def vendored(name: str) -> dict:
    """A checkpoint's config as published (configs/<name>.json), without the keys diffusers ignores."""
    config = json.loads((CONFIGS / f"{name}.json").read_text())
    return {key: value for key, value in config.items() if not key.startswith("_")}


def _tiny_controlnet() -> dict:
    """A ControlNet shaped like the tiny UNet's encoder."""
    fields = {key: value for key, value in _TINY_BLOCKS.items() if key not in ("up_block_types", "sample_size")}
    return {"in_channels": 4, "conditioning_embedding_out_channels": (16, 32), **fields}


@dataclass(frozen=True)
class Architecture:
    """Every config the backend's models need, at one scale."""

    unet: dict
    controlnet: dict
    vae: dict
    text: tuple[dict, dict]
    segformer: dict
    depth_backbone: dict
    depth: dict
    safety: dict  # the safety classifier's ViT


FULL = Architecture(
    unet=vendored("sdxl_inpaint_unet"),
    controlnet=vendored("controlnet_depth_sdxl"),
    vae=vendored("sdxl_vae"),
    text=({"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12, "num_hidden_layers": 12,
           "hidden_act": "quick_gelu", "projection_dim": 768, "vocab_size": 49408},
          {"hidden_size": 1280, "intermediate_size": 5120, "num_attention_heads": 20, "num_hidden_layers": 32,
           "hidden_act": "gelu", "projection_dim": 1280, "vocab_size": 49408}),
    segformer={"hidden_sizes": [64, 128, 320, 512], "depths": [3, 4, 6, 3], "num_attention_heads": [1, 2, 5, 8],
               "decoder_hidden_size": 768},
    depth_backbone={"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 6, "intermediate_size": 1536,
                    "out_indices": [3, 6, 9, 12]},
    depth={"neck_hidden_sizes": [48, 96, 192, 384], "fusion_hidden_size": 64, "head_hidden_size": 32,
           "reassemble_hidden_size": 384},
    safety={"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
            "image_size": 224, "patch_size": 16},
)

TINY = Architecture(
    unet={"in_channels": 9, "out_channels": 4, **_TINY_BLOCKS},
    controlnet=_tiny_controlnet(),
    vae={"in_channels": 3, "out_channels": 3, "block_out_channels": (32, 64), "latent_channels": 4,
         "down_block_types": ("DownEncoderBlock2D",) * 2, "up_block_types": ("UpDecoderBlock2D",) * 2, "sample_size": 128},
    text=({"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 5,
           "hidden_act": "gelu", "projection_dim": 32},) * 2,
    segformer={"hidden_sizes": [8, 16, 24, 32], "depths": [1, 1, 1, 1], "num_attention_heads": [1, 1, 2, 2],
               "decoder_hidden_size": 16},
    depth_backbone={"hidden_size": 16, "num_hidden_layers": 4, "num_attention_heads": 2, "intermediate_size": 32,
                    "out_indices": [1, 2, 3, 4]},
    depth={"neck_hidden_sizes": [8, 16, 24, 32], "fusion_hidden_size": 16, "head_hidden_size": 8,
           "reassemble_hidden_size": 16},
    safety={"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32,
            "image_size": 32, "patch_size": 8},
)


def tiny_tokenizer(folder: Path) -> CLIPTokenizer:
    """A CLIP tokenizer over letters and digits, written to `folder` and loaded offline."""
    folder.mkdir(parents=True, exist_ok=True)
    symbols = string.ascii_lowercase + string.digits + ",.!-'"
    tokens = ["<|startoftext|>", "<|endoftext|>", *string.ascii_lowercase, *(char + "</w>" for char in symbols)]
    (folder / "vocab.json").write_text(json.dumps({token: index for index, token in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer.from_pretrained(folder, local_files_only=True, model_max_length=77)


def _text_config(fields: dict, tokenizer: CLIPTokenizer) -> CLIPTextConfig:
    ids = {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
           "pad_token_id": tokenizer.pad_token_id}
    return CLIPTextConfig(**{"vocab_size": len(tokenizer), **fields, **ids})


def inpaint_pipeline(arch: Architecture, tokenizer: CLIPTokenizer) -> StableDiffusionXLInpaintPipeline:
    """SDXL inpainting (9-channel UNet) with random weights and the SDXL scheduler config."""
    unet = UNet2DConditionModel.from_config(arch.unet)
    vae = AutoencoderKL.from_config(arch.vae)
    encoder = CLIPTextModel(_text_config(arch.text[0], tokenizer))
    encoder_2 = CLIPTextModelWithProjection(_text_config(arch.text[1], tokenizer))
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       timestep_spacing="leading", steps_offset=1)
    return StableDiffusionXLInpaintPipeline(vae=vae, text_encoder=encoder, text_encoder_2=encoder_2, tokenizer=tokenizer,
                                            tokenizer_2=tokenizer, unet=unet, scheduler=scheduler)


def controlnet(arch: Architecture) -> ControlNetModel:
    """A depth ControlNet shaped like the UNet's encoder, random weights."""
    return ControlNetModel.from_config(arch.controlnet)


def step_flops(unet_config: dict, controlnet_config: dict | None, native: int, vae_factor: int = 8) -> dict[str, float]:
    """FLOPs of one denoising step at `native`² pixels per denoiser ("unet", "controlnet"), batch 2 for guidance.

    Counted on the meta device, so it needs no memory and never runs a compiled module (FlopCounterMode
    cannot run under torch.compile).
    """
    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(unet_config)
        models = {"unet": unet}
        if controlnet_config is not None:
            models["controlnet"] = ControlNetModel.from_config(controlnet_config)
        side = native // vae_factor
        text_dim = unet.config.projection_class_embeddings_input_dim - 6 * unet.config.addition_time_embed_dim
        hidden = torch.randn(2, 77, unet.config.cross_attention_dim)
        extra = {"text_embeds": torch.randn(2, text_dim), "time_ids": torch.randn(2, 6)}
        latents = torch.randn(2, unet.config.in_channels, side, side)
        inputs = {"unet": (latents,), "controlnet": (latents[:, :4],)}
        depth = {"controlnet_cond": torch.randn(2, 3, native, native)}
    flops = {}
    for name, model in models.items():
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(*inputs[name], torch.tensor(500, device="meta"), hidden, added_cond_kwargs=extra,
                  **(depth if name == "controlnet" else {}))
        flops[name] = float(counter.get_total_flops())
    return flops


def clothes_parser(arch: Architecture) -> SegformerForSemanticSegmentation:
    """A SegFormer with the clothes-parsing labels, random weights."""
    config = SegformerConfig(num_labels=len(CLOTHES_LABELS), id2label=dict(enumerate(CLOTHES_LABELS)),
                             label2id={name: index for index, name in enumerate(CLOTHES_LABELS)}, **arch.segformer)
    return SegformerForSemanticSegmentation(config).eval()


def depth_model(arch: Architecture) -> DepthAnythingForDepthEstimation:
    """Depth Anything V2 (DINOv2 backbone, patch 14), random weights."""
    fields = dict(arch.depth_backbone)
    stages = [f"stage{index}" for index in fields.pop("out_indices")]
    backbone = Dinov2Config(image_size=518, patch_size=14, out_features=stages, reshape_hidden_states=False, **fields)
    config = DepthAnythingConfig(backbone_config=backbone, patch_size=14, depth_estimation_type="relative", **arch.depth)
    return DepthAnythingForDepthEstimation(config).eval()


def safety_classifier(arch: Architecture, unsafe_bias: float | None = None) -> ViTForImageClassification:
    """A ViT with the safety check's labels, random weights; `unsafe_bias` sets how far its head leans to "nsfw"."""
    config = ViTConfig(num_labels=len(SAFETY_LABELS), id2label=dict(enumerate(SAFETY_LABELS)),
                       label2id={name: index for index, name in enumerate(SAFETY_LABELS)}, **arch.safety)
    model = ViTForImageClassification(config).eval()
    if unsafe_bias is not None:
        with torch.no_grad():
            model.classifier.bias.copy_(torch.tensor([0.0, unsafe_bias]))
    return model


def safety_processor(arch: Architecture) -> ViTImageProcessorPil:
    """The classifier's image processor: a square resize to its input side, pixels scaled to -1..1."""
    side = arch.safety["image_size"]
    return ViTImageProcessorPil(size={"height": side, "width": side}, image_mean=[0.5] * 3, image_std=[0.5] * 3)


def seeded(seed: int = 0) -> None:
    """Fix torch's generator so random builds are the same every time."""
    torch.manual_seed(seed)
