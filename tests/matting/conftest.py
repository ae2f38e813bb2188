"""The tiny matte checkpoints in a Hugging Face cache layout, loaded by the production loader."""

from pathlib import Path

import pytest

from shopshot.config import MatteSettings
from shopshot.pipeline.diffusion.registry import MATTING, SEGMENTER, load_registry
from tests.hf_cache import write_cache


def matte_cache(root: Path, whole_frame: bool) -> Path:
    """A cache holding both matte checkpoints (models--org--name/refs/main, snapshots/<commit>/)."""
    from tests.matting.tiny import (
        save_matting,
        save_segmenter,
    )  # torch: only for the tests that use the cache, not to collect the folder

    specs = {spec.key: spec for spec in load_registry()}
    save_segmenter(root / "segmenter", whole_frame)
    save_matting(root / "matting")
    return write_cache(
        root / "cache", {specs[SEGMENTER].repo_id: root / "segmenter", specs[MATTING].repo_id: root / "matting"}
    )


@pytest.fixture(scope="session")
def random_cache(tmp_path_factory) -> Path:
    """Both networks with plain random weights: for comparing against transformers' own calls."""
    return matte_cache(tmp_path_factory.mktemp("matte-random"), whole_frame=False)


@pytest.fixture(scope="session")
def whole_frame_cache(tmp_path_factory) -> Path:
    """SAM answering "product" everywhere, so the mask is the prompt box: for the stage end to end."""
    return matte_cache(tmp_path_factory.mktemp("matte-whole"), whole_frame=True)


@pytest.fixture
def cpu_settings() -> MatteSettings:
    return MatteSettings(device="cpu", dtype="float32", edge_side=96)
