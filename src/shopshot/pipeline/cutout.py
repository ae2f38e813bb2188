"""The product mask: from the backdrop on plain or near-plain backgrounds, from a centre prior on busy ones.

1. Shrink the photo to a working size.
2. Model the background from the border: a quadratic colour surface fitted with trimming, so
   gradients and vignetting fit and a product touching the edge does not pull the fit.
3. A shadow-tolerant colour distance to that surface seeds GrabCut (sure / probable labels).
4. Clean GrabCut's answer: morphology, keep the main component(s), fill holes that do not look
   like background (a mug handle's opening stays open).
5. At full size (past EDGE_PIXELS, on a copy scaled down to it), solve the edge band as a
   two-colour matte between the background surface and the nearby product colour, feather it,
   and shrink the solid part into the `protect` mask.

When the border is no plain backdrop (a table, a bed, a shop floor), steps 2-4 give way to GrabCut
seeded with the frame minus a thin margin: the product is assumed to be inside it and the margin to
be background. That answer is kept only when a quality gate trusts it (`_check_clear`): not cut by
the frame, not scattered, unlike the border's colours, its outline on the photo's edges. Otherwise
ProductUnclear says so, instead of a floating head or a patch of fur. Its edge is the outline
snapped to the photo's edges (no two-colour matte: a textured background has no one colour).
"""

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from shopshot.errors import NoProductFound, ProductUnclear

WORK_SIDE = 320
# The edge is solved at full size while the product's box (plus a few pixels of margin) is at most
# this many pixels; a larger product's edge is solved on a copy scaled down to it and the matte
# scaled back up. Solving holds a dozen float copies of the box (1.4 GB at 40 MP) for an edge finer
# than any screen shows.
EDGE_PIXELS = 12_000_000
# The background is fitted to a ring this thin: a product filling 95% of the frame leaves a margin
# of about 1.3% of each side, and the ring must lie in it.
_BORDER = 0.01
# A product may fill most of the frame, up to this share of it, once the backdrop shows around it.
_MIN_AREA, _MAX_AREA = 0.003, 0.97
# A plain backdrop's ring fits its smooth surface to within a few Lab units (1-1.5 on the sample and
# on phone photos of plain sweeps); past this the ring crosses the product or clutter (a product cut
# by the frame's edge, one touching every side), and the fit, and any mask from it, is not to be
# trusted: the centre prior takes over (the wooden table of scikit-image's coffee photo: 28).
_MAX_BACKDROP_SIGMA = 7.5
# The trimmed fit can follow one colour of a busy background (a brick wall's bricks: sigma 1-2) while
# the rest of the ring is the other (its mortar). A plain backdrop's ring is mostly backdrop: past
# this share of it far from the fit (halfway between the two thresholds), the centre prior takes
# over. Over the benchmark's tuning half (bench/cutouts.py --split tuning): the brick wall 0.16; the
# launch-pad photo's towers 0.09-0.11; sweeps, skies and lawns 0.00-0.08.
_MAX_OFF_BACKDROP = 0.12
# Darkening counts this much in the distance: soft shadows on the backdrop are not product.
_SHADOW_WEIGHT = 0.25
_GRABCUT_ITERATIONS = 3
_FEATHER_SIGMA = 0.7
_PROTECT_SHRINK = 2
# Below this RGB contrast between product and background the edge matte is too unsure to use.
_MIN_MATTE_CONTRAST = 15.0
# On a busy background GrabCut starts from the frame less this margin (a share of the shorter side):
# the margin is background, what is inside it may be product. An espresso saucer on a table comes
# within 2.5% of the frame (scikit-image's coffee photo).
_PRIOR_MARGIN = 0.02
_PRIOR_ITERATIONS = 4
# The quality gate. A side of the frame cuts the product when the mask runs along it for more than
# this share of the mask's own extent there (a saucer grazing the bottom edge: 4%; a mug the frame
# cuts through: over 20%).
_CUT_BY_FRAME = 0.1
# The product's typical colour (median Lab distance to the nearest of the border's main colours)
# must stand out from the border by this much: a product on a table, 15-60; a patch of the
# cat's face cut from the cat filling the photo, 9.
_MIN_DISTINCT = 11.0
_BORDER_COLOURS = 8
# The outline must lie on the photo's edges: its mean gradient at least this many times the
# photo's mean gradient (the coffee photo's cup and saucer: 4.4; that outline moved 10-25 px off
# them: 0.9-1.7; products on the motorcycle photo's garage and on the coffee photo's table: 3.4-10).
_MIN_EDGE = 2.0
# Kept parts holding less than this share of what GrabCut found are scattered fragments rather than
# products; on a busy background, so are more parts than a seller would choose from.
_MAX_PARTS = 6
_MIN_KEPT = 0.8
# A second GrabCut, from the frame less this wider margin, must find the same product within it:
# clutter by the border that swayed the first one's colour models (shelves, a flag's stripes)
# makes the two disagree. Over products drawn on crops of scikit-image's photos, this agreement
# (IoU within the wider margin) was 0.92 and up wherever the cut-out was right (IoU to the truth
# 0.86 and up), 0.57-0.83 where shelves, stripes or a tower had joined it; the coffee photo: 0.98.
_CHECK_MARGIN = 0.1
_MIN_AGREEMENT = 0.85


