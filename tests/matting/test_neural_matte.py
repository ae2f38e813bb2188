"""The neural matte: loaded from the cache by the production loader, the same answers as transformers'
own calls, the classical cut-out's Cutout form, and the fallback when its weights are not pulled."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from transformers import Sam2Config, Sam2Model, Sam2Processor, Sam2VideoModel, VitMatteImageProcessorPil

from fixtures.matting import architectures as arch
from shopshot.config import MatteSettings
from shopshot.errors import NoProductFound
from shopshot.pipeline.gallery import sample_product
from shopshot.pipeline.matte import product_candidates, product_cutout
from shopshot.pipeline.matting.loading import load_matte
from shopshot.pipeline.matting.neural import NeuralMatte, at_side
from shopshot.pipeline.studio import RenderRequest, StudioBackend

BOXES = [(12.0, 20.0, 70.0, 88.0), (40.0, 8.0, 90.0, 60.0)]


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return sample_product().resize((96, 120), Image.Resampling.LANCZOS)


@pytest.fixture(scope="module")
def random_matte(random_cache) -> NeuralMatte:
    return load_matte(MatteSettings(device="cpu", dtype="float32", edge_side=96), random_cache)


def test_the_loader_reads_both_checkpoints_from_the_cache(random_matte):
    assert isinstance(random_matte, NeuralMatte)
    assert (
        isinstance(random_matte.segmenter, Sam2Model)
        and random_matte.segmenter.config.prompt_encoder_config.image_size == 128
    )
    assert isinstance(random_matte.processor, VitMatteImageProcessorPil)


def test_the_loader_runs_both_networks_once_before_the_first_photo(random_cache, cpu_settings, monkeypatch):
    calls = []
    for name in ("logits", "alpha"):
        original = getattr(NeuralMatte, name)
        monkeypatch.setattr(
            NeuralMatte,
            name,
            lambda self, *args, _name=name, _original=original: calls.append(_name) or _original(self, *args),
        )
    load_matte(cpu_settings, random_cache)
    assert calls == ["logits", "alpha"]


def test_without_weights_or_switched_off_there_is_no_neural_stage(tmp_path, random_cache):
    assert load_matte(MatteSettings(), tmp_path) is None
    assert load_matte(MatteSettings(neural="off"), random_cache) is None


def _sam_reference(model: Sam2Model, image: Image.Image, boxes: list) -> np.ndarray:
    """Sam2Processor's box coordinates and its image processor's documented steps, written out
    (that processor needs torchvision, which workers do not have): resize to the model's side
    (bilinear), rescale by 1/255, ImageNet mean and std; post_process_masks: bilinear to the photo
    (the logits before its threshold at 0)."""
    side = model.config.prompt_encoder_config.image_size
    # Only the processor's box path runs (no images given), so any image processor stands in for its own.
    processor = Sam2Processor(image_processor=VitMatteImageProcessorPil(), target_size=side)
    inputs = processor(
        input_boxes=[[list(box) for box in boxes]], original_sizes=[[image.height, image.width]], return_tensors="pt"
    )
    pixels = np.asarray(image.resize((side, side), Image.Resampling.BILINEAR), np.float32) / 255
    pixels = (pixels - np.float32([0.485, 0.456, 0.406])) / np.float32([0.229, 0.224, 0.225])
    with torch.inference_mode():
        output = model(
            pixel_values=torch.from_numpy(pixels.transpose(2, 0, 1).copy())[None],
            input_boxes=inputs["input_boxes"],
            multimask_output=False,
        )
    masks = F.interpolate(output.pred_masks[0], (image.height, image.width), mode="bilinear", align_corners=False)
    return masks[:, 0].numpy()


def test_the_segmenter_gives_transformers_own_answer(random_matte, photo):
    expected = _sam_reference(random_matte.segmenter, photo, BOXES)
    logits = random_matte.logits(photo, BOXES)
    assert logits.shape == (2, 120, 96) and 0 < (expected > 0).mean() < 1
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def _trimap(shape: tuple[int, int]) -> np.ndarray:
    trimap = np.zeros(shape, np.uint8)
    trimap[10:-10, 12:-12] = 128
    trimap[20:-20, 24:-24] = 255
    return trimap


def test_the_matting_network_gives_transformers_own_answer(random_matte, photo):
    crop = np.asarray(photo)[5:75, 3:90]  # 70 × 87: padded to 96 × 96 and cropped back
    trimap = _trimap(crop.shape[:2])
    inputs = VitMatteImageProcessorPil()(images=crop, trimaps=trimap, return_tensors="pt")
    with torch.inference_mode():
        expected = random_matte.matting(pixel_values=inputs.pixel_values).alphas[0, 0, :70, :87].numpy()
    np.testing.assert_array_equal(random_matte.alpha(crop, trimap), expected)


def test_bfloat16_answers_close_to_float32(random_cache, random_matte, photo):
    half = load_matte(MatteSettings(device="cpu", dtype="bfloat16", edge_side=96), random_cache)
    assert next(half.segmenter.parameters()).dtype == torch.bfloat16
    crop = np.asarray(photo)[5:75, 3:90]
    trimap = _trimap(crop.shape[:2])
    np.testing.assert_allclose(half.alpha(crop, trimap), random_matte.alpha(crop, trimap), atol=0.03)
    full, reduced = random_matte.logits(photo, BOXES), half.logits(photo, BOXES)
    scale = np.abs(full).max()
    assert np.abs(reduced - full).max() < 0.05 * scale and scale > 0.5
    clear = np.abs(full) > 0.1 * scale  # where the mask is not on a knife's edge, it is the same mask
    assert ((reduced > 0) == (full > 0))[clear].all()


def test_the_same_segmenter_weights_run_at_a_smaller_side(random_matte, photo):
    smaller = Sam2Model(at_side(Sam2Config(**arch.SEGMENTER_TINY), 64)).eval()
    smaller.load_state_dict(random_matte.segmenter.state_dict())  # strict: every weight fits as it is
    stage = NeuralMatte(smaller, random_matte.matting, random_matte.processor)
    logits = stage.logits(photo, BOXES)
    assert logits.shape == (2, 120, 96) and np.isfinite(logits).all()
    assert not np.allclose(logits, random_matte.logits(photo, BOXES))  # it did run at 64, not at 128


@pytest.mark.parametrize(
    ("build", "fields", "published"),
    [
        (
            Sam2VideoModel,
            arch.segmenter_checkpoint_config(arch.SEGMENTER_FULL),
            38.9e6,
        ),  # SAM 2.1 README: hiera-tiny 38.9 M
        (Sam2Model, Sam2Config(**arch.SEGMENTER_FULL), 31.4e6),  # the image path alone: no memory modules
    ],
)
def test_the_full_segmenter_has_the_published_size(build, fields, published):
    with torch.device("meta"):
        model = build(fields)
    assert abs(sum(p.numel() for p in model.parameters()) - published) < 0.1e6  # the published figures give 0.1 M


def test_the_full_matting_network_has_the_published_size():
    with torch.device("meta"):
        model = arch.matting(arch.MATTING_FULL)
    # The model card's "Model size 25.8M params" (hustvl/vitmatte-small-composition-1k).
    assert abs(sum(p.numel() for p in model.parameters()) - 25.8e6) < 0.05e6


@pytest.fixture(scope="module")
def whole_frame_matte(whole_frame_cache) -> NeuralMatte:
    return load_matte(MatteSettings(device="cpu", dtype="float32", edge_side=64), whole_frame_cache)


def test_the_cutout_has_the_classical_form(whole_frame_matte, photo):
    cutout = whole_frame_matte(photo, ((0.25, 0.2, 0.75, 0.8),))
    x0, y0, x1, y1 = cutout.box
    assert cutout.image_size == (96, 120) and 0 <= x0 < x1 <= 96 and 0 <= y0 < y1 <= 120
    assert cutout.alpha.dtype == np.float32 and cutout.alpha.shape == cutout.protect.shape == (y1 - y0, x1 - x0)
    assert cutout.alpha.min() >= 0 and cutout.alpha.max() == 1.0
    assert cutout.protect.any() and (cutout.alpha[cutout.protect] == 1.0).all()
    # SAM says "everywhere", and the mask stays near the box (24, 24, 72, 96): the box grown by a
    # tenth of its size and 2 px; the edge band (3 px here) reaches past that.
    ys, xs = np.nonzero(cutout.alpha == 1)
    assert xs.min() + x0 >= 24 - 4.8 - 2 and xs.max() + x0 < 72 + 4.8 + 2
    assert ys.min() + y0 >= 24 - 7.2 - 2 and ys.max() + y0 < 96 + 7.2 + 2
    assert x0 >= int(24 - 4.8 - 2) - 3 and y1 <= np.ceil(96 + 7.2 + 2) + 3
    assert cutout.foreground is None and cutout.background.sigma > 0


def test_the_entry_point_estimates_the_product_s_colour_under_the_neural_matte(whole_frame_matte, photo):
    kept = ((0.25, 0.2, 0.75, 0.8),)
    bare, cutout = whole_frame_matte(photo, kept), product_cutout(photo, kept, neural=whole_frame_matte)
    x0, y0, x1, y1 = cutout.box
    assert cutout.box == bare.box and cutout.foreground.shape == (y1 - y0, x1 - x0, 3)
    solid = cutout.alpha == 1  # where the matte is sure, the estimate is the photo itself
    assert np.abs(cutout.foreground[solid] - np.asarray(photo, np.float32)[y0:y1, x0:x1][solid]).max() < 1


class Recording:
    """The loaded stage, recording the box prompts of each call."""

    def __init__(self, stage):
        self.stage, self.prompts = stage, []

    def __call__(self, image, boxes):
        self.prompts.append(boxes)
        return self.stage(image, boxes)


def test_the_matte_entry_point_prompts_with_the_seller_s_boxes_else_the_classical_candidates(whole_frame_matte, photo):
    stage = Recording(whole_frame_matte)
    kept = ((0.5, 0.5, 0.9, 0.9),)
    product_cutout(photo, kept, neural=stage)
    product_cutout(photo, neural=stage)
    assert stage.prompts == [kept, tuple(candidate.box for candidate in product_candidates(photo))]


def test_a_photo_without_a_classical_candidate_is_prompted_in_its_middle(whole_frame_matte):
    stage = Recording(whole_frame_matte)
    with pytest.raises(NoProductFound):  # this SAM's mask fills the grown box: the whole frame, no product
        product_cutout(Image.new("RGB", (96, 120), (200, 200, 200)), neural=stage)
    assert stage.prompts == [((0.1, 0.1, 0.9, 0.9),)]


def test_the_studio_backend_uses_the_neural_matte_when_pulled(whole_frame_cache, cpu_settings, photo):
    backend = StudioBackend(cpu_settings, whole_frame_cache)
    backend.setup()
    assert isinstance(backend.neural, NeuralMatte)
    # The first ETA counts the stage on one core: 5.5 s at SAM's 1024 px, this tiny SAM's 128 px its 1/64.
    assert backend.typical_job_s == pytest.approx(StudioBackend.typical_job_s + 5.5 / 64)
    backend.neural = Recording(backend.neural)
    [result] = list(backend.run(RenderRequest(photo, "white", "1:1", 1, 3)))
    assert len(backend.neural.prompts) == 1 and result.image.size[0] >= 96


def test_the_studio_backend_falls_back_to_the_classical_cutout(tmp_path, cpu_settings, photo):
    backend = StudioBackend(cpu_settings, tmp_path)
    backend.setup()
    assert backend.neural is None and backend.typical_job_s == StudioBackend.typical_job_s
    [result] = list(backend.run(RenderRequest(photo, "white", "1:1", 1, 3)))
    assert result.image.size[0] >= 96
