import numpy as np
import pytest

from shopshot.errors import InvalidOption
from shopshot.pipeline.studio import RenderRequest, StudioBackend
from tests.diffusion.conftest import STEPS
from tests.pipeline.conftest import assert_product_kept


def _request(image, **changes) -> RenderRequest:
    fields = {"preset": "podium", "ratio": "4:5", "variants": 1, "seed": 5} | changes
    return RenderRequest(image, **fields)


def _assert_protected(result, source):
    assert result.scale > 1  # the 160×200 mug is enlarged for the 4:5 target, from its own pixels
    assert_product_kept(result, source)


@pytest.mark.parametrize("preset", ["podium", "white"])  # with and without the depth ControlNet
def test_backdrop_keeps_the_product_exactly_at_full_size(backend, product, preset):
    [result] = backend.run(_request(product, preset=preset))
    [studio] = StudioBackend().run(_request(product, preset=preset))
    assert result.image.size == studio.image.size and result.offset == studio.offset  # the studio's layout
    assert result.image.size[0] > 64  # composited at the photo's resolution, not the model's
    assert result.protect.size == result.image.size and result.protect.mode == "L"
    _assert_protected(result, product)


def test_backdrop_outside_the_product_is_generated(backend, product):
    [result] = backend.run(_request(product, preset="white"))
    [studio] = StudioBackend().run(_request(product, preset="white"))
    corner = np.asarray(result.image)[:8, :8].astype(int)
    assert np.abs(corner - np.asarray(studio.image)[:8, :8]).mean() > 3  # the scene is the model's, not the painter's


def test_same_seed_same_bytes_and_variants_differ(backend, product):
    first = backend.run(_request(product, variants=2, seed=9))
    second = backend.run(_request(product, variants=2, seed=9))
    assert [item.seed for item in first] == [9, 10]
    assert [item.image.tobytes() for item in first] == [item.image.tobytes() for item in second]
    assert first[0].image.tobytes() != first[1].image.tobytes()
    for item in first:
        _assert_protected(item, product)


def test_progress_is_reported_per_denoising_step(backend, product):
    seen = []
    backend.run(_request(product, variants=2), progress=seen.append)
    assert len(seen) == 2 * STEPS
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    assert seen[STEPS - 1] == pytest.approx(0.5)


def test_quality_mode_runs_its_own_step_count(backend, product):
    seen = []
    backend.run(_request(product, mode="quality"), progress=seen.append)
    assert len(seen) == STEPS + 1


def test_prompt_extra_changes_the_scene_not_the_product(backend, product):
    [plain] = backend.run(_request(product))
    [extra] = backend.run(_request(product, prompt_extra="with\x00 green\u202e leaves " + "x" * 300))
    assert plain.image.tobytes() != extra.image.tobytes()
    _assert_protected(extra, product)


@pytest.mark.parametrize(
    "changes",
    [
        {"task": "tryon"},
        {"mode": "turbo"},
        {"preset": "moon"},
        {"variants": 3},
        {"task": "model", "model": "nobody"},
        {"task": "mannequin", "model": None},
    ],
)
def test_bad_options_are_rejected_before_any_work(backend, product, changes):
    with pytest.raises(InvalidOption):
        backend.run(_request(product, **changes))