@dataclass(frozen=True)
class BackgroundModel:
    """A smooth RGB surface over the frame, in coordinates -1..1, plus its noise level in Lab."""

    coefficients: np.ndarray
    sigma: float

    @property
    def thresholds(self) -> tuple[float, float]:
        """Distances below the first look like background, above the second like product."""
        return max(3 * self.sigma, 5.0), max(7 * self.sigma, 14.0)

    def rgb(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Background colour (float32, N×3) at normalised coordinates."""
        colours: np.ndarray = _basis(u, v) @ self.coefficients
        return colours

    def distance(
        self, colours: np.ndarray, u: np.ndarray, v: np.ndarray, darkening: float = _SHADOW_WEIGHT
    ) -> np.ndarray:
        """Shadow-tolerant Lab distance of N×3 RGB colours to the background at those points."""
        return _lab_distance(colours, self.rgb(u, v), darkening)

    def over(self, box: tuple[int, int, int, int], size: tuple[int, int]) -> "BackgroundModel":
        """The same surface in the -1..1 coordinates of `box` of a frame of `size` (for a crop resampled on its own)."""
        (width, height), (x0, y0, x1, y1) = size, box
        u, v = (
            axis.ravel() for axis in np.meshgrid(np.array([-1, 0, 1], np.float32), np.array([-1, 0, 1], np.float32))
        )
        frame_u = (x0 + (u + 1) / 2 * (x1 - x0)) / width * 2 - 1
        frame_v = (y0 + (v + 1) / 2 * (y1 - y0)) / height * 2 - 1
        # Nine points fix a quadratic surface exactly.
        coefficients = np.linalg.lstsq(_basis(u, v), self.rgb(frame_u, frame_v), rcond=None)[0]
        return BackgroundModel(coefficients.astype(np.float32), self.sigma)


@dataclass(frozen=True)
class Cutout:
    """Masks over `box` (x0, y0, x1, y1) of the input; `alpha` is float32 0..1, `protect` bool."""

    box: tuple[int, int, int, int]
    alpha: np.ndarray
    protect: np.ndarray
    background: BackgroundModel
    image_size: tuple[int, int]
    # The product's own colour (float32, box×3) where alpha is partial, when the matte estimated it;
    # None: the edge is recomposed from the background model instead.
    foreground: np.ndarray | None = None

    def background_at(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """The estimated original background colour at box pixels (ys, xs)."""
        width, height = self.image_size
        x0, y0 = self.box[:2]
        return self.background.rgb(_norm(xs + x0, width), _norm(ys + y0, height))


def cut_out(image: Image.Image) -> Cutout:
    """Find the product in an RGB photo; NoProductFound when there is none, ProductUnclear when unsure which."""
    pixels = np.asarray(image)
    small = _shrink(pixels)
    smooth = cv2.GaussianBlur(small, (0, 0), 1.0)
    model = fit_background(smooth)
    if not _plain_backdrop(smooth, model):
        return _busy_cut_out(pixels, small, smooth)
    distance = _distance_map(smooth, model)
    found = _grabcut(small, distance, model)
    mask = _clean(found, distance, model)
    _check_area(mask)
    # A product on a plain backdrop may run off a side or two (the backdrop's colour still tells it
    # apart); a mask running off three is the background's own pattern (a brick wall's mortar).
    # Many parts are fine here: a set of earrings laid out on a sweep.
    if not _mostly_kept(found, mask) or _sides_cut(mask, _strip(small.shape[:2])) >= 3:
        raise ProductUnclear()
    return _full_size(pixels, small, mask, model)


def _shrink(pixels: np.ndarray) -> np.ndarray:
    height, width = pixels.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


def _norm(index: np.ndarray, length: int) -> np.ndarray:
    """Pixel index to the -1..1 coordinate of its centre, the same at every resolution."""
    return ((index + 0.5) / length * 2 - 1).astype(np.float32)


def _basis(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], axis=-1)


def _to_lab(colours: np.ndarray) -> np.ndarray:
    rgb = np.clip(colours, 0, 255).astype(np.float32).reshape(-1, 1, 3) / 255
    lab: np.ndarray = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    return lab


def _lab_distance(colours: np.ndarray, reference: np.ndarray, darkening: float = _SHADOW_WEIGHT) -> np.ndarray:
    delta = _to_lab(colours) - _to_lab(reference)
    lightness = np.where(delta[:, 0] < 0, darkening, 1.0) * delta[:, 0]
    distance: np.ndarray = np.sqrt(lightness**2 + delta[:, 1] ** 2 + delta[:, 2] ** 2)
    return distance


def fit_background(smooth: np.ndarray) -> BackgroundModel:
    """Fit the background surface to the border of a (blurred) working image."""
    return _fit_surface(smooth, _ring(smooth.shape[:2], _strip(smooth.shape[:2])))


def _strip(shape: tuple[int, int]) -> int:
    """The width of the border ring the backdrop is fitted to, in working pixels."""
    return max(2, round(_BORDER * min(shape)))


def _ring(shape: tuple[int, int], strip: int) -> np.ndarray:
    ring = np.ones(shape, bool)
    ring[strip:-strip, strip:-strip] = False
    return ring


def _fit_surface(smooth: np.ndarray, where: np.ndarray) -> BackgroundModel:
    """Fit the smooth surface to the pixels `where` is set, trimming those that do not fit."""
    height, width = smooth.shape[:2]
    ys, xs = np.nonzero(where)
    colours = smooth[ys, xs].astype(np.float32)
    basis = _basis(_norm(xs, width), _norm(ys, height))
    keep = np.ones(len(colours), bool)
    for _ in range(4):
        coefficients = np.linalg.lstsq(basis[keep], colours[keep], rcond=None)[0]
        residual = np.linalg.norm(colours - basis @ coefficients, axis=1)
        keep = residual < max(3 * 1.4826 * float(np.median(residual[keep])), 6.0)
    lab_residual = _lab_distance(colours[keep], basis[keep] @ coefficients)
    return BackgroundModel(coefficients.astype(np.float32), max(1.0, 1.4826 * float(np.median(lab_residual))))


def _distance_map(smooth: np.ndarray, model: BackgroundModel) -> np.ndarray:
    """Distance to the background, shadow-tolerant unless that would lose most of the product.

    A grey product a little darker than its backdrop differs from it the way a shadow does; when
    the tolerant distance keeps under half of what the plain one finds, darkening counts fully.
    """
    height, width = smooth.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    colours, u, v = smooth.reshape(-1, 3), _norm(xs.ravel(), width), _norm(ys.ravel(), height)
    tolerant = model.distance(colours, u, v)
    plain = model.distance(colours, u, v, darkening=1.0)
    middle = sum(model.thresholds) / 2
    chosen = tolerant if (tolerant > middle).sum() >= 0.5 * (plain > middle).sum() else plain
    return chosen.reshape(height, width)


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _grabcut(small: np.ndarray, distance: np.ndarray, model: BackgroundModel) -> np.ndarray:
    """Seed GrabCut from the colour distance and run it on the region around the candidate.

    Like a rectangle seed but tighter: the candidate's convex hull is "probably product", so a
    backdrop-coloured stripe across a product is decided by colour models, not by thresholds.
    """
    low, high = model.thresholds
    middle = (low + high) / 2
    candidate = cv2.morphologyEx((distance > middle).astype(np.uint8), cv2.MORPH_OPEN, _disk(1))
    # Closing first joins parts split by thin seams (two colours blending into a backdrop-like one).
    candidate = _main_components(cv2.morphologyEx(candidate, cv2.MORPH_CLOSE, _disk(2)) > 0)
    if not candidate.any():
        raise NoProductFound()
    hull = _convex_hull(candidate)
    near = cv2.dilate(hull.astype(np.uint8), _disk(max(3, min(small.shape[:2]) // 16))) > 0
    seeds = np.full(candidate.shape, cv2.GC_BGD, np.uint8)
    seeds[near] = cv2.GC_PR_BGD
    # Backdrop-coloured pixels inside the hull (a handle's opening) start as background, or they
    # would train the product's colour model on the backdrop and never leave it.
    seeds[hull & (distance > low)] = cv2.GC_PR_FGD
    inner = cv2.erode(candidate.astype(np.uint8), _disk(1)) > 0
    seeds[inner & (distance > middle)] = cv2.GC_FGD
    return _run_grabcut(small, seeds, _bounding_box(near, margin=2))


def _convex_hull(mask: np.ndarray) -> np.ndarray:
    """One hull over every part, so a backdrop-coloured band splitting a product lies inside it."""
    points = cv2.findNonZero(mask.astype(np.uint8))
    hull = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
    return hull > 0


def _bounding_box(mask: np.ndarray, margin: int = 0) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    height, width = mask.shape
    return (
        max(0, int(xs.min()) - margin),
        max(0, int(ys.min()) - margin),
        min(width, int(xs.max()) + 1 + margin),
        min(height, int(ys.max()) + 1 + margin),
    )


def _run_grabcut(
    small: np.ndarray, seeds: np.ndarray, box: tuple[int, int, int, int], iterations: int = _GRABCUT_ITERATIONS
) -> np.ndarray:
    x0, y0, x1, y1 = box
    region = np.ascontiguousarray(seeds[y0:y1, x0:x1])
    has_background = np.isin(region, (cv2.GC_BGD, cv2.GC_PR_BGD)).any()
    if has_background:
        # GrabCut seeds its colour models with k-means on OpenCV's global RNG: fix it per call
        # so the same photo always gives the same mask.
        cv2.setRNGSeed(0)
        models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        image = np.ascontiguousarray(small[y0:y1, x0:x1])
        # The stubs want a rect; OpenCV takes None for it when the mask seeds the cut.
        cv2.grabCut(image, region, None, *models, iterations, cv2.GC_INIT_WITH_MASK)  # type: ignore[call-overload]
    mask = np.zeros(seeds.shape, bool)
    mask[y0:y1, x0:x1] = np.isin(region, (cv2.GC_FGD, cv2.GC_PR_FGD))
    return mask


def _main_components(mask: np.ndarray) -> np.ndarray:
    """Keep the largest component and any others at least a fifth of its size."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros(mask.shape, bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    floor = max(0.2 * areas.max(), _MIN_AREA * mask.size)
    return np.isin(labels, 1 + np.nonzero(areas >= floor)[0])


def _fill_holes(mask: np.ndarray, distance: np.ndarray, low: float) -> np.ndarray:
    """Fill enclosed holes, except sizeable ones whose colour is the background's."""
    count, labels = cv2.connectedComponents((~mask).astype(np.uint8), connectivity=4)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    areas = np.bincount(labels.ravel(), minlength=count)
    mean_distance = np.bincount(labels.ravel(), distance.ravel(), minlength=count) / np.maximum(areas, 1)
    open_hole = (areas >= 0.004 * max(mask.sum(), 1)) & (mean_distance < low)
    open_hole[edge] = True
    open_hole[0] = False  # label 0 is the mask itself
    kept: np.ndarray = ~open_hole[labels]
    return kept


def _tidy(mask: np.ndarray) -> np.ndarray:
    """Drop specks and close pinholes."""
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, _disk(1))
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, _disk(1)) > 0


