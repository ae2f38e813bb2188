"""Fixtures for the chat page in a real browser: Debian's Chromium driven by Playwright, a page per
simulated user, screenshots of each step, and an aiogram Bot to act as the bot directly.

Screenshots land in test-artifacts/browser/<test>/. With SHOPSHOT_DOCS_IMG=1 the steps the README
shows are also written, palette-compressed, to docs/img/.
"""

import io
import os
import re
import shutil
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from PIL import Image

from shopshot.config import STAND_IN_TOKEN

CHROMIUM = Path("/usr/bin/chromium")
# Offline and quiet: no sandbox (root in CI), no GPU, no calls home, no first-run UI.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DOCS_IMG = ROOT / "docs" / "img"
DESKTOP = {"width": 1100, "height": 760}
PHONE = {"width": 375, "height": 667}

# Each letter of a node's text drawn alone in the node's own font, beside U+0378, which is unassigned
# and so in no font: a letter that draws the same picture is drawn as the missing-glyph box (tofu).
MISSING_GLYPHS = """(node) => {
  const canvas = Object.assign(document.createElement("canvas"), {width: 64, height: 64});
  const context = canvas.getContext("2d", {willReadFrequently: true});
  context.font = getComputedStyle(node).font;
  const draw = (text) => {
    context.clearRect(0, 0, 64, 64);
    context.fillText(text, 16, 40);
    return context.getImageData(0, 0, 64, 64).data.join();
  };
  const box = draw("\\u0378");
  return [...new Set(node.textContent)].filter((c) => /[\\p{L}\\p{M}\\p{N}]/u.test(c) && draw(c) === box);
}"""


class ChatPage:
    """One tab of the chat page, as one Telegram user; page errors are collected to fail the test."""

    def __init__(self, page, user_id: int) -> None:
        self.page = page
        self.user_id = user_id
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def bot_bubbles(self):
        """The bot's bubbles, oldest first."""
        return self.page.locator(".row.in .bubble")

    async def missing_glyphs(self, locator) -> list[str]:
        """The letters of an element's text that the page draws as boxes, for want of a font."""
        return await locator.evaluate(MISSING_GLYPHS)

    def key(self, label: str):
        """An inline button whose label contains `label` (the newest if several)."""
        return self.page.locator(".key", has_text=label).last

    async def send(self, text: str) -> None:
        """Type a message and press Enter."""
        await self.page.fill("#text", text)
        await self.page.press("#text", "Enter")

    async def attach(self, paths: list[Path], as_photos: bool) -> None:
        """Pick files through the attach menu, as photos or as files."""
        await self.page.click("#attach")
        async with self.page.expect_file_chooser() as chooser:
            await self.page.click(f"#attach-menu [data-pick={'photo' if as_photos else 'file'}]")
        await (await chooser.value).set_files([str(path) for path in paths])


class Screenshots:
    """Numbered screenshots of one test's steps."""

    def __init__(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.count = 0

    async def take(self, page, name: str, docs_name: str | None = None) -> Path:
        """Save the page as it looks now; `docs_name` also writes it to docs/img when asked to."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        await page.screenshot(path=str(path))
        if docs_name and os.environ.get("SHOPSHOT_DOCS_IMG"):
            _save_for_docs(path, DOCS_IMG / docs_name)
        return path


def _save_for_docs(source: Path, target: Path) -> None:
    # 256 colours, dithered, keep a chat screenshot smooth at about half the size (README images < 300 KB).
    image = Image.open(source).convert("RGB")
    palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    image = image.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    target.write_bytes(buffer.getvalue())


def _seeing_only(fonts: list[Path], folder: Path) -> dict:
    """An environment in which fontconfig, and so Chromium, finds no fonts but those in `fonts`."""
    config = folder / "fonts.conf"
    dirs = "".join(f"<dir>{path}</dir>" for path in fonts)
    config.write_text(f'<?xml version="1.0"?><fontconfig>{dirs}<cachedir>{folder / "cache"}</cachedir></fontconfig>')
    return {**os.environ, "FONTCONFIG_FILE": str(config)}


@pytest.fixture
async def browser(request, tmp_path):
    """Chromium from Debian, launched fresh for each test; parametrized with font folders, it sees only those."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; `make test` installs it)")
    async_api = pytest.importorskip(
        "playwright.async_api", reason="playwright is not installed (pip install playwright)"
    )
    env = _seeing_only(request.param, tmp_path) if hasattr(request, "param") else None
    async with async_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=env)
        yield launched
        await launched.close()


@pytest.fixture
async def open_chat(browser, stand_in):
    """Open the chat page as a user: `await open_chat(user_id, viewport=PHONE)`."""
    pages: list[ChatPage] = []

    async def open_page(user_id: int, viewport: dict = DESKTOP, language: str = "en") -> ChatPage:
        context = await browser.new_context(viewport=viewport, accept_downloads=False)
        page = await context.new_page()
        chat = ChatPage(page, user_id)
        pages.append(chat)
        await page.goto(f"{stand_in}/?user={user_id}&lang={language}")
        await page.wait_for_selector("body[data-ready]")
        return chat

    yield open_page
    errors = [error for chat in pages for error in chat.errors]
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def shots(request) -> Screenshots:
    return Screenshots(ARTIFACTS / re.sub(r"[^\w.-]+", "-", request.node.name))


@pytest.fixture(scope="session", autouse=True)
def _artifacts_stay_out_of_git():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ignore = ARTIFACTS.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


@pytest.fixture
async def as_bot(stand_in):
    """An aiogram Bot on the stand-in, to play the bot's side by hand."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(stand_in))
    bot = Bot(STAND_IN_TOKEN, session=session)
    yield bot
    await session.close()
