import numpy as np
import pytest
from PIL import Image

from shopshot.pipeline.diffusion import generation, klein
from shopshot.pipeline.diffusion.backend import DiffusionBackend
from shopshot.pipeline.diffusion.detail import DETAIL_STRENGTH, enlarged, refine, tiles, wanted
from shopshot.pipeline.diffusion.fashion import GARMENT
from shopshot.pipeline.diffusion.masks import upscale
from shopshot.pipeline.studio import RenderRequest
from tests.diffusion.conftest import LABEL, TEST_MODES, klein_settings
from tests.diffusion.test_fashion import DrawnParser
from tests.pipeline.conftest import assert_product_kept


@pytest.fixture
def detailed(backend):
    """The session's loaded tiny models behind a backend with the detail pass on."""
    ready = DiffusionBackend(backend.settings.model_copy(update={"detail": True}), modes=TEST_MODES)
    ready.models = backend.models
    return ready


def _moved(pixels: np.ndarray, inputs) -> float:
    """How far a generation moved the pixels it was asked to repaint, on average."""
    repaint = np.asarray(inputs.mask_image) > 0
    return np.abs(pixels[repaint] - np.asarray(inputs.image, np.float32)[repaint]).mean()


@pytest.fixture
def calls(monkeypatch):
    """Every generation run, as (size, controlled, strength, how far it moved the repainted pixels), the runs real."""
    seen = []
    real = generation.generate

    def recorded(pipe, inputs, mode, seed, on_step):
        pixels = real(pipe, inputs, mode, seed, on_step)
        moved = _moved(pixels, inputs)
        seen.append((inputs.image.size, inputs.control_image is not None, mode.strength, moved))
        return pixels

    monkeypatch.setattr(generation, "generate", recorded)
    return seen


def test_tiles_are_the_generation_size_and_cover_the_enlarged_frame():
    frame = (64, 48)
    covered = np.zeros(enlarged(frame)[::-1], int)
    for x0, y0, x1, y1 in tiles(frame):
        assert (x1 - x0, y1 - y0) == frame
        covered[y0:y1, x0:x1] += 1
    assert covered.min() == 1 and covered.max() == 4


def test_refine_blends_tiles_back_seamlessly_and_skips_tiles_with_nothing_to_repaint():
    frame = (64, 48)
    pixels = np.random.default_rng(0).uniform(0, 255, (48, 64, 3)).astype(np.float32)
    mask = np.zeros((48, 64), np.uint8)
    mask[:10, :10] = 255  # reaches the top-left tile only
    run = []
    shares = []

    def unchanged(index, image, tile_mask):
        run.append(index)
        return np.asarray(image, np.float32)

    refined = refine(pixels, Image.fromarray(mask), unchanged, shares.append)
    assert refined.shape == (*enlarged(frame)[::-1], 3)
    # Tiles returned as they came (rounded to bytes) give the enlarged image back: the weights sum to one.
    assert run == [0] and np.abs(refined - upscale(pixels, enlarged(frame))).max() <= 0.5 + 1e-3
    assert shares == [0.25, 0.5, 0.75, 1.0]


def test_only_an_enlarged_canvas_gets_the_pass():
    assert wanted((200, 250), (64, 80)) and not wanted((70, 70), (64, 64))


def test_backdrop_detail_pass_repaints_tiles_and_keeps_the_product_exactly(detailed, product, calls):
    seen = []
    [result] = detailed.run(RenderRequest(product, "podium", "4:5", 1, 5), progress=seen.append)
    first, *passes = calls
    assert first[1] and first[2] < 1  # the scene, with the depth ControlNet
    # Tiles of the generation size, without the ControlNet, at low strength, each changing what it repaints.
    assert 1 <= len(passes) <= 4 and all(call[:3] == (first[0], False, DETAIL_STRENGTH) for call in passes)
    assert all(call[3] > 1 for call in passes)
    assert_product_kept(result, product)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


def test_model_swap_detail_pass_keeps_the_garment_exactly(detailed, backend, person, calls, monkeypatch):
    image, label_map = person
    monkeypatch.setattr(backend.models, "clothes", DrawnParser(backend.models.clothes, label_map))
    request = RenderRequest(image, "studio", "3:4", 1, 4, task="model", model="amara")
    [result] = detailed.run(request)
    assert len(calls) > 1 and calls[0][2] == 1.0 and all(call[2] == DETAIL_STRENGTH for call in calls[1:])
    output, source = np.asarray(result.image), np.asarray(image)
    protect = np.asarray(result.protect) == 255
    garment = np.isin(label_map, [LABEL[name] for name in GARMENT])
    assert protect.sum() > 0.5 * garment.sum() and np.array_equal(output[protect], source[protect])


def test_klein_backdrop_detail_pass_repaints_tiles_without_a_reference_and_keeps_the_product(
    klein_models, tiny_klein, product, monkeypatch
):
    backend = DiffusionBackend(klein_settings(tiny_klein[1], face_pass=False))  # the production modes, detail on
    backend.models = klein_models
    calls = []
    real = klein.generate_klein

    def recorded(pipe, inputs, mode, seed, on_step):
        pixels = real(pipe, inputs, mode, seed, on_step)
        moved = _moved(pixels, inputs)
        calls.append((inputs.image.size, inputs.reference is not None, mode.strength, mode.num_inference_steps, moved))
        return pixels

    monkeypatch.setattr(klein, "generate_klein", recorded)
    [result] = backend.run(RenderRequest(product, "white", "4:5", 1, 5))
    first, *passes = calls
    assert first[1:4] == (True, 1.0, 4)  # the product as the reference, the distilled 4 steps from noise
    # Tiles of the generation size, no reference, the tail of the same 4-step schedule at the detail strength.
    assert 1 <= len(passes) <= 4 and all(call[:4] == (first[0], False, DETAIL_STRENGTH, 4) for call in passes)
    assert all(call[4] > 1 for call in passes)
    assert_product_kept(result, product)