def _clean(mask: np.ndarray, distance: np.ndarray, model: BackgroundModel) -> np.ndarray:
    return _fill_holes(_main_components(_tidy(mask)), distance, model.thresholds[0])


def _plain_backdrop(smooth: np.ndarray, model: BackgroundModel) -> bool:
    """Whether the border ring fits the smooth surface closely, nearly all of it."""
    if model.sigma > _MAX_BACKDROP_SIGMA:
        return False
    height, width = smooth.shape[:2]
    ys, xs = np.nonzero(_ring((height, width), _strip((height, width))))
    distance = model.distance(smooth[ys, xs].astype(np.float32), _norm(xs, width), _norm(ys, height))
    return float((distance > sum(model.thresholds) / 2).mean()) <= _MAX_OFF_BACKDROP


def _check_area(mask: np.ndarray) -> None:
    share = mask.mean()
    if share < _MIN_AREA or share > _MAX_AREA:
        raise NoProductFound()


def _busy_cut_out(pixels: np.ndarray, small: np.ndarray, smooth: np.ndarray) -> Cutout:
    """The product on a busy background: GrabCut from the centre prior, kept when the quality gate trusts it."""
    margin = max(2, round(_PRIOR_MARGIN * min(small.shape[:2])))
    contrast = _border_contrast(smooth, margin)
    found = _prior_grabcut(small, margin)
    mask = _fill_holes(_main_components(_tidy(found)), contrast, _MIN_DISTINCT)
    _check_area(mask)
    _check_clear(small, smooth, found, mask, contrast, margin)
    # The surface fitted to a band just outside the product: what its edge pixels are recomposed from.
    solid = mask.astype(np.uint8)
    around = (cv2.dilate(solid, _disk(8)) > 0) & (cv2.dilate(solid, _disk(2)) == 0)
    return _full_size(pixels, small, mask, _fit_surface(smooth, around), matted=False)


