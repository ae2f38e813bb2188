"""Blobs as objects in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO …), through boto3.

boto3 is AWS's own SDK, released every week, and speaks to any S3-compatible service given its
`endpoint_url`; its client is thread-safe, so the bot's `asyncio.to_thread` calls share one.
"""

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shopshot.config import S3Settings
from shopshot.storage import BlobMissing

# A bucket that does not answer must not hold a seller's upload or a worker's job for minutes.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})
DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys a request
MISSING = ("NoSuchKey", "404", "NotFound")


class S3Blobs:
    """One object per blob under the settings' prefix."""

    def __init__(self, client, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def connect(cls, settings: S3Settings) -> "S3Blobs":
        """A client for the configured bucket, which is created first when allowed and missing."""
        secret = settings.secret_access_key.get_secret_value() if settings.secret_access_key else None
        client = boto3.client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=secret,
            config=CLIENT_CONFIG,
        )
        blobs = cls(client, settings.bucket, settings.prefix)
        if settings.create_bucket:
            blobs.ensure_bucket()
        return blobs

    def ensure_bucket(self) -> None:
        """Create the bucket unless it is there (several processes starting at once may race: both fine)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            if _code(error) not in MISSING:
                raise
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except ClientError as error:
                if _code(error) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    def write(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=data)

    def read(self, name: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + name)["Body"].read()
        except ClientError as error:
            if _code(error) in MISSING:
                raise BlobMissing(name) from None
            raise

    def delete(self, names: list[str]) -> None:
        for start in range(0, len(names), DELETE_BATCH):
            batch = [{"Key": self.prefix + name} for name in names[start : start + DELETE_BATCH]]
            answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            if errors := answer.get("Errors"):
                raise RuntimeError(f"{len(errors)} objects not deleted from {self.bucket}, e.g. {errors[0]}")

    def __repr__(self) -> str:
        return f"S3Blobs({self.bucket!r}, prefix={self.prefix!r})"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
