"""The two small vision models: clothes parsing (SegFormer) and monocular depth (Depth Anything V2).

Preprocessing is done here with torch (resize, ImageNet normalisation) rather than with the
transformers image processors, whose default (fast) versions need torchvision.
"""

import logging
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

if TYPE_CHECKING:
    from transformers import PreTrainedModel

log = logging.getLogger(__name__)
_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
_SEGMENT_SIDE = 512
_DEPTH_SIDE = 518
# Labels are decided at most this size and then scaled to the photo with nearest-neighbour.
_LABEL_SIDE = 1024


def _pixels(image: Image.Image, size: tuple[int, int], model: torch.nn.Module) -> torch.Tensor:
    """The image resized to `size` (width, height), normalised, on the model's device and dtype."""
    parameter = next(model.parameters())
    tensor = torch.from_numpy(np.asarray(image.convert("RGB").resize(size, Image.Resampling.BICUBIC)).copy())
    tensor = tensor.permute(2, 0, 1).unsqueeze(0).float() / 255
    return ((tensor - _MEAN) / _STD).to(parameter.device, parameter.dtype)


class ClothesParser:
    """Per-pixel clothes and body-part labels (the model's `id2label`) for a photo."""

    def __init__(self, model: "PreTrainedModel", needed: tuple[str, ...] = ()) -> None:
        self.model = model.eval()
        assert model.config.id2label is not None  # a segmenter's config always names its labels
        self.labels = {name: int(index) for index, name in model.config.id2label.items()}
        missing = [name for name in needed if name not in self.labels]
        if missing:  # a parser from another label set: those parts would silently never be found
            log.warning("the clothes parser has no label %s: the tasks never find those parts", ", ".join(missing))

    @torch.inference_mode()
    def __call__(self, image: Image.Image) -> np.ndarray:
        """A uint8 label map the size of `image`."""
        logits = self.model(pixel_values=_pixels(image, (_SEGMENT_SIDE, _SEGMENT_SIDE), self.model)).logits
        scale = min(1.0, _LABEL_SIDE / max(image.size))
        working = (max(1, round(image.height * scale)), max(1, round(image.width * scale)))
        labels = F.interpolate(logits.float(), size=working, mode="bilinear", align_corners=False).argmax(1)[0]
        small = Image.fromarray(labels.to(torch.uint8).cpu().numpy())
        return np.asarray(small.resize(image.size, Image.Resampling.NEAREST))

    def mask(self, labels: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        """Where the label map holds any of these label names (names the model lacks, warned of at setup, are skipped)."""
        return np.isin(labels, [self.labels[name] for name in names if name in self.labels])


class DepthEstimator:
    """Relative depth (near is bright) as an RGB image, the form depth ControlNets were trained on."""

    def __init__(self, model: "PreTrainedModel") -> None:
        self.model = model.eval()
        self.patch = int(model.config.patch_size)

    @torch.inference_mode()
    def __call__(self, image: Image.Image, size: tuple[int, int]) -> Image.Image:
        """Depth of `image`, returned at `size` (width, height)."""
        scale = _DEPTH_SIDE / max(image.size)

        def side(length: int) -> int:
            return max(self.patch, round(length * scale / self.patch) * self.patch)

        pixels = _pixels(image, (side(image.width), side(image.height)), self.model)
        depth = self.model(pixel_values=pixels).predicted_depth.float().unsqueeze(1)
        depth = F.interpolate(depth, size=(size[1], size[0]), mode="bicubic", align_corners=False)[0, 0]
        low, high = depth.min(), depth.max()
        normalised = (depth - low) / torch.clamp(high - low, min=1e-6)
        grey = (normalised * 255).round().to(torch.uint8).cpu().numpy()
        return Image.fromarray(grey).convert("RGB")
