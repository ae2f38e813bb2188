"""What a job costs and what a pack gives: plain rules over the billing settings."""

import time
from dataclasses import dataclass

from shopshot.config import BillingSettings, CreditPack
from shopshot.errors import InvalidOption
from shopshot.pipeline.presets import backdrop


@dataclass(frozen=True)
class Charge:
    """What one job holds: `images` at `price` credits each, the free allowance taken first."""

    user_id: int
    job_id: str
    images: int
    price: int
    batch_id: str = ""  # a batch photo's job: the batch whose delivery settles it


def mode_of(backend: str, preset: str, default_mode: str) -> str:
    """The price class of a job: "studio" on the CPU backend, else the diffusion mode it runs in."""
    if backend != "diffusion":
        return "studio"
    try:
        return backdrop(preset).mode or default_mode
    except InvalidOption:  # a model preset rather than a backdrop: the operator's default mode
        return default_mode


def price_per_image(billing: BillingSettings, task: str, mode: str) -> int:
    """Credits one image costs, by its mode and task (a person generated as well costs more)."""
    price = getattr(billing.prices, mode)
    return price + (billing.prices.person_extra if task in ("model", "mannequin") else 0)


def month_of(at: float | None = None) -> str:
    """The calendar month (UTC) a free allowance belongs to, as YYYY-MM."""
    return time.strftime("%Y-%m", time.gmtime(time.time() if at is None else at))


def credit_pack(billing: BillingSettings, key: str) -> CreditPack:
    """The configured pack named `key`; InvalidOption for any other (an old or forged invoice)."""
    for pack in billing.packs:
        if pack.key == key:
            return pack
    raise InvalidOption(value=key)


def split_cost(images: int, price: int, free_left: int) -> tuple[int, int]:
    """(images taken from the free allowance, credits to hold for the rest)."""
    free = min(images, max(free_left, 0))
    return free, (images - free) * price


# An invoice's payload names its pack and the credits it promised: Telegram hands it back with the
# pre-checkout query and the payment, and only the bot can have written it (1-128 bytes).
PAYLOAD_PREFIX = "pack"


def invoice_payload(pack: CreditPack) -> str:
    """The payload of a pack's invoice."""
    return f"{PAYLOAD_PREFIX}:{pack.key}:{pack.credits}:{pack.stars}"


def read_payload(payload: str) -> tuple[str, int, int]:
    """(pack key, credits, stars) of an invoice payload; ValueError for one this bot did not write."""
    prefix, key, credits, stars = payload.split(":")
    if prefix != PAYLOAD_PREFIX:
        raise ValueError(f"not a pack invoice: {payload!r}")
    return key, int(credits), int(stars)


def checkout_ok(billing: BillingSettings, payload: str, currency: str, total_amount: int) -> bool:
    """Whether a pre-checkout query is for a pack still offered, at the same credits and Stars, in Stars."""
    try:
        key, credits, stars = read_payload(payload)
        pack = credit_pack(billing, key)
    except (ValueError, InvalidOption):
        return False
    return (
        billing.enabled
        and currency == STARS
        and (pack.credits, pack.stars) == (credits, stars) == (credits, total_amount)
    )


STARS = "XTR"  # Telegram Stars: digital goods are sold in them only, with no payment provider
