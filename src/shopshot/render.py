"""`shopshot render`: the studio pipeline on local files, without Telegram or Redis."""

import sys
from pathlib import Path

from tqdm import tqdm

from shopshot.config import Settings
from shopshot.errors import ShopshotError
from shopshot.pipeline.backends import load_backend
from shopshot.pipeline.intake import load_image
from shopshot.pipeline.studio import RenderRequest


def render_files(photos: list[Path], preset: str, ratio: str, variants: int, seed: int, out: Path, settings: Settings) -> int:
    """Render every photo; print one line per failure and return non-zero if any failed."""
    backend = load_backend(settings.backend, settings)
    backend.setup()
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tqdm(total=len(photos) * variants, unit="image", file=sys.stderr) as bar:
        for photo in photos:
            try:
                written = _render_one(backend, photo, RenderRequest(None, preset, ratio, variants, seed), out, settings, bar)
            except (ShopshotError, OSError) as error:
                failures += 1
                tqdm.write(f"shopshot render: {photo}: {error}", file=sys.stderr)
                continue
            for path in written:
                tqdm.write(str(path))
    return 1 if failures else 0


def _render_one(backend, photo: Path, request: RenderRequest, out: Path, settings: Settings, bar: tqdm) -> list[Path]:
    request.image = load_image(photo.read_bytes(), settings.limits)
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
