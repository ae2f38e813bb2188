"""The repository's .env.example names every setting of Settings, nested ones as GROUP__FIELD."""

import re
from pathlib import Path

from pydantic import BaseModel

from shopshot.config import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def setting_names(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every environment variable a settings model reads, nested groups joined with a double underscore."""
    names = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names += setting_names(kind, f"{prefix}{name.upper()}__")
        else:
            names.append(prefix + name.upper())
    return names


def test_every_setting_is_documented():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE))
    names = setting_names(Settings)
    assert "WEBHOOK__SECRET" in names and "OBSERVABILITY__METRICS_PORT" in names  # the walk reaches the groups
    assert sorted(set(names) - documented) == []
