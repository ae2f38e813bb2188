"""Both blob back ends for one suite: a folder, and a bucket on a real S3-protocol server started here.

The server is moto's standalone one (PyPI's `moto[server]`): it speaks S3's HTTP protocol to boto3
as AWS, R2 or MinIO do, runs as a plain Python process with no binary to download, and starts in a
second or two. Each test gets a bucket of its own.
"""

import os
import secrets
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import free_port, until_sync


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """The URL of a moto S3 server in a process of its own, for the whole session."""
    port = free_port()
    log = (tmp_path_factory.mktemp("s3") / "moto.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=os.environ | {"AWS_DEFAULT_REGION": "us-east-1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        until_sync(
            lambda: _answers(url, server), 60, 0.2, what="moto's S3 server answering", explain=lambda: f"see {log.name}"
        )
    except (RuntimeError, TimeoutError):
        server.kill()
        raise
    yield url
    server.terminate()
    server.wait(timeout=10)
    log.close()


def _answers(url: str, server: subprocess.Popen) -> bool:
    if server.poll() is not None:
        raise RuntimeError(f"moto's S3 server exited at start with {server.returncode}")
    try:
        urllib.request.urlopen(url + "/moto-api/", timeout=2).close()
    except OSError:
        return False
    return True


def use_s3(patch: pytest.MonkeyPatch, endpoint: str) -> str:
    """Point this process's settings, and the worker processes it starts, at a fresh bucket on `endpoint`; return its name."""
    bucket = "shopshot-" + secrets.token_hex(6)
    for name, value in {
        "STORAGE__BACKEND": "s3",
        "STORAGE__S3__ENDPOINT_URL": endpoint,
        "STORAGE__S3__BUCKET": bucket,
        "STORAGE__S3__REGION": "us-east-1",
        "STORAGE__S3__ACCESS_KEY_ID": "test",
        "STORAGE__S3__SECRET_ACCESS_KEY": "test",
    }.items():
        patch.setenv(name, value)
    return bucket


@pytest.fixture(params=["local", "s3"])
def storage_settings(request, settings, monkeypatch):
    """The test's settings with one back end, then the other."""
    if request.param == "s3":
        use_s3(monkeypatch, request.getfixturevalue("s3_endpoint"))
        return type(settings)(_env_file=None)
    return settings
