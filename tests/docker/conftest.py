"""Reading docker/: Dockerfile instructions, compose files, .dockerignore, and the tools that check them."""

import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
DOCKERFILES = sorted(DOCKER.glob("*.Dockerfile"))
COMPOSE_FILES = sorted(DOCKER.glob("compose*.yaml"))
# An interpolation and nothing else: ${NAME}, ${NAME:-default} or ${NAME:?message}.
INTERPOLATION = re.compile(r"\$\{[A-Z_][A-Z0-9_]*(?::?[-?][^}]*)?\}")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The arguments as the JSON array of an exec-form CMD, ENTRYPOINT or HEALTHCHECK CMD."""
        return json.loads(self.arguments[self.arguments.index("[") :])


def instructions(dockerfile: Path) -> list[Instruction]:
    """The instructions of a Dockerfile in order, continuation lines joined, comments left out."""
    lines, pending = [], ""
    for raw in dockerfile.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return [Instruction(*_split_keyword(line)) for line in lines]


def _split_keyword(line: str) -> tuple[str, str]:
    keyword, _, arguments = line.partition(" ")
    return keyword.upper(), arguments.strip()


def stages(dockerfile: Path) -> list[list[Instruction]]:
    """The build stages, each starting with its FROM; global ARGs before the first FROM are left out."""
    found: list[list[Instruction]] = []
    for instruction in instructions(dockerfile):
        if instruction.keyword == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def last(stage: list[Instruction], keyword: str) -> Instruction | None:
    """The stage's last instruction with that keyword (the one that takes effect), if any."""
    matching = [instruction for instruction in stage if instruction.keyword == keyword]
    return matching[-1] if matching else None


def load_compose(name: str) -> dict:
    """A compose file of docker/, anchors and merge keys resolved as Compose resolves them."""
    import yaml  # PyYAML: the modules that need it skip without it

    return yaml.safe_load((DOCKER / name).read_text(encoding="utf-8"))


def in_build_context(relative: str) -> bool:
    """Whether the root .dockerignore lets a repository path into the build context (last match wins)."""
    included = True
    for pattern in _dockerignore_patterns():
        negated = pattern.startswith("!")
        if _matches(pattern.removeprefix("!"), relative):
            included = negated
    return included


def _dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _matches(pattern: str, relative: str) -> bool:
    # A pattern that matches a directory covers everything under it, as in Docker.
    regex = re.compile(_translate(pattern.strip("/")))
    parts = relative.strip("/").split("/")
    return any(regex.fullmatch("/".join(parts[:count])) for count in range(1, len(parts) + 1))


def _translate(pattern: str) -> str:
    tokens = re.split(r"(\*\*/|\*\*|\*|\?)", pattern)
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return "".join(wildcards.get(token, re.escape(token)) for token in tokens)


def tool(name: str) -> str | None:
    """A command-line tool from the project's virtual environment, else from PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)
