#!/usr/bin/env bash
# Development build: compile vaecore._core in place (next to the sources) so that
#   PYTHONPATH=$PWD pytest
# tests this checkout without reinstalling. Set VAECORE_CUDA=ON to also build
# vaecore._cuda when nvcc is present. Releases and CI use `pip install .` instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/vaecore/__init__.py")
cmake -S "$root" -B "$root/build/dev" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -Dpybind11_DIR="$($py -m pybind11 --cmakedir)" \
  -DPython_EXECUTABLE="$(command -v "$py")" \
  -DSKBUILD_PROJECT_VERSION="$version" \
  -DVAECORE_CUDA="${VAECORE_CUDA:-OFF}" >/dev/null
cmake --build "$root/build/dev"
# Replace (unlink + create) rather than overwrite: a running process may have the old .so mapped.
for so in "$root"/build/dev/_core*.so "$root"/build/dev/_cuda*.so; do
  [ -e "$so" ] || continue
  cp "$so" "$root/vaecore/.$(basename "$so").tmp" && mv -f "$root/vaecore/.$(basename "$so").tmp" "$root/vaecore/$(basename "$so")"
done
echo "built into $root/vaecore/"
