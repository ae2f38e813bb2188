"""Where the networks run and in what precision, for every model the workers load (diffusion, matte)."""

import torch

from shopshot.errors import InvalidOption

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(name: str) -> torch.device:
    """ "auto" picks cuda, then mps, then cpu; anything else is taken as a torch device name."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """ "auto" is bfloat16 where the GPU runs it natively, float16 on other GPUs, float32 on cpu."""
    if name != "auto":
        try:
            return _DTYPES[name]
        except KeyError:
            raise InvalidOption(value=name) from None
    if device.type == "cuda":
        # By default emulated bf16 counts too (T4, V100): slower there than float16.
        return torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else torch.float16
    return torch.float16 if device.type == "mps" else torch.float32
