"""Fill empty entries of the English catalog with their source text (English msgids are the English text)."""

import sys

from babel.messages.pofile import read_po, write_po


def main(path: str) -> None:
    """Copy each empty msgid into its msgstr (both plural forms for plural entries)."""
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if message.id and not any(message.string if message.pluralizable else [message.string]):
            message.string = message.id
    with open(path, "wb") as handle:
        write_po(handle, catalog)


if __name__ == "__main__":
    main(sys.argv[1])
