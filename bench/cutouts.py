"""Benchmark of the product cut-out on photographic backgrounds, against known alpha.

Run `.venv/bin/python bench/cutouts.py` (30–60 s on one core); `--each` also prints every photo's
figures, `--write` puts the table into docs/performance.md between its markers, `--split tuning` or
`--split held-out` scores only the even or the odd items (thresholds are tuned on the even ones).

The set is built here, deterministically: synthetic products whose alpha is known exactly (opaque,
holed, see-through) are alpha-blended onto crops of real photographs bundled with scikit-image
(`skimage.data`, public domain or CC0, see `BACKGROUNDS`), at a phone-like 768×1024 or 1024×768,
with a soft contact shadow on some, sensor noise and JPEG compression. The products are drawn, the
backgrounds are photographs; nothing here is a photograph of a product.

Rows: the classical cut-out through `product_cutout`; rectangle GrabCut told the true box (an
upper-bound-ish baseline: no cut-out in the studio is told where the product is); and the neural
stage, only when `shopshot.pipeline.matting` is in the tree and its weights are in the cache.
"""

import os

# One core, as the studio's targets are stated: numpy's BLAS single-threaded (before its import).
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import io  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import skimage.data  # noqa: E402
from PIL import Image  # noqa: E402

# The synthetic set's shape and surface drawers: the same bottle, box and mug, shading and labels.
from fixtures.synthetic import _DRAW, _product_colours, _shadow  # noqa: E402
from shopshot.errors import InputError  # noqa: E402
from shopshot.pipeline.matte import product_cutout  # noqa: E402

ITEMS = 48
PORTRAIT, LANDSCAPE = (768, 1024), (1024, 768)
# Boundary F-measure tolerance, in pixels of the full frame.
TOLERANCE = 2
# A see-through product's body is below alpha 0.5 (so outside the IoU's mask) on most items: it is
# also scored as a whole object, every pixel of alpha above this.
WHOLE = 0.1
GRABCUT_SIDE = 512
DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
BEGIN, END = "<!-- bench/cutouts.py: begin -->", "<!-- bench/cutouts.py: end -->"
_SUPERSAMPLE = 4
# Halves of the set by item number: the cut-out's thresholds are tuned on one and checked on the other.
SPLITS = {"tuning": 0, "held-out": 1}


@dataclass(frozen=True)
class Background:
    """A crop of a bundled photograph: the skimage.data function, the crop in shares, a tint for greyscale ones."""

    photo: str
    crop: tuple[float, float, float, float]
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    plain: bool = False


# Sources and licences as skimage.data's docstrings (scikit-image 0.25.2) give them.
BACKGROUNDS = {
    "coffee: cup on a wooden table": Background("coffee", (0, 0, 1, 1)),  # CC0, Rachel Michetti
    "coffee: table corner": Background("coffee", (0.7, 0, 1, 0.5)),
    "chelsea: the cat": Background("chelsea", (0, 0, 1, 1)),  # CC0, Stefan van der Walt
    "chelsea: blurred room": Background("chelsea", (0.8, 0, 1, 0.5), plain=True),
    "astronaut: portrait": Background("astronaut", (0, 0, 1, 1)),  # NASA, public domain
    "astronaut: studio backdrop": Background("astronaut", (0.2, 0, 0.32, 0.15), plain=True),
    "rocket: launch pad at dusk": Background("rocket", (0, 0, 1, 1)),  # SpaceX, public domain
    "rocket: evening sky": Background("rocket", (0.3, 0, 0.62, 0.35), plain=True),
    "camera: sky over rooftops": Background(
        "camera", (0.45, 0, 0.85, 0.25), (1.0, 0.99, 0.97), plain=True
    ),  # CC0, Lav Varshney
    "camera: lawn and a tripod leg": Background("camera", (0.5, 0.75, 1, 1), (0.85, 1.0, 0.75)),
    "brick wall": Background("brick", (0, 0, 1, 1), (1.0, 0.72, 0.6)),  # CC0 Textures
    "gravel": Background("gravel", (0, 0, 1, 1), (1.0, 0.96, 0.9)),  # CC0 Textures
    "grass": Background("grass", (0, 0, 1, 1), (0.7, 1.0, 0.55)),  # DeviantArt linolafett, CC0
}

