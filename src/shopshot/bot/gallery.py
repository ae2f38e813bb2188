"""The backdrop gallery: numbered thumbnail sheets rendered by the pipeline, cached per page."""

import asyncio
import io
from pathlib import Path

from aiogram.types import BufferedInputFile, InputFile

from shopshot.pipeline.gallery import render_gallery
from shopshot.pipeline.presets import BACKDROPS, Backdrop

PAGE_SIZE = 6


class Gallery:
    """Pages of backdrops; each page's image is rendered once, then re-sent by Telegram file id."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.file_ids: dict[int, str] = {}
        self.pages = (len(BACKDROPS) + PAGE_SIZE - 1) // PAGE_SIZE

    def items(self, page: int) -> list[tuple[int, Backdrop]]:
        """The backdrops on a page with their gallery numbers."""
        start = page * PAGE_SIZE
        return [(start + index + 1, item) for index, item in enumerate(BACKDROPS[start : start + PAGE_SIZE])]

    async def photo(self, page: int) -> InputFile | str:
        """The page's image: a known Telegram file id, or the rendered PNG to upload."""
        if page in self.file_ids:
            return self.file_ids[page]
        data = await asyncio.to_thread(self._png, page)
        return BufferedInputFile(data, filename=f"backdrops-{page + 1}.png")

    def remember(self, page: int, file_id: str) -> None:
        """Keep the file id Telegram gave the uploaded page."""
        self.file_ids[page] = file_id

    def _png(self, page: int) -> bytes:
        keys = [item.key for _, item in self.items(page)]
        path = self.cache_dir / f"gallery-{'-'.join(keys)}.png"
        if not path.exists():
            buffer = io.BytesIO()
            render_gallery(keys, first_number=page * PAGE_SIZE + 1).save(buffer, "PNG")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(buffer.getvalue())
        return path.read_bytes()
