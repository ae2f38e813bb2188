"""Tiny random SAM 2.1 and ViTMatte checkpoints, saved as the registry's repositories hold them."""

from pathlib import Path

import torch
from transformers import Sam2VideoModel, VitMatteImageProcessorPil

from shopshot.pipeline.matting import architectures as arch

# The SAM mask decoder's logit everywhere when it is made to answer "the whole frame".
WHOLE_FRAME_LOGIT = 8.0


def save_segmenter(folder: Path, whole_frame: bool = False) -> None:
    """A tiny SAM 2.1 as the Hub holds it (a `sam2_video` checkpoint); `whole_frame`: its mask covers everything."""
    arch.seeded(1)
    model = Sam2VideoModel(arch.segmenter_checkpoint_config(arch.SEGMENTER_TINY)).eval()
    if whole_frame:
        _answer_everywhere(model)
    model.save_pretrained(folder)


def save_matting(folder: Path) -> None:
    """A tiny ViTMatte and the card's image processor (rescale, normalise by 0.5, pad to 32)."""
    arch.seeded(2)
    arch.matting(arch.MATTING_TINY).save_pretrained(folder)
    VitMatteImageProcessorPil().save_pretrained(folder)


def _answer_everywhere(model: Sam2VideoModel) -> None:
    """Random weights say anything; these say "product" at every pixel, so the box prompts decide the mask."""
    decoder = model.mask_decoder
    with torch.no_grad():
        for conv in (decoder.conv_s0, decoder.upscale_conv2):
            conv.weight.zero_()
            conv.bias.zero_()
        decoder.upscale_conv2.bias.fill_(WHOLE_FRAME_LOGIT)
        for mlp in decoder.output_hypernetworks_mlps:
            mlp.proj_out.weight.zero_()
            mlp.proj_out.bias.fill_(1.0 / mlp.proj_out.out_features)
