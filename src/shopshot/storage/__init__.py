"""Where image bytes live: a folder on this machine or an S3-compatible bucket, behind one small interface.

The back ends know names and bytes only. Who owns a blob, how large it is and when it expires are
kept in Redis by `shopshot.queue.store.BlobStore`, the same for every back end: expiry, quotas and
`/forget` work alike on both.
"""

from pathlib import Path
from typing import Protocol

from shopshot.config import StorageSettings


class BlobMissing(LookupError):
    """No blob is stored under that name (deleted, swept, or never written)."""


class Blobs(Protocol):
    """Bytes by name. Names are short, made of A-Z a-z 0-9 - _ and dots."""

    def write(self, name: str, data: bytes) -> None:
        """Store `data` under `name`, replacing what was there."""

    def read(self, name: str) -> bytes:
        """The bytes stored under `name`; raises BlobMissing."""

    def delete(self, names: list[str]) -> None:
        """Delete these blobs; names not stored are no error."""


def open_blobs(settings: StorageSettings, data_dir: Path) -> Blobs:
    """The back end the settings name: files under `settings.dir` (DATA_DIR/blobs by default) or the S3 bucket."""
    if settings.backend == "s3":
        from shopshot.storage.s3 import S3Blobs  # boto3 is imported only where a bucket is used

        return S3Blobs.connect(settings.s3)
    from shopshot.storage.local import LocalBlobs

    return LocalBlobs(settings.dir or data_dir / "blobs")
