"""Variant looks: deliberate, visibly different, enumerated from the seed, shown by the gallery as variant 0."""

import itertools
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from shopshot.pipeline.backdrops import look_of
from shopshot.pipeline.gallery import render_gallery, sample_product
from shopshot.pipeline.layout import ratio
from shopshot.pipeline.presets import BACKDROPS, LOOK_CYCLE
from shopshot.pipeline.studio import RenderRequest, StudioBackend

VARYING = [item.key for item in BACKDROPS if item.varies]
# The least mean colour difference (CIE76 ΔE) over the backdrop between two variants: a ΔE of
# about 2.3 is just noticeable, so 4 on average is plain side by side. The painted looks measure 4.9
# or more at the worst pair of the whole cycle; the seeded jitter they replace measured 1.6-4.7.
MIN_DELTA_E = 4.0


@pytest.fixture(scope="module")
def tiny_sample() -> Image.Image:
    return sample_product().resize((160, 200), Image.Resampling.LANCZOS)


def _backdrop_lab(result) -> tuple[np.ndarray, np.ndarray]:
    """The result in Lab, and where its backdrop shows (the product and its rim left out)."""
    keep = cv2.dilate(np.asarray(result.protect), np.ones((17, 17), np.uint8)) == 0
    return cv2.cvtColor(np.asarray(result.image).astype(np.float32) / 255, cv2.COLOR_RGB2Lab), keep


# Every preset from a cycle's start, and two of them from late in a later cycle (the look of a seed
# depends on it modulo the cycle, which the test below checks for every seed): each case renders eight
# canvases, so the suite runs the cycle's end on two presets, not on all.
CASES = [(preset, 0) for preset in VARYING] + [(preset, 7 * LOOK_CYCLE + 57) for preset in VARYING[:2]]


@pytest.mark.parametrize(("preset", "seed"), CASES)
def test_a_job_and_its_variations_all_look_different(tiny_sample, preset, seed):
    # Four variants, then the Variations of them: seeds seed..seed+7, as the bot asks for them; on a
    # 1:1 canvas of 600² instead of the format's 2000² (a look is drawn to the canvas's scale).
    small = replace(ratio("1:1"), target=(600, 600))
    first = list(StudioBackend().run(RenderRequest(tiny_sample, preset, "1:1", 4, seed, shape=small)))
    variations = list(StudioBackend().run(RenderRequest(tiny_sample, preset, "1:1", 4, seed + 4, shape=small)))
    assert first[0].image.size == (600, 600)
    backdrops = [_backdrop_lab(result) for result in first + variations]
    differences = [
        np.linalg.norm(a - b, axis=2)[keep_a & keep_b].mean()
        for (a, keep_a), (b, keep_b) in itertools.combinations(backdrops, 2)
    ]
    assert min(differences) > MIN_DELTA_E


def test_looks_repeat_only_after_the_whole_cycle_and_neighbours_differ_on_every_axis():
    looks = [look_of(seed) for seed in range(LOOK_CYCLE)]
    assert len(set(looks)) == LOOK_CYCLE
    assert look_of(5 * LOOK_CYCLE + 3) == looks[3]
    for a, b in itertools.pairwise(looks):
        assert a.light != b.light and a.shade != b.shade and a.camera != b.camera and a.pick != b.pick


@pytest.mark.parametrize("preset", [item.key for item in BACKDROPS])
def test_the_gallery_shows_the_look_a_job_starts_with(preset):
    thumb = 120
    sheet = np.asarray(render_gallery([preset], thumb=thumb, columns=1)).astype(np.float32)
    gap = max(4, thumb // 20)
    tile = sheet[gap : gap + thumb, gap : gap + thumb]
    # The job's photo at the gallery's working size (twice the thumbnail), a seed at a cycle's start.
    sample = sample_product()
    scale = 2 * thumb / max(sample.size)
    small = sample.resize((round(sample.width * scale), round(sample.height * scale)), Image.Resampling.LANCZOS)
    [result] = StudioBackend().run(RenderRequest(small, preset, "1:1", 1, 123_457 * LOOK_CYCLE))
    job = np.asarray(result.image.resize((thumb, thumb), Image.Resampling.LANCZOS)).astype(np.float32)
    # Colours, not texture: linen's weave and oak's grain are drawn from the seed. The job enlarges
    # the product to its format's target, so its framing differs from the tile's by a few pixels: a
    # block at the podium's edge moves by up to about 3.4 levels; another look's colours move by tens.
    assert np.abs(_block_means(tile) - _block_means(job)).max() < 4.0


def _block_means(tile: np.ndarray) -> np.ndarray:
    """Mean colours of the tile's lower two thirds (below the number badge) in 4×4 blocks."""
    lower = tile[tile.shape[0] // 3 :]
    rows, cols = lower.shape[0] // 4, lower.shape[1] // 4
    return lower[: 4 * rows, : 4 * cols].reshape(4, rows, 4, cols, 3).mean(axis=(1, 3))
