"""The compose files: the Compose Specification's schema, then what this deployment needs of them."""

import itertools
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.docker.conftest import COMPOSE_FILES, DOCKER, INTERPOLATION, REPO, last, load_compose, stages, tool

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (make test installs it)")

# The Compose Specification's JSON schema, vendored: see README.md beside this file.
SCHEMA = json.loads((Path(__file__).parent / "compose-spec.schema.json").read_text(encoding="utf-8"))
MAIN = load_compose("compose.yaml")
SERVICES = MAIN["services"]
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|AUTH|_KEY$")


def _validator():
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (make test installs it)")
    return jsonschema.Draft7Validator(SCHEMA)


@pytest.mark.parametrize("compose_file", COMPOSE_FILES, ids=lambda path: path.name)
def test_compose_files_follow_the_compose_specification(compose_file):
    document = load_compose(compose_file.name)
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in _validator().iter_errors(document)
    ]
    assert errors == []


def test_the_schema_rejects_what_compose_would():
    wrong = {
        "services": {
            "bot": {"imagee": "shopshot-bot"},
            "redis": {"depends_on": {"bot": {"condition": "service_ready"}}},
        }
    }
    assert len(list(_validator().iter_errors(wrong))) == 2


def _services(document: dict) -> list[tuple[str, dict]]:
    return list(document.get("services", {}).items())


def _all_services() -> list[tuple[str, dict]]:
    return [
        (f"{path.name}:{name}", service)
        for path in COMPOSE_FILES
        for name, service in _services(load_compose(path.name))
    ]


def test_published_ports_stay_on_the_loopback_unless_an_operator_says_otherwise():
    published = {label: service["ports"] for label, service in _all_services() if "ports" in service}
    assert set(published) == {"compose.yaml:dashboard", "compose.yaml:prometheus", "compose.tls.yaml:redis"}
    for label, ports in published.items():
        for port in ports:
            host = port.rsplit(":", 2)[0]
            assert host in {"127.0.0.1", "${REDIS_TLS_BIND:-127.0.0.1}"}, f"{label} publishes {port}"


def _environment_values(service: dict) -> dict[str, str]:
    environment = service.get("environment", {})
    return environment if isinstance(environment, dict) else dict(item.partition("=")[::2] for item in environment)


def test_no_secret_is_written_in_a_compose_file():
    for label, service in _all_services():
        for name, value in _environment_values(service).items():
            if SECRET_NAME.search(name):
                assert INTERPOLATION.fullmatch(str(value)), f"{label}: {name} is written out"
            for password in re.findall(r"://[^/@:]*:([^@]*)@", str(value)):
                assert INTERPOLATION.fullmatch(password), f"{label}: {name} carries a password"
        command = service.get("command", [])
        for flag, value in itertools.pairwise(command):
            if flag == "--requirepass":
                assert INTERPOLATION.fullmatch(value), f"{label}: the Redis password is written out"


