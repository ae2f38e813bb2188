#!/usr/bin/env bash
# bench/gpu.py at full size on a bare GPU machine with torch but no network (see README.md beside this).
#   bash bench/device/run.sh eager     # bf16 + SDPA rows
#   bash bench/device/run.sh compile   # torch.compile rows (a build of their own)
#   bash bench/device/run.sh check     # only install the wheels and import what the benchmark imports
#   bash bench/device/run.sh tiny      # the same on tiny models (seconds): the dry run of the above
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-eager}
wheels=${WHEELS:-bench/device/wheels}
site=${SITE:-/tmp/shopshot-site}
out=${OUT:-bench/out}
case $what in
  eager) args=(--no-compile) ;;
  compile) args=(--compile-only) ;;
  check) args=() ;;
  tiny) args=(--tiny --runs 1) ;;
  *) echo "usage: $0 eager|compile|check|tiny" >&2; exit 2 ;;
esac
ls "$wheels"/*.whl >/dev/null || { echo "no wheels in $wheels: run 'make device-wheels' where pip reaches PyPI" >&2; exit 2; }
# --no-deps: the set is complete with what the image has (README.md); --target keeps the image's own packages intact.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "$wheels"/*.whl
export PYTHONPATH="$site:$PWD/src:$PWD" PYTHONUNBUFFERED=1  # $PWD: bench/gpu.py builds its models with fixtures/
python3 - <<'PY'
import diffusers, huggingface_hub, pydantic_settings, torch, transformers
from shopshot.pipeline.diffusion import backend, detail, face, generation, klein, loading  # noqa: F401  (what bench/gpu.py runs)
print(f"torch {torch.__version__} (cuda {torch.cuda.is_available()}), diffusers {diffusers.__version__}, "
      f"transformers {transformers.__version__}, huggingface_hub {huggingface_hub.__version__}")
PY
[ "$what" = check ] && exit 0
mkdir -p "$out"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/device.txt"
# Each half must finish in 8 minutes, model building included (issue 14): stop it there rather than lose the call.
timeout 480 python3 bench/gpu.py "${args[@]}" 2>&1 | tee "$out/gpu-$what.md"
