"""Fixtures: a stand-in on a free local port, a control client, and two independent bot clients."""

import pytest
import telegram
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from shopshot.config import STAND_IN_TOKEN
from shopshot.playground.client import StandInClient
from shopshot.playground.standin import StandIn

USER_ID = 4242


class LocalSession(AiohttpSession):
    """aiogram's session without the 250 ms pause it takes on close for TLS shutdown (plain HTTP here)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@pytest.fixture
async def stand_in():
    server = StandIn()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def user_api(stand_in):
    async with StandInClient(stand_in.url) as client:
        yield client


@pytest.fixture
async def bot(stand_in):
    session = LocalSession(api=TelegramAPIServer.from_base(stand_in.url))
    yield Bot(STAND_IN_TOKEN, session=session)
    await session.close()


@pytest.fixture
async def ptb_bot(stand_in):
    base = stand_in.url
    async with telegram.Bot(STAND_IN_TOKEN, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot") as client:
        yield client


@pytest.fixture
async def chat_id(user_api):
    """A user who has opened the chat with /start, so the bot may write to them."""
    await user_api.send_text(USER_ID, "/start")
    return USER_ID
