import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from diffusers import UNet2DConditionModel
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from fixtures.diffusion import architectures as arch

ROOT = Path(__file__).resolve().parents[2]


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip("|").split("|")]


@pytest.mark.timeout(720)  # the run's own limit below and room to read its table; about a minute alone here
def test_gpu_benchmark_runs_both_stacks_tiny_on_the_cpu(gpu_bench):
    # The repository root on the path, as `make bench` puts it: the benchmark builds its models with fixtures/.
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu.py"), "--tiny"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert any(line.startswith("targets: klein backdrop ≤ 0.5 s") for line in result.stdout.splitlines())
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    header, table = _cells(rows[0]), [_cells(row) for row in rows[1:]]
    assert header[4:9] == ["s/image", "denoising s", "VAE decode s", "with second passes s", "images/hour"]
    assert header[-1] == "targets"
    # SDXL: every task in both modes, and the white backdrop at the 30-step target; klein: every task once.
    sdxl = [
        ("backdrop", "fast"),
        ("backdrop", "quality"),
        ("backdrop (white)", "30-step"),
        ("model", "fast"),
        ("model", "quality"),
        ("mannequin", "fast"),
        ("mannequin", "quality"),
    ]
    assert [(cells[0], cells[1], cells[2].split()[0]) for cells in table] == [("sdxl", *row) for row in sdxl] + [
        ("klein", task, "fast") for task in gpu_bench.TASKS
    ]
    for cells in table:
        total, loop, decode = (float(cell) for cell in cells[4:7])
        # The loop and the decode are timed apart, inside the job's time.
        assert loop > 0 and decode > 0 and loop + decode <= total
        # The default mode's rows again with the second passes (the backdrop's canvas is large enough for the detail
        # pass's tiles, the person tasks run the face pass), images per hour from that figure; the other rows have none.
        if cells[2].startswith("fast"):
            seconds, passes = cells[7].removesuffix(" passes)").split(" (")
            assert int(passes) >= 2 and int(cells[8]) == pytest.approx(
                3600 / float(seconds), rel=0.01
            )  # 3 digits shown
        else:
            assert cells[7] == "-" and int(cells[8]) == pytest.approx(3600 / total, rel=0.01)
        assert cells[10].endswith("FLOP") and int(cells[13]) > 64 and "≥ 40 % of rate: " in cells[14]
    assert "≤ 2.4 s: " in table[2][14] and "≤ 0.5 s: " in table[7][14]
    for cells in table[7:]:
        canvas, reference = (int(part) for part in cells[11].removesuffix(" ref").split(" + "))
        # At most the tiny VAE's native 64² pixels, 4×4 pixels a token (klein keeps the aspect), plus the reference.
        assert 0 < canvas <= (64 // 4) ** 2 and reference > 0


def test_the_pass_timer_parts_the_loop_from_the_decode(gpu_bench):
    """A run that sleeps 0.05 s per denoiser call (two calls) and 0.02 s in the decode."""

    class Sleeper(torch.nn.Module):
        def forward(self, seconds: float) -> None:
            time.sleep(seconds)

    class Vae:
        def decode(self, seconds: float) -> str:
            time.sleep(seconds)
            return "pixels"

    denoiser, vae = Sleeper(), Vae()
    timer = gpu_bench.PassTimer(torch.device("cpu"), (denoiser,), vae)
    for _ in range(2):
        timer.reset()
        denoiser(0.05)
        denoiser(0.05)
        assert vae.decode(0.02) == "pixels"
        assert timer.loop >= 0.1 and timer.decode >= 0.02 and timer.started is None
        assert timer.passes == 1
    vae.decode(0.0)  # a decode with no denoising before it (a VAE round trip) adds nothing to the loop
    assert timer.loop < 0.1 + timer.decode and timer.passes == 2


@pytest.fixture
def gpu_bench():
    spec = importlib.util.spec_from_file_location("bench_gpu", ROOT / "bench" / "gpu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flops_counted_on_the_meta_device_are_the_eager_model_s(gpu_bench):
    # bench/gpu.py counts on the meta device, so FlopCounterMode never meets a compiled module; the count is the same.
    unet, control = UNet2DConditionModel.from_config(arch.TINY.unet), arch.controlnet(arch.TINY)
    side, native = 32, 64
    hidden = torch.randn(2, 77, 64)
    extra = {"text_embeds": torch.randn(2, 32), "time_ids": torch.randn(2, 6)}
    latents = torch.randn(2, 9, side, side)
    counter = FlopCounterMode(display=False)
    # The CPU's fused attention kernel is not in FlopCounterMode's table (CUDA's are): count it through the math path.
    with torch.no_grad(), counter, sdpa_kernel(SDPBackend.MATH):
        control(latents[:, :4], torch.tensor(500), hidden, torch.randn(2, 3, native, native), added_cond_kwargs=extra)
        unet(latents, torch.tensor(500), hidden, added_cond_kwargs=extra)
    assert gpu_bench.step_flops(arch.TINY, True) == counter.get_total_flops() > 0


def test_flops_are_counted_before_any_build_and_each_build_is_freed_after(gpu_bench, monkeypatch):
    events = []
    monkeypatch.setattr(gpu_bench, "step_flops", lambda scale, controlled: events.append("flops") or 1.0)
    monkeypatch.setattr(
        gpu_bench, "bench", lambda tiny, compiled, *rest: events.append(f"build compiled={compiled}") or []
    )
    monkeypatch.setattr(
        gpu_bench, "bench_klein", lambda tiny, compiled, *rest: events.append(f"klein compiled={compiled}") or []
    )
    monkeypatch.setattr(gpu_bench, "free", lambda device: events.append("free"))
    monkeypatch.setattr(sys, "argv", ["gpu.py", "--tiny", "--compile-only"])
    gpu_bench.main()
    assert events == ["flops", "flops", "build compiled=True", "free", "klein compiled=True", "free"]
