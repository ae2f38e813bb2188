"""Marketplace packs: the images a listing needs on one marketplace, and a checker for its published rules.

The rules and packs are data (`marketplaces.toml`, each rule with its source and the day it was
read). A pack renders through the studio backend like any job, only with the marketplace's sizes
and the product's share of the canvas its rule asks for, so the product's pixels are kept as the
studio keeps them. Every output is checked: `check` measures what a rule publishes (size, aspect,
a pure white border, product fill, format, file size, colour mode) and says why where it fails;
`precheck` says before rendering what a photo cannot meet.

Findings travel by a stable code with plain parameters (a worker's verdict reaches the bot as JSON);
their words are English source strings marked with `N_`, which `words` fills after an optional
translation, so the command line and the bot word a verdict with one piece of code.
"""

import io
import math
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.resources import files
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from shopshot.errors import N_, InvalidOption
from shopshot.pipeline.backends import Backend
from shopshot.pipeline.layout import KEEP_PIXELS_UP_TO, MAX_FILL, MAX_PIXELS, Ratio, ratio
from shopshot.pipeline.studio import RenderRequest, StudioBackend

NOT_PUBLISHED = "not published"
NOT_FOUND = "not found in sources"
# The border that must be pure white: 1 % of the short side, far enough from a product that fills
# up to MAX_FILL (3 % margins) that JPEG's 8×8 blocks around the product's edge never reach it.
BORDER_SHARE = 0.01
# JPEG qualities tried in turn, where a PNG is too large, until a file fits its marketplace's limit.
QUALITIES = (95, 90, 85, 80, 75, 70)
# What a finding says, by code; the placeholders are the finding's params.
MESSAGES = {
    "size": "{size}",
    "size-under-long": N_("{size} is under the {minimum} px minimum on the longest side"),
    "size-under-short": N_("{size} is under the {minimum} px minimum on the shortest side"),
    "size-over-long": N_("{size} is over the {maximum} px maximum on the longest side"),
    "photo-under-long": N_(
        "the photo is {size}, under the {minimum} px minimum on the longest side; "
        "the output would only be the photo enlarged"
    ),
    "photo-under-short": N_(
        "the photo is {size}, under the {minimum} px minimum on the shortest side; "
        "the output would only be the photo enlarged"
    ),
    "aspect": "{aspect}",
    "aspect-off": N_("{size} is not {aspect}"),
    "white": N_("white 255"),
    # No "%" before a space: "{share}% of" would read as a printf conversion to the catalog checkers.
    "background-off": N_("background not pure white: the border is off RGB 255 at {share}%, down to {darkest}"),
    "fill": N_("product {fill}%"),
    "fill-under": N_("product {fill}%, under the minimum of {minimum}%"),
    "fill-unmeasured": N_("product fill not measured (no product mask)"),
    "format": "{format}",
    "format-off": N_("{format} is not among {formats}"),
    "format-unmeasured": N_("format not measured (no file)"),
    "file-size": N_("{size_mb} MB"),
    "file-size-over": N_("{size_mb} MB is over the {limit_mb} MB limit"),
    "file-size-unmeasured": N_("file size not measured (no file)"),
    "colour": "{colour}",
    "colour-off": N_("{colour} colour is not accepted ({accepted} only)"),
}
TITLES = {
    "main": N_("{marketplace} main image"),
    "additional": N_("{marketplace} additional image"),
    "any": N_("{marketplace} image"),
}
LINE = N_("{title}: {findings} {mark}")
UNCHECKED = N_("{title}: {size}, not checked: no published rule found")
_SUFFIXES = {"JPEG": "jpg", "TIFF": "tif"}
_COLOUR_OF_MODE = {
    "CMYK": "CMYK",
    "L": "Grayscale",
    "LA": "Grayscale",
    "1": "Grayscale",
    "I": "Grayscale",
    "I;16": "Grayscale",
}


