"""Print the requirements of the base install plus the named extras, one a line, from pyproject.toml.

The images install these in a layer of their own before the source is copied in, so that a change to
the code does not download torch again. Usage: `python docker/requirements.py [EXTRA ...]`.
"""

import sys
import tomllib
from pathlib import Path


def requirements(pyproject: Path, extras: list[str]) -> list[str]:
    """The base dependencies, then each named extra's; an extra that pyproject lacks is an error."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    missing = [name for name in extras if name not in optional]
    if missing:
        # Fail the image build rather than build a GPU worker without torch.
        raise SystemExit(f"{pyproject} has no extra named {', '.join(missing)}")
    return project["dependencies"] + [requirement for name in extras for requirement in optional[name]]


if __name__ == "__main__":
    print("\n".join(requirements(Path("pyproject.toml"), sys.argv[1:])))
