"""See-through parts of a product (tinted lenses, clear glass, plastic wrap), and the product's own
colour where its alpha is partial.

`see_through`, for the classical cut-out: inside the solid product, a region the old backdrop shows
through has the backdrop's colour attenuated, I = t·B, with one transmission t in every channel.
Colour alone cannot tell that from an opaque product of a backdrop-like grey, so a region is taken
as see-through only on all of this evidence, and otherwise left opaque (its pixels kept exactly):
- every channel's ratio I / B lies in 0.1..0.95 and the channels agree (a neutral tint);
- the ratio is uniform over the region, and the region's brightness follows the backdrop's gradient
  across it with slope t (an opaque surface keeps its own shading; on a backdrop too flat to show a
  gradient there is no such evidence, and the region stays opaque);
- the region is enclosed by solid product of a clearly different colour (a frame, a bottle's rim):
  a region that reaches the product's outline is the product's own surface;
- it is not a speck, and all such regions together are at most a share of the product.
Each such region becomes alpha = 1 − t with a foreground F = (I − t·B) / (1 − t): over a new
backdrop N the composite a·F + (1 − a)·N is t·N plus whatever the lens reflects. Its pixels leave
`protect`; the opaque frame around them stays exact. The cut-out's edge gets its F from the same
background model, (I − (1 − a)·B) / a, so it composites as it did without a foreground.

`estimate_foreground`, for a matte whose background is not a smooth surface (a neural matte on a
wooden table): Forte & Pitié's blur-fusion estimator ("Approximate fast foreground colour
estimation", ICIP 2021). pymatting's estimate_foreground_ml is the well-kept alternative, but it
brings numba and llvmlite (neither installed here) and a JIT warm-up of seconds into every worker
and test process; the blur-fusion estimator is two box-filter passes in OpenCV and numpy (0.2-0.3 s
for a 1024×1024 photo on the shared 2-core development machine, no warm-up), and its authors
measure it close to the multilevel method's quality. On a known composite over wood
(tests/pipeline/test_transparency.py) it brings the edge's composite error from 10.3 levels (the
photo's own colour) to 4.2.
"""

import cv2
import numpy as np

from shopshot.pipeline.cutout import Cutout
from shopshot.pipeline.diffusion.masks import disk  # torch-free: plain OpenCV masks

# Detection runs on the product's box scaled to at most this long side.
_WORK_SIDE = 400
# A see-through region transmits between these shares of the light behind it: darker is a frame,
# lighter is the backdrop itself (the cut-out would not have kept it).
_MIN_T, _MAX_T = 0.1, 0.95
# A neutral tint: the channels' transmissions agree within this.
_CHANNEL_SPREAD = 0.04
# Transmission varies this little over a region (robust standard deviation, after a light blur).
_UNIFORM = 0.03
# The rim around a region differs from it by at least this much in Lab (median over the rim), and
# its ratio I / B by at least this much from the region's (the two-colour solve along it needs both).
_RIM_CONTRAST, _RIM_STEP = 15.0, 0.1
# The backdrop's gradient across a region gives the slope of I against B, which must be measured to
# this share of t and agree with t to the other (an opaque surface has its own slope, usually 0).
_SLOPE_PRECISION, _SLOPE_AGREEMENT = 0.1, 0.25
# A region is at least this share of the product (and a few working pixels); all regions together
# at most this share: a product that is nearly all "glass" is more likely an opaque grey one.
_MIN_SHARE, _MAX_TOTAL = 0.002, 0.9


def see_through(pixels: np.ndarray, cutout: Cutout) -> Cutout:
    """The cut-out with see-through regions given partial alpha and a foreground colour; unchanged when there are none."""
    if cutout.foreground is not None:
        return cutout  # a matte that estimated its own foreground (the neural one) solved its glass already
    x0, y0, x1, y1 = cutout.box
    crop = pixels[y0:y1, x0:x1]
    labels, values = _regions(crop, cutout)
    ys, xs = np.nonzero(labels)
    if not len(ys):
        return cutout
    alpha = cutout.alpha.copy()
    colours = crop[ys, xs].astype(np.float32)
    back = np.maximum(cutout.background_at(ys, xs), 1.0)
    alpha[ys, xs] = 1 - _pixel_transmission(colours, back, values[labels[ys, xs]])
    return Cutout(
        cutout.box,
        alpha,
        cutout.protect & (alpha >= 1),
        cutout.background,
        cutout.image_size,
        _foreground(crop, alpha, cutout),
    )


