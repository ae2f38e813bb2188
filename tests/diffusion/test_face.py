"""The face pass of the person tasks (`face.py`), on both stacks' tiny models."""

import numpy as np
import pytest

from shopshot.pipeline.diffusion import generation, klein
from shopshot.pipeline.diffusion.backend import DiffusionBackend
from shopshot.pipeline.diffusion.face import FACE_MARGIN, FACE_RING, FACE_STRENGTH, face_box, retouch
from shopshot.pipeline.diffusion.fashion import GARMENT
from shopshot.pipeline.diffusion.masks import grow
from shopshot.pipeline.studio import RenderRequest
from tests.diffusion.conftest import LABEL, TEST_MODES, klein_settings
from tests.diffusion.test_fashion import DrawnParser


def test_the_face_box_is_a_square_around_the_face_inside_the_image():
    face = np.zeros((100, 80), bool)
    face[4:24, 60:76] = True  # 16 wide, 20 high, near the top-right corner
    x0, y0, x1, y1 = face_box(face)
    assert x1 - x0 == y1 - y0 == round(FACE_MARGIN * 20)
    assert x0 >= 0 and y0 >= 0 and x1 <= 80 and y1 <= 100  # shifted in, not cut
    assert face[y0:y1, x0:x1].sum() == face.sum()
    speck = np.zeros((100, 80), bool)
    speck[50:52, 50:52] = True
    assert face_box(speck) is None and face_box(np.zeros((100, 80), bool)) is None


def test_retouch_lays_the_new_face_back_only_where_the_plan_repaints():
    pixels = np.full((100, 100, 3), 100.0, np.float32)
    face = np.zeros((100, 100), bool)
    face[30:60, 30:60] = True
    generate = np.ones((100, 100), bool)
    generate[55:, :] = False  # the garment's kept core begins under the chin
    box = face_box(face)
    seen = []

    def run(image, mask):
        seen.append((image.size, np.asarray(mask) > 0))
        return np.full((64, 64, 3), 200.0, np.float32)

    result = retouch(pixels, face, generate, box, (64, 64), run)
    [(size, mask)] = seen
    assert size == (64, 64) and mask.any() and not mask.all()
    changed = np.abs(result - pixels).max(axis=2) > 0
    ring = max(1, round(FACE_RING * (box[2] - box[0])))
    assert changed.any() and not (changed & ~(grow(face, ring) & generate)).any()
    assert result[40, 45] == pytest.approx([200, 200, 200], abs=1)  # the face's middle is the new face


def _person(image, task: str) -> RenderRequest:
    return RenderRequest(image, preset="studio", ratio="3:4", variants=1, seed=4, task=task, model="amara")


def _assert_the_pass_ran_on_the_face(image, label_map, with_pass, without_pass, first, face) -> None:
    """The face call: the face's box enlarged past the first pass's pixels; the output differs from the one without
    the pass only in that box; the garment kept exactly."""
    drawn_face = label_map == LABEL["Face"]
    x0, y0, x1, y1 = face_box(drawn_face)
    first_scale = (
        first["size"][0] / image.width
    )  # the photo fills the first pass's frame across (the margin is above and below)
    assert face["strength"] == FACE_STRENGTH and face["size"][0] == face["size"][1]
    assert face["size"][0] / (x1 - x0) > 2 * first_scale  # the face regenerated at more than twice the resolution
    output, plain, source = (np.asarray(item).astype(int) for item in (with_pass.image, without_pass.image, image))
    protect = np.asarray(with_pass.protect) == 255
    garment = np.isin(label_map, [LABEL[name] for name in GARMENT])
    assert protect.sum() > 0.5 * garment.sum() and np.array_equal(output[protect], source[protect])
    changed = np.abs(output - plain).max(axis=2) > 0
    assert changed[drawn_face].mean() > 0.5 and not (changed & protect).any()
    changed[y0:y1, x0:x1] = False
    assert not changed.any()  # nothing outside the face's box moved