@dataclass(frozen=True)
class Rule:
    """One marketplace's published rule for one kind of image; None: not published (or not found)."""

    marketplace: str
    image: str  # "main", "additional" or "any"
    name: str  # the marketplace as it writes itself: "Amazon", "Taobao / Tmall"
    source: tuple[str, ...]  # addresses; empty: not found in sources
    read: str | None
    aspect: tuple[int, int] | None = None
    min_long_side: int | None = None
    min_short_side: int | None = None
    max_long_side: int | None = None
    recommended: tuple[int, int] | None = None
    background: str | None = None  # "pure-white" or "white": both checked as RGB 255
    min_fill: float | None = None
    formats: tuple[str, ...] | None = None
    max_file_mb: float | None = None
    colour: tuple[str, ...] | None = None

    @property
    def title(self) -> str:
        """ "Amazon main image", in English."""
        return rule_title(self)

    @property
    def checked(self) -> bool:
        """Whether any figure of this rule is published, so the checker has something to measure."""
        figures = (
            self.aspect,
            self.min_long_side,
            self.min_short_side,
            self.max_long_side,
            self.background,
            self.min_fill,
            self.formats,
            self.max_file_mb,
            self.colour,
        )
        return any(figure is not None for figure in figures)


_T = TypeVar("_T")


def _same(text: _T) -> _T:
    return text


def rule_title(rule: Rule, translate: Callable[[str], str] = _same) -> str:
    """The image a rule is for, "Amazon main image", in English or through `translate`."""
    return translate(TITLES[rule.image]).format(marketplace=rule.name)


@dataclass(frozen=True)
class Shot:
    """One image of a pack: the preset it is painted with and the rule it must meet."""

    rule: Rule
    preset: str


@dataclass(frozen=True)
class Pack:
    key: str
    name: str
    ratio: str
    ratio_is: str  # whether the marketplace published the ratio or shopshot chose it
    shots: tuple[Shot, ...]

    @property
    def checked(self) -> bool:
        """Whether the checker measures anything on this pack's images (some marketplaces publish no rule found)."""
        return any(shot.rule.checked for shot in self.shots)


@dataclass(frozen=True)
class Finding:
    """One measured rule: `ok` None where it cannot be measured on what was given (a file's format without its bytes)."""

    ok: bool | None
    code: str  # a key of MESSAGES
    params: dict[str, Any] = field(default_factory=dict)  # JSON-safe: numbers and strings

    @property
    def text(self) -> str:
        """What was measured, in English."""
        return words(self)


def words(finding: Finding, translate: Callable[[str], str] = _same, number: Callable[[object], object] = _same) -> str:
    """A finding's message, translated by `translate` first, its numbers written by `number`, then filled."""
    return translate(MESSAGES[finding.code]).format(**{name: number(value) for name, value in finding.params.items()})