def _prior_grabcut(small: np.ndarray, margin: int) -> np.ndarray:
    """GrabCut seeded with the frame less `margin`: the margin is background, the rest probably product."""
    height, width = small.shape[:2]
    seeds = np.full((height, width), cv2.GC_BGD, np.uint8)
    seeds[margin:-margin, margin:-margin] = cv2.GC_PR_FGD
    return _run_grabcut(small, seeds, (0, 0, width, height), _PRIOR_ITERATIONS)


def _border_contrast(smooth: np.ndarray, margin: int) -> np.ndarray:
    """Each pixel's Lab distance to the nearest of the border's main colours (k-means over the margin)."""
    lab = _to_lab(smooth.reshape(-1, 3))
    ring = _ring(smooth.shape[:2], margin).ravel()
    cv2.setRNGSeed(0)  # k-means draws its first centres from OpenCV's global RNG
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    # The stubs want a bestLabels array; OpenCV takes None for it and allocates the labels itself.
    _, _, centres = cv2.kmeans(lab[ring], _BORDER_COLOURS, None, criteria, 2, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
    distances = np.linalg.norm(lab[:, None, :] - centres[None], axis=2).min(axis=1)
    far: np.ndarray = distances.reshape(smooth.shape[:2])
    return far


def _mostly_kept(found: np.ndarray, mask: np.ndarray) -> bool:
    """Whether the cleaning that gave `mask` kept most of GrabCut's answer `found`, rather than dropping it as specks."""
    return bool((found & mask).sum() >= _MIN_KEPT * found.sum())


def _parts(mask: np.ndarray) -> int:
    return cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0] - 1


