"""The model registry (`models.toml`): which checkpoints exist, their licences, the tasks using them."""

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

# The registry keys the backend loads, by role.
INPAINT, CONTROLNET, DEPTH, CLOTHES = "sdxl-inpaint", "controlnet-depth", "depth", "clothes"
SAFETY = "safety"  # the output safety check, loaded while the policy checks outputs
SEGMENTER, MATTING = "sam2.1-tiny", "vitmatte-small"  # the neural product matte, on CPU and GPU workers
KLEIN = "flux2-klein-4b"  # the klein stack's one pipeline (DIFFUSION__STACK=klein)


@dataclass(frozen=True)
class ModelSpec:
    key: str
    repo_id: str
    revision: str
    licence: str
    licence_url: str
    commercial: bool
    tasks: frozenset[str]
    allow_patterns: tuple[str, ...]
    variant: str | None = None
    cpu: bool = False  # a CPU worker needs it too (`shopshot models pull --cpu` fetches only these)
    stacks: frozenset[str] = frozenset({"sdxl", "klein"})  # the stacks (DIFFUSION__STACK) that load it

    @property
    def index_file(self) -> str:
        """The file whose presence in the cache says the checkpoint was pulled."""
        return "model_index.json" if "model_index.json" in self.allow_patterns else "config.json"


def load_registry(path: Path | None = None) -> tuple[ModelSpec, ...]:
    """Every entry of the registry file (the packaged `models.toml` unless `path` is given)."""
    if path is None:
        text = resources.files(__package__).joinpath("models.toml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return tuple(_spec(entry) for entry in tomllib.loads(text)["model"])


def _spec(entry: dict[str, Any]) -> ModelSpec:
    fields = dict(entry, tasks=frozenset(entry["tasks"]), allow_patterns=tuple(entry["allow_patterns"]))
    if "stacks" in entry:
        fields["stacks"] = frozenset(entry["stacks"])
    return ModelSpec(**fields)


def allowed_models(
    allow_noncommercial: bool, registry: tuple[ModelSpec, ...] | None = None, stack: str | None = None
) -> tuple[ModelSpec, ...]:
    """The default set: the commercially usable entries, and the others only when allowed; only `stack`'s when given."""
    entries = load_registry() if registry is None else registry
    return tuple(
        spec for spec in entries if (spec.commercial or allow_noncommercial) and (stack is None or stack in spec.stacks)
    )