def _foreground(crop: np.ndarray, alpha: np.ndarray, cutout: Cutout) -> np.ndarray:
    """The product's colour over the box from the background model: I where solid, (I − (1 − a)·B) / a where partial."""
    foreground = crop.astype(np.float32)
    foreground[alpha <= 0] = 0
    ys, xs = np.nonzero((alpha > 0) & (alpha < 1))
    a = alpha[ys, xs][:, None]
    solved = (foreground[ys, xs] - (1 - a) * cutout.background_at(ys, xs)) / a
    foreground[ys, xs] = np.clip(solved, 0, 255)
    return foreground


def _pixel_transmission(colours: np.ndarray, back: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Per pixel, the share of the backdrop it lets through: a two-colour solve between its region's
    rim (ratio f, nothing through) and its lens (ratio t), so the mixed pixels along a frame are
    partly opaque; a pixel brighter than its lens keeps t (the excess is a reflection, in F)."""
    ratio = (colours / back).mean(axis=1)
    rim, lens = region[:, 0], region[:, 1]
    transmission: np.ndarray = lens * np.clip((ratio - rim) / (lens - rim), 0, 1)
    return transmission


def _regions(crop: np.ndarray, cutout: Cutout) -> tuple[np.ndarray, np.ndarray]:
    """The see-through regions over the box as labels (0: none), and each label's (rim ratio, transmission)."""
    rows, cols = cutout.alpha.shape
    scale = min(1.0, _WORK_SIDE / max(rows, cols))
    size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    small = cv2.GaussianBlur(cv2.resize(crop, size, interpolation=cv2.INTER_AREA).astype(np.float32), (0, 0), 1.0)
    alpha = cv2.resize(cutout.alpha, size, interpolation=cv2.INTER_AREA)
    back = np.maximum(_background(cutout, size), 1.0)
    ratio = small / back
    count, labels, stats, _ = cv2.connectedComponentsWithStats(_candidates(ratio, alpha >= 0.999), connectivity=4)
    product_area = max(1.0, float(alpha.sum()))
    floor = max(12.0, _MIN_SHARE * product_area)
    sizeable = [label for label in range(1, count) if stats[label, cv2.CC_STAT_AREA] >= floor]
    nothing = np.zeros((rows, cols), np.uint16), np.zeros((1, 2), np.float32)
    if not sizeable:
        return nothing
    lab = cv2.cvtColor(np.clip(small / 255, 0, 1), cv2.COLOR_RGB2Lab)
    kept = np.zeros(size[::-1], np.uint16)
    values = [(0.0, 0.0)]
    total = 0
    for label in sizeable:
        region = labels == label
        evidence = _evidence(region, alpha >= 0.5, ratio, small, back, lab)
        if evidence is not None:
            kept[_filled(region)] = len(values)  # a highlight or a logo on the lens is part of it (F carries it)
            values.append(evidence)
            total += stats[label, cv2.CC_STAT_AREA]
    if total == 0 or total > _MAX_TOTAL * product_area:
        return nothing
    return _full_size(kept, cutout, scale), np.array(values, np.float32)


def _candidates(ratio: np.ndarray, solid: np.ndarray) -> np.ndarray:
    """Solid product pixels whose colour is the backdrop's under a neutral tint, split where the tint steps."""
    red, green, blue = (
        ratio[..., 0],
        ratio[..., 1],
        ratio[..., 2],
    )  # channel planes: reducing over a last axis of 3 is slow
    low, high = np.minimum(np.minimum(red, green), blue), np.maximum(np.maximum(red, green), blue)
    neutral = (low > _MIN_T) & (high < _MAX_T) & (high - low < _CHANNEL_SPREAD)
    # A step in transmission (lens to frame) splits regions: a dark frame is neutral too.
    level = (red + green + blue) / 3
    flat = cv2.dilate(level, disk(1)) - cv2.erode(level, disk(1)) < 2 * _UNIFORM
    return cv2.morphologyEx((neutral & flat & solid).astype(np.uint8), cv2.MORPH_OPEN, disk(1))


def _evidence(
    region: np.ndarray, inside: np.ndarray, ratio: np.ndarray, small: np.ndarray, back: np.ndarray, lab: np.ndarray
) -> tuple[float, float] | None:
    """(rim ratio, transmission) when the region passes every test of a see-through part, else None."""
    if region[[0, -1]].any() or region[:, [0, -1]].any():
        return None  # cut by the box's edge: nothing shows it is enclosed
    near = cv2.dilate(region.astype(np.uint8), disk(2)) > 0
    # The rim: a band just clear of the mixed pixels along the region's edge.
    rim = (cv2.dilate(region.astype(np.uint8), disk(4)) > 0) & ~near
    if not inside[near].all() or not inside[rim].any():
        return None  # it reaches the product's outline: the product's own surface
    rim = rim & inside
    if np.abs(np.median(lab[rim], axis=0) - np.median(lab[region], axis=0)).max() < _RIM_CONTRAST:
        return None
    level = ratio[region].mean(axis=1)
    transmission = float(np.median(level))
    if 1.4826 * np.median(np.abs(level - transmission)) > _UNIFORM:
        return None
    if not _follows_backdrop(small[region].mean(axis=1), back[region].mean(axis=1), transmission):
        return None
    rim_ratio = float(np.median(ratio[rim].mean(axis=1)))
    if abs(rim_ratio - transmission) < _RIM_STEP:
        return None
    return rim_ratio, transmission


def _follows_backdrop(light: np.ndarray, behind: np.ndarray, transmission: float) -> bool:
    """Whether the region's brightness follows the backdrop's gradient across it with slope t
    (I = t·B): fitted over the region, the slope must be measured to a tenth of t and agree with
    it. An opaque surface keeps its own shading; a backdrop too flat to measure is no evidence."""
    spread = behind - behind.mean()
    power = float(np.sum(spread**2))
    if power <= 0:
        return False
    slope = float(np.sum(spread * (light - light.mean())) / power)
    residual = light - light.mean() - slope * spread
    error = float(np.sqrt(np.mean(residual**2) / power))
    return error < _SLOPE_PRECISION * transmission and abs(slope - transmission) < _SLOPE_AGREEMENT * transmission


def _full_size(kept: np.ndarray, cutout: Cutout, scale: float) -> np.ndarray:
    """The kept regions' labels at the box's size, grown over the mixed pixels along their rim, within the solid product."""
    rows, cols = cutout.alpha.shape
    labels = cv2.resize(kept, (cols, rows), interpolation=cv2.INTER_NEAREST) if scale < 1 else kept
    # The blur, the flatness test and the opening leave the regions about three working pixels
    # short of the lens's true edge; the two-colour solve keeps whatever of the frame this reaches opaque.
    labels = cv2.dilate(labels, disk(int(np.ceil(4 / scale)) + 1))
    labels[cutout.alpha < 1] = 0
    return labels


def _filled(region: np.ndarray) -> np.ndarray:
    """The region with its holes (what it encloses) filled."""
    _count, labels, stats, _ = cv2.connectedComponentsWithStats((~region).astype(np.uint8), connectivity=4)
    rows, cols = region.shape
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right, bottom = left + stats[:, cv2.CC_STAT_WIDTH], top + stats[:, cv2.CC_STAT_HEIGHT]
    enclosed = (left > 0) & (top > 0) & (right < cols) & (bottom < rows)
    enclosed[0] = False  # label 0 is the region itself
    filled: np.ndarray = region | enclosed[labels]
    return filled


def _background(cutout: Cutout, size: tuple[int, int]) -> np.ndarray:
    """The background model at the pixel centres of the box scaled to `size` (width, height)."""
    rows, cols = cutout.alpha.shape
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]]
    full_ys = (ys.ravel() + 0.5) * rows / size[1] - 0.5
    full_xs = (xs.ravel() + 0.5) * cols / size[0] - 0.5
    return cutout.background_at(full_ys, full_xs).reshape(size[1], size[0], 3)


