"""The Bot API at the HTTP level: envelopes, status codes and the encodings Telegram accepts."""

import asyncio
import json

import aiohttp
import pytest

from shopshot.config import STAND_IN_TOKEN


@pytest.fixture
async def http(stand_in):
    async with aiohttp.ClientSession(base_url=stand_in.url) as session:
        yield session


async def call(http: aiohttp.ClientSession, method: str, token: str = STAND_IN_TOKEN, **kwargs) -> tuple[int, dict]:
    async with http.post(f"/bot{token}/{method}", **kwargs) as response:
        return response.status, await response.json()


async def test_unknown_methods_are_not_found(http):
    assert await call(http, "sendTelepathy") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_a_wrong_token_is_unauthorized(http):
    assert await call(http, "getMe", token="1:nope") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )


async def test_method_names_ignore_case_and_get_works(http):
    async with http.get(f"/bot{STAND_IN_TOKEN}/GETME") as response:
        body = await response.json()

    assert response.status == 200 and body["result"]["username"] == "shopshot_local_bot"


async def test_a_json_body_is_accepted(http, chat_id):
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}

    status, body = await call(http, "sendMessage", json={"chat_id": chat_id, "text": "hi", "reply_markup": markup})

    assert status == 200 and body["result"]["reply_markup"] == markup


async def test_urlencoded_arguments_and_bad_json_in_them(http, chat_id):
    status, body = await call(http, "sendMessage", data={"chat_id": str(chat_id), "text": "x", "reply_markup": "{"})

    assert (status, body["description"]) == (400, "Bad Request: can't parse reply keyboard markup JSON object")


@pytest.mark.parametrize(
    ("arguments", "description"),
    [
        ({"text": "x"}, "Bad Request: chat_id is empty"),
        ({"chat_id": "{chat}"}, "Bad Request: message text is empty"),
        ({"chat_id": "{chat}", "text": "   "}, "Bad Request: message must be non-empty"),
        (
            {"chat_id": "{chat}", "text": "<b>x", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        ({"chat_id": "{chat}", "text": "x", "parse_mode": "BBCode"}, "Bad Request: unsupported parse_mode"),
        (
            {"chat_id": "{chat}", "text": "x", "reply_markup": '{"inline_keyboard": [[{"text": "plain"}]]}'},
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ),
        (
            {"chat_id": "{chat}", "text": "x", "reply_to_message_id": "99"},
            "Bad Request: message to be replied not found",
        ),
    ],
)
async def test_send_message_refusals(http, chat_id, arguments, description):
    data = {key: value.replace("{chat}", str(chat_id)) for key, value in arguments.items()}

    status, body = await call(http, "sendMessage", data=data)

    assert (status, body) == (400, {"ok": False, "error_code": 400, "description": description})


async def test_replies_carry_the_replied_message(http, chat_id):
    status, body = await call(http, "sendMessage", data={"chat_id": chat_id, "text": "ok", "reply_to_message_id": 1})

    assert status == 200 and body["result"]["reply_to_message"]["text"] == "/start"


async def test_unknown_file_paths_are_not_found(http):
    async with http.get(f"/file/bot{STAND_IN_TOKEN}/photos/file_404.jpg") as response:
        assert response.status == 404


async def test_uploads_over_50_mb_are_too_large(http, chat_id):
    form = aiohttp.FormData({"chat_id": str(chat_id)})
    form.add_field("document", b"\0" * (50 * 1024 * 1024 + 100 * 1024), filename="huge.bin")

    status, body = await call(http, "sendDocument", data=form)

    assert (status, body["description"]) == (413, "Request Entity Too Large")


@pytest.mark.parametrize(("size", "status"), [(50 * 2**20, 200), (50 * 2**20 + 1, 413)])
async def test_a_bot_uploads_files_up_to_50_mb(http, chat_id, size, status):
    # Over 50 MB by a byte, the request still fits the envelope's margin: the file itself is refused.
    form = aiohttp.FormData({"chat_id": str(chat_id)})
    form.add_field("document", b"\0" * size, filename="big.bin")

    answer_status, body = await call(http, "sendDocument", data=form)

    assert answer_status == status
    assert body.get("description", "ok") == ("ok" if status == 200 else "Request Entity Too Large")


async def test_an_album_of_files_over_50_mb_together_is_too_large(http, chat_id):
    # The attack's case: four 14 MB PNGs in one sendMediaGroup.
    media = [{"type": "document", "media": f"attach://file{n}"} for n in range(4)]
    form = aiohttp.FormData({"chat_id": str(chat_id), "media": json.dumps(media)})
    for n in range(4):
        form.add_field(f"file{n}", b"\0" * (14 * 2**20), filename=f"shopshot-{n}.png")

    status, body = await call(http, "sendMediaGroup", data=form)

    assert (status, body["description"]) == (413, "Request Entity Too Large")


async def test_calls_beyond_the_bots_limit_a_second_get_429_with_retry_after(http, user_api, chat_id):
    await user_api.set_rate_limit(3)
    answers = await asyncio.gather(
        *(call(http, "sendMessage", json={"chat_id": chat_id, "text": str(n)}) for n in range(12))
    )
    await call(http, "getUpdates")  # long polling is not counted
    refused = [body for status, body in answers if status == 429]
    assert refused and all(body["parameters"]["retry_after"] >= 1 for body in refused)
    assert refused[0]["description"] == f"Too Many Requests: retry after {refused[0]['parameters']['retry_after']}"
    log = await user_api.calls()
    accepted = [row["time"] for row in log if row["ok"] and row["method"] == "sendMessage"]
    # Whatever the machine's pace: no second holds more than 3 accepted calls, and each refusal came
    # when the second before it already held 3.
    assert all(sum(start <= t < start + 1 for t in accepted) <= 3 for start in accepted)
    assert all(
        sum(row["time"] - 1 < t <= row["time"] for t in accepted) == 3 for row in log if row["error_code"] == 429
    )
    assert [row["ok"] for row in log if row["method"] == "getUpdates"] == [True]


async def test_the_rate_limit_can_be_lifted(http, user_api, chat_id):
    await user_api.set_rate_limit(None)
    answers = await asyncio.gather(
        *(call(http, "sendMessage", json={"chat_id": chat_id, "text": str(n)}) for n in range(40))
    )
    assert {status for status, _ in answers} == {200}
