"""Marketplace packs: the rules file, the packs' sizes, their renders against their own checker, and the checker on broken images."""

import io
import json
import re
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from shopshot.errors import InvalidOption
from shopshot.pipeline.layout import fit, ratio
from shopshot.pipeline.packs import (
    NOT_FOUND,
    NOT_PUBLISHED,
    Verdict,
    check,
    encode,
    fill_for,
    frame,
    pack,
    packs,
    precheck,
    raw_rules,
    render_pack,
    shot_request,
    with_preset,
)
from shopshot.pipeline.presets import backdrop
from shopshot.pipeline.studio import StudioBackend
from tests.pipeline.conftest import encode as encoded

MARKETPLACES = (
    "amazon",
    "ebay",
    "etsy",
    "shopify",
    "aliexpress",
    "temu",
    "tiktok-shop",
    "shopee",
    "lazada",
    "mercado-libre",
    "ozon",
    "wildberries",
    "taobao",
    "jd",
)
FIGURES = {
    "aspect": list,
    "min_long_side": int,
    "min_short_side": int,
    "max_long_side": int,
    "recommended": list,
    "background": str,
    "min_fill": float,
    "formats": list,
    "max_file_mb": int,
    "colour": list,
}


def _main_rule():
    return pack("amazon").shots[0].rule


def _product_on_white(size=(1000, 1000), product=(900, 900), white=255) -> Image.Image:
    """A grey box of `product` pixels centred on a background of `white`."""
    pixels = np.full((size[1], size[0], 3), white, np.uint8)
    left, top = (size[0] - product[0]) // 2, (size[1] - product[1]) // 2
    pixels[top : top + product[1], left : left + product[0]] = (90, 120, 160)
    return Image.fromarray(pixels)


def test_the_rules_file_covers_the_marketplaces_each_rule_sourced_or_said_not_found():
    rules = raw_rules()
    assert {rule["marketplace"] for rule in rules} == set(MARKETPLACES) == set(packs())
    for rule in rules:
        if rule["source"] == NOT_FOUND:
            assert rule["searched"], rule["marketplace"]
        else:
            assert rule["source"] and all(address.startswith(("https://", "http://")) for address in rule["source"])
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rule["read"]) and rule["says"]
        for name, kind in FIGURES.items():
            value = rule[name]
            assert value == NOT_PUBLISHED or isinstance(value, kind), (rule["marketplace"], name, value)
            assert rule["source"] != NOT_FOUND or value == NOT_PUBLISHED  # no figure without a source


def test_amazon_main_image_rule_is_pure_white_and_85_percent():
    rule = _main_rule()
    assert (rule.title, rule.background, rule.min_fill, rule.min_long_side) == (
        "Amazon main image",
        "pure-white",
        0.85,
        1000,
    )
    assert rule.source[0].startswith("https://sellercentral.amazon.com/")


@pytest.mark.parametrize("key", MARKETPLACES)
def test_every_pack_names_real_presets_in_a_format_its_rules_accept(key):
    chosen = pack(key)
    shape = ratio(chosen.ratio)
    assert chosen.shots and chosen.shots[0].preset == "white"
    for shot in chosen.shots:
        backdrop(shot.preset)
        rule = shot.rule
        target = frame(rule, shape).target
        assert rule.aspect is None or abs(target[0] * rule.aspect[1] - target[1] * rule.aspect[0]) <= max(rule.aspect)
        assert max(target) >= (rule.min_long_side or 0) and min(target) >= (rule.min_short_side or 0)
        assert max(target) <= (rule.max_long_side or max(target))


def test_a_large_product_stays_under_the_marketplaces_largest_size():
    rule = pack("mercado-libre").shots[0].rule
    framing = fit((3000, 2800), frame(rule, ratio("1:1")), fill_for(rule) or 0.76)
    assert framing.scale < 1 and max(framing.size) <= rule.max_long_side == 1920


# Each image of the packs whose rules publish figures, at full size, one test each (about a second):
# the other packs' images are painted by the same studio at the sizes the frame test above checks.
RENDERED = [
    ("amazon", 0, (2000, 2000)),
    ("amazon", 1, (2000, 2000)),
    ("mercado-libre", 0, (1200, 1200)),
    ("lazada", 0, (850, 850)),
    ("ozon", 0, (1500, 2000)),
]


@pytest.mark.parametrize(("key", "index", "size"), RENDERED)
def test_every_output_of_a_pack_passes_its_own_checker(small_sample, key, index, size):
    chosen = pack(key)
    output = next(iter(render_pack(small_sample, replace(chosen, shots=chosen.shots[index : index + 1]), seed=index)))
    image = Image.open(io.BytesIO(output.data))
    assert output.verdict.ok and output.verdict.line().endswith("✓"), output.verdict.line()
    assert image.size == size and image.format == output.format == "PNG" and image.mode == "RGB"


def test_a_pack_image_is_the_studios_render_pixel_for_pixel(small_sample):
    chosen = pack("lazada")
    [output] = render_pack(small_sample, chosen, seed=3)
    rendered = next(iter(StudioBackend().run(shot_request(small_sample, chosen, chosen.shots[0], 3))))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(output.data))), np.asarray(rendered.image))


def test_the_white_main_image_has_no_shadow_and_the_fill_amazon_asks():
    request = shot_request(Image.new("RGB", (8, 8)), pack("amazon"), pack("amazon").shots[0], 0)
    assert request.white_shadow is False and request.fill >= 0.85 * 1.1
    assert shot_request(Image.new("RGB", (8, 8)), pack("amazon"), pack("amazon").shots[1], 0).fill is None


