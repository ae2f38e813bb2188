"""The picture a seller chooses products on: their photo with each candidate outlined and numbered."""

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageEnhance, ImageFont

from shopshot.pipeline.matte import Candidate

# Loud colours, told apart at a glance; each is drawn between black rims, so it shows on light,
# dark and busy photos alike. Black digits read on every one of them.
COLOURS = ((255, 214, 0), (0, 229, 255), (255, 64, 200), (118, 255, 3), (255, 145, 0), (160, 120, 255))
_INK = (0, 0, 0)
# Phones show a chat photo about 300 dp wide: a smaller preview is enlarged so its numbers stay readable.
MIN_SIDE = 640
# The photo outside every candidate is dimmed this much, so the outlined ones stand out.
_OUTSIDE = 0.55


def render_candidates(image: Image.Image, candidates: Sequence[Candidate]) -> Image.Image:
    """The photo, dimmed outside the candidates, each outlined in its colour with its number (from 1) in a badge."""
    sheet = _at_least(image.convert("RGB"), MIN_SIDE)
    boxes = [_pixels(candidate.box, sheet.size) for candidate in candidates]
    line = max(3, max(sheet.size) // 160)
    sheet = _dimmed_outside(sheet, [_around(box, 5 * line) for box in boxes])
    draw = ImageDraw.Draw(sheet)
    for index, box in enumerate(boxes):
        _outline(draw, box, COLOURS[index % len(COLOURS)], line)
    for index, box in enumerate(boxes):  # badges last: one never hides under another candidate's outline
        _badge(draw, _around(box, 5 * line), index + 1, COLOURS[index % len(COLOURS)], sheet.size)
    return sheet


def badge_centre(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, int]:
    """Where a number sits: on its outline's top-left corner, kept inside the picture."""
    radius = badge_radius(size)
    x = min(max(box[0], radius + 2), size[0] - radius - 2)
    y = min(max(box[1], radius + 2), size[1] - radius - 2)
    return x, y


def badge_radius(size: tuple[int, int]) -> int:
    """The radius of a number badge: a ninth of the picture's longer side across."""
    return max(24, max(size) // 18)


def _at_least(image: Image.Image, side: int) -> Image.Image:
    if max(image.size) >= side:
        return image
    scale = side / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)


def _pixels(box: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[int, int, int, int]:
    width, height = size
    return round(box[0] * width), round(box[1] * height), round(box[2] * width), round(box[3] * height)


def _around(box: tuple[int, int, int, int], margin: int) -> tuple[int, int, int, int]:
    return box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin


def _dimmed_outside(image: Image.Image, boxes: list[tuple[int, int, int, int]]) -> Image.Image:
    dimmed = ImageEnhance.Brightness(image).enhance(_OUTSIDE)
    inside = Image.new("L", image.size, 0)
    for box in boxes:
        ImageDraw.Draw(inside).rectangle(box, fill=255)
    return Image.composite(image, dimmed, inside)


def _outline(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], colour: tuple[int, int, int], line: int
) -> None:
    # Drawn just outside the box (Pillow draws a rectangle's width inwards), so it never covers the
    # product's edge: a band of the colour between two black rims.
    outer = _around(box, 5 * line)
    draw.rectangle(outer, outline=_INK, width=4 * line)
    draw.rectangle((outer[0] + line, outer[1] + line, outer[2] - line, outer[3] - line), outline=colour, width=2 * line)


def _badge(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    number: int,
    colour: tuple[int, int, int],
    size: tuple[int, int],
) -> None:
    radius = badge_radius(size)
    x, y = badge_centre(box, size)
    rim = max(2, radius // 8)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour, outline=_INK, width=rim)
    font = ImageFont.load_default(size=int(radius * (1.3 if number < 10 else 1.0)))
    draw.text((x, y), str(number), font=font, fill=_INK, anchor="mm")
