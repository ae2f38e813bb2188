"""Change notices for the chat pages: whatever may have changed a chat wakes every page watching."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class Changes:
    """A tiny pub/sub: each subscriber holds an Event that every publish() sets.

    Notices carry nothing; a woken page compares the chat with what it last showed, so a burst of
    changes costs one comparison and none can be missed between two looks.
    """

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Event] = set()

    def publish(self) -> None:
        """Wake every subscriber."""
        for event in self._subscribers:
            event.set()

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Event]:
        """An Event set by each publish(), for as long as the block runs; clear it before looking."""
        event = asyncio.Event()
        self._subscribers.add(event)
        try:
            yield event
        finally:
            self._subscribers.discard(event)
