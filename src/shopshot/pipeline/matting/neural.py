"""The neural product matte: SAM 2.1 finds the product from box prompts, ViTMatte solves its edge.

1. SAM 2.1 (`Sam2Model`, image path) at its native side (1024 px), or the operator's `segment_side`:
   one mask per box prompt, upsampled to the photo as `Sam2Processor.post_process_masks` does; their
   union, kept near the boxes (a mask that runs off across the table is not the product).
2. A trimap on the product's crop, scaled so its long side is at most `edge_side`: the mask eroded is
   known product, a band across its outline is unknown, the rest known background.
3. ViTMatte on that crop, through its own (PIL) image processor: alpha in the band.
4. At full size: alpha exactly 1 in the known core, ViTMatte's alpha (bilinear) in the band, 0
   outside; `protect` is the core eroded a little, the background model fitted from the photo's
   border as the classical cut-out fits it.
`refine` starts from a rough region another model found instead of boxes (the person tasks'
garment): SAM, prompted with its parts' boxes, may move its outline only within a band; then 2-4.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from transformers import (
    AutoImageProcessor,
    Sam2Config,
    Sam2HieraDetConfig,
    Sam2Model,
    Sam2PromptEncoderConfig,
    Sam2VisionConfig,
    VitMatteForImageMatting,
    VitMatteImageProcessorPil,
)

from shopshot.config import MatteSettings
from shopshot.errors import NoProductFound
from shopshot.pipeline.cutout import WORK_SIDE, BackgroundModel, Cutout, fit_background
from shopshot.pipeline.devices import resolve_device, resolve_dtype
from shopshot.pipeline.diffusion.registry import ModelSpec
from shopshot.pipeline.matte import NormBox

# SAM's mask may reach this share of a prompt box's size past it (a handle the box cut), no farther.
_BOX_MARGIN = 0.1
# The product covers this share of the frame at least and at most, as the classical cut-out asks.
_MIN_SHARE, _MAX_SHARE = 0.003, 0.97
# The unknown band's half-width, as a share of the working long side (about 10 px at 512).
_BAND = 0.02
_PROTECT_SHRINK = 2
# A part of a rough mask under this share of its largest part is a speck: not worth a prompt.
_SPECK = 0.01
# SAM's own normalisation (Sam2ImageProcessor: ImageNet mean and std).
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


@dataclass
class NeuralMatte:
    """The two networks and ViTMatte's processor, loaded once per worker; called per photo."""

    segmenter: Sam2Model
    matting: VitMatteForImageMatting
    processor: VitMatteImageProcessorPil  # from the checkpoint's preprocessor_config.json
    edge_side: int = 512

    @property
    def side(self) -> int:
        """SAM's input side in pixels (its cost grows with its square)."""
        prompt = self.segmenter.config.prompt_encoder_config
        assert isinstance(prompt, Sam2PromptEncoderConfig)  # Sam2Config builds its parts from dicts
        assert isinstance(prompt.image_size, int)  # the prompt encoder's side is one number (at_side sets it so)
        return prompt.image_size

    @property
    def device(self) -> torch.device:
        """Where both networks run."""
        return next(self.segmenter.parameters()).device

    def warm_up(self) -> None:
        """Run both networks once on a blank photo, so a worker's first seller does not pay the first run's one-off costs
        (the bot waits for an intake answer only `LIMITS__INTAKE_ANALYSIS_S`)."""
        side = min(self.edge_side, 64)
        blank = np.full((side, side, 3), 128, np.uint8)
        square = np.zeros((side, side), bool)
        square[side // 4 : 3 * side // 4, side // 4 : 3 * side // 4] = True
        self.logits(Image.fromarray(blank), [(side / 4, side / 4, 3 * side / 4, 3 * side / 4)])
        self.alpha(blank, _trimap(square, max(1, side // 16)))

    def __call__(self, image: Image.Image, boxes: tuple[NormBox, ...]) -> Cutout:
        """The product inside the box prompts (shares of the frame) as a Cutout; NoProductFound when SAM finds none."""
        pixels = np.asarray(image)
        height, width = pixels.shape[:2]
        prompts = [(x0 * width, y0 * height, x1 * width, y1 * height) for x0, y0, x1, y1 in boxes]
        mask = (self.logits(image, prompts) > 0).any(axis=0) & _near(prompts, (width, height))
        if not _MIN_SHARE <= mask.mean() <= _MAX_SHARE:
            raise NoProductFound()
        return self._matte(pixels, mask)

    def refine(self, image: Image.Image, rough: np.ndarray, reach: int) -> Cutout:
        """A region another model found roughly (bool, the photo's size: the clothes parser's garment)
        as a Cutout: SAM, prompted with each part's box, moves its outline by at most `reach` pixels
        either way, and ViTMatte's edge stays within `reach` of it too. A wrong SAM mask (the whole
        person) thus costs at most that band."""
        shape = rough.astype(np.uint8)
        near, sure = cv2.dilate(shape, _disk(reach)) > 0, cv2.erode(shape, _disk(reach)) > 0
        found = (self.logits(image, _part_boxes(rough)) > 0).any(axis=0)
        cutout = self._matte(np.asarray(image), (found & near) | sure)
        x0, y0, x1, y1 = cutout.box
        cutout.alpha[~near[y0:y1, x0:x1]] = 0  # the matted band reaches past the mask's outline
        return cutout

    def _matte(self, pixels: np.ndarray, mask: np.ndarray) -> Cutout:
        """The Cutout of a full-size mask: its edge solved on its crop."""
        if not mask.any():
            raise NoProductFound()
        x0, y0, x1, y1 = _crop_box(mask)
        return self._cutout(pixels, mask[y0:y1, x0:x1], (x0, y0, x1, y1))

    def logits(self, image: Image.Image, boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
        """SAM's mask logits (N×H×W float32, product above 0) for each box prompt (x0, y0, x1, y1 in the photo's pixels)."""
        side = self.side
        width, height = image.size
        pixel_values = _sam_pixels(image, side)
        input_boxes = torch.tensor([boxes], dtype=torch.float32) * torch.tensor([side / width, side / height] * 2)
        parameter = next(self.segmenter.parameters())
        with torch.inference_mode():
            output = self.segmenter(
                pixel_values=pixel_values.to(parameter.device, parameter.dtype),
                input_boxes=input_boxes.to(parameter.device),
                multimask_output=False,
            )
            logits = F.interpolate(output.pred_masks[0].float(), (height, width), mode="bilinear", align_corners=False)
        return logits[:, 0].cpu().numpy()

    def alpha(self, crop: np.ndarray, trimap: np.ndarray) -> np.ndarray:
        """ViTMatte's alpha (float32, crop's size) for an RGB crop and its trimap (0 background, 128 unknown, 255 product)."""
        # BaseImageProcessor.__call__ is typed without the keywords it passes on to preprocess.
        inputs = self.processor(images=crop, trimaps=trimap, return_tensors="pt")  # type: ignore[call-arg]
        parameter = next(self.matting.parameters())
        with torch.inference_mode():
            alphas = self.matting(pixel_values=inputs.pixel_values.to(parameter.device, parameter.dtype)).alphas
        alpha: np.ndarray = alphas[0, 0, : crop.shape[0], : crop.shape[1]].float().cpu().numpy()
        return alpha

    def _cutout(self, pixels: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int]) -> Cutout:
        """Matte the crop's edge at the working side and assemble the full-size Cutout."""
        x0, y0, x1, y1 = box
        crop = pixels[y0:y1, x0:x1]
        scale = min(1.0, self.edge_side / max(crop.shape[:2]))
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        band = max(2, round(_BAND * max(size)))
        small_mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        edge = self.alpha(small, _trimap(small_mask, band))
        alpha = cv2.resize(edge, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_LINEAR)
        core, background = _trimap_masks(mask, max(1, round(band / scale)))
        alpha = np.where(core, 1.0, np.where(background, 0.0, np.clip(alpha, 0, 1))).astype(np.float32)
        protect = cv2.erode(core.astype(np.uint8), _disk(_PROTECT_SHRINK)) > 0
        return _trimmed(alpha, protect, box, _background(pixels), (pixels.shape[1], pixels.shape[0]))


def build_matte(
    segmenter_spec: ModelSpec, matting_spec: ModelSpec, settings: MatteSettings, cache_dir: Path | None
) -> NeuralMatte:
    """Load both checkpoints from the cache (nothing downloaded) onto the configured device and dtype."""
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype, device)
    config = Sam2Config.from_pretrained(**_source(segmenter_spec, cache_dir))
    if settings.segment_side is not None:
        config = at_side(config, settings.segment_side)
    # PreTrainedModel.to's decorator hides its signature from mypy (it reads the device as `self`).
    segmenter = Sam2Model.from_pretrained(**_source(segmenter_spec, cache_dir), config=config, dtype=dtype)
    segmenter = segmenter.to(device).eval()  # type: ignore[arg-type]
    matting = VitMatteForImageMatting.from_pretrained(**_source(matting_spec, cache_dir), dtype=dtype)
    matting = matting.to(device).eval()  # type: ignore[arg-type]
    # The PIL processor on every machine: the torchvision one is not installed on every worker.
    processor = AutoImageProcessor.from_pretrained(**_source(matting_spec, cache_dir), backend="pil")
    return NeuralMatte(segmenter, matting, processor, settings.edge_side)


def at_side(config: Sam2Config, side: int) -> Sam2Config:
    """SAM's config for a `side` × `side` input: the same weights (Hiera interpolates its position
    embedding, the prompt encoder's is in normalised coordinates), feature maps at strides 4, 8, 16."""
    vision, prompt = config.vision_config, config.prompt_encoder_config
    assert isinstance(vision, Sam2VisionConfig) and isinstance(prompt, Sam2PromptEncoderConfig)  # built from dicts
    assert isinstance(vision.backbone_config, Sam2HieraDetConfig)
    vision.backbone_config.image_size = [side, side]
    vision.backbone_feature_sizes = [[side // stride] * 2 for stride in (4, 8, 16)]
    prompt.image_size = side
    return config


def _source(spec: ModelSpec, cache_dir: Path | None) -> dict[str, Any]:
    return {
        "pretrained_model_name_or_path": spec.repo_id,
        "revision": spec.revision,
        "cache_dir": cache_dir,
        "local_files_only": True,
    }


def _sam_pixels(image: Image.Image, side: int) -> torch.Tensor:
    """The photo as Sam2ImageProcessor prepares it: resized to side × side (bilinear), rescaled, ImageNet-normalised."""
    resized = np.asarray(image.resize((side, side), Image.Resampling.BILINEAR), dtype=np.float32) / 255
    return torch.from_numpy(((resized - _MEAN) / _STD).transpose(2, 0, 1).copy())[None]


def _near(boxes: list[tuple[float, float, float, float]], size: tuple[int, int]) -> np.ndarray:
    """Pixels within every prompt box grown by _BOX_MARGIN of its size (their union)."""
    width, height = size
    near = np.zeros((height, width), bool)
    for x0, y0, x1, y1 in boxes:
        grow_x, grow_y = _BOX_MARGIN * (x1 - x0) + 2, _BOX_MARGIN * (y1 - y0) + 2
        near[
            max(0, int(y0 - grow_y)) : int(np.ceil(y1 + grow_y)), max(0, int(x0 - grow_x)) : int(np.ceil(x1 + grow_x))
        ] = True
    return near


def _part_boxes(mask: np.ndarray) -> list[tuple[float, float, float, float]]:
    """A box prompt (x0, y0, x1, y1, pixels) per part of the mask; specks under _SPECK of the largest get none."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        raise NoProductFound()
    floor = _SPECK * stats[1:, cv2.CC_STAT_AREA].max()
    return [
        (float(left), float(top), float(left + cols), float(top + rows))
        for left, top, cols, rows, area in stats[1:]
        if area >= floor
    ]


def _crop_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """The mask's bounding box with room for the unknown band around it."""
    ys, xs = np.nonzero(mask)
    height, width = mask.shape
    pad = max(4, round(2 * _BAND * max(xs.max() - xs.min(), ys.max() - ys.min())))
    return (
        max(0, int(xs.min()) - pad),
        max(0, int(ys.min()) - pad),
        min(width, int(xs.max()) + 1 + pad),
        min(height, int(ys.max()) + 1 + pad),
    )


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _trimap_masks(mask: np.ndarray, band: int) -> tuple[np.ndarray, np.ndarray]:
    """The known product (mask eroded by `band`) and the known background (outside it dilated by `band`)."""
    shape = mask.astype(np.uint8)
    return cv2.erode(shape, _disk(band)) > 0, cv2.dilate(shape, _disk(band)) == 0


def _trimap(mask: np.ndarray, band: int) -> np.ndarray:
    """ViTMatte's trimap: 255 known product, 128 unknown, 0 known background."""
    core, background = _trimap_masks(mask, band)
    return np.where(core, 255, np.where(background, 0, 128)).astype(np.uint8)


def _background(pixels: np.ndarray) -> BackgroundModel:
    """The smooth background model from the photo's border, on the classical cut-out's working copy."""
    height, width = pixels.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width))
    small = cv2.resize(
        pixels, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    return fit_background(cv2.GaussianBlur(small, (0, 0), 1.0))


def _trimmed(
    alpha: np.ndarray,
    protect: np.ndarray,
    box: tuple[int, int, int, int],
    background: BackgroundModel,
    size: tuple[int, int],
) -> Cutout:
    """The Cutout cropped to where alpha is non-zero."""
    ys, xs = np.nonzero(alpha)
    if not len(ys):
        raise NoProductFound()
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    x0, y0 = box[:2]
    crop = np.s_[top:bottom, left:right]
    return Cutout(
        (int(x0 + left), int(y0 + top), int(x0 + right), int(y0 + bottom)), alpha[crop], protect[crop], background, size
    )
