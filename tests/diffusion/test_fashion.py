import cv2
import numpy as np
import pytest
from PIL import Image

from shopshot.config import MatteSettings
from shopshot.errors import NoProductFound
from shopshot.pipeline.diffusion import generation
from shopshot.pipeline.diffusion.fashion import GARMENT, HEAD
from shopshot.pipeline.diffusion.garment import REACH_SHARE
from shopshot.pipeline.diffusion.perception import ClothesParser
from shopshot.pipeline.matting.loading import load_matte
from shopshot.pipeline.studio import RenderRequest
from tests.diffusion.conftest import LABEL, STEPS
from tests.matting.conftest import matte_cache
from tests.pipeline.conftest import assert_product_kept
from tests.pipeline.see_through_photos import Pastes


class DrawnParser(ClothesParser):
    """The real parser's label names and masks, over a label map drawn with the test figure.

    The tiny SegFormer has random weights, so its labels are noise; this keeps the tasks' own mask
    logic under test with labels whose meaning is known.
    """

    def __init__(self, real: ClothesParser, label_map: np.ndarray) -> None:
        super().__init__(real.model)
        self.label_map = label_map

    def __call__(self, image: Image.Image) -> np.ndarray:
        return self.label_map


@pytest.fixture
def drawn(backend, person, monkeypatch):
    image, label_map = person
    monkeypatch.setattr(backend.models, "clothes", DrawnParser(backend.models.clothes, label_map))
    return image, label_map


def _request(image, task, **changes) -> RenderRequest:
    fields = {"preset": "studio", "ratio": "3:4", "variants": 1, "seed": 4, "task": task, "model": "amara"} | changes
    return RenderRequest(image, **fields)


def test_the_real_clothes_parser_labels_every_pixel(backend, person):
    image, _ = person
    labels = backend.models.clothes(image)
    assert labels.shape == (image.height, image.width) and labels.dtype == np.uint8
    assert labels.max() < len(LABEL)


def assert_pasted_through_its_matte(result, paste) -> None:
    """The paste the backdrop task makes: the garment's edge is a·F + (1 − a)·N over the generated
    scene N with the matte's own foreground F, its solid part the photo's pixels, `protect` exactly."""
    scene, pixels, cutout, origin = paste
    x0, y0, x1, y1 = cutout.box
    assert origin == (x0, y0) and cutout.foreground is not None
    alpha = cutout.alpha[..., None]
    expected = alpha * cutout.foreground + (1 - alpha) * scene[y0:y1, x0:x1]
    output = np.asarray(result.image)[y0:y1, x0:x1].astype(np.float32)
    partial = (cutout.alpha > 0) & (cutout.alpha < 1)
    assert partial.sum() > 50 and np.abs(output[partial] - expected[partial]).max() <= 0.5 + 1e-3  # rounding only
    solid = cutout.alpha >= 1
    assert np.array_equal(output[solid], pixels[y0:y1, x0:x1][solid])
    assert_product_kept(result, Image.fromarray(pixels))


@pytest.mark.parametrize("task", ["model", "mannequin"])
def test_the_garment_is_kept_exactly_and_the_rest_regenerated(backend, drawn, task, monkeypatch):
    image, label_map = drawn
    seen = []
    pastes = Pastes(monkeypatch)
    [result] = backend.run(_request(image, task), progress=seen.append)
    [paste] = pastes.calls
    assert_pasted_through_its_matte(result, paste)
    output, source = np.asarray(result.image), np.asarray(image)
    protect = np.asarray(result.protect) == 255
    garment = np.isin(label_map, [LABEL[name] for name in GARMENT])
    assert result.image.size == image.size and result.offset == (0, 0)
    assert protect.sum() > 0.5 * garment.sum() and not (protect & ~garment).any()
    assert np.array_equal(output[protect], source[protect])
    face = label_map == LABEL["Face"]
    assert np.abs(output[face].astype(int) - source[face]).mean() > 3  # a new face
    assert len(seen) == STEPS and seen[-1] == pytest.approx(1.0)


def test_model_swap_keeps_the_background_and_mannequin_repaints_it(backend, drawn):
    image, _label_map = drawn
    corner = np.s_[-12:, :12]  # background, away from the figure
    [swapped] = backend.run(_request(image, "model"))
    [dressed] = backend.run(_request(image, "mannequin"))
    assert np.array_equal(np.asarray(swapped.image)[corner], np.asarray(image)[corner])
    assert not np.array_equal(np.asarray(dressed.image)[corner], np.asarray(image)[corner])