def test_a_compliant_image_passes_in_one_line():
    data = encoded(_product_on_white(), "JPEG", quality=95, subsampling=0)
    verdict = check(data, _main_rule())
    assert verdict.ok and verdict.line() == "Amazon main image: 1000×1000, white 255, product 90%, JPEG, RGB ✓"


def _failure(data_or_image, rule, mask=None) -> str:
    verdict = check(data_or_image, rule, mask)
    assert not verdict.ok and verdict.line().endswith("✗")
    return verdict.line()


def test_the_checker_names_each_broken_rule():
    rule = _main_rule()
    assert "background not pure white" in _failure(encoded(_product_on_white(white=250), "PNG"), rule)
    assert "under the 1000 px minimum on the longest side" in _failure(
        encoded(_product_on_white((600, 600), (540, 540)), "PNG"), rule
    )
    assert "over the 10000 px maximum" in _failure(
        Image.new("RGB", (10002, 10)), replace(rule, background=None, min_fill=None)
    )
    assert "product 50%, under the minimum of 85%" in _failure(
        encoded(_product_on_white(product=(500, 400)), "PNG"), rule
    )
    assert "WEBP is not among JPEG, TIFF, PNG, GIF" in _failure(
        encoded(_product_on_white(), "WEBP", lossless=True), rule
    )
    assert "1000×1000 is not 3:4" in _failure(encoded(_product_on_white(), "JPEG"), pack("ozon").shots[0].rule)
    cmyk = encoded(_product_on_white().convert("CMYK"), "JPEG")
    assert "CMYK colour is not accepted (RGB only)" in _failure(cmyk, replace(rule, colour=("RGB",)))
    heavy = encoded(Image.fromarray(np.random.default_rng(0).integers(0, 256, (500, 500, 3), np.uint8)), "PNG")
    assert "is over the 0.5 MB limit" in _failure(heavy, replace(pack("mercado-libre").shots[0].rule, max_file_mb=0.5))


def test_fill_is_measured_on_the_mask_where_given():
    mask = Image.new("L", (1000, 1000))
    mask.paste(255, (100, 100, 400, 400))
    assert "product 30%, under" in _failure(encoded(_product_on_white(), "PNG"), _main_rule(), mask)


def test_an_image_without_its_file_leaves_format_and_size_unmeasured():
    verdict = check(_product_on_white(), replace(pack("mercado-libre").shots[0].rule, min_short_side=None))
    assert verdict.ok and "format not measured" in verdict.line() and "file size not measured" in verdict.line()


def test_a_marketplace_without_published_rules_is_said_unchecked():
    verdict = check(encoded(_product_on_white(), "JPEG"), pack("shopee").shots[0].rule)
    assert verdict.ok and verdict.line() == "Shopee image: 1000×1000, not checked: no published rule found"


def test_encode_keeps_every_pixel_in_a_png_unless_it_is_too_large_then_fits_a_jpeg_under_the_limit():
    noisy = Image.fromarray(np.random.default_rng(1).integers(0, 256, (400, 400, 3), np.uint8))
    rule = pack("mercado-libre").shots[0].rule
    lossless, kind = encode(noisy, rule)
    assert kind == "PNG" and np.array_equal(np.asarray(Image.open(io.BytesIO(lossless))), np.asarray(noisy))
    best = encoded(noisy, "JPEG", quality=95, subsampling=0)
    fitted, kind = encode(noisy, replace(rule, max_file_mb=len(best) * 0.8 / 1_000_000))
    assert kind == "JPEG" and len(fitted) <= len(best) * 0.8
    assert encode(noisy, replace(rule, formats=("TIFF",)))[1] == "TIFF"


def test_precheck_says_before_rendering_which_rule_a_small_photo_cannot_meet():
    [main, additional] = precheck((800, 600), pack("amazon"))
    assert main.text.startswith(
        "Amazon main image: the photo is 800×600, under the 1000 px minimum"
    ) and additional.text.startswith("Amazon additional")
    assert main.finding.params == {"size": "800×600", "minimum": 1000} and not main.finding.ok
    assert precheck((1200, 1500), pack("amazon")) == []
    assert "500 px minimum on the shortest side" in precheck((900, 400), pack("lazada"))[0].text


def test_a_verdict_travels_as_plain_values_and_reads_the_same_after():
    verdict = check(encoded(_product_on_white(white=250), "PNG"), _main_rule())
    values = json.loads(json.dumps(verdict.to_dict()))
    assert Verdict.from_dict(values) == verdict and Verdict.from_dict(values).line() == verdict.line()
    # Every message through the translation, every number through the locale's writing, then filled.
    shown = verdict.line(
        translate=lambda text: f"[{text}]",
        number=lambda value: f"<{value}>" if isinstance(value, float | int) else value,
    )
    assert shown == (
        "[[Amazon main image]: [background not pure white: the border is off RGB 255 at <100.0>%, down to 250,250,250], "
        "[1000×1000], [product <100>%], [PNG], [RGB] ✗]"
    )  # the broken rule first


def test_a_seller_backdrop_paints_the_free_images_and_the_white_ones_stay_white():
    chosen = with_preset(pack("amazon"), "podium")
    assert [shot.preset for shot in chosen.shots] == ["white", "podium", "podium"]
    assert [shot.preset for shot in with_preset(pack("lazada"), "podium").shots] == [
        "white"
    ]  # its only rule asks for white
    assert with_preset(pack("amazon"), None) == pack("amazon")


def test_a_verdict_with_a_finding_this_version_cannot_word_is_refused_not_read_as_passed():
    values = check(encoded(_product_on_white(), "PNG"), _main_rule()).to_dict()
    values["findings"].append([False, "dpi-under", {"dpi": 70}])  # from a newer worker
    with pytest.raises(InvalidOption):
        Verdict.from_dict(values)