def test_every_variable_the_compose_files_use_is_in_the_env_example():
    example = (DOCKER / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", example, re.MULTILINE))
    text = "".join(path.read_text(encoding="utf-8") for path in COMPOSE_FILES)
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    assert used <= documented
    assert re.search(r"^REDIS_PASSWORD=$", example, re.MULTILINE)


def _gpu_workers(document: dict) -> dict[str, dict]:
    services = _services(document)
    return {name: service for name, service in services if _environment_values(service).get("BACKEND") == "diffusion"}


@pytest.mark.parametrize("compose_file", ["compose.yaml", "compose.worker.yaml"])
def test_one_gpu_worker_per_gpu(compose_file):
    document = load_compose(compose_file)
    workers = _gpu_workers(document)
    cache_dir = _environment_values(document["services"]["models"])["DIFFUSION__CACHE_DIR"]
    assert len(workers) >= 2
    reserved = []
    for worker in workers.values():
        (device,) = worker["deploy"]["resources"]["reservations"]["devices"]
        assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"] and len(device["device_ids"]) == 1
        reserved += device["device_ids"]
        environment = _environment_values(worker)
        # The one GPU a container gets is device 0 inside it, whatever its index on the host.
        assert environment["CUDA_VISIBLE_DEVICES"] == "0"
        assert environment["HF_HOME"] == "/models" and "models:/models" in worker["volumes"]
        assert environment["DIFFUSION__CACHE_DIR"] == cache_dir  # where `models pull` put the weights
        assert worker["build"]["args"]["VARIANT"] == "gpu" and "profiles" not in worker
    assert sorted(reserved) == [str(index) for index in range(len(workers))]


def test_containers_reach_the_compose_redis_with_its_password():
    for name in ("bot", "worker-gpu0", "worker-gpu1", "worker-cpu"):
        url = _environment_values(SERVICES[name])["REDIS_URL"]
        assert re.fullmatch(r"redis://:\$\{REDIS_PASSWORD(:\?[^}]*)?\}@redis:6379/0", url), name
        assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "BACKEND" not in _environment_values(SERVICES["bot"])  # the bot routes by the workers that are up


def test_the_bot_and_workers_keep_images_in_the_compose_minio():
    minio = SERVICES["minio"]
    assert (
        minio["image"].startswith("minio/minio:RELEASE.")
        and "minio-data:/data" in minio["volumes"]
        and "ports" not in minio
    )
    assert _environment_values(minio)["MINIO_ROOT_PASSWORD"].startswith("${MINIO_PASSWORD:?")
    for name in ("bot", "worker-gpu0", "worker-gpu1", "worker-cpu"):
        environment = _environment_values(SERVICES[name])
        assert (
            environment["STORAGE__BACKEND"] == "s3" and environment["STORAGE__S3__ENDPOINT_URL"] == "http://minio:9000"
        ), name
        assert environment["STORAGE__S3__SECRET_ACCESS_KEY"] == minio["environment"]["MINIO_ROOT_PASSWORD"], name
        assert environment["STORAGE__S3__ACCESS_KEY_ID"] == minio["environment"]["MINIO_ROOT_USER"], name
        assert SERVICES[name]["depends_on"]["minio"]["condition"] == "service_healthy", name


def test_workers_on_other_machines_need_their_own_redis_url():
    workers = _gpu_workers(load_compose("compose.worker.yaml"))
    assert {_environment_values(worker)["REDIS_URL"].split(":?")[0] for worker in workers.values()} == {"${REDIS_URL"}
    assert "redis" not in load_compose("compose.worker.yaml")["services"]


def test_redis_keeps_an_append_only_file_and_asks_for_a_password():
    redis = SERVICES["redis"]
    assert redis["image"].startswith("redis:7.")
    command = redis["command"]
    assert command[0] == "redis-server" and command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--requirepass") + 1].startswith("${REDIS_PASSWORD")
    assert "redis-data:/data" in redis["volumes"] and "ports" not in redis
    tls = load_compose("compose.tls.yaml")["services"]["redis"]["command"]
    assert tls[: len(command)] == command and "--tls-port" in tls


def test_optional_parts_sit_behind_their_profiles():
    profiles = {name: service.get("profiles", []) for name, service in SERVICES.items()}
    assert profiles == {
        "redis": [],
        "minio": [],
        "bot": [],
        "worker-gpu0": [],
        "worker-gpu1": [],
        "worker-cpu": ["cpu"],
        "models": ["models"],
        "dashboard": ["dashboard"],
        "prometheus": ["metrics"],
    }
    cpu = SERVICES["worker-cpu"]
    assert _environment_values(cpu)["BACKEND"] == "studio" and cpu["build"]["args"]["VARIANT"] == "cpu"
    models = SERVICES["models"]
    assert models["command"] == ["models", "pull"] and "models:/models" in models["volumes"]
    assert models["build"] == SERVICES["worker-gpu0"]["build"] and models["image"] == SERVICES["worker-gpu0"]["image"]


def test_every_long_running_service_reports_its_health():
    for label, service in _all_services():
        if service.get("restart") == "no" or not {"image", "build"} & set(service):
            continue  # a one-shot, or an override of a service another file defines
        if "healthcheck" in service:
            assert service["healthcheck"].get("disable") is not True, label
            continue
        dockerfile = service.get("build", {}).get("dockerfile")
        assert dockerfile and last(stages(REPO / dockerfile)[-1], "HEALTHCHECK"), f"{label} reports no health"


def test_paths_the_compose_files_name_exist():
    for label, service in _all_services():
        build = service.get("build")
        if build:
            context = DOCKER / build["context"]
            assert context.is_dir() and (context / build["dockerfile"]).is_file(), label
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), f"{label} mounts {source}"


def test_prometheus_scrapes_services_compose_runs():
    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text(encoding="utf-8"))
    targets = [
        target for job in config["scrape_configs"] for group in job["static_configs"] for target in group["targets"]
    ]
    ports = {host: int(port) for host, _, port in (target.partition(":") for target in targets)}
    assert set(ports) <= set(SERVICES) and ports["bot"] == 9100
    assert [port for host, port in ports.items() if host.startswith("worker")] == [9101, 9101]
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in SERVICES["prometheus"]["volumes"]


def _compose(tmp_path, files: list[str], environment: str) -> subprocess.CompletedProcess:
    binary = tool("docker-compose")
    if binary is None:
        pytest.skip("Docker Compose v2 is not installed (make test puts docker-compose in .venv/bin)")
    env_file = tmp_path / "compose.env"
    env_file.write_text(environment)
    arguments = [argument for name in files for argument in ("-f", name)]
    command = [binary, *arguments, "--env-file", str(env_file), "--profile", "*", "config", "--format", "json"]
    try:
        return subprocess.run(command, cwd=DOCKER, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    except OSError as error:  # the binary is built for Linux on x86-64 only
        pytest.skip(f"{binary} does not run here: {error}")


COMBINATIONS = [["compose.yaml"], ["compose.yaml", "compose.tls.yaml"], ["compose.worker.yaml"]]


@pytest.mark.parametrize("files", COMBINATIONS, ids="+".join)
def test_docker_compose_accepts_the_files(tmp_path, files):
    done = _compose(
        tmp_path,
        files,
        "REDIS_PASSWORD=hunter2\nMINIO_PASSWORD=hunter22\nREDIS_URL=rediss://:hunter2@redis.example.internal:6380/0\n",
    )
    # Read the result, not the exit status: a pip wrapper of docker-compose is known to exit 0 on errors.
    assert done.stdout.startswith("{"), done.stderr
    services = json.loads(done.stdout)["services"]
    worker = services["worker-gpu1"]
    assert worker["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"] == ["1"]
    expected = {"redis://:hunter2@redis:6379/0", "rediss://:hunter2@redis.example.internal:6380/0"}
    assert worker["environment"]["REDIS_URL"] in expected


def test_docker_compose_refuses_to_start_without_a_redis_password(tmp_path):
    done = _compose(tmp_path, ["compose.yaml"], "MINIO_PASSWORD=hunter22\n")
    assert not done.stdout.startswith("{") and "set REDIS_PASSWORD in docker/.env" in done.stderr


def test_docker_compose_refuses_to_start_without_a_minio_password(tmp_path):
    done = _compose(tmp_path, ["compose.yaml"], "REDIS_PASSWORD=hunter2\n")
    assert not done.stdout.startswith("{") and "set MINIO_PASSWORD in docker/.env" in done.stderr
