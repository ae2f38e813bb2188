"""Loading on the tiny cache: dtypes, the dtype "auto" picks, and what counts as missing."""

import logging

import pytest
import torch
from pydantic import ValidationError
from transformers import SegformerConfig, SegformerForSemanticSegmentation

from fixtures.diffusion import architectures as arch
from shopshot.config import DiffusionSettings
from shopshot.errors import ModelsMissing
from shopshot.pipeline.devices import resolve_dtype
from shopshot.pipeline.diffusion.loading import load_models
from shopshot.pipeline.diffusion.masks import generation_sizes
from shopshot.pipeline.diffusion.registry import CLOTHES, load_registry
from tests.hf_cache import write_cache


def test_every_module_of_both_pipelines_loads_in_the_asked_dtype(model_cache):
    models = load_models(DiffusionSettings(cache_dir=model_cache, device="cpu", dtype="bfloat16"))
    for pipe in (models.inpaint, models.controlled):
        modules = {name: module for name, module in pipe.components.items() if isinstance(module, torch.nn.Module)}
        assert {"unet", "vae", "text_encoder", "text_encoder_2"} <= modules.keys()
        for name, module in modules.items():
            assert {parameter.dtype for parameter in module.parameters()} == {torch.bfloat16}, name
    assert models.controlled.controlnet.dtype == torch.bfloat16
    assert models.controlled.unet is models.inpaint.unet  # shared, not copied
    assert models.inpaint.vae.config.force_upcast is False  # only float16 overflows in the SDXL VAE


@pytest.mark.parametrize(("native", "expected"), [(True, torch.bfloat16), (False, torch.float16)])
def test_auto_dtype_is_bfloat16_only_where_the_gpu_has_it_natively(monkeypatch, native, expected):
    asked = []

    def supported(including_emulation: bool = True) -> bool:
        asked.append(including_emulation)
        return native or including_emulation  # a T4 or V100: bf16 only by emulation

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", supported)
    assert resolve_dtype("auto", torch.device("cuda")) == expected
    assert asked == [False]
    assert resolve_dtype("auto", torch.device("cpu")) == torch.float32


def test_compile_is_refused_together_with_cpu_offload():
    with pytest.raises(ValidationError, match="COMPILE and DIFFUSION__CPU_OFFLOAD"):
        DiffusionSettings(compile=True, cpu_offload=True)
    assert DiffusionSettings(compile=True).compile and DiffusionSettings(cpu_offload=True).cpu_offload


@pytest.mark.parametrize(
    "folder", ["models--diffusers--stable-diffusion-xl*/snapshots/*/unet", "models--mattmdjaga--segformer*/snapshots/*"]
)
def test_a_truncated_weights_file_is_reported_as_missing(repos, tmp_path, folder):
    cache = write_cache(tmp_path, repos)
    [weights] = cache.glob(f"{folder}/*.safetensors")
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])  # a pull cut short
    with pytest.raises(ModelsMissing):
        load_models(DiffusionSettings(cache_dir=cache, device="cpu"))


def test_label_names_the_clothes_parser_lacks_are_reported_at_setup(repos, tmp_path, caplog):
    labels = tuple(name for name in arch.CLOTHES_LABELS if name not in ("Scarf", "Left-arm"))
    parser = tmp_path / "parser"
    SegformerForSemanticSegmentation(
        SegformerConfig(
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={name: index for index, name in enumerate(labels)},
            **arch.TINY.segformer,
        )
    ).save_pretrained(parser)
    clothes = next(spec for spec in load_registry() if spec.key == CLOTHES)
    cache = write_cache(tmp_path / "cache", {**repos, clothes.repo_id: parser})
    with caplog.at_level(logging.WARNING, logger="shopshot.pipeline.diffusion.perception"):
        load_models(DiffusionSettings(cache_dir=cache, device="cpu"), check_outputs=False)
    [warning] = [record.getMessage() for record in caplog.records if "clothes parser" in record.getMessage()]
    assert "Scarf" in warning and "Left-arm" in warning and "Hair" not in warning


def test_compiling_allows_a_graph_for_every_generation_size(model_cache, monkeypatch):
    monkeypatch.setattr(torch._dynamo.config, "recompile_limit", 8)  # torch's default; restored after the test
    models = load_models(
        DiffusionSettings(cache_dir=model_cache, device="cpu", dtype="float32", compile=True), check_outputs=False
    )
    assert torch._dynamo.config.recompile_limit >= 2 * len(generation_sizes(models.native, models.align))
    assert isinstance(models.inpaint.unet, torch._dynamo.eval_frame.OptimizedModule)
