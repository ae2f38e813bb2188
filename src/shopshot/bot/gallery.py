"""The backdrop gallery: numbered thumbnail sheets rendered by the pipeline, cached per page."""

import asyncio
import io

from aiogram.types import BufferedInputFile, InputFile

from shopshot.pipeline.gallery import render_gallery
from shopshot.pipeline.presets import BACKDROPS, Backdrop

PAGE_SIZE = 6


class Gallery:
    """Pages of backdrops; each page's image is rendered once, then re-sent by Telegram file id."""

    def __init__(self) -> None:
        self.file_ids: dict[int, str] = {}
        self.jpegs: dict[int, bytes] = {}
        self.pages = (len(BACKDROPS) + PAGE_SIZE - 1) // PAGE_SIZE
        self._rendering = asyncio.Lock()

    def items(self, page: int) -> list[tuple[int, Backdrop]]:
        """The backdrops on a page with their gallery numbers."""
        start = page * PAGE_SIZE
        return [(start + index + 1, item) for index, item in enumerate(BACKDROPS[start : start + PAGE_SIZE])]

    async def photo(self, page: int) -> InputFile | str:
        """The page's image: a known Telegram file id, or the rendered JPEG to upload."""
        if page in self.file_ids:
            return self.file_ids[page]
        return BufferedInputFile(await self.render(page), filename=f"backdrops-{page + 1}.jpg")

    async def render(self, page: int) -> bytes:
        """The page's JPEG, rendered once per process; sellers arriving together wait for that one render."""
        async with self._rendering:
            if page not in self.jpegs:
                self.jpegs[page] = await asyncio.to_thread(self._jpeg, page)
        return self.jpegs[page]

    async def warm_up(self) -> None:
        """Render every page ahead of the first seller."""
        for page in range(self.pages):
            await self.render(page)

    def remember(self, page: int, file_id: str) -> None:
        """Keep the file id Telegram gave the uploaded page."""
        self.file_ids[page] = file_id

    def _jpeg(self, page: int) -> bytes:
        keys = [item.key for _, item in self.items(page)]
        buffer = io.BytesIO()
        render_gallery(keys, first_number=page * PAGE_SIZE + 1).save(buffer, "JPEG", quality=90)
        return buffer.getvalue()
