"""Webhook mode: the stand-in posts updates as Telegram does, and two bot replicas behind a round-robin
proxy handle each update once and deliver each album once."""

import asyncio
import itertools
import json
import os
import subprocess
import sys

import aiohttp
import pytest
from aiohttp import web

from shopshot.bot.callbacks import Step
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.client import StandInClient
from shopshot.playground.scripted import Choices, newer_than, play_conversation, reach_summary
from shopshot.playground.standin import StandIn
from tests.bot.batching import CHOICES, collected, product_photo
from tests.conftest import free_port, until
from tests.ops.conftest import TOKEN, shopshot_process

SECRET = "replicas-share-this_secret-1"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)


class RoundRobinProxy:
    """A load balancer in miniature: each POST goes to the next backend; it records which got what."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.turn = itertools.cycle(range(len(backends)))
        self.forwarded: list[tuple[int, int]] = []  # (backend index, update_id) of each post answered 2xx
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/telegram", self.forward)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}/telegram"

    async def forward(self, request: web.Request) -> web.Response:
        index, body = next(self.turn), await request.read()
        headers = {name: value for name, value in request.headers.items() if name.lower().startswith("x-telegram")}
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    self.backends[index], data=body, headers=headers | {"Content-Type": "application/json"}
                ) as answer,
            ):
                if answer.status < 300:
                    self.forwarded.append((index, json.loads(body)["update_id"]))
                return web.Response(status=answer.status, body=await answer.read())
        except aiohttp.ClientError:
            return web.Response(status=502)

    async def stop(self) -> None:
        await self.runner.cleanup()


async def _post_json(url: str, body: dict, headers: dict | None = None) -> tuple[int, dict | str]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers or {}) as response:
        try:
            return response.status, await response.json(content_type=None)
        except ValueError:
            return response.status, await response.text()


@pytest.fixture
async def replicas(settings, redis_url, worker, tmp_path):
    """The stand-in, a proxy, two `shopshot bot` processes in webhook mode and a worker on one Redis."""
    stand_in = StandIn(token=TOKEN)
    api_url = await stand_in.start()
    ports = [free_port(), free_port()]
    proxy = RoundRobinProxy([f"http://127.0.0.1:{port}/telegram" for port in ports])
    proxy_url = await proxy.start()
    env = {
        "REDIS_URL": redis_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "WEBHOOK__URL": proxy_url,
        "WEBHOOK__SECRET": SECRET,
        "WEBHOOK__HOST": "127.0.0.1",
    }
    try:
        with (
            shopshot_process(
                "bot", env | {"WEBHOOK__PORT": str(ports[0]), "INSTANCE_NAME": "bot-a"}, tmp_path / "bot-a.log"
            ),
            shopshot_process(
                "bot", env | {"WEBHOOK__PORT": str(ports[1]), "INSTANCE_NAME": "bot-b"}, tmp_path / "bot-b.log"
            ),
        ):
            await _wait_for_webhook(api_url, ports, tmp_path)
            async with StandInClient(api_url) as api:
                yield api, proxy, ports
    finally:
        await proxy.stop()
        await stand_in.stop()


async def _wait_for_webhook(api_url: str, ports: list[int], tmp_path, timeout: float = 60.0) -> None:
    # Both replicas listening and at least one has set the webhook (each sets it on start).
    async def webhook_set_and_both_listening() -> bool:
        # The replicas' start-up calls can fill the stand-in's 30 calls a second: a 429 here means "not yet".
        answer = (await _post_json(f"{api_url}/bot{TOKEN}/getWebhookInfo", {}))[1]
        listening = [await _listening(port) for port in ports]
        return bool(answer.get("ok") and answer["result"]["url"] and all(listening))

    await until(
        webhook_set_and_both_listening,
        timeout,
        0.2,
        explain=lambda: "\n".join(p.read_text() for p in tmp_path.glob("bot-*.log")),
    )


async def _listening(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


async def test_two_replicas_handle_each_update_once_and_deliver_each_album_once(replicas, tmp_path, figures):
    api, proxy, _ = replicas
    users = range(601, 609)
    for user in users:
        await api.send_text(user, "/start")
    for user in users:
        await api.wait_for(user, newer_than(0))
    await play_conversation(api.base_url, 700, sample_photo(), tmp_path / "out", Choices(preset="studio", variants=2))
    await asyncio.sleep(1.0)  # room for a duplicate to show up, were there one
    for user in users:
        assert len(await api.messages(user)) == 1  # one welcome per /start
    album = [m for m in await api.messages(700) if m["kind"] == "photo" and m["media_group_id"]]
    assert len(album) == 2 and len({m["media_group_id"] for m in album}) == 1
    assert len([m for m in await api.messages(700) if m["kind"] == "document"]) == 2
    update_ids = [update_id for _, update_id in proxy.forwarded]
    assert len(update_ids) == len(set(update_ids))  # the stand-in posted each update once it was taken
    per_replica = [sum(1 for index, _ in proxy.forwarded if index == replica) for replica in (0, 1)]
    assert min(per_replica) > 0
    figures.set("webhook updates per replica (a/b)", f"{per_replica[0]}/{per_replica[1]}")


async def test_a_wrong_secret_is_refused_and_nothing_is_handled(replicas):
    api, _proxy, ports = replicas
    update = {
        "update_id": 999_001,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 650, "type": "private"},
            "from": {"id": 650, "is_bot": False, "first_name": "X"},
            "text": "/start",
        },
    }
    for headers in ({"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}, {}):
        status, _ = await _post_json(f"http://127.0.0.1:{ports[0]}/telegram", update, headers)
        assert status in (401, 403)
    await api.send_text(651, "/start")  # a real update after them is answered: the replicas still work
    await api.wait_for(651, newer_than(0))
    assert [call for call in await api.calls("sendMessage") if call["chat_id"] == 650] == []
    status, body = await _post_json(f"{api.base_url}/bot{TOKEN}/getUpdates", {})
    assert (status, body["description"]) == (409, WEBHOOK_CONFLICT)


@pytest.mark.parametrize("secret", [None, ""])
def test_webhook_mode_without_a_secret_refuses_to_start(tmp_path, secret):
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEBHOOK__")}
    env |= {"WEBHOOK__URL": "https://bot.example.com/telegram"} | (
        {} if secret is None else {"WEBHOOK__SECRET": secret}
    )
    done = subprocess.run(
        [sys.executable, "-m", "shopshot", "bot"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "shopshot: WEBHOOK: WEBHOOK__SECRET must be set when WEBHOOK__URL is set (every replica the same one)"
    ]


async def test_the_stand_in_retries_a_failed_post_and_reports_the_error():
    stand_in = StandIn(token=TOKEN)
    api_url = await stand_in.start()
    received: list[tuple[str | None, int]] = []

    async def flaky(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), (await request.json())["update_id"]))
        return web.Response(status=500 if len(received) <= 2 else 200)

    app = web.Application()
    app.router.add_post("/hook", flaky)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    method = f"{api_url}/bot{TOKEN}/"
    try:
        assert (
            await _post_json(method + "setWebhook", {"url": f"http://127.0.0.1:{port}/hook", "secret_token": "s_1"})
        )[0] == 200
        assert (await _post_json(method + "setWebhook", {"url": "http://x/hook", "secret_token": "bad token!"}))[
            0
        ] == 400
        async with StandInClient(api_url) as api:
            await api.send_text(42, "hello")
        await until(
            lambda: len(received) >= 3, 20, what="three deliveries to the webhook", explain=lambda: str(received)
        )
        await asyncio.sleep(0.3)
        info = (await _post_json(method + "getWebhookInfo", {}))[1]["result"]
        assert received == [("s_1", received[0][1])] * 3  # the same update, retried until taken
        assert (
            info["pending_update_count"] == 0
            and info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert (await _post_json(method + "deleteWebhook", {}))[0] == 200
        assert (await _post_json(method + "getUpdates", {}))[0] == 200
    finally:
        await runner.cleanup()
        await stand_in.stop()


async def test_an_album_whose_photos_reach_both_replicas_is_one_batch(replicas, redis):
    api, proxy, _ = replicas
    user = 710
    await api.send_text(user, "/start")
    await api.wait_for(user, newer_than(0))
    before = len(proxy.forwarded)
    await api.send_album(user, [product_photo(number) for number in range(6)])
    # Round robin: the album's six updates went to both replicas, which share the batch through Redis.
    await until(lambda: collected(redis, user) == 6, timeout_s=90, what="the six photos in one batch")
    assert {index for index, _ in proxy.forwarded[before : before + 6]} == {0, 1}
    summary = await reach_summary(api, user, CHOICES)
    assert summary["text"].startswith("📚 A batch of 6 photos")
    await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
    final = await api.wait_for(
        user, lambda ms: next((m for m in ms if (m["text"] or "").startswith("✅ Your batch")), None), timeout=180
    )
    assert final["text"].startswith("✅ Your batch is ready: 6 photos, 6 images.")
    assert len([m for m in await api.messages(user) if m["kind"] == "document"]) == 6  # delivered once, by one replica
