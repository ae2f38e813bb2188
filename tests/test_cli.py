"""`shopshot render`: the pipeline on local files, with a one-line reason for each file it cannot use."""

import os
import subprocess
import sys

from PIL import Image

from shopshot.pipeline.gallery import sample_photo
from tests.pipeline.test_packs import MARKETPLACES


def _render(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shopshot", "render", *args], capture_output=True, text=True, cwd=cwd)


def test_render_writes_each_variant(tmp_path):
    (tmp_path / "mug.jpg").write_bytes(sample_photo())
    done = _render(
        "mug.jpg", "--preset", "podium", "--ratio", "4:5", "--variants", "2", "--seed", "5", "-o", "out", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    written = sorted((tmp_path / "out").iterdir())
    assert [path.name for path in written] == ["mug-podium-4x5-5.png", "mug-podium-4x5-6.png"]
    width, height = Image.open(written[0]).size
    assert abs(width / height - 0.8) < 0.005


def test_bad_input_exits_non_zero_with_one_line_per_file(tmp_path):
    (tmp_path / "mug.jpg").write_bytes(sample_photo())
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    done = _render("mug.jpg", "broken.jpg", "missing.png", "-o", "out", cwd=tmp_path)
    assert done.returncode == 1
    reasons = [line for line in done.stderr.splitlines() if line.startswith("shopshot render:")]
    assert len(reasons) == 2 and "broken.jpg: I couldn't read that file" in reasons[0] and "missing.png" in reasons[1]
    assert (tmp_path / "out" / "mug-white-1x1-0.png").exists()


def test_an_unknown_preset_is_refused(tmp_path):
    (tmp_path / "mug.jpg").write_bytes(sample_photo())
    done = _render("mug.jpg", "--preset", "marble", cwd=tmp_path)
    assert done.returncode == 1 and "Unknown choice: marble." in done.stderr


def test_a_gpu_worker_without_weights_stops_at_start_naming_them_and_the_command(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env |= {
        "BACKEND": "diffusion",
        "DIFFUSION__CACHE_DIR": str(tmp_path / "empty-cache"),
        "DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "shopshot", "worker", "--burst"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    [line] = [line for line in done.stderr.splitlines() if line.startswith("shopshot:")]
    assert "diffusers/stable-diffusion-xl-1.0-inpainting-0.1" in line and "shopshot models pull" in line


def test_packs_lists_every_marketplace_with_the_sources_of_its_rules(tmp_path):
    done = subprocess.run([sys.executable, "-m", "shopshot", "packs"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    keys = [line.split(":")[0] for line in done.stdout.splitlines() if line and not line.startswith(" ")]
    assert keys == list(MARKETPLACES)
    assert "https://sellercentral.amazon.com/gp/help/external/G9FUUH87RBNXGKB7" in done.stdout
    assert "border RGB 255, product ≥ 85%" in done.stdout and "not found in sources" in done.stdout


def test_render_takes_a_folder_and_writes_one_folder_per_pack_with_each_verdict(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "mug.jpg").write_bytes(sample_photo())
    (tmp_path / "photos" / "notes.txt").write_text("not a photo")
    done = _render("photos", "--pack", "lazada", "-o", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["lazada"]
    assert [path.name for path in (tmp_path / "out" / "lazada").iterdir()] == ["mug-1-white.png"]
    [line] = done.stdout.splitlines()
    assert line.startswith("out/lazada/mug-1-white.png\tLazada image: 850×850, white 255, product ") and line.endswith(
        "✓"
    )


def test_a_pack_refuses_a_photo_under_its_minimum_size_and_an_unknown_pack(tmp_path):
    Image.new("RGB", (600, 400), (200, 30, 30)).save(tmp_path / "small.png")
    done = _render("small.png", "--pack", "lazada", "-o", "out", cwd=tmp_path)
    assert done.returncode == 1 and not (tmp_path / "out" / "lazada").exists()
    assert (
        "small.png: lazada: Lazada image: the photo is 600×400, under the 500 px minimum on the shortest side"
        in done.stderr
    )
    unknown = _render("small.png", "--pack", "walmart", cwd=tmp_path)
    assert unknown.returncode == 1 and "Unknown choice: walmart." in unknown.stderr
