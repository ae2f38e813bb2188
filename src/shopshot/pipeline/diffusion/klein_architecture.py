"""FLUX.2 [klein] 4B configs and random-weight builds: tiny ones for the offline tests, full-size ones
for structure checks on the meta device. Nothing here downloads.

Full-size values, as published for black-forest-labs/FLUX.2-klein-4B (no copy of its config files
could be read offline, so each value is taken from implementations that load that repository):
- transformer: InvokeAI's klein-4B preset (invokeai/backend/flux2/util.py, `Flux2VariantType.Klein4B`)
  and the diffusers checkpoint conversion's fixed fields (`axes_dims_rope`, `rope_theta`, `eps`);
  5 double + 20 single blocks, 24 heads × 128, text width 7680 = 3 × 2560 (three Qwen3 layers stacked).
- text encoder: Qwen3-4B's config (hidden 2560, 36 layers, 32 query / 8 key-value heads of 128,
  MLP 9728, vocabulary 151936, tied embeddings), as several loaders of Qwen/Qwen3-4B vendor it.
- VAE: diffusers' `AutoencoderKLFlux2` defaults (32 latent channels, 2×2 patches → 128 transformer channels).
"""

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import AutoencoderKLFlux2, FlowMatchEulerDiscreteScheduler, Flux2KleinPipeline, Flux2Transformer2DModel
from transformers import Qwen2Tokenizer, Qwen3Config, Qwen3ForCausalLM
from torch.utils.flop_counter import FlopCounterMode
from transformers.convert_slow_tokenizer import bytes_to_unicode

# The layers whose hidden states the pipeline stacks as the prompt (its default `text_encoder_out_layers`).
TEXT_LAYERS = (9, 18, 27)
# Qwen3's chat template, reduced to what one user turn and the generation prompt need.
CHAT_TEMPLATE = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
                 "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


@dataclass(frozen=True)
class KleinArchitecture:
    """The three models' configs at one scale."""

    transformer: dict
    text: dict
    vae: dict


FULL = KleinArchitecture(
    transformer={"patch_size": 1, "in_channels": 128, "num_layers": 5, "num_single_layers": 20,
                 "attention_head_dim": 128, "num_attention_heads": 24, "joint_attention_dim": 7680,
                 "timestep_guidance_channels": 256, "mlp_ratio": 3.0, "axes_dims_rope": (32, 32, 32, 32),
                 "rope_theta": 2000, "eps": 1e-6, "guidance_embeds": False},
    text={"hidden_size": 2560, "intermediate_size": 9728, "num_hidden_layers": 36, "num_attention_heads": 32,
          "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936, "max_position_embeddings": 40960,
          "rope_theta": 1000000, "rms_norm_eps": 1e-6, "tie_word_embeddings": True},
    vae={},  # AutoencoderKLFlux2's defaults are FLUX.2's VAE
)

# The text encoder keeps 27 layers so the pipeline's default layers (9, 18, 27) exist; its width × 3
# is the transformer's text width, as at full size. Latent channels × 4 = the transformer's channels.
TINY = KleinArchitecture(
    transformer={"patch_size": 1, "in_channels": 16, "num_layers": 1, "num_single_layers": 1,
                 "attention_head_dim": 16, "num_attention_heads": 2, "joint_attention_dim": 24,
                 "timestep_guidance_channels": 32, "axes_dims_rope": (4, 4, 4, 4), "guidance_embeds": False},
    text={"hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 27, "num_attention_heads": 2,
          "num_key_value_heads": 1, "head_dim": 4, "max_position_embeddings": 512, "tie_word_embeddings": True},
    vae={"block_out_channels": (8, 16), "down_block_types": ("DownEncoderBlock2D",) * 2,
         "up_block_types": ("UpDecoderBlock2D",) * 2, "layers_per_block": 1, "latent_channels": 4,
         "norm_num_groups": 4, "sample_size": 64},
)


def tiny_qwen_tokenizer(folder: Path) -> Qwen2Tokenizer:
    """A byte-level Qwen2 tokenizer (one token per byte, no merges) with a chat template, loaded offline."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {char: index for index, char in enumerate(bytes_to_unicode().values())}
    vocab.update({token: len(vocab) + index for index, token in enumerate(SPECIAL_TOKENS)})
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    added = {str(vocab[token]): {"content": token, "special": True, "lstrip": False, "rstrip": False,
                                 "normalized": False, "single_word": False} for token in SPECIAL_TOKENS}
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "Qwen2Tokenizer", "pad_token": "<|endoftext|>", "eos_token": "<|im_end|>",
         "chat_template": CHAT_TEMPLATE, "model_max_length": 512, "added_tokens_decoder": added}))
    return Qwen2Tokenizer.from_pretrained(folder, local_files_only=True)


def transformer(arch: KleinArchitecture) -> Flux2Transformer2DModel:
    """The klein flow transformer, random weights."""
    return Flux2Transformer2DModel(**arch.transformer)


def text_encoder(arch: KleinArchitecture, vocab_size: int | None = None) -> Qwen3ForCausalLM:
    """Qwen3 as the prompt encoder, random weights; `vocab_size` overrides the config's (a tiny tokenizer's)."""
    fields = dict(arch.text, **({"vocab_size": vocab_size} if vocab_size is not None else {}))
    return Qwen3ForCausalLM(Qwen3Config(**fields))


def vae(arch: KleinArchitecture) -> AutoencoderKLFlux2:
    """FLUX.2's autoencoder (batch-normalised latents), random weights."""
    return AutoencoderKLFlux2(**arch.vae)


def klein_pipeline(arch: KleinArchitecture, tokenizer: Qwen2Tokenizer) -> Flux2KleinPipeline:
    """The distilled klein pipeline as the published repository holds it (text-to-image class, `is_distilled`)."""
    return Flux2KleinPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae(arch),
                              text_encoder=text_encoder(arch, len(tokenizer)), tokenizer=tokenizer,
                              transformer=transformer(arch), is_distilled=True)


def step_flops(model: Flux2Transformer2DModel, image_tokens: int, text_tokens: int = 512) -> int:
    """FLOPs of one transformer call over `image_tokens` latent tokens (canvas plus reference) and the prompt.

    Counted on whatever device the model is on: on the meta device no arithmetic runs, only shapes.
    """
    device, dtype = model.device, model.dtype
    hidden = torch.empty(1, image_tokens, model.config.in_channels, device=device, dtype=dtype)
    text = torch.empty(1, text_tokens, model.config.joint_attention_dim, device=device, dtype=dtype)
    with FlopCounterMode(display=False) as counter:
        model(hidden_states=hidden, encoder_hidden_states=text, timestep=torch.ones(1, device=device, dtype=dtype),
              img_ids=torch.zeros(1, image_tokens, 4, device=device), txt_ids=torch.zeros(1, text_tokens, 4, device=device),
              guidance=None, return_dict=False)
    return counter.get_total_flops()