def _size_text(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


@dataclass(frozen=True)
class Verdict:
    rule: Rule
    size: tuple[int, int]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """No published rule is broken."""
        return all(finding.ok is not False for finding in self.findings)

    def line(self, translate: Callable[[str], str] = _same, number: Callable[[object], object] = _same) -> str:
        """One line for the seller: what was measured, then ✓, or ✗ with the broken rules first; in English
        unless `translate` (and `number`, for the locale's digits) are given. No ✓ where nothing was checked."""
        named = rule_title(self.rule, translate)
        if not self.findings:
            return translate(UNCHECKED).format(title=named, size=_size_text(self.size))
        texts = [
            words(finding, translate, number)
            for finding in sorted(self.findings, key=lambda finding: finding.ok is not False)
        ]
        if not (self.rule.min_long_side or self.rule.min_short_side or self.rule.max_long_side):
            texts.append(_size_text(self.size))  # the size, measured even where no size rule is published
        return translate(LINE).format(title=named, findings=", ".join(texts), mark="✓" if self.ok else "✗")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe values, as a worker's result event carries them."""
        findings = [[finding.ok, finding.code, finding.params] for finding in self.findings]
        return {
            "marketplace": self.rule.marketplace,
            "image": self.rule.image,
            "size": list(self.size),
            "findings": findings,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Verdict":
        """A verdict written by `to_dict`, with its rule as this version's data file has it; InvalidOption for a rule
        or a finding this version does not know (dropped, a broken rule could read as ✓)."""
        unknown = [code for _, code, _ in values["findings"] if code not in MESSAGES]
        if unknown:
            raise InvalidOption(value=unknown[0])
        findings = tuple(Finding(ok, code, params) for ok, code, params in values["findings"])
        return cls(rule_of(values["marketplace"], values["image"]), (values["size"][0], values["size"][1]), findings)


@dataclass(frozen=True)
class PackImage:
    """One rendered output of a pack: its file name stem, encoded file, format and verdict."""

    name: str
    data: bytes
    format: str
    verdict: Verdict
    image: Image.Image  # the decoded output, for a smaller copy (the bot's album)
    seed: int


@cache
def _data() -> dict[str, Any]:
    return tomllib.loads(files("shopshot.pipeline").joinpath("marketplaces.toml").read_text(encoding="utf-8"))


def raw_rules() -> list[dict[str, Any]]:
    """The rules as the data file writes them, for listing their sources."""
    rules: list[dict[str, Any]] = _data()["rule"]
    return rules


@cache
def packs() -> dict[str, Pack]:
    """Every pack by key, in the data file's order."""
    data = _data()
    rules = {(item["marketplace"], item["image"]): item for item in data["rule"]}
    return {key: _pack(key, item, rules) for key, item in data["pack"].items()}


def rule_of(marketplace: str, image: str) -> Rule:
    """The rule of one marketplace for one kind of image, or raise InvalidOption."""
    for item in packs().values():
        for shot in item.shots:
            if (shot.rule.marketplace, shot.rule.image) == (marketplace, image):
                return shot.rule
    raise InvalidOption(value=f"{marketplace} {image}")


def pack(key: str) -> Pack:
    """The pack with this key, or raise InvalidOption."""
    try:
        return packs()[key]
    except KeyError:
        raise InvalidOption(value=key) from None


def _pack(key: str, item: dict[str, Any], rules: dict[tuple[str, str], dict[str, Any]]) -> Pack:
    shots = tuple(Shot(_rule(item["name"], rules[key, shot["rule"]]), shot["preset"]) for shot in item["images"])
    return Pack(key, item["name"], item["ratio"], item["ratio_is"], shots)


def _rule(name: str, item: dict[str, Any]) -> Rule:
    def figure(field: str) -> Any:
        value = item[field]
        return None if value == NOT_PUBLISHED else value

    found = item["source"] != NOT_FOUND
    return Rule(
        item["marketplace"],
        item["image"],
        name,
        tuple(item["source"]) if found else (),
        item.get("read"),
        _pair(figure("aspect")),
        figure("min_long_side"),
        figure("min_short_side"),
        figure("max_long_side"),
        _pair(figure("recommended")),
        figure("background"),
        figure("min_fill"),
        _names(figure("formats")),
        figure("max_file_mb"),
        _names(figure("colour")),
    )


def _kind(image: str) -> str:
    return "image" if image == "any" else f"{image} image"


def _pair(value: list[int] | None) -> tuple[int, int] | None:
    return None if value is None else (value[0], value[1])


def _names(value: list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def describe_packs() -> str:
    """Every pack: its format, its images, and per rule what is checked and where it comes from."""
    return "\n\n".join(_described(item) for item in packs().values())


def _described(item: Pack) -> str:
    lines = [
        f"{item.key}: {item.name}, {item.ratio} ({item.ratio_is})",
        "  images: " + "; ".join(f"{_kind(shot.rule.image)} on {shot.preset}" for shot in item.shots),
    ]
    for rule in dict.fromkeys(shot.rule for shot in item.shots):
        lines.append(f"  {rule.title}: checks {summary(rule)}")
        lines.append("    " + (f"{', '.join(rule.source)} (read {rule.read})" if rule.source else NOT_FOUND))
    return "\n".join(lines)


def summary(rule: Rule) -> str:
    """What the checker measures for this rule, in a few words."""
    parts = [
        rule.aspect and f"aspect {rule.aspect[0]}:{rule.aspect[1]}",
        rule.min_long_side and f"longest side ≥ {rule.min_long_side} px",
        rule.min_short_side and f"shortest side ≥ {rule.min_short_side} px",
        rule.max_long_side and f"longest side ≤ {rule.max_long_side} px",
        rule.background and "border RGB 255",
        rule.min_fill and f"product ≥ {round(100 * rule.min_fill)}%",
        rule.formats and "/".join(rule.formats),
        rule.max_file_mb and f"≤ {rule.max_file_mb:g} MB",
        rule.colour and "/".join(rule.colour),
    ]
    return ", ".join(part for part in parts if part) or "nothing (no published rule found)"


# --- rendering ------------------------------------------------------------------------------------


def render_pack(
    image: Image.Image, chosen: Pack, seed: int, backend: Backend | None = None, preset: str | None = None
) -> Iterator[PackImage]:
    """Render and check each image of a pack, one at a time (the studio backend, set up, unless given); with
    `preset`, the images whose rule sets no background are painted on it (the seller's own look)."""
    if backend is None:
        backend = StudioBackend()
        backend.setup()
    for number, shot in enumerate(with_preset(chosen, preset).shots, start=1):
        shot_seed = seed + number - 1
        rendered = next(iter(backend.run(shot_request(image, chosen, shot, shot_seed))))
        data, kind = encode(rendered.image, shot.rule)
        role = "" if shot.rule.image == "any" else f"{shot.rule.image}-"
        yield PackImage(
            f"{number}-{role}{shot.preset}",
            data,
            kind,
            check(data, shot.rule, rendered.protect),
            rendered.image,
            shot_seed,
        )


def with_preset(chosen: Pack, preset: str | None) -> Pack:
    """The pack with its free images (no background rule) on `preset`; the white ones stay white. None: as the data file has it."""
    if preset is None:
        return chosen
    return replace(
        chosen, shots=tuple(shot if shot.rule.background else replace(shot, preset=preset) for shot in chosen.shots)
    )


def shot_request(image: Image.Image, chosen: Pack, shot: Shot, seed: int) -> RenderRequest:
    """The studio request for one image of a pack: its preset and format at the rule's sizes and fill."""
    white = shot.rule.background is not None
    return RenderRequest(
        image,
        shot.preset,
        chosen.ratio,
        1,
        seed,
        white_shadow=not white,
        shape=frame(shot.rule, ratio(chosen.ratio)),
        fill=fill_for(shot.rule),
    )


def frame(rule: Rule, shape: Ratio) -> Ratio:
    """The format at the rule's sizes: its recommended size as the target, its largest as the cap."""
    target = (
        rule.recommended
        if rule.recommended and _is_aspect(rule.recommended, (shape.width, shape.height))
        else shape.target
    )
    if rule.max_long_side and max(target) > rule.max_long_side:
        cut = rule.max_long_side / max(target)
        target = (math.floor(target[0] * cut), math.floor(target[1] * cut))
    if not rule.max_long_side:
        return replace(shape, target=target)
    aspect = shape.width / shape.height
    # fit's reduced canvas can come out up to 0.2 % over its cap (whole pixels): keep 1 % below it.
    cap = rule.max_long_side**2 * min(aspect, 1 / aspect) / 1.01
    return replace(shape, target=target, max_pixels=min(MAX_PIXELS, math.floor(cap)))


def fill_for(rule: Rule) -> float | None:
    """The fill to ask the studio for so the product covers at least the rule's share, None if it sets none."""
    if rule.min_fill is None:
        return None
    # A product that needs at most KEEP_PIXELS_UP_TO enlarging keeps its own pixels and sits that much
    # smaller than asked: ask for that much more, within what the layout allows.
    return min(MAX_FILL, rule.min_fill * KEEP_PIXELS_UP_TO + 0.005)


def encode(image: Image.Image, rule: Rule) -> tuple[bytes, str]:
    """The output file: a PNG where the rule takes one within its size limit (every pixel kept, as the
    bot's full-resolution files), else a JPEG at the best quality under the limit, else the rule's first format."""
    if rule.formats is None or "PNG" in rule.formats:
        data = _saved(image, "PNG", compress_level=4)
        if _fits(data, rule):
            return data, "PNG"
    if rule.formats is not None and "JPEG" not in rule.formats:
        return _saved(image, rule.formats[0]), rule.formats[0]
    for quality in QUALITIES:
        # 4:4:4 keeps colour edges from bleeding past the product into the white border.
        data = _saved(image, "JPEG", quality=quality, subsampling=0)
        if _fits(data, rule):
            break
    return data, "JPEG"


def suffix(kind: str) -> str:
    """The file name suffix of an encoded format: "jpg" for JPEG."""
    return _SUFFIXES.get(kind, kind.lower())


def _fits(data: bytes, rule: Rule) -> bool:
    return rule.max_file_mb is None or len(data) <= rule.max_file_mb * 1_000_000


def _saved(image: Image.Image, kind: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


# --- checking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A rule of a pack that a photo cannot meet, known before rendering."""

    rule: Rule
    finding: Finding

    @property
    def text(self) -> str:
        """The rule and the reason, in English."""
        return f"{self.rule.title}: {self.finding.text}"


def precheck(photo_size: tuple[int, int], chosen: Pack) -> list[Refusal]:
    """What a photo of this size cannot meet in this pack, knowable before rendering: one reason per rule."""
    refusals = []
    for rule in dict.fromkeys(shot.rule for shot in chosen.shots):
        if rule.min_long_side and max(photo_size) < rule.min_long_side:
            refusals.append(
                Refusal(
                    rule,
                    Finding(False, "photo-under-long", {"size": _size_text(photo_size), "minimum": rule.min_long_side}),
                )
            )
        elif rule.min_short_side and min(photo_size) < rule.min_short_side:
            refusals.append(
                Refusal(
                    rule,
                    Finding(
                        False, "photo-under-short", {"size": _size_text(photo_size), "minimum": rule.min_short_side}
                    ),
                )
            )
    return refusals


def check(source: bytes | Image.Image, rule: Rule, mask: Image.Image | None = None) -> Verdict:
    """Measure an output (its file's bytes, or an image) against what the rule publishes.

    Product fill comes from `mask` (the studio's protect mask) where given, else the image's alpha,
    else, on a white rule, every pixel that is not RGB 255 (so a shadow counts as product).
    """
    data: bytes | None
    image: Image.Image
    if isinstance(source, bytes):
        data, image = source, Image.open(io.BytesIO(source))
    else:
        data, image = None, source
    pixels = np.asarray(image.convert("RGB"))
    measured = (
        _size(image.size, rule),
        _aspect(image.size, rule),
        _background(pixels, rule),
        _fill(image, pixels, rule, mask),
        _format(image.format if data is not None else None, rule),
        _file_size(data, rule),
        _colour(image.mode, rule),
    )
    return Verdict(rule, image.size, tuple(finding for finding in measured if finding is not None))


def _size(size: tuple[int, int], rule: Rule) -> Finding | None:
    if not (rule.min_long_side or rule.min_short_side or rule.max_long_side):
        return None
    text = _size_text(size)
    if rule.min_long_side and max(size) < rule.min_long_side:
        return Finding(False, "size-under-long", {"size": text, "minimum": rule.min_long_side})
    if rule.min_short_side and min(size) < rule.min_short_side:
        return Finding(False, "size-under-short", {"size": text, "minimum": rule.min_short_side})
    if rule.max_long_side and max(size) > rule.max_long_side:
        return Finding(False, "size-over-long", {"size": text, "maximum": rule.max_long_side})
    return Finding(True, "size", {"size": text})


def _is_aspect(size: tuple[int, int], aspect: tuple[int, int]) -> bool:
    # Within a pixel of the exact ratio: canvases are whole pixels.
    return abs(size[0] * aspect[1] - size[1] * aspect[0]) <= max(aspect)


def _aspect(size: tuple[int, int], rule: Rule) -> Finding | None:
    if rule.aspect is None:
        return None
    name = f"{rule.aspect[0]}:{rule.aspect[1]}"
    if _is_aspect(size, rule.aspect):
        return Finding(True, "aspect", {"aspect": name})
    return Finding(False, "aspect-off", {"size": _size_text(size), "aspect": name})


def _border(pixels: np.ndarray) -> np.ndarray:
    width = max(1, round(BORDER_SHARE * min(pixels.shape[:2])))
    return np.concatenate(
        [
            pixels[:width].reshape(-1, 3),
            pixels[-width:].reshape(-1, 3),
            pixels[:, :width].reshape(-1, 3),
            pixels[:, -width:].reshape(-1, 3),
        ]
    )


def _background(pixels: np.ndarray, rule: Rule) -> Finding | None:
    if rule.background is None:
        return None
    border = _border(pixels)
    off = ~(border == 255).all(axis=1)
    if not off.any():
        return Finding(True, "white")
    darkest = border[off].min(axis=0)
    return Finding(
        False,
        "background-off",
        {"share": round(100 * float(off.mean()), 1), "darkest": f"{darkest[0]},{darkest[1]},{darkest[2]}"},
    )


def _product_box(
    image: Image.Image, pixels: np.ndarray, rule: Rule, mask: Image.Image | None
) -> tuple[int, int, int, int] | None:
    if mask is not None:
        return mask.getbbox()
    if image.mode in ("RGBA", "LA"):
        return image.getchannel("A").getbbox()
    if rule.background is not None:
        rows, cols = np.nonzero((pixels != 255).any(axis=2))
        return None if rows.size == 0 else (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
    return None


def _fill(image: Image.Image, pixels: np.ndarray, rule: Rule, mask: Image.Image | None) -> Finding | None:
    if rule.min_fill is None:
        return None
    box = _product_box(image, pixels, rule, mask)
    if box is None:
        return Finding(None, "fill-unmeasured")
    x0, y0, x1, y1 = box
    share = max((x1 - x0) / image.width, (y1 - y0) / image.height)
    if share >= rule.min_fill:
        return Finding(True, "fill", {"fill": math.floor(100 * share)})
    return Finding(False, "fill-under", {"fill": math.floor(100 * share), "minimum": round(100 * rule.min_fill)})


def _format(kind: str | None, rule: Rule) -> Finding | None:
    if rule.formats is None:
        return None
    if kind is None:
        return Finding(None, "format-unmeasured")
    if kind in rule.formats:
        return Finding(True, "format", {"format": kind})
    return Finding(False, "format-off", {"format": kind, "formats": ", ".join(rule.formats)})


def _file_size(data: bytes | None, rule: Rule) -> Finding | None:
    if rule.max_file_mb is None:
        return None
    if data is None:
        return Finding(None, "file-size-unmeasured")
    megabytes = round(len(data) / 1_000_000, 1)
    if len(data) <= rule.max_file_mb * 1_000_000:
        return Finding(True, "file-size", {"size_mb": megabytes})
    return Finding(False, "file-size-over", {"size_mb": megabytes, "limit_mb": rule.max_file_mb})


def _colour(mode: str, rule: Rule) -> Finding | None:
    if rule.colour is None:
        return None
    colour = _COLOUR_OF_MODE.get(mode, "RGB")
    if colour in rule.colour:
        return Finding(True, "colour", {"colour": colour})
    return Finding(False, "colour-off", {"colour": colour, "accepted": ", ".join(rule.colour)})
