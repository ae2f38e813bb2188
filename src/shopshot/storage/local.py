"""Blobs as files in a folder: the embedded default, and any deployment whose bots and workers share a disk."""

import os
import secrets
from pathlib import Path

from shopshot.storage import BlobMissing


class LocalBlobs:
    """One file per blob, spread over 256 subfolders by the name's first letters (a folder of a million files lists slowly)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, data: bytes) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a reader in another process never sees half a file.
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        partial.write_bytes(data)
        os.replace(partial, path)

    def read(self, name: str) -> bytes:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(name) from None

    def delete(self, names: list[str]) -> None:
        for name in names:
            self._path(name).unlink(missing_ok=True)

    def _path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"not a blob name: {name!r}")
        return self.root / name[:2] / name

    def __repr__(self) -> str:
        return f"LocalBlobs({str(self.root)!r})"