def _check_clear(
    small: np.ndarray, smooth: np.ndarray, found: np.ndarray, mask: np.ndarray, contrast: np.ndarray, margin: int
) -> None:
    """The quality gate on the prior's answer: ProductUnclear unless it looks like a product, or a few.

    The margin is assumed background, so a mask running along any side of it is a product the
    frame cuts (or background taken for product).
    """
    if (
        _parts(mask) > _MAX_PARTS
        or not _mostly_kept(found, mask)
        or _sides_cut(mask, margin)
        or float(np.median(contrast[mask])) < _MIN_DISTINCT
        or _edge_strength(smooth, mask, margin) < _MIN_EDGE
        or not _agrees(small, found)
    ):
        raise ProductUnclear()


def _agrees(small: np.ndarray, found: np.ndarray) -> bool:
    """Whether GrabCut from the frame less the wider check margin finds what `found` holds within it."""
    wide = round(_CHECK_MARGIN * min(small.shape[:2]))
    again = _prior_grabcut(small, wide)
    within = found & ~_ring(found.shape, wide)
    return bool((within & again).sum() >= _MIN_AGREEMENT * (within | again).sum())


def _sides_cut(mask: np.ndarray, margin: int) -> int:
    """How many sides of the frame less `margin` the mask runs along for a good part of its own extent there."""
    inner = mask[margin:-margin, margin:-margin]
    rows, cols = max(1, inner.any(axis=1).sum()), max(1, inner.any(axis=0).sum())
    runs = np.array(
        [inner[0].sum() / cols, inner[-1].sum() / cols, inner[:, 0].sum() / rows, inner[:, -1].sum() / rows]
    )
    return int((runs > _CUT_BY_FRAME).sum())


