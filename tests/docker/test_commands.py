"""What the containers run: the `shopshot` console script with subcommands its parser has, health
checks that tell a reachable Redis and a registered worker from their absence, and the requirement
lists the images install."""

import functools
import os
import subprocess
import sys
import tomllib

import pytest

pytest.importorskip("yaml", reason="PyYAML is not installed (make test installs it)")

from tests.docker.conftest import DOCKER, REPO, last, load_compose, stages

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _image_command(dockerfile_name: str) -> tuple[list[str], list[str]]:
    final = stages(DOCKER / dockerfile_name)[-1]
    return last(final, "ENTRYPOINT").exec_form(), last(final, "CMD").exec_form()


def _container_commands() -> list[tuple[str, list[str]]]:
    """(compose file:service, argv) for every service that runs a shopshot image."""
    found = []
    for name in ("compose.yaml", "compose.worker.yaml"):
        for service_name, service in load_compose(name)["services"].items():
            dockerfile = service.get("build", {}).get("dockerfile", "")
            if dockerfile in {"docker/bot.Dockerfile", "docker/worker.Dockerfile"}:
                entrypoint, command = _image_command(dockerfile.removeprefix("docker/"))
                argv = service.get("entrypoint", entrypoint) + service.get("command", command)
                found.append((f"{name}:{service_name}", argv))
    return found


@functools.cache
def _help(*subcommands: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "shopshot", *subcommands, "--help"]
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO)


def _params() -> list:
    return [pytest.param(argv, id=label) for label, argv in _container_commands()]


def test_the_console_script_is_declared():
    assert PYPROJECT["project"]["scripts"]["shopshot"] == "shopshot.cli:main"


def test_every_shopshot_image_is_run_by_some_service():
    services = load_compose("compose.yaml")["services"].values()
    dockerfiles = {service.get("build", {}).get("dockerfile") for service in services}
    assert {"docker/bot.Dockerfile", "docker/worker.Dockerfile", "docker/dashboard.Dockerfile"} <= dockerfiles
    assert {label.partition(":")[2] for label, _ in _container_commands()} >= {
        "bot",
        "worker-gpu0",
        "worker-cpu",
        "models",
    }


@pytest.mark.parametrize("argv", _params())
def test_containers_run_subcommands_the_parser_has(argv):
    assert argv[0] == "shopshot"
    subcommands = [word for word in argv[1:] if not word.startswith("-")]
    for depth, word in enumerate(subcommands):
        parent = _help(*subcommands[:depth])
        where = " ".join(["shopshot", *subcommands[:depth]])
        assert parent.returncode == 0 and word in parent.stdout.split(), f"`{where}` has no {word}"
    assert _help(*argv[1:]).returncode == 0


def _healthcheck(dockerfile_name: str, port: int) -> subprocess.CompletedProcess:
    argv = last(stages(DOCKER / dockerfile_name)[-1], "HEALTHCHECK").exec_form()
    assert argv[0] == "python"
    env = os.environ | {"OBSERVABILITY__METRICS_PORT": str(port)}
    return subprocess.run([sys.executable, *argv[1:]], env=env, capture_output=True, text=True, timeout=30)


def _image_port(dockerfile_name: str) -> int:
    final = stages(DOCKER / dockerfile_name)[-1]
    env = [i.arguments for i in final if i.keyword == "ENV" and i.arguments.startswith("OBSERVABILITY__METRICS_PORT=")]
    return int(env[-1].partition("=")[2])


def test_the_images_serve_health_where_prometheus_scrapes():
    assert (_image_port("bot.Dockerfile"), _image_port("worker.Dockerfile")) == (9100, 9101)


async def test_the_bot_healthcheck_passes_while_the_bot_runs_on_a_reachable_redis(redis_url, tmp_path):
    from shopshot.playground.standin import StandIn
    from tests.conftest import free_port
    from tests.ops.conftest import TOKEN, shopshot_process, wait_until_healthy

    port = free_port()
    assert _healthcheck("bot.Dockerfile", port).returncode != 0  # nothing serves it yet
    stand_in = StandIn(token=TOKEN)
    env = {
        "REDIS_URL": redis_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": await stand_in.start(),
        "OBSERVABILITY__METRICS_PORT": str(port),
    }
    try:
        with shopshot_process("bot", env, tmp_path / "bot.log") as bot:
            await wait_until_healthy(port, bot, tmp_path / "bot.log")
            assert _healthcheck("bot.Dockerfile", port).returncode == 0
    finally:
        await stand_in.stop()


def test_the_worker_healthcheck_passes_once_its_worker_serves_health(redis_url, settings, tmp_path, monkeypatch):
    from shopshot.launcher import worker_process
    from tests.conftest import free_port, until_sync

    port = free_port()
    assert _healthcheck("worker.Dockerfile", port).returncode == 1
    monkeypatch.setenv("OBSERVABILITY__METRICS_PORT", str(port))
    with worker_process(redis_url, tmp_path / "worker.log"):
        until_sync(
            lambda: _healthcheck("worker.Dockerfile", port).returncode == 0,
            30,
            0.2,
            what="the worker's healthcheck passing",
            explain=(tmp_path / "worker.log").read_text,
        )
    assert _healthcheck("worker.Dockerfile", port).returncode != 0


def _requirements(*extras: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "docker/requirements.py", *extras], cwd=REPO, capture_output=True, text=True)


def test_the_requirements_are_the_base_set_then_the_extras():
    project = PYPROJECT["project"]
    assert _requirements().stdout.splitlines() == project["dependencies"]
    assert _requirements("dev").stdout.splitlines() == project["dependencies"] + project["optional-dependencies"]["dev"]
    assert not any(name in line for line in _requirements().stdout.splitlines() for name in ("torch", "diffusers"))


def test_an_extra_that_pyproject_lacks_fails_the_build():
    done = _requirements("nonesuch")
    assert done.returncode != 0 and "no extra named nonesuch" in done.stderr and done.stdout == ""


def test_the_worker_image_asks_for_the_gpu_extra():
    gpu_base = next(stage for stage in stages(DOCKER / "worker.Dockerfile") if stage[0].arguments.endswith("AS os-gpu"))
    assert "EXTRAS=gpu" in " ".join(instruction.arguments for instruction in gpu_base)
    if "gpu" not in PYPROJECT["project"].get("optional-dependencies", {}):
        pytest.skip("pyproject.toml has no gpu extra yet: the GPU image build would stop at requirements.py")
    assert "torch" in _requirements("gpu").stdout
