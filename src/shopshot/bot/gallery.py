"""Preset galleries (backdrops, fashion models): numbered sheets rendered by the pipeline, cached per page."""

import asyncio
import io
from collections.abc import Callable, Sequence
from typing import Protocol

from aiogram.types import BufferedInputFile, InputFile
from PIL import Image

from shopshot.pipeline.gallery import render_gallery, render_model_gallery
from shopshot.pipeline.people import MODEL_PRESETS
from shopshot.pipeline.presets import BACKDROPS

PAGE_SIZE = 6


class Preset(Protocol):
    key: str
    title: str


class Gallery:
    """Pages of presets; each page's image is rendered once, then re-sent by Telegram file id."""

    def __init__(self, presets: Sequence[Preset], render: Callable[[list[str], int], Image.Image]) -> None:
        self.presets = presets
        self.render_sheet = render
        self.file_ids: dict[int, str] = {}
        self.jpegs: dict[int, bytes] = {}
        self.pages = (len(presets) + PAGE_SIZE - 1) // PAGE_SIZE
        self._rendering = asyncio.Lock()

    def items(self, page: int) -> list[tuple[int, Preset]]:
        """The presets on a page with their gallery numbers."""
        start = page * PAGE_SIZE
        return [(start + index + 1, item) for index, item in enumerate(self.presets[start : start + PAGE_SIZE])]

    def page_of(self, key: str) -> int:
        """The page a preset is on."""
        return next(index for index, item in enumerate(self.presets) if item.key == key) // PAGE_SIZE

    async def photo(self, page: int) -> InputFile | str:
        """The page's image: a known Telegram file id, or the rendered JPEG to upload."""
        if page in self.file_ids:
            return self.file_ids[page]
        return BufferedInputFile(await self.render(page), filename=f"gallery-{page + 1}.jpg")

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
        self.render_sheet(keys, page * PAGE_SIZE + 1).save(buffer, "JPEG", quality=90)
        return buffer.getvalue()


def backdrop_gallery() -> Gallery:
    """The backdrop presets, with the sample product on each."""
    return Gallery(BACKDROPS, render_gallery)


def model_gallery() -> Gallery:
    """The fashion-model presets, as stylised portraits."""
    return Gallery(MODEL_PRESETS, render_model_gallery)
