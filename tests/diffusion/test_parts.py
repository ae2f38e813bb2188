import numpy as np
import pytest

from shopshot.errors import InvalidOption
from shopshot.pipeline import compositing
from shopshot.pipeline.diffusion.garment import garment_cutout
from shopshot.pipeline.diffusion.masks import (
    ASPECTS,
    blend_generated,
    fit_box,
    generation_size,
    generation_sizes,
    grow,
    mask_at,
    ring_width,
    shrink,
)
from shopshot.pipeline.diffusion.modes import MODES, Mode, resolve_mode
from shopshot.pipeline.diffusion.prompts import EXTRA_LIMIT, backdrop_prompts, person_prompts, sanitise_extra
from shopshot.pipeline.gallery import badge_box, render_model_gallery
from shopshot.pipeline.people import MODEL_PRESETS, model_preset
from shopshot.pipeline.presets import BACKDROPS, backdrop
from tests.diffusion.conftest import LABEL


def test_extra_text_loses_control_characters_and_is_capped():
    assert sanitise_extra("red\x00 roses\n\u202eand\u200b  moss\t") == "red roses and moss"
    assert len(sanitise_extra("word " * 100)) <= EXTRA_LIMIT
    assert sanitise_extra("  \x07 ") == ""


def test_prompts_carry_the_preset_and_the_sellers_words():
    prompt, negative = backdrop_prompts(backdrop("oak"), "with lemons\x1b")
    assert "with lemons," in prompt and backdrop("oak").prompt in prompt and "\x1b" not in prompt
    assert "watermark" in negative
    prompt, negative = person_prompts(model_preset("mei"), "model", "")
    assert model_preset("mei").prompt in prompt and "nudity" in negative


@pytest.mark.parametrize(
    ("size", "native", "align", "expected"),
    [
        ((3000, 3000), 1024, 64, (1024, 1024)),
        ((900, 1200), 1024, 64, (896, 1152)),
        ((1080, 1920), 1024, 64, (768, 1344)),
        ((400, 500), 64, 16, (64, 64)),
    ],
)
def test_generation_keeps_the_native_pixel_count_and_aspect(size, native, align, expected):
    assert generation_size(size, native, align) == expected


def test_generation_sizes_are_a_fixed_set_and_photos_fit_them_unstretched():
    sizes = {generation_size((width, 1000), 1024, 64) for width in range(300, 3000, 7)}
    assert sizes <= generation_sizes(1024, 64) and len(generation_sizes(1024, 64)) <= len(ASPECTS) == 8
    assert generation_size((1000, 1500), 1024, 64) == (832, 1280)  # a camera's 2:3
    x0, y0, x1, y1 = fit_box((1300, 2000), (832, 1280))  # 0.65 in a 0.65 frame: no margin
    assert (x0, y0, x1, y1) == (0, 0, 832, 1280)
    x0, y0, x1, y1 = fit_box((1000, 1900), (768, 1344))  # narrower than 9:16: a margin left and right
    assert (y0, y1) == (0, 1344) and x0 > 0 and abs((x1 - x0) / (y1 - y0) - 1000 / 1900) < 0.002


def test_a_pixel_touching_the_generate_mask_is_repainted():
    mask = np.zeros((100, 100), bool)
    mask[10, 10] = True
    small = np.asarray(mask_at(mask, (25, 25)))
    assert small[2, 2] == 255 and small.sum() == 255


def test_blend_repaints_the_generated_region_and_leaves_far_pixels_alone():
    rng = np.random.default_rng(0)
    original = rng.integers(0, 256, (60, 60, 3)).astype(np.uint8)
    generated = rng.uniform(0, 255, (60, 60, 3)).astype(np.float32)
    generate = np.zeros((60, 60), bool)
    generate[15:45, 15:45] = True
    scene = blend_generated(original, generated, generate)
    assert scene.dtype == np.float32 and np.array_equal(scene[:5], original[:5])
    np.testing.assert_allclose(scene[25:35, 25:35], generated[25:35, 25:35], atol=0.01)


def test_without_the_neural_matte_the_garment_is_the_parser_s_mask_feathered(person):
    image, label_map = person
    keep = label_map == LABEL["Upper-clothes"]
    cutout = garment_cutout(image, keep)
    x0, y0, x1, y1 = cutout.box
    alpha = compositing.place_alpha(cutout, (x0, y0), image.size)
    protect = np.zeros_like(keep)
    protect[y0:y1, x0:x1] = cutout.protect
    assert np.array_equal(protect, shrink(keep, max(2, ring_width(image.size) // 2))) and (alpha[protect] == 1).all()
    assert ((alpha >= 0.5) == keep).mean() > 0.995 and (alpha[~grow(keep, ring_width(image.size))] == 0).all()
    assert cutout.foreground.shape == (y1 - y0, x1 - x0, 3)


def test_steps_asked_so_that_strength_leaves_the_mode_s_count():
    for steps in range(1, 40):
        mode = Mode("m", steps=steps, guidance_scale=1.0)
        assert int(mode.num_inference_steps * mode.strength) == steps


def test_mode_precedence_request_then_preset_then_operator():
    assert resolve_mode("quality", "fast", "fast") is MODES["quality"]
    assert resolve_mode(None, "quality", "fast") is MODES["quality"]
    assert resolve_mode(None, None, "fast") is MODES["fast"]
    with pytest.raises(InvalidOption):
        resolve_mode("turbo", None, "fast")


def test_every_backdrop_has_a_scene_prompt():
    for preset in BACKDROPS:
        assert preset.prompt and 0 <= preset.depth <= 1 and preset.mode in (None, "fast", "quality")


def test_model_presets_are_many_short_and_varied():
    assert len(MODEL_PRESETS) >= 8
    for preset in MODEL_PRESETS:
        assert preset.key.isascii() and len(preset.key) <= 12 and len(preset.title) <= 20
        assert preset.prompt and preset.description
    assert len({preset.skin for preset in MODEL_PRESETS}) == len(MODEL_PRESETS)
    assert len({preset.hair_style for preset in MODEL_PRESETS}) >= 5
    with pytest.raises(InvalidOption):
        model_preset("nobody")


def test_model_gallery_has_a_numbered_portrait_per_preset():
    keys = [preset.key for preset in MODEL_PRESETS[:6]]
    sheet = np.asarray(render_model_gallery(keys, first_number=1, thumb=160, columns=3))
    gap = 160 // 20
    assert sheet.shape == (2 * (160 + gap) + gap, 3 * (160 + gap) + gap, 3)
    tiles = [
        sheet[gap + row * (160 + gap) :][:160, gap + col * (160 + gap) :][:, :160]
        for row in range(2)
        for col in range(3)
    ]
    for tile, preset in zip(tiles, MODEL_PRESETS[:6]):
        x0, y0, x1, y1 = badge_box(160)
        assert (tile[y0 + 6 : y1 - 6, x0 + 6 : x1 - 6].max(axis=2) < 60).mean() > 0.4  # the badge
        face = tile[70, 80].astype(int)  # the middle of the face
        assert np.abs(face - preset.skin).max() <= 2
    first = np.asarray(render_model_gallery(keys[:1], first_number=1, thumb=160, columns=1))
    ninth = np.asarray(render_model_gallery(keys[:1], first_number=9, thumb=160, columns=1))
    badge = np.s_[gap + y0 : gap + y1, gap + x0 : gap + x1]
    assert not np.array_equal(first[badge], ninth[badge]) and np.array_equal(
        first[gap + y1 + 2 :], ninth[gap + y1 + 2 :]
    )