@pytest.fixture
def sdxl_calls(monkeypatch):
    """Every SDXL generation: size, strength, whether depth-guided, how many image pixels the mask covers."""
    seen = []
    real = generation.generate

    def recorded(pipe, inputs, mode, seed, on_step):
        seen.append(
            {
                "size": inputs.image.size,
                "strength": mode.strength,
                "control": inputs.control_image is not None,
                "masked": (np.asarray(inputs.mask_image) > 0).sum(),
            }
        )
        return real(pipe, inputs, mode, seed, on_step)

    monkeypatch.setattr(generation, "generate", recorded)
    return seen


@pytest.mark.parametrize("task", ["model", "mannequin"])
def test_sdxl_person_tasks_repaint_the_face_enlarged_and_keep_the_garment(
    backend, person, sdxl_calls, monkeypatch, task
):
    image, label_map = person
    monkeypatch.setattr(backend.models, "clothes", DrawnParser(backend.models.clothes, label_map))
    faced = DiffusionBackend(backend.settings.model_copy(update={"face_pass": True}), modes=TEST_MODES)
    faced.models = backend.models
    seen = []
    [with_pass] = faced.run(_person(image, task), progress=seen.append)
    first, face = sdxl_calls
    [without_pass] = backend.run(_person(image, task))
    assert len(sdxl_calls) == 3 and sdxl_calls[2] == first  # the run without the pass: the first pass alone
    assert not face["control"] and seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    _assert_the_pass_ran_on_the_face(image, label_map, with_pass, without_pass, first, face)


def test_no_face_in_the_generated_image_no_pass(backend, person, sdxl_calls, monkeypatch):
    image, label_map = person
    faceless = np.where(label_map == LABEL["Face"], LABEL["Background"], label_map).astype(np.uint8)
    monkeypatch.setattr(backend.models, "clothes", DrawnParser(backend.models.clothes, faceless))
    faced = DiffusionBackend(backend.settings.model_copy(update={"face_pass": True}), modes=TEST_MODES)
    faced.models = backend.models
    seen = []
    faced.run(_person(image, "model"), progress=seen.append)
    assert len(sdxl_calls) == 1 and seen[-1] == pytest.approx(1.0)


@pytest.fixture
def klein_faced(klein_models, tiny_klein):
    """A klein backend with the production modes and the face pass, the detail pass off (it has its own tests)."""
    ready = DiffusionBackend(klein_settings(tiny_klein[1], detail=False))
    ready.models = klein_models
    return ready


@pytest.mark.parametrize("task", ["model", "mannequin"])
def test_klein_person_tasks_repaint_the_face_enlarged_and_keep_the_garment(klein_faced, person, monkeypatch, task):
    image, label_map = person
    monkeypatch.setattr(klein_faced.models, "clothes", DrawnParser(klein_faced.models.clothes, label_map))
    seen = []
    real = klein.generate_klein

    def recorded(pipe, inputs, mode, seed, on_step):
        seen.append(
            {
                "size": inputs.image.size,
                "strength": mode.strength,
                "reference": inputs.reference is not None,
                "steps": mode.steps,
                "asked": mode.num_inference_steps,
            }
        )
        return real(pipe, inputs, mode, seed, on_step)

    monkeypatch.setattr(klein, "generate_klein", recorded)
    [with_pass] = klein_faced.run(_person(image, task))
    plain = DiffusionBackend(klein_faced.settings.model_copy(update={"face_pass": False}))
    plain.models = klein_faced.models
    [without_pass] = plain.run(_person(image, task))
    first, face, again = seen
    assert again == first and first["reference"] and not face["reference"]
    assert (face["steps"], face["asked"]) == (2, 4)  # the last two of the distilled four
    _assert_the_pass_ran_on_the_face(image, label_map, with_pass, without_pass, first, face)
