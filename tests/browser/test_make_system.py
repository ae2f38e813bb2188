"""`make system` installs Chromium's fonts when a script the bot speaks has none, and leaves apt alone otherwise."""

import os
import shutil
import subprocess

import pytest

from tests.browser.conftest import CHROMIUM, ROOT

# fontconfig as on a machine without a Thai font; apt-get writes down what it was asked for.
FC_LIST = """#!/bin/sh
[ "$1" = ":lang=$MISSING" ] || echo "/usr/share/fonts/some.ttf: Some Font"
"""
APT_GET = """#!/bin/sh
echo "$*" >> "$APT_LOG"
"""


def _make_system(tmp_path, missing: str) -> list[str]:
    """The apt-get commands `make system` runs where fontconfig finds no font for the `missing` language."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, script in (("fc-list", FC_LIST), ("apt-get", APT_GET)):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "apt.log"
    env = os.environ | {"PATH": f"{bin_dir}:{os.environ['PATH']}", "APT_LOG": str(log), "MISSING": missing}
    subprocess.run(["make", "-s", "system"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
    return [line for line in log.read_text().splitlines() if "chromium" in line] if log.exists() else []


@pytest.fixture(autouse=True)
def _make_and_chromium():
    if not shutil.which("make") or not CHROMIUM.exists():
        pytest.skip("needs make and Chromium installed")


def test_make_system_installs_the_fonts_when_a_script_has_none(tmp_path):
    [install] = _make_system(tmp_path, missing="th")
    assert install.startswith("install") and {"fonts-tlwg-loma-ttf", "fonts-lohit-deva"} <= set(install.split())


def test_make_system_leaves_apt_alone_when_every_script_has_a_font(tmp_path):
    assert _make_system(tmp_path, missing="none") == []
