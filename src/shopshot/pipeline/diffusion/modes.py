"""Fast and quality modes: steps, guidance and how strongly the masked area is re-noised."""

import math
from dataclasses import dataclass, replace

from shopshot.errors import InvalidOption


@dataclass(frozen=True)
class Mode:
    key: str
    steps: int  # denoising steps actually run (see `num_inference_steps`)
    guidance_scale: float
    # The SDXL inpainting model card advises 0.99 over 1.0: a trace of the init image keeps colours.
    strength: float = 0.99
    # A step-distilled model's fixed schedule length: every run asks for it, and a lower strength runs its tail.
    schedule: int | None = None

    @property
    def num_inference_steps(self) -> int:
        """What to ask the pipeline for so that `steps` steps run after `strength` trims the schedule."""
        if self.schedule is not None:
            return self.schedule
        asked = self.steps
        while int(asked * self.strength) < self.steps:
            asked += 1
        return asked


# Few-step without a distilled LoRA: DPM-Solver++ (2M, Karras sigmas) holds up at 8 steps on SDXL.
MODES = {"fast": Mode("fast", steps=8, guidance_scale=5.0), "quality": Mode("quality", steps=28, guidance_scale=6.5)}
# FLUX.2 [klein] 4B is step-distilled for 4 steps with guidance off, so both modes run that; strength
# 1.0 starts the repainted area from pure noise, as diffusers' reference-image inpainting example does.
KLEIN_MODES = {key: Mode(key, steps=4, guidance_scale=1.0, strength=1.0, schedule=4) for key in ("fast", "quality")}


def retouched(mode: Mode, strength: float, purpose: str) -> Mode:
    """The mode at a low strength, for a second pass (detail tiles, the face): its guidance, fewer steps.

    A fixed (distilled) schedule keeps its length and runs the tail `strength` leaves, as the flow-matching
    pipelines count it (klein at 0.3 or 0.4: the last 2 of its 4 steps); otherwise that share of the mode's
    steps runs, at least one.
    """
    if mode.schedule is not None:
        steps = max(1, mode.schedule - int(mode.schedule - mode.schedule * strength))
    else:
        steps = max(1, math.ceil(mode.steps * strength))
    return replace(mode, key=f"{mode.key}-{purpose}", steps=steps, strength=strength)


def resolve_mode(requested: str | None, preset: str | None, default: str, modes: dict[str, Mode] = MODES) -> Mode:
    """The request's mode if it names one, else the preset's, else the operator's default."""
    key = requested or preset or default
    try:
        return modes[key]
    except KeyError:
        raise InvalidOption(value=key) from None
