import cv2
import numpy as np
import pytest
from PIL import Image

from shopshot.errors import InvalidOption, NoProductFound
from shopshot.pipeline.backdrops import STYLES, Stage, look_of
from shopshot.pipeline.backends import load_backend
from shopshot.pipeline.cutout import cut_out
from shopshot.pipeline.gallery import sample_product
from shopshot.pipeline.layout import RATIOS, ratio
from shopshot.pipeline.presets import BACKDROPS
from shopshot.pipeline.studio import RenderRequest, StudioBackend, fit_product
from tests.pipeline.conftest import assert_product_kept


def _render(
    image: Image.Image,
    preset: str = "studio",
    ratio: str = "4:5",
    variants: int = 1,
    seed: int = 7,
    progress=None,
    **options,
):
    return list(StudioBackend().run(RenderRequest(image, preset, ratio, variants, seed, **options), progress=progress))


@pytest.fixture(scope="module")
def feed_sample() -> Image.Image:
    """The mug at 1600×2000: its own pixels fill the 4:5 target, so it goes on at scale 1."""
    return sample_product().resize((1600, 2000), Image.Resampling.LANCZOS)


@pytest.mark.parametrize("preset", [item.key for item in BACKDROPS])
def test_protected_pixels_are_the_input_exactly_at_scale_1(feed_sample, preset):
    [result] = _render(feed_sample, preset, "4:5")
    width, height = result.image.size
    assert (
        result.scale == 1 and width >= 1080 and height >= 1350
    )  # the 4:5 target, or more for presets that frame tighter
    assert result.protect.mode == "L" and result.protect.size == result.image.size
    assert (
        np.asarray(result.protect) == 255
    ).sum() > 0.5 * 1600 * 2000 * 0.2  # the mug covers about a fifth of the frame
    assert_product_kept(result, feed_sample)


@pytest.mark.parametrize("shape", RATIOS, ids=[item.key for item in RATIOS])
def test_a_small_photo_is_enlarged_to_the_formats_target_from_its_own_pixels(small_sample, shape):
    [result] = _render(small_sample, "oak", shape.key)
    assert result.image.size == shape.target and result.scale > 1.5
    assert_product_kept(result, small_sample)


@pytest.mark.parametrize("shape", RATIOS, ids=[item.key for item in RATIOS])
def test_a_large_photo_keeps_its_own_pixels_on_at_least_the_target(large_sample, shape):
    [result] = _render(large_sample, "studio", shape.key)
    (width, height), (target_w, target_h) = result.image.size, shape.target
    assert result.scale == 1 and width >= target_w and height >= target_h
    assert abs(width / height - shape.width / shape.height) < 0.01
    assert_product_kept(result, large_sample)


@pytest.mark.parametrize("ratio", [item for item in RATIOS])
def test_canvas_has_the_chosen_aspect_ratio(small_sample, ratio):
    [result] = _render(small_sample, "blush", ratio.key)
    width, height = result.image.size
    assert abs(width / height - ratio.width / ratio.height) < 0.01


def test_same_request_gives_the_same_bytes(small_sample):
    # GrabCut draws from OpenCV's global RNG; a worker's earlier jobs must not change the result.
    cv2.setRNGSeed(1)
    first = _render(small_sample, "oak", "4:5", variants=2)
    cv2.setRNGSeed(2)
    second = _render(small_sample, "oak", "4:5", variants=2)
    assert [item.image.tobytes() for item in first] == [item.image.tobytes() for item in second]
    assert [item.protect.tobytes() for item in first] == [item.protect.tobytes() for item in second]


@pytest.mark.parametrize("preset", [item.key for item in BACKDROPS if item.key != "white"])
def test_variants_differ_by_seed(small_sample, preset):
    results = _render(small_sample, preset, variants=2, seed=11)
    assert [item.seed for item in results] == [11, 12]
    assert results[0].image.tobytes() != results[1].image.tobytes()


def _product_area(result, image: Image.Image, shape: str = "3:4") -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Where the cut-out's alpha lies on the result, and its box there."""
    _, cutout, _ = fit_product(image, cut_out(image), ratio(shape), STYLES["white"].fill)  # as enlarged
    product = np.zeros(result.image.size[::-1], bool)
    left, top = result.offset
    x0, y0, x1, y1 = cutout.box
    product[y0 + top : y1 + top, x0 + left : x1 + left] = cutout.alpha > 0
    return product, (x0 + left, y0 + top, x1 + left, y1 + top)


def test_pure_white_without_its_shadow_is_exactly_white_outside_the_product(small_sample):
    [result] = _render(small_sample, "white", "3:4", white_shadow=False)
    product, _ = _product_area(result, small_sample)
    output = np.asarray(result.image)
    assert (output[~product] == 255).all()
    assert (output[product] < 250).any()


def test_pure_white_grounds_the_product_with_a_soft_shadow_and_is_255_beyond_it(small_sample):
    [result] = _render(small_sample, "white", "3:4")
    product, (x0, y0, x1, y1) = _product_area(result, small_sample)
    output = np.asarray(result.image).min(axis=2)
    width, height = x1 - x0, y1 - y0
    # The shadow lies on the floor: from a little above the base (behind the product) to just below it.
    near = np.zeros(output.shape, bool)
    near[y1 - round(0.35 * height) : y1 + round(0.2 * height), max(0, x0 - width // 2) : x1 + width // 2] = True
    floor = ~product & near
    assert (output[~product & ~near] == 255).all()
    assert (output[floor] < 235).sum() > 0.01 * floor.sum()  # a shadow one can see
    assert output[floor].min() > 140  # and a soft one


def test_progress_is_reported_after_each_variant(small_sample):
    reports = []
    _render(small_sample, "mint", variants=4, progress=reports.append)
    assert reports == [0.25, 0.5, 0.75, 1.0]


@pytest.mark.parametrize(
    "change",
    [{"preset": "neon"}, {"ratio": "2:1"}, {"variants": 3}, {"variants": 0}],
    ids=["preset", "ratio", "variants", "no-variants"],
)
def test_unknown_options_are_refused_before_any_work(change):
    # A blank image would raise NoProductFound if the options were not checked first.
    blank = Image.new("RGB", (300, 300), (235, 235, 235))
    options = {"preset": "white", "ratio": "1:1", "variants": 1} | change
    with pytest.raises(InvalidOption):
        _render(blank, **options)


def test_a_photo_without_a_product_is_refused():
    with pytest.raises(NoProductFound):
        _render(Image.new("RGB", (300, 300), (235, 235, 235)))


def test_load_backend_by_name():
    backend = load_backend("studio")
    backend.setup()
    assert isinstance(backend, StudioBackend) and backend.name == "studio"
    with pytest.raises(InvalidOption):
        load_backend("sdxl-someday")


@pytest.mark.parametrize("preset", [item.key for item in BACKDROPS])
def test_backdrops_are_painted_in_float32(preset):
    # In float64 a 40-MP story canvas and each of its temporaries took 1 GB instead of 540 MB.
    for overhead in (False, True):
        stage = Stage((300, 500), (80, 120, 220, 400), (90, 210), look_of(5), overhead)
        canvas = STYLES[preset].paint(stage, np.random.default_rng(1))
        assert canvas.dtype == np.float32 and canvas.shape == (500, 300, 3)
