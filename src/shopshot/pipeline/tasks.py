"""What a job makes of the seller's photo: the one vocabulary the bot, the queue and both backends share."""

from enum import StrEnum


class Task(StrEnum):
    """A StrEnum, so specs and callback data keep plain strings on the wire and a typo fails on parsing."""

    BACKDROP = "backdrop"  # the product, kept exactly, on a new backdrop (CPU studio or diffusion)
    MODEL = "model"  # model swap: the garment kept, a new person wearing it
    MANNEQUIN = "mannequin"  # a garment on a mannequin, worn by a generated person
