"""Make the pictures in the README from the bundled sample photo: `.venv/bin/python tools/readme_images.py`."""

from pathlib import Path

from PIL import Image

from shopshot.pipeline.gallery import render_gallery, sample_product
from shopshot.pipeline.presets import BACKDROPS
from shopshot.pipeline.studio import RenderRequest, StudioBackend

OUT = Path("docs/img")
SHOWN = (("white", "1:1"), ("studio", "3:4"), ("podium", "4:5"), ("noir", "3:4"), ("oak", "1:1"))


def save(image: Image.Image, name: str, side: int = 560) -> None:
    """Write a small JPEG for the README."""
    image = image.copy()
    image.thumbnail((side, side))
    image.save(OUT / name, "JPEG", quality=85)


def main() -> None:
    """Before, the gallery, and a few finished images."""
    OUT.mkdir(parents=True, exist_ok=True)
    product = sample_product()
    save(product, "before.jpg")
    save(render_gallery([item.key for item in BACKDROPS[:6]]), "gallery.jpg", side=900)
    backend = StudioBackend()
    for preset, ratio in SHOWN:
        [result] = backend.run(RenderRequest(image=product, preset=preset, ratio=ratio, variants=1, seed=7))
        save(result.image, f"after-{preset}.jpg")
    # A photo nobody on the project made: scikit-image's espresso cup on a wooden table (CC0, Rachel
    # Michetti), cut out by the classical cut-out's busy-background path, as a worker without weights does.
    from skimage import data

    table = Image.fromarray(data.coffee())
    save(table, "table-before.jpg")
    [result] = backend.run(RenderRequest(image=table, preset="studio", ratio="4:5", variants=1, seed=7))
    save(result.image, "table-after-studio.jpg")


if __name__ == "__main__":
    main()
