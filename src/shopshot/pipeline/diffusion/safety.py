"""The output safety check: an image classifier's probability that a generated image is explicit."""

from typing import TYPE_CHECKING

import torch
from PIL import Image

if TYPE_CHECKING:
    from transformers import BaseImageProcessor, PreTrainedModel

UNSAFE_LABEL = "nsfw"


class SafetyChecker:
    """Scores images with an image-classification model and its own image processor."""

    def __init__(self, model: "PreTrainedModel", processor: "BaseImageProcessor") -> None:
        self.model = model.eval()
        self.processor = processor
        assert model.config.id2label is not None  # a classifier's config always names its labels
        labels = {str(name).lower(): int(index) for index, name in model.config.id2label.items()}
        if UNSAFE_LABEL not in labels:
            raise ValueError(f"the safety classifier has no {UNSAFE_LABEL!r} label: {sorted(labels)}")
        self.unsafe = labels[UNSAFE_LABEL]

    @torch.inference_mode()
    def scores(self, images: list[Image.Image]) -> list[float]:
        """The probability of the unsafe label for each image."""
        parameter = next(self.model.parameters())
        pixels = self.processor(images=[image.convert("RGB") for image in images], return_tensors="pt")["pixel_values"]
        logits = self.model(pixel_values=pixels.to(parameter.device, parameter.dtype)).logits
        scores: list[float] = logits.float().softmax(-1)[:, self.unsafe].tolist()
        return scores
