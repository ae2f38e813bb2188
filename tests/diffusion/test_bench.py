import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_benchmark_runs_tiny_on_the_cpu():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu.py"), "--tiny"], capture_output=True,
                            text=True, timeout=240, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 3 * 2  # the header, then every task in both modes
    for row in rows[1:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert float(cells[3]) > 0 and cells[6].endswith("FLOP") and int(cells[8]) > 64
