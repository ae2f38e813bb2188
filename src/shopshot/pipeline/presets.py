"""The backdrop presets a seller picks from, in gallery order.

`prompt` and `negative_prompt` describe the scene to a diffusion backend (the studio backend paints
its own); `depth` is how strongly the depth ControlNet holds the scene to the layout the studio
painter draws (0 = no ControlNet); `mode` is the preset's "fast"/"quality" choice, None for the
operator's default; `varies` is False for a preset with one look only (pure white): as a plain
backdrop it offers one image and no Variations.

A preset's variant looks repeat every LOOK_CYCLE seeds (`backdrops.look_of`): a job's seeds start on
a multiple of it, so its first image is the look the gallery shows, and Variations go on from the
last seed sent.
"""

from dataclasses import dataclass

from shopshot.errors import N_, InvalidOption
from shopshot.pipeline.tasks import Task


@dataclass(frozen=True)
class Backdrop:
    key: str
    title: str
    description: str
    prompt: str = ""
    negative_prompt: str = ""
    depth: float = 0.0
    mode: str | None = None
    varies: bool = True


LOOK_CYCLE = 60

_SWEEP = "seamless paper backdrop, soft studio lighting, soft shadow under the product"

BACKDROPS: tuple[Backdrop, ...] = (
    Backdrop(
        "white",
        N_("Pure white"),
        N_("Marketplace-ready pure white with a soft natural shadow."),
        "pure white seamless background, bright even high-key lighting, clean and minimal",
        "shadows, grey background, colour cast, gradient",
        mode="fast",
        varies=False,
    ),
    Backdrop(
        "studio",
        N_("Studio grey"),
        N_("Seamless grey sweep with a soft spotlight."),
        f"light grey {_SWEEP}, gentle spotlight falloff",
        depth=0.3,
    ),
    Backdrop(
        "wall",
        N_("Wall and floor"),
        N_("Two-tone wall and floor, like a styled shelf."),
        "on a shelf against a two-tone painted wall, soft daylight from a window, styled interior",
        depth=0.35,
    ),
    Backdrop("blush", N_("Blush pink"), N_("Soft pastel pink sweep."), f"soft pastel pink {_SWEEP}", depth=0.3),
    Backdrop("mint", N_("Mint"), N_("Fresh pastel mint sweep."), f"fresh pastel mint green {_SWEEP}", depth=0.3),
    Backdrop("sky", N_("Powder blue"), N_("Calm pastel blue sweep."), f"calm powder blue {_SWEEP}", depth=0.3),
    Backdrop(
        "podium",
        N_("Podium"),
        N_("Your product standing on a round podium."),
        "standing on a round cylindrical podium, minimalist pastel stage, soft studio light",
        depth=0.5,
    ),
    Backdrop(
        "noir",
        N_("Dark luxury"),
        N_("Deep charcoal with a warm spotlight and a glossy floor."),
        "luxury advertising shot, deep charcoal background, warm spotlight, glossy black reflective floor",
        "bright background, daylight",
        depth=0.35,
        mode="quality",
    ),
    Backdrop(
        "linen",
        N_("Linen"),
        N_("Warm natural linen in window light."),
        "on natural beige linen fabric, warm window light, soft folds, calm and cosy",
        depth=0.3,
        mode="quality",
    ),
    Backdrop(
        "oak",
        N_("Oak table"),
        N_("Light oak tabletop against a warm wall."),
        "on a light oak wooden tabletop against a warm plain wall, soft natural light, wood grain",
        depth=0.4,
        mode="quality",
    ),
)

_BY_KEY = {item.key: item for item in BACKDROPS}


def backdrop(key: str) -> Backdrop:
    """Return the preset with this key, or raise InvalidOption."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise InvalidOption(value=key) from None


def offers_variants(key: str, task: Task = Task.BACKDROP) -> bool:
    """Whether several images of this preset can differ: not a backdrop with one look (pure white);
    a model in front of it, generated anew for each seed, can."""
    return task != Task.BACKDROP or backdrop(key).varies
