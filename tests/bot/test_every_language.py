"""The whole conversation, and the choice of product, in every language: a seller whose Telegram speaks it reads only its catalog.

One stack serves the module (embedded Redis, a worker process, the stand-in, the bot), so sixteen
conversations cost about as much as sixteen albums; each language talks as its own user.
"""

import asyncio
import re

import pytest
import pytest_asyncio
from aiogram.utils.i18n import gettext as _

from shopshot.bot import keyboards, texts
from shopshot.bot.app import run_bot
from shopshot.bot.callbacks import ProductPicked, ResultAction
from shopshot.launcher import worker_process
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.client import StandInClient
from shopshot.playground.scripted import Choices, buttons, newer_than, play_conversation, with_button
from shopshot.playground.standin import StandIn
from tests.bot.test_choose_product import two_products
from tests.bot.test_conversation import _wait_answers
from tests.languages import LANGUAGES, TELEGRAM_CODES

pytestmark = pytest.mark.asyncio(loop_scope="module")
CHOICES = Choices(preset="studio", ratio="4:5", variants=2)  # the smallest target: sixteen albums stay quick


@pytest.fixture(scope="module")
def stack_worker(stack_redis_url, tmp_path_factory):
    with worker_process(stack_redis_url, tmp_path_factory.mktemp("worker") / "worker.log") as process:
        yield process


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack_api(stack_settings, stack_redis_url, stack_worker):
    """The stand-in with the bot polling it; its control client."""
    server = StandIn()
    url = await server.start()
    bot = asyncio.create_task(run_bot(stack_settings, stack_redis_url, url))
    async with StandInClient(url) as client:
        yield client
    bot.cancel()
    await asyncio.gather(bot, return_exceptions=True)
    await server.stop()


@pytest.mark.parametrize("language", LANGUAGES)
async def test_whole_conversation_speaks_the_sellers_language(stack_api, catalogs, language, tmp_path):
    user = 5000 + LANGUAGES.index(language)
    code = TELEGRAM_CODES.get(language, language.replace("_", "-").lower())
    await play_conversation(stack_api.base_url, user, sample_photo(), tmp_path, CHOICES, language=code)
    messages = await stack_api.messages(user)
    seeds = [int(re.search(r"\d+", m["caption"]).group()) for m in messages if m["kind"] == "document"]
    job_id = ResultAction.unpack(buttons(messages[-1])[0]["callback_data"]).job_id
    sent = next(m for m in await stack_api.history(user) if not m["from_bot"] and m["kind"] == "photo")
    with catalogs.context(), catalogs.use_locale(language):
        expected = _expected(seeds, job_id, (sent["width"], sent["height"]))
    with catalogs.context(), catalogs.use_locale("en"):
        assert language == "en" or expected["texts"][0] != texts.welcome()
    shown = [m["text"] or m["caption"] for m in messages if m["text"] or m["caption"]]
    assert shown == expected["texts"]
    assert [button["text"] for button in buttons(messages[-1])] == expected["results"]
    answers = await stack_api.callback_answers(user)
    assert expected["queued"] in [answer["text"] for answer in answers]


def _expected(seeds: list[int], job_id: str, photo_size: tuple[int, int]) -> dict:
    """What the conversation shows, rendered from the catalog of the current locale; the photo as Telegram kept it."""
    return {
        "texts": [
            texts.welcome(),
            _("Tip: Telegram compresses photos. For the sharpest result, send the picture as a file (📎 → File)."),
            texts.kept(),
            _("Choose a backdrop by its number:"),
            texts.summary(CHOICES.preset, CHOICES.ratio, CHOICES.variants, photo_size),  # the photo as Telegram kept it
            *[texts.seed_caption(seed) for seed in seeds],
            texts.done(CHOICES.variants),  # the status message is gone: one "done" per run
        ],
        "results": [button.text for row in keyboards.results(job_id, save=True).inline_keyboard for button in row],
        "queued": _("Queued!"),
    }


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_choice_of_product_speaks_the_sellers_language(stack_api, catalogs, language):
    user = 6000 + LANGUAGES.index(language)
    code = TELEGRAM_CODES.get(language, language.replace("_", "-").lower())
    await stack_api.send_text(user, "/start", language_code=code)
    await stack_api.wait_for(user, newer_than(0))
    await stack_api.send_document(user, two_products(), "pair.png", mime_type="image/png", language_code=code)
    offer = await stack_api.wait_for(user, with_button(f"{ProductPicked.__prefix__}:"))
    await stack_api.press(user, offer["message_id"], data=ProductPicked(action="continue").pack(), language_code=code)
    [alert] = await _wait_answers(stack_api, 1, user)
    with catalogs.context(), catalogs.use_locale(language):
        expected = [
            texts.candidates_prompt(),
            [button.text for row in keyboards.candidates(2, []).inline_keyboard for button in row],
            texts.choose_a_candidate(),
        ]
    with catalogs.context(), catalogs.use_locale("en"):
        assert language == "en" or expected[0] != texts.candidates_prompt()
    assert [offer["caption"], [button["text"] for button in buttons(offer)], alert["text"]] == expected
