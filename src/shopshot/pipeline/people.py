"""The fashion-model presets for the model-swap and mannequin tasks, in gallery order.

`prompt` describes the person to the diffusion model; `skin`, `hair` and `hair_style` draw the
gallery tile (a stylised portrait, made without model weights). The set is meant to be varied in
skin tone, ethnicity, gender presentation, age and hair; body shape is not chosen here, because
the tasks keep the body of the photo.
"""

from dataclasses import dataclass

from shopshot.errors import N_, InvalidOption

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class ModelPreset:
    key: str
    title: str
    description: str
    prompt: str
    skin: Colour = (198, 150, 120)
    hair: Colour = (40, 30, 25)
    hair_style: str = "short"


MODEL_PRESETS: tuple[ModelPreset, ...] = (
    ModelPreset(
        "amara",
        N_("Amara, 20s"),
        N_("Young Black woman, deep brown skin, natural curls."),
        "a young Black woman in her twenties with deep brown skin and natural black curly hair",
        (96, 60, 42),
        (22, 18, 16),
        "curly",
    ),
    ModelPreset(
        "mei",
        N_("Mei, 30s"),
        N_("East Asian woman, straight black shoulder-length hair."),
        "an East Asian woman in her thirties with light skin and straight shoulder-length black hair",
        (232, 196, 168),
        (20, 18, 20),
        "bob",
    ),
    ModelPreset(
        "arjun",
        N_("Arjun, 30s"),
        N_("South Asian man, warm brown skin, short black hair."),
        "a South Asian man in his thirties with warm brown skin, short black hair and a trimmed beard",
        (150, 100, 70),
        (25, 20, 18),
        "short",
    ),
    ModelPreset(
        "helen",
        N_("Helen, 50s"),
        N_("White woman in her fifties, silver bob."),
        "a white woman in her fifties with fair skin and a sleek silver bob haircut",
        (238, 204, 186),
        (196, 196, 200),
        "bob",
    ),
    ModelPreset(
        "lucia",
        N_("Lucía, 20s"),
        N_("Latina woman, olive skin, long wavy brown hair."),
        "a Latina woman in her twenties with olive skin and long wavy dark brown hair",
        (205, 155, 115),
        (70, 42, 28),
        "wavy",
    ),
    ModelPreset(
        "omar",
        N_("Omar, 40s"),
        N_("Middle Eastern man, light brown skin, short dark hair."),
        "a Middle Eastern man in his forties with light brown skin and short dark hair with a little grey",
        (184, 134, 100),
        (45, 38, 34),
        "short",
    ),
    ModelPreset(
        "kwame",
        N_("Kwame, 30s"),
        N_("Black man, dark skin, close-cropped hair."),
        "a Black man in his thirties with dark brown skin and close-cropped black hair",
        (84, 54, 38),
        (18, 15, 14),
        "cropped",
    ),
    ModelPreset(
        "sasha",
        N_("Sasha, 20s"),
        N_("Androgynous, fair skin, short platinum hair."),
        "an androgynous young person in their twenties with fair skin and short platinum blond hair",
        (240, 210, 192),
        (228, 214, 170),
        "short",
    ),
    ModelPreset(
        "linh",
        N_("Linh, 40s"),
        N_("Southeast Asian woman, golden-tan skin, hair in a bun."),
        "a Southeast Asian woman in her forties with golden tan skin and black hair tied in a low bun",
        (200, 150, 104),
        (28, 22, 20),
        "bun",
    ),
    ModelPreset(
        "erik",
        N_("Erik, 60s"),
        N_("Older white man, grey hair and beard."),
        "a white man in his sixties with fair skin, grey short hair and a short grey beard",
        (228, 182, 160),
        (170, 168, 165),
        "short",
    ),
    ModelPreset(
        "nia",
        N_("Nia, 40s"),
        N_("Black woman, medium brown skin, long braids."),
        "a Black woman in her forties with medium brown skin and long black box braids",
        (140, 92, 62),
        (26, 20, 18),
        "long",
    ),
)

_BY_KEY = {item.key: item for item in MODEL_PRESETS}


def model_preset(key: str | None) -> ModelPreset:
    """Return the model preset with this key, or raise InvalidOption."""
    preset = None if key is None else _BY_KEY.get(key)
    if preset is None:
        raise InvalidOption(value=key)
    return preset
