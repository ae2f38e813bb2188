"""`shopshot models pull`: download the registry's default set into the operator's Hugging Face cache."""

from collections.abc import Callable
from pathlib import Path

from shopshot.config import DiffusionSettings, Settings
from shopshot.pipeline.diffusion.registry import allowed_models


def pull_models(
    settings: Settings | DiffusionSettings,
    endpoint: str | None = None,
    echo: Callable[[str], None] = print,
    cpu: bool = False,
) -> list[Path]:
    """Download every allowed checkpoint of the configured stack (only the files its pipelines load;
    with `cpu`, only what a CPU worker loads); return their folders.

    Prints one line per checkpoint as it starts and one with its snapshot folder when done.
    `endpoint` points at another Hub (a mirror, or a test's stub); None is HF_ENDPOINT or the Hub.
    """
    from huggingface_hub import snapshot_download

    diffusion = settings.diffusion if isinstance(settings, Settings) else settings
    folders = []
    for spec in allowed_models(diffusion.allow_noncommercial, stack=diffusion.stack):
        if cpu and not spec.cpu:
            continue
        echo(f"pulling {spec.key}: {spec.repo_id} @ {spec.revision} (licence {spec.licence})")
        folder = snapshot_download(
            spec.repo_id,
            revision=spec.revision,
            cache_dir=diffusion.cache_dir,
            allow_patterns=list(spec.allow_patterns),
            endpoint=endpoint,
        )
        echo(f"  {spec.key} ready in {folder}")
        folders.append(Path(folder))
    return folders
