"""The wheel carries every compiled catalog, built from a checkout that has none."""

import os
import shutil
import subprocess
import sys
import zipfile

from tests.languages import DOMAIN, LANGUAGES, ROOT

# What a fresh clone has, less the build outputs: no .mo anywhere.
SKIP = shutil.ignore_patterns("*.mo", "__pycache__", "*.egg-info", "build")


def test_wheel_contains_a_compiled_catalog_for_every_language(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=SKIP)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(tmp_path / "dist"),
        str(source),
    ]
    subprocess.run(
        command, check=True, capture_output=True, env=os.environ | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}, timeout=240
    )
    [wheel] = (tmp_path / "dist").glob("shopshot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    compiled = {name.split("/")[2] for name in names if name.endswith(f"/LC_MESSAGES/{DOMAIN}.mo")}
    assert compiled == set(LANGUAGES)
    assert "shopshot/policy_words.toml" in names  # the content policy's word lists are read from the package
