#!/usr/bin/env bash
# Wheel smoke test: install a built vaecore wheel into a fresh venv and use it with a PATH that
# holds no compiler, CMake or nvcc -- proof that a user of the wheel needs no toolchain.
#   dev/wheel_smoke.sh dist/vaecore-*.whl [DEPS_VENV]
# DEPS_VENV (default: the active venv) provides torch & co. through a .pth file placed *after* the
# fresh venv's own site-packages, so the wheel's vaecore is the one imported (checked below).
set -euo pipefail
wheel=$(readlink -f "$1")
deps=${2:-${VIRTUAL_ENV:?activate a venv with torch or pass DEPS_VENV}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --no-deps --no-index "$wheel"
site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$deps/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/zz_deps.pth"
cd "$work"
# A bare environment: only the fresh venv's bin on PATH (no g++, cmake, nvcc, ninja).
run() { env -i HOME="$work" PATH="$work/venv/bin" OMP_NUM_THREADS=1 "$@"; }
run python - <<'PY'
import os, shutil, sys
import numpy as np
for tool in ("g++", "c++", "cc", "cmake", "nvcc", "ninja"):
    assert shutil.which(tool) is None, f"{tool} is on PATH; the smoke test must run without it"
import vaecore
venv = os.path.dirname(os.path.dirname(sys.executable))
assert vaecore.__file__.startswith(venv), f"imported {vaecore.__file__}, not the wheel in {venv}"
assert os.path.exists(os.path.join(os.path.dirname(vaecore.__file__), "py.typed"))
from vaecore import _core  # noqa: F401  (the compiled module ships in the wheel)
from vaecore.metrics import dto, mig
rng = np.random.default_rng(0)
J = rng.normal(size=(50, 16, 3))
assert abs(dto(J).value - dto(J, backend="reference").value) < 1e-8
f = rng.integers(0, 5, size=(500, 2))
z = f + 0.1 * rng.normal(size=f.shape)
assert mig(z, f).value > 0.5
print("wheel smoke: import, native DtO == twin, MIG ok")
PY
run vaecore info > info.json
run vaecore train --dataset synth-lin --steps 100 --out run --quiet
run vaecore evaluate run > eval.txt
test -s eval.txt
# a tiny sweep and its report, from the store alone
cat > tiny.toml <<'TOML'
[experiment]
name = "smoke"
title = "Wheel smoke sweep"
runner = "train"
metrics = ["dto", "ds"]

[report]
table = "smoke"

[defaults]
dataset = "synth-lin"
dataset_options = { n_samples = 1000 }

[[variants]]
variant = "beta-vae"

[scales.quick]
seeds = 1
defaults = { steps = 50, batch_size = 128, monitor_every = 25 }
TOML
run vaecore sweep tiny.toml --quick --workers 1 --out sweep > /dev/null
run vaecore report sweep --no-figures > report.txt
grep -q "DtO" report.txt
echo "wheel smoke passed: $(basename "$wheel")"
