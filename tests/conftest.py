"""Fixtures shared by every test folder: settings, a real embedded Redis, the whole running stack."""

import asyncio
import inspect
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from redis import Redis

from shopshot.bot.app import run_bot
from shopshot.config import Settings
from shopshot.embedded import embedded_redis
from shopshot.launcher import worker_process
from shopshot.playground.client import StandInClient
from shopshot.playground.standin import StandIn
from tests.languages import compile_catalogs


async def until(
    predicate,
    timeout_s: float = 30.0,
    interval_s: float = 0.1,
    what: str | None = None,
    explain: Callable[[], str] | None = None,
):
    """Poll a predicate until it returns something truthy; return that. A coroutine function is awaited, a plain one runs off
    the event loop."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await predicate() if inspect.iscoroutinefunction(predicate) else await asyncio.to_thread(predicate)
        if value:
            return value
        await asyncio.sleep(interval_s)
    raise _not_met(predicate, timeout_s, what, explain)


def until_sync(
    predicate,
    timeout_s: float = 30.0,
    interval_s: float = 0.1,
    what: str | None = None,
    explain: Callable[[], str] | None = None,
):
    """`until` for synchronous code (fixtures, sync tests): poll a plain predicate in this thread."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval_s)
    raise _not_met(predicate, timeout_s, what, explain)


def _not_met(predicate, timeout_s: float, what: str | None, explain: Callable[[], str] | None) -> TimeoutError:
    # `explain` is read only on failure: a log, or the last thing seen, is worth reading then and not before.
    message = f"{what or predicate.__name__} not met within {timeout_s} s"
    return TimeoutError(f"{message}\n{explain()}" if explain else message)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Figures:
    """Figures that tests measure and `make test` prints at the end (the README's reliability table).

    Under pytest-xdist each worker process keeps its own and hands them to the controller, which
    prints them all: counts add up, and a figure one test owns comes from the worker that ran it.
    """

    def __init__(self) -> None:
        self.counts: dict[str, float] = {}
        self.owned: dict[str, float | str] = {}

    def add(self, name: str, amount: float = 1) -> None:
        """Count into a figure that several tests share, e.g. "429s injected"."""
        self.counts[name] = self.counts.get(name, 0) + amount

    def set(self, name: str, value: float | str) -> None:
        """Record a figure one test owns, e.g. "jobs killed/delivered/duplicated": "20/20/0"."""
        self.owned[name] = value

    @property
    def values(self) -> dict[str, float | str]:
        return self.counts | self.owned

    def merge(self, other: dict) -> None:
        """Take in the figures an xdist worker measured."""
        for name, amount in other["counts"].items():
            self.add(name, amount)
        self.owned.update(other["owned"])


FIGURES = Figures()


@pytest.fixture(scope="session")
def figures() -> Figures:
    return FIGURES


# The fast tier (`make check`) leaves out every test that starts a process, a browser, the bot or a
# model (the fixtures that do so), and the folders and files whose tests each took over a second in
# a full run (`pytest --durations=0`): whole-canvas renders, fault and kill rounds, every language's
# conversation; and single tests (`file::test`, each parametrization) of over 1.5 s. diffusers marks its
# `@slow` tests by hand; here one list says it.
SLOW_FIXTURES = frozenset(
    {
        "worker",
        "bot",
        "stack",
        "browser",
        "open_chat",
        "redis_process",
        "bot_process",
        "model_cache",
        "backend",
        "matte_repos",
        "random_cache",
        "whole_frame_cache",
        "s3_endpoint",
    }
)
SLOW_PATHS = (
    "browser/",
    "faults/",
    "diffusion/",
    "ops/",
    "docker/test_commands.py",
    "test_cli.py",
    "test_processes.py",
    "bad_input/test_fuzz_intake.py",
    "matting/test_neural_matte.py",
    "security/test_limits.py",
    "bot/test_every_language.py",
    "bot/test_delivery.py",
    "bot/test_status_board.py",
    "bot/test_intake_analysis.py",
    "bot/test_budget.py",
    "queue/test_jobs.py",
    "queue/test_analysis.py",
    "queue/test_worker_kills.py",
    "queue/test_fleet.py",
    "queue/test_feeder.py",
    "storage/test_uploads.py",
    "storage/test_stack.py",
    "pipeline/test_studio.py",
    "pipeline/test_looks.py",
    "pipeline/test_viewpoint.py",
    "pipeline/test_packs.py",
    "pipeline/test_cutout.py",
    "pipeline/test_candidates.py",
    "pipeline/test_transparency.py",
    "pipeline/test_cutout_bench.py",
    # Single tests of fast files that wait out a lock's timeout or a blob's expiry, or build a wheel.
    "bot/test_isolation.py::test_a_living_handler_keeps_the_lock_past_its_timeout",
    "bot/test_studio.py::test_a_burst_of_uploads_is_decoded_a_few_at_a_time",
    "test_packaging.py::test_wheel_contains_a_compiled_catalog_for_every_language",
    "storage/test_blobs.py::test_an_expired_upload_gives_its_room_back",
    "storage/test_blobs.py::test_an_expired_blob_is_gone_at_once_and_its_bytes_at_the_next_sweep",
    "storage/test_blobs.py::test_kept_and_shortened_lives",
    "security/test_access.py::test_a_stranger_gets_one_clear_message_and_nothing_else",
    "billing/test_batch_holds.py::test_a_delivered_batch_spends_the_photos_made_and_gives_back_the_failed_one_in_one_line",
)
TESTS = Path(__file__).parent