def _edge_strength(smooth: np.ndarray, mask: np.ndarray, margin: int) -> float:
    """The mean gradient on the mask's outline (clear of the frame's margin) over the photo's mean gradient."""
    colours = smooth.astype(np.float32)
    gradient = np.sqrt(cv2.Sobel(colours, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(colours, cv2.CV_32F, 0, 1) ** 2).max(
        axis=2
    )
    solid = mask.astype(np.uint8)
    outline = (solid > cv2.erode(solid, _disk(1))) & ~_ring(mask.shape, margin + 2)
    if not outline.any():
        return 0.0
    return float(gradient[outline].mean() / max(float(gradient.mean()), 1e-6))


def _full_size(
    pixels: np.ndarray, small: np.ndarray, mask: np.ndarray, model: BackgroundModel, matted: bool = True
) -> Cutout:
    """Bring the working mask back to full size with a feathered edge, matted against `model` when `matted`."""
    height, width = pixels.shape[:2]
    x0, y0, x1, y1 = _full_box(mask, (small.shape[1] / width, small.shape[0] / height), (width, height))
    shrink = min(1.0, (EDGE_PIXELS / ((x1 - x0) * (y1 - y0))) ** 0.5)
    if shrink == 1.0:
        return _edge(pixels, small, mask, model, matted)
    size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    return _scaled_up(
        _edge(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), small, mask, model, matted), (width, height)
    )


