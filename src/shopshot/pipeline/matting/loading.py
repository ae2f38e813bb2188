"""Loading the neural matte once per worker from the Hugging Face cache, or None: the classical cut-out.

Nothing is downloaded (`local_files_only=True`). Torch and transformers are imported only once both
checkpoints are known to be in the cache, so a CPU worker without them never loads torch.
"""

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from huggingface_hub import try_to_load_from_cache

from shopshot.config import MatteSettings
from shopshot.pipeline.diffusion.registry import MATTING, SEGMENTER, ModelSpec, load_registry

if TYPE_CHECKING:
    from shopshot.pipeline.matting.neural import NeuralMatte

log = logging.getLogger(__name__)


def load_matte(settings: MatteSettings, cache_dir: Path | None) -> "NeuralMatte | None":
    """The neural matte when it is enabled and pulled; None (and a log line saying why) otherwise."""
    if settings.neural == "off":
        return None
    specs = {spec.key: spec for spec in load_registry()}
    missing = [f"{key} ({specs[key].repo_id})" for key in (SEGMENTER, MATTING) if not _cached(specs[key], cache_dir)]
    if missing:
        log.info(
            "neural matte not pulled (%s): the classical cut-out runs; `shopshot models pull --cpu` fetches it",
            ", ".join(missing),
        )
        return None
    from shopshot.pipeline.matting.neural import build_matte

    try:
        stage = build_matte(specs[SEGMENTER], specs[MATTING], settings, cache_dir)
    except OSError as error:  # a checkpoint whose files are incomplete in the cache
        log.error("could not load the neural matte from the cache, the classical cut-out runs: %s", error)
        return None
    stage.warm_up()
    return stage


def _cached(spec: ModelSpec, cache_dir: Path | None) -> bool:
    return isinstance(try_to_load_from_cache(spec.repo_id, spec.index_file, cache_dir, spec.revision), str)