def pytest_configure(config) -> None:
    # One torch thread in each test process and in the processes it starts (they inherit the environment), set
    # before any test module imports torch: the pytest workers already keep every core busy, and a second OpenMP
    # thread spinning for a core added a fifth to the CPU time of `bench/gpu.py --tiny` (53 s against 42 s).
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    """The fast tier does not even import the slow folders and files: torch and diffusers took seconds in each worker."""
    if config.getoption("markexpr") != "not slow" or not collection_path.is_relative_to(TESTS):
        return None
    where = collection_path.relative_to(TESTS).as_posix() + ("/" if collection_path.is_dir() else "")
    return True if where.startswith(SLOW_PATHS) else None


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        where = item.path.relative_to(TESTS).as_posix() + "::" + item.name
        if where.startswith(SLOW_PATHS) or SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def pytest_sessionfinish(session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: its figures travel to the controller
        workeroutput["shopshot_figures"] = {"counts": FIGURES.counts, "owned": FIGURES.owned}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    FIGURES.merge(getattr(node, "workeroutput", {}).get("shopshot_figures", {"counts": {}, "owned": {}}))


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES.values:
        terminalreporter.section("shopshot figures")
        for name, value in sorted(FIGURES.values.items()):
            terminalreporter.write_line(f"{name}: {value}")


def _clean_settings(patch: pytest.MonkeyPatch, data_dir: Path) -> Settings:
    """Settings from an environment without the developer's Redis, token or backend."""
    for name in ("REDIS_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "BACKEND", "DATA_DIR"):
        patch.delenv(name, raising=False)
    patch.setenv("DATA_DIR", str(data_dir))
    return Settings(_env_file=None)


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    return _clean_settings(monkeypatch, tmp_path / "data")


@pytest.fixture(scope="session")
def compiled_locales(tmp_path_factory) -> Path:
    """A locales folder holding every committed catalog, compiled now, so a stale build cannot hide a change."""
    return compile_catalogs(tmp_path_factory.mktemp("locales"))


@pytest.fixture(scope="module")
def stack_settings(tmp_path_factory, compiled_locales) -> Settings:
    """Clean settings for a stack a whole module shares, with the bot reading the freshly compiled catalogs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("shopshot.bot.app.locales_dir", lambda: compiled_locales)
        yield _clean_settings(patch, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def stack_redis_url(stack_settings, tmp_path_factory):
    """An embedded Redis a whole module shares."""
    with embedded_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_url(tmp_path):
    with embedded_redis(tmp_path / "redis") as url:
        yield url


@pytest.fixture
def redis(redis_url):
    client = Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def worker(redis_url, settings, tmp_path):
    """A real `shopshot worker` process on the test's Redis."""
    with worker_process(redis_url, tmp_path / "worker.log") as process:
        yield process


@pytest.fixture
async def stand_in():
    server = StandIn()
    url = await server.start()
    yield url
    await server.stop()


BOT_STARTUP_S = 180.0


async def bot_up(api: StandInClient, begun: float, alive: Callable[[], None], explain: Callable[[], str] | None = None):
    """Wait until a bot started at `begun` (monotonic) is up: its deleteWebhook, made just before it polls; return
    that moment. `alive` raises if the bot has died meanwhile.

    A test's own deadlines then count from there: a bot's start takes a second on a quiet machine and
    can take a minute on a loaded one.
    """

    async def deleted_webhook() -> list[float]:
        alive()
        return [call["time"] for call in await api.calls("deleteWebhook") if call["time"] > begun]

    [up, *_] = await until(deleted_webhook, BOT_STARTUP_S, interval_s=0.05, what="the bot's start", explain=explain)
    return up


class BotRunner:
    """The real aiogram bot polling the stand-in, as a task that a test can stop and start again."""

    def __init__(self, settings: Settings, redis_url: str, api_url: str) -> None:
        self.args = (settings, redis_url, api_url)
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(run_bot(*self.args))

    async def started(self) -> float:
        """Start the bot and wait until it is up (see `bot_up`); return that moment."""
        begun = time.monotonic()
        self.start()
        async with StandInClient(self.args[2]) as api:
            return await bot_up(api, begun, self._alive)

    def _alive(self) -> None:
        if self.task.done():
            self.task.result()  # its error, if it died of one
            raise RuntimeError("the bot stopped before it was up")

    async def stop(self) -> None:
        if self.task.done() and not self.task.cancelled():
            self.task.result()  # a bot that died on its own fails the test with its error
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def bot(settings, redis_url, stand_in):
    runner = BotRunner(settings, redis_url, stand_in)
    await runner.started()
    yield runner
    await runner.stop()


@pytest.fixture
async def api(stand_in):
    async with StandInClient(stand_in) as client:
        yield client
