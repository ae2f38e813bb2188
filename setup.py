"""Build hook: compile the gettext catalogs into every wheel, so an installed shopshot speaks all its languages.

Everything else about the package is declared in pyproject.toml.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogs(build_py):
    """build_py, then each packaged locales/<lang>/LC_MESSAGES/*.po compiled into the .mo gettext reads."""

    def run(self) -> None:
        super().run()
        # Compiled in the build folder, not the checkout: a clean clone builds a complete wheel.
        for po in Path(self.build_lib, "shopshot", "locales").glob("*/LC_MESSAGES/*.po"):
            with po.open("rb") as source, po.with_suffix(".mo").open("wb") as compiled:
                write_mo(compiled, read_po(source))


setup(cmdclass={"build_py": BuildPyWithCatalogs})
