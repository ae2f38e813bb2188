"""Tiny random SAM 2.1 and ViTMatte checkpoints, saved as the registry's repositories hold them."""

from pathlib import Path

from transformers import Sam2VideoModel, VitMatteImageProcessorPil

from fixtures.matting import architectures as arch


def save_segmenter(folder: Path, whole_frame: bool = False) -> None:
    """A tiny SAM 2.1 as the Hub holds it (a `sam2_video` checkpoint); `whole_frame`: its mask covers everything."""
    arch.seeded(1)
    model = Sam2VideoModel(arch.segmenter_checkpoint_config(arch.SEGMENTER_TINY)).eval()
    if whole_frame:
        arch.answering_everywhere(model)
    model.save_pretrained(folder)


def save_matting(folder: Path) -> None:
    """A tiny ViTMatte and the card's image processor (rescale, normalise by 0.5, pad to 32)."""
    arch.seeded(2)
    arch.matting(arch.MATTING_TINY).save_pretrained(folder)
    VitMatteImageProcessorPil().save_pretrained(folder)
