"""Names of the files a seller downloads: which photo, backdrop and format each one is, not a seed."""

import re
import unicodedata

from shopshot.pipeline.tasks import Task
from shopshot.queue.spec import JobSpec

PLAIN_PHOTO = "photo"  # a photo sent as a photo has no name
MAX_STEM = 40


def photo_stem(file_name: str | None) -> str:
    """The seller's file name without its extension, in ASCII letters, digits, '-' and '_'; PLAIN_PHOTO if none is left."""
    stem = re.split(r"[\\/]", file_name or "")[-1].rsplit(".", 1)[0]
    ascii_only = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()  # "Café" → "Cafe"
    safe = re.sub(r"[^A-Za-z0-9_]+", "-", ascii_only).strip("-_")
    return safe[:MAX_STEM].rstrip("-_") or PLAIN_PHOTO


def result_name(spec: JobSpec, number: int, suffix: str) -> str:
    """`<photo>-<backdrop>-<ratio>-<n>.<suffix>`, e.g. mug-marble-4x5-2.png; the model tasks keep the photo's frame, so
    their model stands in for the ratio; a pack's are `<photo>-<pack>-<n>`."""
    if spec.pack:  # a pack's images are in its order: main image first
        parts = [spec.photo_name, spec.pack]
    elif spec.model and spec.task != Task.BACKDROP:
        parts = [spec.photo_name, spec.model, spec.preset]
    else:
        parts = [spec.photo_name, spec.preset, spec.ratio.replace(":", "x")]
    return f"{'-'.join(parts)}-{number}.{suffix}"
