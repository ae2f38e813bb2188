"""Property-based fuzzing of the image intake: whatever bytes arrive, `load_image` either returns a
usable image within the limits or raises an InputError; never anything else, never a hang.

`make test` runs a few hundred cases; SHOPSHOT_FUZZ_EXAMPLES=20000 runs more.
"""

import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopshot.config import LimitSettings
from shopshot.errors import InputError
from shopshot.pipeline.intake import load_image
from tests.bad_input import corpus

EXAMPLES = int(os.environ.get("SHOPSHOT_FUZZ_EXAMPLES", "300"))
# A small minimum side, so mutated small seeds get past the header checks into decoding.
LIMITS = LimitSettings(min_side=16)
SLOWEST_S = 10.0  # far above the slowest case seen (a 40-megapixel decode); a hang is far above it
SEEDS = corpus.mutation_seeds()
# Pillow warns about what it skips in broken files; the property is about what load_image returns or raises.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
]


@st.composite
def mutated_images(draw) -> bytes:
    """A real image with a few bytes flipped, cut, inserted or copied over, most of them near the header."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 5))):  # none: the real image itself
        near = draw(st.sampled_from([64, 512, len(data) + 1]))
        at = draw(st.integers(0, min(near, len(data))))
        action = draw(st.sampled_from(["set", "cut", "insert", "copy", "truncate"]))
        if action == "set" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif action == "copy":
            start = draw(st.integers(0, max(len(data) - 1, 0)))
            data[at : at + 16] = data[start : start + 16]
        elif action == "truncate":
            del data[at:]
    return bytes(data)


class Run:
    cases = 0
    slowest = 0.0


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.one_of(mutated_images(), st.binary(max_size=4096)))
def test_load_image_returns_a_usable_image_or_an_input_error(data, figures):
    started = time.monotonic()
    try:
        image = load_image(data, LIMITS)
    except InputError:
        image = None
    finally:
        Run.cases += 1
        Run.slowest = max(Run.slowest, time.monotonic() - started)
        figures.set("fuzz cases run", Run.cases)
    if image is not None:
        width, height = image.size
        assert image.mode == "RGB" and len(image.tobytes()) == width * height * 3
        assert min(width, height) >= LIMITS.min_side and width * height <= LIMITS.max_megapixels * 1_000_000
    assert Run.slowest < SLOWEST_S
