"""The backdrop presets a seller picks from, in gallery order."""

from dataclasses import dataclass

from shopshot.errors import InvalidOption, N_


@dataclass(frozen=True)
class Backdrop:
    key: str
    title: str
    description: str


BACKDROPS: tuple[Backdrop, ...] = (
    Backdrop("white", N_("Pure white"), N_("Marketplace-ready pure white, no shadow.")),
    Backdrop("studio", N_("Studio grey"), N_("Seamless grey sweep with a soft spotlight.")),
    Backdrop("wall", N_("Wall and floor"), N_("Two-tone wall and floor, like a styled shelf.")),
    Backdrop("blush", N_("Blush pink"), N_("Soft pastel pink sweep.")),
    Backdrop("mint", N_("Mint"), N_("Fresh pastel mint sweep.")),
    Backdrop("sky", N_("Powder blue"), N_("Calm pastel blue sweep.")),
    Backdrop("podium", N_("Podium"), N_("Your product standing on a round podium.")),
    Backdrop("noir", N_("Dark luxury"), N_("Deep charcoal with a warm spotlight and a glossy floor.")),
    Backdrop("linen", N_("Linen"), N_("Warm natural linen in window light.")),
    Backdrop("oak", N_("Oak table"), N_("Light oak tabletop against a warm wall.")),
)

_BY_KEY = {item.key: item for item in BACKDROPS}


def backdrop(key: str) -> Backdrop:
    """Return the preset with this key, or raise InvalidOption."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise InvalidOption(value=key) from None
