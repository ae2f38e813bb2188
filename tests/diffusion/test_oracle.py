"""Oracle: on the SDXL stack each task's generation is diffusers' own documented pipeline call.

The backend runs end to end on the tiny random models; its one pipeline call is captured and repeated
on pipelines loaded afresh from the cache with the arguments the recipe declares (the mode, the
preset's or task's depth guidance, DPM-Solver++ with Karras sigmas). Equal pixels mean preprocessing
and parameters cannot drift silently from what the models were trained for.
"""

from dataclasses import replace

import numpy as np
import pytest
import torch
from diffusers import (
    ControlNetModel,
    DPMSolverMultistepScheduler,
    StableDiffusionXLControlNetInpaintPipeline,
    StableDiffusionXLInpaintPipeline,
)
from huggingface_hub import snapshot_download

from shopshot.pipeline.diffusion import generation
from shopshot.pipeline.diffusion.fashion import DEPTH
from shopshot.pipeline.diffusion.registry import CONTROLNET, INPAINT, load_registry
from shopshot.pipeline.presets import backdrop
from shopshot.pipeline.studio import RenderRequest
from tests.diffusion.conftest import STEPS, TEST_MODES
from tests.diffusion.test_fashion import DrawnParser

SEED = 11
# (task, preset): "white" asks for no depth guidance, "podium" for the depth ControlNet.
CASES = [("backdrop", "white"), ("backdrop", "podium"), ("model", "studio"), ("mannequin", "studio")]


class RecordingPipe:
    """The project's pipeline, with every call's keyword arguments kept."""

    def __init__(self, pipe) -> None:
        object.__setattr__(self, "pipe", pipe)
        object.__setattr__(self, "calls", [])

    def __getattr__(self, name: str):
        return getattr(self.pipe, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self.pipe, name, value)

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        return self.pipe(**kwargs)


@pytest.fixture(scope="module")
def reference(model_cache):
    """diffusers' two SDXL inpainting pipelines, loaded on their own from the cache's snapshots as their docs load them."""
    specs = {spec.key: spec for spec in load_registry()}

    def snapshot(key: str) -> str:
        return snapshot_download(
            specs[key].repo_id, revision=specs[key].revision, cache_dir=model_cache, local_files_only=True
        )

    inpaint = StableDiffusionXLInpaintPipeline.from_pretrained(
        snapshot(INPAINT), variant="fp16", dtype=torch.float32, local_files_only=True
    )
    controlnet = ControlNetModel.from_pretrained(
        snapshot(CONTROLNET), variant="fp16", dtype=torch.float32, local_files_only=True
    )
    controlled = StableDiffusionXLControlNetInpaintPipeline.from_pretrained(
        snapshot(INPAINT), controlnet=controlnet, variant="fp16", dtype=torch.float32, local_files_only=True
    )
    for pipe in (inpaint, controlled):
        pipe.set_progress_bar_config(disable=True)
    return {False: inpaint, True: controlled}


@pytest.fixture
def captured(backend, person, monkeypatch):
    """Run a request through the backend; return each generation's inputs, pipeline, call arguments and pixels, and the progress seen."""
    monkeypatch.setattr(backend.models, "clothes", DrawnParser(backend.models.clothes, person[1]))
    real = generation.generate
    runs = []

    def recording(pipe, inputs, mode, seed, on_step):
        spy = RecordingPipe(pipe)
        pixels = real(spy, inputs, mode, seed, on_step)
        runs.append({"inputs": inputs, "pipe": pipe, "calls": spy.calls, "pixels": pixels})
        return pixels

    monkeypatch.setattr(generation, "generate", recording)

    def run(request: RenderRequest):
        seen = []
        backend.run(request, progress=seen.append)
        return runs, seen

    return run


def _request(task: str, preset: str, product, person) -> RenderRequest:
    if task == "backdrop":
        return RenderRequest(product, preset=preset, ratio="4:5", variants=1, seed=SEED, mode="fast")
    return RenderRequest(
        person[0], preset=preset, ratio="3:4", variants=1, seed=SEED, mode="fast", task=task, model="amara"
    )


def _declared(task: str, preset: str):
    """What the recipe says the call must be: the mode (person tasks repaint from pure noise) and the depth guidance."""
    mode = TEST_MODES["fast"] if task == "backdrop" else replace(TEST_MODES["fast"], strength=1.0)
    if task != "backdrop":
        return mode, DEPTH[task]
    depth = backdrop(preset).depth
    return mode, ((depth, 1.0) if depth > 0 else None)


@pytest.mark.parametrize(("task", "preset"), CASES)
def test_oracle_the_task_call_is_diffusers_own_call(captured, reference, product, person, task, preset):
    """The project's pixels equal diffusers' documented call with the recipe's arguments, on the same inputs and seed."""
    [run], seen = captured(_request(task, preset, product, person))
    mode, control = _declared(task, preset)
    inputs, [call] = run["inputs"], run["calls"]
    assert len(seen) == STEPS and seen[-1] == pytest.approx(1.0)  # the mode's steps are the steps that ran
    assert (inputs.control_image is not None) == (control is not None)
    assert type(run["pipe"]) is type(reference[control is not None])
    declared = {
        "num_inference_steps": mode.num_inference_steps,
        "strength": mode.strength,
        "guidance_scale": mode.guidance_scale,
    }
    if control is not None:
        declared |= {"controlnet_conditioning_scale": control[0], "control_guidance_end": control[1]}
    assert {key: call[key] for key in declared} == declared

    pipe = reference[control is not None]
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(
        pipe.scheduler.config, algorithm_type="dpmsolver++", use_karras_sigmas=True, euler_at_final=True
    )
    width, height = inputs.image.size
    extra = {} if control is None else {"control_image": inputs.control_image}
    direct = pipe(
        prompt=inputs.prompt,
        negative_prompt=inputs.negative_prompt,
        image=inputs.image,
        mask_image=inputs.mask_image,
        width=width,
        height=height,
        generator=torch.Generator("cpu").manual_seed(SEED),
        output_type="np",
        **declared,
        **extra,
    )
    ours = run["pixels"]
    assert ours.shape == (height, width, 3)
    assert np.array_equal(ours, (direct.images[0] * 255).astype(np.float32))
