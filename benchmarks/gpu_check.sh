#!/usr/bin/env bash
# One GPU check of at most ~5 minutes (issue 15.6): build with CUDA, run the cuda-marked tests,
# time the CUDA full-covariance op against its torch twin, train 2,000 conv β-VAE steps at batch
# 64 on the GPU (steps/s and whether the CPU renderer keeps up), print one summary table.
#   bash benchmarks/gpu_check.sh            # from the repository root, torch with CUDA installed
# Results land in ${OUT:-gpu_check_out}/ (build log, test log, summary.json).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu_check_out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python -c "import torch; assert torch.cuda.is_available(), 'torch has no CUDA'; print('torch', torch.__version__, torch.version.cuda)"
echo "== build (VAECORE_CUDA=ON)"
VAECORE_CUDA=ON ./dev/build.sh > "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
python -c "import sys; sys.path.insert(0, '.'); import vaecore, json; print(json.dumps(vaecore.build_info()))" | tee "$out/build_info.json"
echo "== cuda-marked tests"
PYTHONPATH=$PWD timeout 120 pytest -q -p no:cacheprovider -m cuda tests | tee "$out/tests.log" | tail -3
echo "== timings"
PYTHONPATH=$PWD timeout 150 python benchmarks/gpu_check.py --steps "${STEPS:-2000}" --json "$out/summary.json"
