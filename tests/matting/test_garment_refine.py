"""The neural matte refining a rough region (the person tasks' garment): within a band of it, whatever SAM says."""

import cv2
import numpy as np
import pytest

from fixtures.diffusion import architectures as diffusion_arch
from fixtures.synthetic import synthetic_person
from shopshot.config import MatteSettings
from shopshot.errors import NoProductFound
from shopshot.pipeline.matting.loading import load_matte

REACH = 3
SETTINGS = MatteSettings(device="cpu", dtype="float32", edge_side=64)


@pytest.fixture(scope="module")
def person():
    image, labels = synthetic_person(diffusion_arch.CLOTHES_LABELS)
    garment = np.isin(labels, [diffusion_arch.CLOTHES_LABELS.index(name) for name in ("Upper-clothes", "Pants")])
    return image, garment


@pytest.fixture(scope="module")
def swallowing(whole_frame_cache):
    """SAM answering "product" everywhere: a mask that would swallow the whole person."""
    return load_matte(SETTINGS, whole_frame_cache)


@pytest.fixture(scope="module")
def random_stage(random_cache):
    return load_matte(SETTINGS, random_cache)


def _within(cutout, region: np.ndarray) -> bool:
    """Whether every pixel of the cut-out's alpha above 0 lies in `region` (the photo's size)."""
    x0, y0, x1, y1 = cutout.box
    return not (cutout.alpha > 0)[~region[y0:y1, x0:x1]].any()


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)


def test_a_sam_mask_swallowing_everything_grows_the_garment_by_the_band_at_most(swallowing, person):
    image, garment = person
    near = cv2.dilate(garment.astype(np.uint8), _disk(REACH)) > 0
    refined = swallowing.refine(image, garment, REACH)
    assert refined.image_size == image.size and _within(refined, near)
    x0, y0, x1, y1 = refined.box
    assert refined.alpha.dtype == np.float32 and refined.alpha.shape == refined.protect.shape == (y1 - y0, x1 - x0)
    assert (refined.alpha[refined.protect] == 1).all() and refined.protect.sum() > 0.8 * garment.sum()
    ys, xs = np.nonzero(garment)
    box = (xs.min() / image.width, ys.min() / image.height, (xs.max() + 1) / image.width, (ys.max() + 1) / image.height)
    assert not _within(swallowing(image, (box,)), near)  # the same SAM prompted plainly: it takes the arms too


def test_a_sam_mask_finding_nothing_keeps_the_garment_s_core(swallowing, person, monkeypatch):
    image, garment = person
    monkeypatch.setattr(
        swallowing, "logits", lambda image, boxes: np.full((len(boxes), image.height, image.width), -1.0, np.float32)
    )
    refined = swallowing.refine(image, garment, REACH)
    sure = cv2.erode(garment.astype(np.uint8), _disk(REACH)) > 0
    x0, y0, x1, y1 = refined.box
    assert _within(refined, cv2.dilate(garment.astype(np.uint8), _disk(REACH)) > 0)
    assert refined.protect.sum() > 0.4 * sure.sum() and not refined.protect[~sure[y0:y1, x0:x1]].any()


def test_random_weights_give_a_cutout_of_the_photo_s_form(random_stage, person):
    image, garment = person
    refined = random_stage.refine(image, garment, REACH)
    x0, y0, x1, y1 = refined.box
    assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height
    assert refined.alpha.shape == (y1 - y0, x1 - x0) and refined.alpha.min() >= 0 and refined.alpha.max() <= 1
    assert _within(refined, cv2.dilate(garment.astype(np.uint8), _disk(REACH)) > 0)


def test_an_empty_region_is_no_product(random_stage, person):
    image, garment = person
    with pytest.raises(NoProductFound):
        random_stage.refine(image, np.zeros_like(garment), REACH)
