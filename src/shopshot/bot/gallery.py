"""Preset galleries (backdrops, fashion models): numbered sheets rendered by the pipeline, cached per
page; the backdrop gallery shows each seller's own product, on sheets kept beside their photo, as is
the picture a photo's products are chosen on."""

import asyncio
import io
from collections.abc import Callable, Sequence
from typing import Protocol

from aiogram.types import BufferedInputFile, InputFile
from PIL import Image

from shopshot.errors import InputExpired
from shopshot.pipeline.candidates_sheet import render_candidates
from shopshot.pipeline.gallery import (
    Product,
    kept_preview,
    render_gallery,
    render_model_gallery,
    render_product_gallery,
)
from shopshot.pipeline.matte import Candidate
from shopshot.pipeline.people import MODEL_PRESETS
from shopshot.pipeline.presets import BACKDROPS
from shopshot.queue.store import BlobStore

PAGE_SIZE = 6
CANDIDATES = "candidates"  # the name, beside a photo, of the picture its products are chosen on


class Preset(Protocol):
    # Read-only, as the presets are frozen dataclasses.
    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...


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

    async def photo(self, page: int, image_key: str | None = None) -> InputFile | str:
        """The page's image, the same for any seller's photo (`image_key`): a known Telegram file id, or the JPEG to upload."""
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

    def remember(self, page: int, file_id: str, image_key: str | None = None) -> None:
        """Keep the file id Telegram gave the uploaded page."""
        self.file_ids[page] = file_id

    def _jpeg(self, page: int) -> bytes:
        keys = [item.key for _, item in self.items(page)]
        return _jpeg(self.render_sheet(keys, page * PAGE_SIZE + 1))


class ProductGallery(Gallery):
    """The backdrop gallery with the seller's product on every thumbnail: each photo's pages are
    rendered once, when it arrives, and kept beside it in the blob store (its lifetime, its /forget).
    A photo with no pages kept (none found for the fashion-model tasks) gets the sample's pages."""

    def __init__(self, blobs: BlobStore) -> None:
        super().__init__(BACKDROPS, render_gallery)
        self.blobs = blobs

    async def take(self, image_key: str, owner: int, product: Product) -> InputFile:
        """Render and keep the pages of this photo's product; return the picture of what its cut-out keeps."""
        kept, pages = await asyncio.to_thread(self._render_for, product)
        for page, jpeg in enumerate(pages):
            await asyncio.to_thread(self.blobs.put_beside, image_key, _page_name(page), jpeg, owner)
        return BufferedInputFile(kept, filename="kept.jpg")

    async def photo(self, page: int, image_key: str | None = None) -> InputFile | str:
        """The page of this photo's gallery, else the sample's."""
        if image_key is not None:
            try:
                jpeg = await asyncio.to_thread(self.blobs.get_beside, image_key, _page_name(page))
                return BufferedInputFile(jpeg, filename=f"gallery-{page + 1}.jpg")
            except InputExpired:
                pass
        return await super().photo(page, image_key)

    async def offer(self, image_key: str, owner: int, product: Product, candidates: Sequence[Candidate]) -> None:
        """Render and keep the picture of this photo's candidates, outlined and numbered."""
        jpeg = await asyncio.to_thread(lambda: _jpeg(render_candidates(Image.fromarray(product.pixels), candidates)))
        await asyncio.to_thread(self.blobs.put_beside, image_key, CANDIDATES, jpeg, owner)

    async def candidates(self, image_key: str) -> InputFile:
        """The picture of this photo's candidates (raises InputExpired once it is gone)."""
        jpeg = await asyncio.to_thread(self.blobs.get_beside, image_key, CANDIDATES)
        return BufferedInputFile(jpeg, filename="products.jpg")

    def remember(self, page: int, file_id: str, image_key: str | None = None) -> None:
        """Keep the file id of a sample page; a seller's own page is never re-sent to another."""
        if image_key is None:
            super().remember(page, file_id, image_key)

    def _render_for(self, product: Product) -> tuple[bytes, list[bytes]]:
        pages = [[item.key for _, item in self.items(page)] for page in range(self.pages)]
        sheets = [render_product_gallery(product, keys, page * PAGE_SIZE + 1) for page, keys in enumerate(pages)]
        return _jpeg(kept_preview(product)), [_jpeg(sheet) for sheet in sheets]


def _page_name(page: int) -> str:
    return f"gallery-{page}"


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def backdrop_gallery(blobs: BlobStore) -> ProductGallery:
    """The backdrop presets, with the seller's product (or the sample) on each."""
    return ProductGallery(blobs)


def model_gallery() -> Gallery:
    """The fashion-model presets, as stylised portraits."""
    return Gallery(MODEL_PRESETS, render_model_gallery)