def estimate_foreground(pixels: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The product's own colour (float32 H×W×3, 0..255) behind a matte over any background: blur-fusion, two passes."""
    image = pixels.astype(np.float32) / 255
    # Alpha repeated per channel: same-shape arithmetic runs about 1.6× faster than broadcasting a H×W×1.
    weight = cv2.merge([alpha.astype(np.float32)] * 3)
    # The authors' radii: a wide pass for the colours far from the edge, a narrow one to refine.
    foreground, background = _blur_fusion(image, image, image, weight, 90)
    foreground, _ = _blur_fusion(image, foreground, background, weight, 6)
    return foreground * 255


def _blur_fusion(
    image: np.ndarray, foreground: np.ndarray, background: np.ndarray, alpha: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    """One pass: local means of F and B weighted by a and 1 − a, then each pixel's residual against
    the compositing equation I = a·F + (1 − a)·B given back to F in proportion to a."""
    size = (radius, radius)
    blurred = cv2.blur(alpha, size)
    rest = 1 - alpha
    mean_f = cv2.blur(foreground * alpha, size) / (blurred + 1e-5)
    mean_b = cv2.blur(background * rest, size) / (1 - blurred + 1e-5)
    residual = image - alpha * mean_f - rest * mean_b
    return np.clip(mean_f + alpha * residual, 0, 1), mean_b
