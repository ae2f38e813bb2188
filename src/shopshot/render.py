"""`shopshot render`: the studio pipeline on local files and folders, without Telegram or Redis."""

import sys
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from shopshot.config import Settings
from shopshot.errors import ShopshotError
from shopshot.pipeline.backends import load_backend
from shopshot.pipeline.intake import load_image
from shopshot.pipeline.packs import Pack, pack, precheck, render_pack, suffix
from shopshot.pipeline.studio import RenderRequest


def photo_paths(paths: list[Path]) -> list[Path]:
    """The files named, with each folder replaced by the image files in it (by name; not its subfolders)."""
    known = Image.registered_extensions()
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(item for item in path.iterdir() if item.is_file() and item.suffix.lower() in known)
        else:
            found.append(path)
    return found


def render_files(
    photos: list[Path], preset: str, ratio: str, variants: int, seed: int, out: Path, settings: Settings
) -> int:
    """Render every photo; print one line per failure and return non-zero if any failed."""
    photos = photo_paths(photos)
    backend = load_backend(settings.backend, settings)
    backend.setup()
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tqdm(total=len(photos) * variants, unit="image", file=sys.stderr) as bar:
        for photo in photos:
            try:
                request = RenderRequest(load_image(photo.read_bytes(), settings.limits), preset, ratio, variants, seed)
                written = _render_one(backend, photo, request, out, settings, bar)
            except (ShopshotError, OSError) as error:
                failures += 1
                tqdm.write(f"shopshot render: {photo}: {error}", file=sys.stderr)
                continue
            for path in written:
                tqdm.write(str(path))
    return 1 if failures else 0


def _render_one(backend, photo: Path, request: RenderRequest, out: Path, settings: Settings, bar: tqdm) -> list[Path]:
    done = 0

    def progress(fraction: float) -> None:
        nonlocal done
        step = round(fraction * request.variants) - done
        bar.update(step)
        done += step

    written = []
    for item in backend.run(request, progress=progress):
        path = out / f"{photo.stem}-{request.preset}-{request.ratio.replace(':', 'x')}-{item.seed}.png"
        item.image.save(path, "PNG")
        written.append(path)
    return written


def render_packs(photos: list[Path], keys: list[str], seed: int, out: Path, settings: Settings) -> int:
    """Render every photo's images for each pack into out/<pack>/, printing each file with its verdict;
    return non-zero if a photo failed or an output breaks its marketplace's rule."""
    chosen = [pack(key) for key in keys]  # an unknown pack stops here, before any work
    photos = photo_paths(photos)
    backend = load_backend("studio", settings)  # packs paint the studio's presets at the marketplace's sizes
    backend.setup()
    failures = 0
    for photo in photos:
        try:
            image = load_image(photo.read_bytes(), settings.limits)
        except (ShopshotError, OSError) as error:
            failures += 1
            print(f"shopshot render: {photo}: {error}", file=sys.stderr)
            continue
        for item in chosen:
            failures += _render_pack_of(backend, photo, image, item, seed, out / item.key)
    return 1 if failures else 0


def _render_pack_of(backend, photo: Path, image: Image.Image, item: Pack, seed: int, folder: Path) -> int:
    reasons = precheck(image.size, item)
    for reason in reasons:
        print(f"shopshot render: {photo}: {item.key}: {reason.text}, so send a larger one", file=sys.stderr)
    if reasons:
        return 1
    folder.mkdir(parents=True, exist_ok=True)
    broken = 0
    for output in render_pack(image, item, seed, backend):
        path = folder / f"{photo.stem}-{output.name}.{suffix(output.format)}"
        path.write_bytes(output.data)
        print(f"{path}\t{output.verdict.line()}")
        broken += not output.verdict.ok
    return broken
