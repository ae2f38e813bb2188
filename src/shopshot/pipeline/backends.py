"""The rendering backends a worker can load by name (`Settings.backend`)."""

from collections.abc import Callable
from typing import Protocol

from shopshot.errors import InvalidOption
from shopshot.pipeline.studio import RenderedImage, RenderRequest, StudioBackend


class Backend(Protocol):
    """The model contract: `setup()` once per process, then `run()` per request."""

    name: str

    def setup(self) -> None: ...

    def run(self, request: RenderRequest, progress: Callable[[float], None] | None = None) -> list[RenderedImage]: ...


_BACKENDS: dict[str, Callable[[], Backend]] = {"studio": StudioBackend}


def load_backend(name: str) -> Backend:
    """A new, not yet set up, backend by name; unknown names raise InvalidOption."""
    try:
        factory = _BACKENDS[name]
    except KeyError:
        raise InvalidOption(value=name) from None
    return factory()
