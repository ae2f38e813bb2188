"""The cut-out benchmark's metrics on cases with known answers, and its set's known alpha."""

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from shopshot.config import MatteSettings
from shopshot.errors import NoProductFound
from shopshot.pipeline.matting.loading import load_matte
from tests.matting.conftest import matte_cache

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    """bench/cutouts.py as a module; its one-thread environment defaults are not left behind."""
    saved = dict(os.environ)
    spec = importlib.util.spec_from_file_location("bench_cutouts", ROOT / "bench" / "cutouts.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return module


def square(top: int, left: int, side: int = 40, size: int = 200) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[top : top + side, left : left + side] = True
    return mask


def test_iou_is_one_for_identical_masks_and_zero_for_disjoint_ones(bench):
    assert bench.iou(square(10, 10), square(10, 10)) == 1.0
    assert bench.iou(square(10, 10), square(100, 100)) == 0.0
    # Half of each 40×40 square overlaps the other: 800 / (1600 + 1600 - 800).
    assert bench.iou(square(10, 10), square(10, 30)) == pytest.approx(800 / 2400)


def test_boundary_f_forgives_a_shift_within_the_tolerance_only(bench):
    truth = square(50, 50)
    assert bench.boundary_f(square(50, 52), truth) == 1.0
    # Three pixels off, of each square's 156 boundary pixels only these are within 2 px of the other's:
    # 39 on the top edge and 39 on the bottom (overlap, then 2 past the corner), 4 on the inner side
    # edge (2 by each corner); precision = recall = 82 / 156.
    assert bench.boundary_f(square(50, 53), truth) == pytest.approx(82 / 156)
    assert bench.boundary_f(square(120, 120), truth) == 0.0
    # The true square found, plus a second one far away: precision 1/2, recall 1, so F = 2/3.
    assert bench.boundary_f(truth | square(140, 140), truth) == pytest.approx(2 / 3)


def test_sad_is_the_sum_of_absolute_alpha_differences_in_thousands(bench):
    truth = np.zeros((100, 100), np.float32)
    found = np.full((100, 100), 0.5, np.float32)
    found[:50] = 0.0
    assert bench.sad(found, truth) == pytest.approx(2.5)
    assert bench.sad(truth, truth) == 0.0


def test_a_refusal_scores_nothing_found(bench):
    item = bench.bench_item(0, scale=0.25)

    def refuses(_item):
        raise NoProductFound()

    result = bench.score(refuses, item)
    assert result.refused and result.iou == 0.0 and result.boundary == 0.0
    assert result.sad == pytest.approx(item.alpha.sum() / 1000, rel=1e-5)


def test_the_true_alpha_scores_perfectly(bench):
    item = bench.bench_item(5, scale=0.25)
    result = bench.score(lambda it: it.alpha, item)
    assert (result.iou, result.whole, result.boundary, result.sad, result.refused) == (1.0, 1.0, 1.0, 0.0, False)


def test_the_set_is_the_same_every_time_with_the_alpha_each_kind_promises(bench):
    first, again = bench.benchmark_set(8, scale=0.25), bench.benchmark_set(8, scale=0.25)
    assert [item.kind for item in first] == [
        "opaque",
        "opaque",
        "holed",
        "holed",
        "holed",
        "see-through",
        "see-through",
        "see-through",
    ]
    for item, same in zip(first, again):
        assert np.array_equal(np.asarray(item.image), np.asarray(same.image))
        assert np.array_equal(item.alpha, same.alpha)
        assert item.alpha.shape == item.image.size[::-1] and item.alpha.dtype == np.float32
        assert item.alpha.min() >= 0 and item.alpha.max() == pytest.approx(1.0, abs=1e-3)
        body = ((item.alpha > 0.25) & (item.alpha < 0.65)).sum() / (item.alpha > 0).sum()
        # See-through bodies are partial alpha; anything else is partial only along its anti-aliased edge.
        assert body > 0.5 if item.kind == "see-through" else body < 0.2
    ring = first[3]
    ys, xs = np.nonzero(ring.alpha > 0)
    # The ring's middle shows the background through it.
    assert ring.alpha[(ys.min() + ys.max()) // 2, (xs.min() + xs.max()) // 2] == 0


def test_the_halves_split_the_set_by_item_number_and_each_has_every_kind(bench):
    items = bench.benchmark_set(8, scale=0.25)
    tuning, held_out = bench.half(items, "tuning"), bench.half(items, "held-out")
    assert [item.index for item in tuning] == [0, 2, 4, 6] and [item.index for item in held_out] == [1, 3, 5, 7]
    for subset in (tuning, held_out):
        assert {item.kind for item in subset} == {"opaque", "holed", "see-through"}


def test_write_replaces_only_what_lies_between_the_markers(bench, tmp_path):
    page = tmp_path / "performance.md"
    page.write_text(f"# Title\n\n{bench.BEGIN}\nold table\n{bench.END}\n\nAfter.\n")
    bench.write_docs("| new |", page)
    assert page.read_text() == f"# Title\n\n{bench.BEGIN}\n| new |\n{bench.END}\n\nAfter.\n"


def test_the_table_has_a_row_per_method_and_says_which_ran(bench, monkeypatch):
    monkeypatch.setattr(bench, "load_neural_stage", lambda: None)
    markdown, ran, details = bench.table(bench.benchmark_set(8, scale=0.25))
    rows = markdown.splitlines()
    assert len(rows) == 2 + 3 and all(row.count("|") == rows[0].count("|") for row in rows)
    assert rows[3].startswith("| OpenCV GrabCut") and "0 of 8" in rows[3]
    assert "not run: no weights" in rows[4] and ran[2].startswith("neural stage: not run")
    assert len(details.splitlines()) == 2 + 2 * 8  # every photo, for each row that ran


@pytest.fixture(scope="module")
def tiny_stage(tmp_path_factory):
    """The neural stage from tiny checkpoints in a Hugging Face cache layout (SAM answering the box it is given)."""
    cache = matte_cache(tmp_path_factory.mktemp("bench-matte"), whole_frame=True)
    return load_matte(MatteSettings(device="cpu", dtype="float32", edge_side=64), cache)


def test_the_neural_row_runs_the_stage_through_product_cutout(bench, tiny_stage):
    calls = []

    def stage(image, boxes):
        calls.append(boxes)
        return tiny_stage(image, boxes)

    # An opaque product on a busy photo, a see-through one on a plain-ish one (no holed one: a dash).
    items = [bench.bench_item(index, scale=0.25) for index in (0, 5)]
    scores = [bench.score(bench.neural(stage), item) for item in items]
    cells = [cell.strip() for cell in bench.row("neural stage", scores, items).strip("|").split("|")]
    assert cells[0] == "neural stage" and len(calls) == 2
    assert cells[8] == f"{sum(s.refused for s in scores)} of 2" and not all(s.refused for s in scores)
    assert cells[3].split(" / ")[1] == "–"
    for cell in cells[1:8] + cells[9:]:
        assert all(0 <= float(value) < 1e6 for value in cell.split(" / ") if value != "–")
