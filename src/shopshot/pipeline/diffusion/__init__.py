"""Diffusion backends: SDXL inpainting with a depth ControlNet, the product's pixels kept exactly.

Modules by concern: `registry` (models.toml: checkpoints, licences), `pull` (download them),
`loading` (from the local cache, once), `perception` (clothes parsing, depth), `safety` (the output
check), `masks`, `prompts`, `modes`, `generation` (one denoising run), `backdrop` and `fashion` (the
tasks' recipes), `backend` (the worker contract). The model configs and random-weight builds for the
tests and the benchmark live outside the package, in `fixtures/diffusion`. Only `loading`,
`perception`, `safety` and `generation` import torch.
"""