def _scaled_up(cutout: Cutout, size: tuple[int, int]) -> Cutout:
    """A cut-out solved on a scaled-down copy, brought to the photo's `size` (alpha bilinear, protect inside it)."""
    (width, height), (small_width, small_height) = size, cutout.image_size
    sx, sy = small_width / width, small_height / height
    bx0, by0, bx1, by1 = cutout.box
    x0, y0 = int(bx0 / sx), int(by0 / sy)
    x1, y1 = min(width, int(np.ceil(bx1 / sx))), min(height, int(np.ceil(by1 / sy)))
    # Full-size pixel centres, mapped into the small cut-out's box.
    matrix = np.array([[sx, 0, (x0 + 0.5) * sx - 0.5 - bx0], [0, sy, (y0 + 0.5) * sy - 0.5 - by0]], np.float32)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP

    def warp(values: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(values, matrix, (x1 - x0, y1 - y0), flags=flags, borderMode=cv2.BORDER_CONSTANT)

    alpha = warp(cutout.alpha)
    protect = warp(cutout.protect.astype(np.float32)) >= 0.999  # only where every small neighbour is protected
    alpha[protect] = 1
    return Cutout((x0, y0, x1, y1), alpha, protect, cutout.background, size)


def _edge(
    pixels: np.ndarray, small: np.ndarray, mask: np.ndarray, model: BackgroundModel, matted: bool = True
) -> Cutout:
    """Solve the edge at the resolution of `pixels`: upsample the working mask, snap it, matte it (when `matted`), feather it."""
    height, width = pixels.shape[:2]
    scale = (small.shape[1] / width, small.shape[0] / height)
    box = _full_box(mask, scale, (width, height))
    soft = _upsample(mask, scale, box)
    x0, y0, x1, y1 = box
    soft = _guided_filter(pixels[y0:y1, x0:x1], soft, radius=int(np.ceil(1 / min(scale))) + 1)
    alpha = _matte(pixels, soft, model, box) if matted else _outline(soft)
    return _finish(alpha, model, box, (width, height))


def _full_box(mask: np.ndarray, scale: tuple[float, float], size: tuple[int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = _bounding_box(mask)
    pad = int(np.ceil(1 / min(scale))) + 4
    return (
        max(0, int(x0 / scale[0]) - pad),
        max(0, int(y0 / scale[1]) - pad),
        min(size[0], int(np.ceil(x1 / scale[0])) + pad),
        min(size[1], int(np.ceil(y1 / scale[1])) + pad),
    )


def _upsample(mask: np.ndarray, scale: tuple[float, float], box: tuple[int, int, int, int]) -> np.ndarray:
    """The working mask, smoothed and sampled at the full-size pixels of `box`."""
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.8)
    (sx, sy), (x0, y0, x1, y1) = scale, box
    matrix = np.array([[sx, 0, (x0 + 0.5) * sx - 0.5], [0, sy, (y0 + 0.5) * sy - 0.5]], np.float32)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(soft, matrix, (x1 - x0, y1 - y0), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def _guided_filter(crop: np.ndarray, soft: np.ndarray, radius: int, eps: float = 1e-3) -> np.ndarray:
    """Snap the upsampled outline to the photo's own edges (He et al.'s guided filter, grey guide)."""
    guide = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    size = (2 * radius + 1, 2 * radius + 1)

    def mean(values: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(values, -1, size, borderType=cv2.BORDER_REFLECT)

    mean_guide, mean_soft = mean(guide), mean(soft)
    slope = (mean(guide * soft) - mean_guide * mean_soft) / (mean(guide * guide) - mean_guide**2 + eps)
    offset = mean_soft - slope * mean_guide
    alpha: np.ndarray = np.clip(mean(slope) * guide + mean(offset), 0, 1)
    return alpha


def _product_colour(crop: np.ndarray, sure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The colour of the nearest sure product pixels around every pixel, and how near they are.

    A small normalised convolution: a thin rim keeps its own colour instead of borrowing the
    body's, which a wider average would do.
    """
    weight = cv2.GaussianBlur(sure.astype(np.float32), (0, 0), 1.5)
    total = cv2.GaussianBlur(crop.astype(np.float32) * sure[..., None], (0, 0), 1.5)
    return total / np.maximum(weight, 1e-6)[..., None], weight


def _matte(pixels: np.ndarray, soft: np.ndarray, model: BackgroundModel, box: tuple[int, int, int, int]) -> np.ndarray:
    """Alpha over `box`: solid inside, a two-colour matte (background vs product) in the edge band."""
    x0, y0, x1, y1 = box
    height, width = pixels.shape[:2]
    crop = pixels[y0:y1, x0:x1]
    alpha = (soft >= 0.5).astype(np.float32)
    ys, xs = np.nonzero((soft > 0.02) & (soft < 0.98))
    colours = crop[ys, xs].astype(np.float32)
    back = model.rgb(_norm(xs + x0, width), _norm(ys + y0, height))
    sure = soft >= 0.98
    sure[ys, xs] = _lab_distance(colours, back) > model.thresholds[1]
    sure = cv2.erode(sure.astype(np.uint8), _disk(1)) > 0
    front, support = _product_colour(crop, sure)
    contrast = front[ys, xs] - back
    strength = np.einsum("ij,ij->i", contrast, contrast)
    solved = np.einsum("ij,ij->i", colours - back, contrast) / np.maximum(strength, 1e-6)
    usable = (strength > _MIN_MATTE_CONTRAST**2) & (support[ys, xs] > 0.02)
    # Where the matte has too little to go on, follow the smooth upsampled outline instead.
    alpha[ys, xs] = np.where(usable, np.clip(solved, 0, 1), _outline(soft[ys, xs]))
    # A real edge is a few pixels wide; partial alpha farther out is shadow or shading on the
    # backdrop, which the matte's colour line cannot tell from a mixed pixel.
    reach = max(2, round(0.0015 * max(height, width)))
    near_edge = cv2.dilate((alpha >= 0.85).astype(np.uint8), _disk(reach)) > 0
    alpha[~near_edge] = 0
    return alpha


def _outline(soft: np.ndarray) -> np.ndarray:
    """Alpha from the snapped, upsampled outline alone: a ramp a little narrower than its blur."""
    return np.clip((soft - 0.3) / 0.4, 0, 1).astype(np.float32)


def _finish(alpha: np.ndarray, model: BackgroundModel, box: tuple[int, int, int, int], size: tuple[int, int]) -> Cutout:
    """Feather the alpha, derive `protect`, and crop both to where the alpha is non-zero."""
    protect = cv2.erode((alpha >= 1).astype(np.uint8), _disk(_PROTECT_SHRINK)) > 0
    feathered = cv2.GaussianBlur(alpha, (0, 0), _FEATHER_SIGMA)
    feathered[protect] = 1
    feathered[feathered < 1 / 255] = 0
    if not feathered.any():
        raise NoProductFound()
    left, top, right, bottom = _bounding_box(feathered > 0)
    x0, y0 = box[:2]
    crop = np.s_[top:bottom, left:right]
    return Cutout((x0 + left, y0 + top, x0 + right, y0 + bottom), feathered[crop], protect[crop], model, size)