def test_same_seed_same_person(backend, drawn):
    image, _ = drawn
    first = backend.run(_request(image, "model", variants=2))
    second = backend.run(_request(image, "model", variants=2))
    assert [item.image.tobytes() for item in first] == [item.image.tobytes() for item in second]
    assert first[0].image.tobytes() != first[1].image.tobytes()


def test_model_swap_repaints_room_for_new_hair(backend, drawn):
    image, label_map = drawn
    [result] = backend.run(_request(image, "model"))
    head = np.isin(label_map, [LABEL[name] for name in HEAD])
    above = np.zeros_like(head)
    above[2:8, 46:74] = True  # just above the drawn hair: background that new hair may fill
    assert not head[above].any()
    assert not np.array_equal(np.asarray(result.image)[above], np.asarray(image)[above])


def test_no_garment_is_no_product(backend, person, monkeypatch):
    image, label_map = person
    monkeypatch.setattr(backend.models, "clothes", DrawnParser(backend.models.clothes, np.zeros_like(label_map)))
    with pytest.raises(NoProductFound):
        backend.run(_request(image, "model"))


@pytest.mark.parametrize("task", ["model", "mannequin"])
def test_nothing_of_the_old_person_survives_in_the_repainted_area(backend, drawn, task, monkeypatch):
    # Two photos that differ only inside the face (well inside the repaint area), with the same depth:
    # a generation that starts from pure noise there makes the same picture from both.
    image, _ = drawn
    other = np.asarray(image).copy()
    other[20:40, 50:70] = (250, 200, 170)  # another person's face
    monkeypatch.setattr(backend.models, "depth", lambda source, size: Image.new("RGB", size, (128, 128, 128)))
    made = []

    def recorded(*args, **kwargs):
        made.append(real_generate(*args, **kwargs))
        return made[-1]

    real_generate = generation.generate
    monkeypatch.setattr(generation, "generate", recorded)
    for photo in (image, Image.fromarray(other)):
        backend.run(_request(photo, task))
    first, second = made
    assert np.array_equal(first, second)


def test_a_photo_between_generation_aspects_is_fitted_unstretched_and_cut_back(backend, person, monkeypatch):
    image, label_map = person
    wide = np.pad(np.asarray(image), ((0, 0), (20, 20), (0, 0)), mode="edge")  # 160×200: 4:5, generated at 64×64
    labels = np.pad(label_map, ((0, 0), (20, 20)), mode="edge")
    monkeypatch.setattr(backend.models, "clothes", DrawnParser(backend.models.clothes, labels))
    sizes = []

    def recorded(pipe, inputs, *args):
        sizes.append(inputs.image.size)
        return real_generate(pipe, inputs, *args)

    real_generate = generation.generate
    monkeypatch.setattr(generation, "generate", recorded)
    [result] = backend.run(_request(Image.fromarray(wide), "model"))
    protect = np.asarray(result.protect) == 255
    assert sizes == [(64, 64)] and result.image.size == (160, 200)
    assert protect.any() and np.array_equal(np.asarray(result.image)[protect], wide[protect])
    corner = np.s_[-12:, :12]  # background, kept by a model swap
    assert np.array_equal(np.asarray(result.image)[corner], wide[corner])


@pytest.fixture(scope="module")
def swallowing_matte(tmp_path_factory):
    """The neural matte with a SAM answering "product" everywhere: a mask that would take the whole person."""
    cache = matte_cache(tmp_path_factory.mktemp("matte-whole"), whole_frame=True)
    return load_matte(MatteSettings(device="cpu", dtype="float32", edge_side=64), cache)


def test_the_neural_matte_refines_the_garment_within_a_band_of_the_parser_s(
    backend, drawn, swallowing_matte, monkeypatch
):
    # Mannequin: the scene under the whole edge is generated (the same refinement serves the model swap).
    image, label_map = drawn
    monkeypatch.setattr(backend, "neural", swallowing_matte)
    pastes = Pastes(monkeypatch)
    [result] = backend.run(_request(image, "mannequin"))
    [paste] = pastes.calls
    cutout = paste[2]
    assert_pasted_through_its_matte(result, paste)
    garment = np.isin(label_map, [LABEL[name] for name in GARMENT]).astype(np.uint8)
    reach = max(2, round(REACH_SHARE * max(image.size)))
    near = cv2.dilate(garment, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)) > 0
    x0, y0, x1, y1 = cutout.box
    assert not (cutout.alpha > 0)[~near[y0:y1, x0:x1]].any()
    assert (cutout.alpha > 0)[
        ~garment[y0:y1, x0:x1].astype(bool)
    ].any()  # it did refine: SAM's mask ran past the parser's
