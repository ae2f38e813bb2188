"""The rendering backends a worker can load by name (`Settings.backend`).

Only the studio backend is imported here: the diffusion backend (torch, diffusers) is imported when
it is asked for, so the bot, which imports the pipeline for its gallery, never loads torch.
An operator's own backend is named by its class, `BACKEND=package.module:ClassName`, built as `ClassName(settings)`.
"""

import importlib
from collections.abc import Callable, Iterable
from typing import Protocol

from shopshot.config import DiffusionSettings, Settings
from shopshot.errors import InvalidOption
from shopshot.pipeline.matte import NeuralStage
from shopshot.pipeline.studio import RenderedImage, RenderRequest, StudioBackend


class Backend(Protocol):
    """The model contract: `setup()` once per process, then `run()` per request (a list, or variants as they are made)."""

    name: str
    tasks: frozenset[str]
    typical_job_s: float  # one job with the default options, for the queue's first ETAs (until jobs have run)

    def setup(self) -> None: ...

    def run(
        self, request: RenderRequest, progress: Callable[[float], None] | None = None
    ) -> Iterable[RenderedImage]: ...


def _studio(settings: Settings | None) -> Backend:
    if settings is None:
        return StudioBackend()
    return StudioBackend(settings.matte, settings.diffusion.cache_dir)


def _diffusion(settings: Settings | None) -> Backend:
    from shopshot.pipeline.diffusion.backend import DiffusionBackend

    if settings is None:
        return DiffusionBackend(DiffusionSettings())
    return DiffusionBackend(settings.diffusion, policy=settings.policy, matte=settings.matte)


def neural_matte(backend: Backend) -> NeuralStage | None:
    """The neural product matte a set-up backend loaded; None when it runs the classical cut-out."""
    # Both shipped backends keep it as `neural`; an operator's backend without one cuts out classically.
    return getattr(backend, "neural", None)


_BACKENDS: dict[str, Callable[[Settings | None], Backend]] = {"studio": _studio, "diffusion": _diffusion}


def load_backend(name: str, settings: Settings | None = None) -> Backend:
    """A new, not yet set up, backend by name or by "package.module:ClassName"; unknown names raise InvalidOption."""
    if ":" in name:
        return _by_class(name)(settings)
    try:
        factory = _BACKENDS[name]
    except KeyError:
        raise InvalidOption(value=name) from None
    return factory(settings)


def _by_class(path: str) -> Callable[[Settings | None], Backend]:
    module_name, _, class_name = path.partition(":")
    module = importlib.import_module(module_name)  # an ImportError names what is missing better than we could
    try:
        factory: Callable[[Settings | None], Backend] = getattr(module, class_name)
    except AttributeError:
        raise InvalidOption(value=path) from None
    return factory
