"""Folders laid out as a Hugging Face cache, which `from_pretrained(..., local_files_only=True)` reads.

Apart from tests/diffusion/conftest.py, which builds the tiny models with torch: the matte tests use
the layout too, and the fast tier must not import torch to collect them.
"""

import shutil
from pathlib import Path

from tests.diffusion.hub_stub import commit_of


def write_cache(cache_dir: Path, repos: dict[str, Path]) -> Path:
    """Lay the folders out as a Hugging Face cache: models--org--name/refs/main and snapshots/<commit>/."""
    for repo_id, folder in repos.items():
        storage = cache_dir / ("models--" + repo_id.replace("/", "--"))
        (storage / "refs").mkdir(parents=True)
        (storage / "refs" / "main").write_text(commit_of(repo_id))
        shutil.copytree(folder, storage / "snapshots" / commit_of(repo_id))
    return cache_dir
