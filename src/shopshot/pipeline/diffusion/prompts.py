"""Prompts for each task, built from presets and the seller's one-line addition."""

import re
import unicodedata

from shopshot.pipeline.people import ModelPreset
from shopshot.pipeline.presets import Backdrop
from shopshot.pipeline.tasks import Task

EXTRA_LIMIT = 120
# CLIP reads 77 tokens (75 between its start and end marks) and cuts the rest. The seller's words take at
# most this many (estimated) tokens, so the task's and the longest preset's words still fit after them.
EXTRA_TOKENS = 28
# Prompt-weighting and scheduling syntax of the popular front ends (A1111 "(word:1.3)", "[a:b:0.5]",
# "<lora:x>", compel "word++", "(a, b).blend()") and the separators some read as a new prompt or a
# negative one ("|", "BREAK", "AND", "###"): diffusers reads them as plain words, but a swapped-in
# text encoder wrapper would not, so none of it reaches the prompt.
_SYNTAX = re.compile(r"[()\[\]{}<>|:;#=+^\\~]|\b(?:BREAK|AND)\b|(?<!\w)-+|-+(?!\w)")
# CLIP's pre-tokenizer splits words, single digits and runs of other symbols before byte-pair encoding.
_PIECES = re.compile(r"[^\W\d_]+|\d|[^\w\s]+|_+")
_QUALITY = "professional photography, sharp focus, high detail"
_NEGATIVE = "text, watermark, logo, letters, blurry, low quality, jpeg artefacts, distorted, deformed"
# First in every negative prompt, so CLIP's 77-token cut never drops it, whatever the preset adds.
NEGATIVE_NSFW = "nsfw, nudity, naked, explicit"
_NEGATIVE_SCENE = "people, hands, extra objects, clutter, duplicate product"
_NEGATIVE_PERSON = "mannequin, dress form, plastic skin, deformed hands, extra fingers, extra limbs, distorted face"


def sanitise_extra(text: str) -> str:
    """The seller's addition as plain words: no control or format characters or prompt syntax, one line, within its budget."""
    kept = "".join(" " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in text)
    plain = re.sub(r"\s+", " ", _SYNTAX.sub(" ", kept)).strip()[:EXTRA_LIMIT]
    return _within_budget(plain).strip(" ,.")


def _within_budget(text: str) -> str:
    kept = text
    while estimate_tokens(kept) > EXTRA_TOKENS:
        kept = kept[:-1]
    # Cut at a word's end where there is one: scripts written without spaces are cut anywhere.
    if kept != text and " " in kept and text[len(kept)] != " ":
        kept = kept.rsplit(" ", 1)[0]
    return kept


def estimate_tokens(text: str) -> int:
    """An upper estimate of CLIP's token count: a token per four letters of a word, per digit or symbol, per two bytes of other scripts."""
    return sum(_piece_tokens(piece) for piece in _PIECES.findall(text))


def _piece_tokens(piece: str) -> int:
    if not piece.isascii():
        return len(piece.encode()) // 2 + 1
    return max(1, -(-len(piece) // 4)) if piece.isalpha() else len(piece)


def _join(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


def backdrop_prompts(preset: Backdrop, extra: str) -> tuple[str, str]:
    """(prompt, negative_prompt) for the scene around a product on this backdrop."""
    # The seller's words go first, where CLIP weighs them most; their budget keeps the preset in the window.
    prompt = _join("product photograph", sanitise_extra(extra), preset.prompt, _QUALITY)
    return prompt, _join(NEGATIVE_NSFW, preset.negative_prompt, _NEGATIVE_SCENE, _NEGATIVE)


def person_prompts(person: ModelPreset, task: str, extra: str) -> tuple[str, str]:
    """(prompt, negative_prompt) for a fashion model wearing the kept garment."""
    subject = (
        f"{person.prompt}, wearing the outfit"
        if task == Task.MODEL
        else f"full-body, {person.prompt} wearing the garment, standing"
    )
    prompt = _join(
        "fashion photograph", sanitise_extra(extra), subject, "natural skin texture, detailed face", _QUALITY
    )
    return prompt, _join(NEGATIVE_NSFW, _NEGATIVE_PERSON, _NEGATIVE)


def face_prompt(person: ModelPreset, extra: str) -> str:
    """The prompt of the face pass: the person's face in close-up (the seller's words still first)."""
    return _join(
        "close-up portrait photograph",
        sanitise_extra(extra),
        f"the face of {person.prompt}",
        "natural skin texture, detailed eyes",
        _QUALITY,
    )