KINDS = {
    "bottle": "opaque",
    "box": "opaque",
    "mug": "holed",
    "ring": "holed",
    "scissors": "holed",
    "glass bottle": "see-through",
    "tumbler": "see-through",
    "sunglasses": "see-through",
}


@dataclass(frozen=True)
class BenchItem:
    """One composited photo (item number `index` of the set) and its true alpha (float32, the frame's size)."""

    index: int
    product: str
    background: str
    image: Image.Image
    alpha: np.ndarray

    @property
    def kind(self) -> str:
        return KINDS[self.product]

    @property
    def plain(self) -> bool:
        return BACKGROUNDS[self.background].plain


def benchmark_set(count: int = ITEMS, scale: float = 1.0) -> list[BenchItem]:
    """The first `count` items of the set (deterministic); `scale` shrinks the frames, for tests."""
    return [bench_item(index, scale) for index in range(count)]


def bench_item(index: int, scale: float = 1.0) -> BenchItem:
    """Item number `index`: a product, a background and a placement drawn from the index alone."""
    rng = np.random.default_rng(5000 + index)
    products, backgrounds = list(KINDS), list(BACKGROUNDS)
    product = products[index % len(products)]
    background = backgrounds[(index + index // len(products)) % len(backgrounds)]
    width, height = PORTRAIT if index % 4 else LANDSCAPE
    size = (round(width * scale), round(height * scale))
    alpha, colour = _place(_product_layers(product, min(size) * rng.uniform(0.2, 0.34), rng), size, rng)
    backdrop = _background(BACKGROUNDS[background], size)
    if index % 3:
        backdrop *= _shadow(alpha, rng)[..., None]
    pixels = colour + backdrop * (1 - alpha[..., None]) + rng.normal(0, 2.0, colour.shape)
    image = _jpeg(np.clip(pixels, 0, 255).astype(np.uint8), int(rng.integers(80, 93)))
    return BenchItem(index, product, background, image, alpha)


def half(items: list[BenchItem], split: str) -> list[BenchItem]:
    """The items of one half of the set (`SPLITS`): the even item numbers for tuning, the odd ones held out."""
    return [item for item in items if item.index % 2 == SPLITS[split]]


def _background(background: Background, size: tuple[int, int]) -> np.ndarray:
    """The crop of the photo with the frame's aspect, resized to the frame (float32 RGB)."""
    photo = getattr(skimage.data, background.photo)()
    photo = np.repeat(photo[..., None], 3, axis=2) if photo.ndim == 2 else photo[..., :3]
    rows, cols = photo.shape[:2]
    x0, y0, x1, y1 = (round(share * side) for share, side in zip(background.crop, (cols, rows, cols, rows)))
    aspect = size[0] / size[1]
    crop_w, crop_h = min(x1 - x0, (y1 - y0) * aspect), min(y1 - y0, (x1 - x0) / aspect)
    left, top = x0 + ((x1 - x0) - crop_w) / 2, y0 + ((y1 - y0) - crop_h) / 2
    crop = photo[round(top) : round(top + crop_h), round(left) : round(left + crop_w)]
    resized = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC if crop.shape[1] < size[0] else cv2.INTER_AREA)
    return resized.astype(np.float32) * np.float32(background.tint)


# A layer: (coverage drawn on the supersampled canvas, opacity, colour: RGB or a surface at 1/_SUPERSAMPLE).
Layer = tuple[np.ndarray, float, np.ndarray]


def _product_layers(product: str, scale: float, rng: np.random.Generator) -> list[Layer]:
    """The product's layers, back to front, drawn around the centre of a square canvas."""
    side = int(scale * 3.2) * _SUPERSAMPLE
    centre, big = np.array([side / 2, side / 2]), scale * _SUPERSAMPLE
    if product in ("bottle", "box", "mug"):
        canvas = np.zeros((side, side), np.uint8)
        _DRAW[product](canvas, centre, big, rng)
        return [(canvas, 1.0, _surface(canvas, rng))]
    return _DRAWN_HERE[product](side, centre, big, rng)


def _ring(side, centre, big, rng) -> list[Layer]:
    """A bangle seen at an angle: a thick elliptical ring, the background showing through its middle."""
    canvas = np.zeros((side, side), np.uint8)
    axes = np.array([1.0, rng.uniform(0.55, 0.95)]) * big
    tilt = rng.uniform(0, 180)
    cv2.ellipse(canvas, _point(centre), _point(axes), tilt, 0, 360, 255, -1)
    cv2.ellipse(canvas, _point(centre), _point(axes * rng.uniform(0.6, 0.75)), tilt, 0, 360, 0, -1)
    return [(canvas, 1.0, _surface(canvas, rng))]


def _scissors(side, centre, big, rng) -> list[Layer]:
    """Scissors: two crossed blades and two finger loops with open middles."""
    canvas = np.zeros((side, side), np.uint8)
    turn = rng.uniform(-0.5, 0.5)
    for sign in (-1, 1):
        spread = 0.22 * sign + turn
        tip = centre + big * 1.3 * np.array([np.sin(spread), -np.cos(spread)])
        loop = centre - big * 0.75 * np.array([np.sin(-spread), -np.cos(-spread)])
        normal = np.array([np.cos(spread), np.sin(spread)]) * big * 0.09
        blade = np.array([centre - normal, centre + normal, tip, loop + normal * 0.6, loop - normal * 0.6])
        cv2.fillPoly(canvas, [np.round(blade[[0, 2, 1, 3, 4]]).astype(np.int32)], 255)
        cv2.ellipse(canvas, _point(loop), _point(big * np.array([0.3, 0.22])), np.degrees(-spread), 0, 360, 255, -1)
        cv2.ellipse(canvas, _point(loop), _point(big * np.array([0.19, 0.12])), np.degrees(-spread), 0, 360, 0, -1)
    return [(canvas, 1.0, _surface(canvas, rng))]


def _glass_bottle(side, centre, big, rng) -> list[Layer]:
    """A tinted glass bottle: see-through body, an opaque rim along its outline and an opaque cap."""
    body = np.zeros((side, side), np.uint8)
    _DRAW["bottle"](body, centre, big, rng)
    rim = body - cv2.erode(body, np.ones((3, 3), np.uint8), iterations=max(2, int(big * 0.04)))
    rows = np.nonzero(body.max(axis=1))[0]
    cap = np.zeros_like(body)
    cap[rows[0] : rows[0] + int(big * 0.25)] = body[rows[0] : rows[0] + int(big * 0.25)]
    tint = _colour(rng, saturation=(40, 160), value=(90, 200))
    return [(body, rng.uniform(0.3, 0.6), tint), (rim, 1.0, tint * 0.6), (cap, 1.0, _colour(rng))]


def _tumbler(side, centre, big, rng) -> list[Layer]:
    """A clear drinking glass: a see-through tapered body, an opaque lip and a thick opaque base."""
    body = np.zeros((side, side), np.uint8)
    top, bottom = big * rng.uniform(0.6, 0.8), big * rng.uniform(0.45, 0.6)
    outline = np.array([(-top, -big), (top, -big), (bottom, big), (-bottom, big)]) + centre
    cv2.fillPoly(body, [np.round(outline).astype(np.int32)], 255)
    edges = np.zeros_like(body)
    cv2.polylines(edges, [np.round(outline).astype(np.int32)], True, 255, max(4, int(big * 0.05)))
    cv2.ellipse(edges, _point(centre + (0, big * 0.9)), _point((bottom, big * 0.1)), 0, 0, 360, 255, -1)
    edges &= body
    glass = _colour(rng, saturation=(0, 40), value=(170, 235))
    return [(body, rng.uniform(0.3, 0.5), glass), (edges, 1.0, glass * 0.7)]


def _sunglasses(side, centre, big, rng) -> list[Layer]:
    """Sunglasses from the front: two tinted lenses in an opaque frame, joined by a bridge."""
    lenses, frame = np.zeros((side, side), np.uint8), np.zeros((side, side), np.uint8)
    axes = np.array([0.55, rng.uniform(0.35, 0.45)]) * big
    thickness = max(4, int(big * 0.07))
    for sign in (-1, 1):
        eye = centre + (sign * big * 0.68, 0)
        cv2.ellipse(lenses, _point(eye), _point(axes), 0, 0, 360, 255, -1)
        cv2.ellipse(frame, _point(eye), _point(axes), 0, 0, 360, 255, thickness)
    cv2.ellipse(
        frame, _point(centre - (0, axes[1] * 0.35)), _point((big * 0.16, big * 0.1)), 0, 180, 360, 255, thickness
    )
    tint = _colour(rng, saturation=(30, 200), value=(30, 110))
    return [(lenses, rng.uniform(0.4, 0.6), tint), (frame, 1.0, _colour(rng, value=(10, 80)))]


_DRAWN_HERE = {
    "ring": _ring,
    "scissors": _scissors,
    "glass bottle": _glass_bottle,
    "tumbler": _tumbler,
    "sunglasses": _sunglasses,
}


def _surface(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A product surface (shading, texture or label) at the size the canvas is shrunk to."""
    return _product_colours((canvas.shape[0] // _SUPERSAMPLE, canvas.shape[1] // _SUPERSAMPLE), rng)


def _point(xy) -> tuple[int, int]:
    return round(xy[0]), round(xy[1])


def _colour(rng: np.random.Generator, saturation=(20, 255), value=(50, 235)) -> np.ndarray:
    hsv = np.uint8([[[rng.integers(0, 180), rng.integers(*saturation), rng.integers(*value)]]])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _place(layers: list[Layer], size: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Alpha and premultiplied colour over the frame: the layers composited, shrunk and put in place."""
    small = layers[0][0].shape[0] // _SUPERSAMPLE
    alpha, premultiplied = np.zeros((small, small), np.float32), np.zeros((small, small, 3), np.float32)
    for coverage, opacity, colour in layers:
        # Coverage is anti-aliased on the large canvas; colours blend at the final size.
        a = cv2.resize(coverage, (small, small), interpolation=cv2.INTER_AREA).astype(np.float32) / 255 * opacity
        alpha = alpha * (1 - a) + a
        premultiplied = premultiplied * (1 - a[..., None]) + np.broadcast_to(colour, premultiplied.shape) * a[..., None]
    ys, xs = np.nonzero(alpha > 0)
    alpha, premultiplied = (layer[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] for layer in (alpha, premultiplied))
    width, height = size
    rows, cols = alpha.shape
    margin = int(0.04 * min(size))
    left = int(rng.integers(margin, max(margin + 1, width - cols - margin)))
    top = int(rng.integers(margin, max(margin + 1, height - rows - margin)))
    frame_alpha, frame_colour = np.zeros((height, width), np.float32), np.zeros((height, width, 3), np.float32)
    frame_alpha[top : top + rows, left : left + cols] = alpha
    frame_colour[top : top + rows, left : left + cols] = premultiplied
    return frame_alpha, frame_colour


def _jpeg(pixels: np.ndarray, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


# Metrics ------------------------------------------------------------------------------------------


def iou(found: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two boolean masks (1 when both are empty)."""
    union = (found | truth).sum()
    return float((found & truth).sum() / union) if union else 1.0


def boundary_f(found: np.ndarray, truth: np.ndarray, tolerance: float = TOLERANCE) -> float:
    """Boundary F-measure: precision and recall of each mask's boundary pixels within `tolerance` of the other's."""
    found_edge, truth_edge = _boundary(found), _boundary(truth)
    if not found_edge.any() or not truth_edge.any():
        return float(found_edge.any() == truth_edge.any())
    precision = (_distance_to(truth_edge)[found_edge] <= tolerance).mean()
    recall = (_distance_to(found_edge)[truth_edge] <= tolerance).mean()
    return float(2 * precision * recall / (precision + recall)) if precision + recall else 0.0


def _boundary(mask: np.ndarray) -> np.ndarray:
    """The mask's pixels with a 4-neighbour outside it (the frame's outside counts as outside)."""
    padded = np.pad(mask, 1)
    inner = cv2.erode(padded.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)))[1:-1, 1:-1]
    return mask & ~inner.astype(bool)


def _distance_to(edge: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest edge pixel."""
    return cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def sad(found: np.ndarray, truth: np.ndarray) -> float:
    """Sum of absolute alpha differences over the frame, in thousands (as matting papers report it)."""
    return float(np.abs(found.astype(np.float64) - truth).sum() / 1000)


# Methods: each maps a photo (and, for the baseline, its true alpha) to an alpha over the frame ----


def classical(item: BenchItem) -> np.ndarray:
    """The studio's cut-out, as every caller gets it."""
    return _frame_alpha(product_cutout(item.image), item.image.size)


def neural(stage: object) -> Callable[[BenchItem], np.ndarray]:
    """The cut-out with the neural stage answering: `product_cutout(image, neural=stage)`."""
    return lambda item: _frame_alpha(product_cutout(item.image, neural=stage), item.image.size)


def rectangle_grabcut(item: BenchItem) -> np.ndarray:
    """cv2.grabCut seeded with the TRUE box plus 5 % a side, 5 iterations, on a copy at most 512 px long."""
    pixels = np.asarray(item.image)
    factor = min(1.0, GRABCUT_SIDE / max(item.image.size))
    small = cv2.resize(pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(item.alpha > 0)
    x0, y0, x1, y1 = xs.min() * factor, ys.min() * factor, (xs.max() + 1) * factor, (ys.max() + 1) * factor
    pad_x, pad_y = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
    left, top = max(0, int(x0 - pad_x)), max(0, int(y0 - pad_y))
    right, bottom = min(small.shape[1], int(np.ceil(x1 + pad_x))), min(small.shape[0], int(np.ceil(y1 + pad_y)))
    mask = np.zeros(small.shape[:2], np.uint8)
    cv2.setRNGSeed(0)
    cv2.grabCut(
        small[..., ::-1].copy(),
        mask,
        (left, top, right - left, bottom - top),
        np.zeros((1, 65)),
        np.zeros((1, 65)),
        5,
        cv2.GC_INIT_WITH_RECT,
    )
    found = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    return cv2.resize(found, item.image.size, interpolation=cv2.INTER_LINEAR)


def _frame_alpha(cutout, size: tuple[int, int]) -> np.ndarray:
    """A cut-out's alpha over the whole frame."""
    alpha = np.zeros(size[::-1], np.float32)
    x0, y0, x1, y1 = cutout.box
    alpha[y0:y1, x0:x1] = cutout.alpha
    return alpha


def load_neural_stage() -> object | None:
    """The neural matte stage when its weights are in the operator's cache (the settings' cache dir), else None."""
    from shopshot.config import Settings
    from shopshot.pipeline.matting.loading import load_matte

    settings = Settings()
    return load_matte(settings.matte, settings.diffusion.cache_dir)


# The table ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """One method on one item."""

    iou: float
    whole: float
    boundary: float
    sad: float
    refused: bool
    seconds: float


def score(method: Callable[[BenchItem], np.ndarray], item: BenchItem) -> Score:
    """Run one method on one item; a refusal scores IoU 0 and boundary F 0, its alpha taken as empty."""
    start = time.perf_counter()
    try:
        alpha, refused = method(item), False
    except InputError:  # NoProductFound, or any other refusal the cut-out answers a seller with
        alpha, refused = np.zeros_like(item.alpha), True
    seconds = time.perf_counter() - start
    found, truth = alpha >= 0.5, item.alpha >= 0.5
    if refused:
        return Score(0.0, 0.0, 0.0, sad(alpha, item.alpha), True, seconds)
    whole = iou(alpha > WHOLE, item.alpha > WHOLE)
    return Score(iou(found, truth), whole, boundary_f(found, truth), sad(alpha, item.alpha), False, seconds)


HEADER = (
    "| cut-out | mean IoU | worst IoU | mean IoU: opaque / holed / see-through | mean IoU: plain-ish / busy "
    "backgrounds | mean boundary F (2 px) | see-through items: mean IoU of the whole object (α > 0.1) | "
    "see-through items: mean alpha SAD (thousands) | refused | median ms / photo |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def row(name: str, scores: list[Score], items: list[BenchItem]) -> str:
    """One Markdown row: every metric of one method over the set."""
    by_kind = [
        _mean([s.iou for s, item in zip(scores, items) if item.kind == kind])
        for kind in ("opaque", "holed", "see-through")
    ]
    by_background = [_mean([s.iou for s, item in zip(scores, items) if item.plain == plain]) for plain in (True, False)]
    see_through = [s for s, item in zip(scores, items) if item.kind == "see-through"]
    refused = sum(s.refused for s in scores)
    return (
        f"| {name} | {statistics.mean(s.iou for s in scores):.3f} | {min(s.iou for s in scores):.3f} | "
        f"{' / '.join(by_kind)} | {' / '.join(by_background)} | {statistics.mean(s.boundary for s in scores):.3f} | "
        f"{_mean([s.whole for s in see_through])} | {_mean([s.sad for s in see_through], '.1f')} | "
        f"{refused} of {len(items)} | "
        f"{1000 * statistics.median(s.seconds for s in scores):.0f} |"
    )


def _mean(values: list[float], style: str = ".3f") -> str:
    """The mean, formatted; a dash where a subset of the set has no items."""
    return format(statistics.mean(values), style) if values else "–"


def per_photo(name: str, scores: list[Score], items: list[BenchItem]) -> list[str]:
    """One Markdown row per photo for one method."""
    return [
        f"| {name} | {item.index} | {item.product} | {item.background} | "
        + ("refused | | | |" if s.refused else f"{s.iou:.3f} | {s.whole:.3f} | {s.boundary:.3f} | {s.sad:.1f} |")
        for s, item in zip(scores, items)
    ]


def table(items: list[BenchItem]) -> tuple[str, list[str], str]:
    """The Markdown table, a line per row saying whether it ran, and the per-photo table."""
    methods = [
        ("classical (`product_cutout`)", classical),
        ("OpenCV GrabCut told the true box + 5 %", rectangle_grabcut),
    ]
    stage = load_neural_stage()
    if stage is not None:
        methods.append(("neural stage", neural(stage)))
    rows, ran = [HEADER], [f"{name}: ran" for name, _ in methods]
    details = [
        "| cut-out | photo | product | background | IoU | whole-object IoU | boundary F | SAD (thousands) |",
        "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, method in methods:
        scores = [score(method, item) for item in items]
        rows.append(row(name, scores, items))
        details += per_photo(name, scores, items)
    if stage is None:
        rows.append("| neural stage | not run: no weights | | | | | | | | |")
        ran.append("neural stage: not run: no weights in the cache (shopshot models pull --cpu)")
    return "\n".join(rows), ran, "\n".join(details)


def write_docs(text: str, path: Path = DOCS) -> None:
    """Replace what lies between the markers in docs/performance.md with `text`."""
    document = path.read_text()
    head, rest = document.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main() -> None:
    """Build the set, score every row that can run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="also update docs/performance.md between its markers")
    parser.add_argument("--each", action="store_true", help="also print every photo's figures for every row")
    parser.add_argument(
        "--split", choices=tuple(SPLITS), help="only one half of the set: even items (tuning) or odd ones (held out)"
    )
    arguments = parser.parse_args()
    if arguments.split and arguments.write:
        parser.error("--write puts the whole set's table in the docs: no --split")
    cv2.setNumThreads(1)
    items = benchmark_set()
    markdown, ran, details = table(half(items, arguments.split) if arguments.split else items)
    print(markdown)
    print()
    print("\n".join(ran))
    if arguments.each:
        print()
        print(details)
    if arguments.write:
        write_docs(markdown)


if __name__ == "__main__":
    main()
