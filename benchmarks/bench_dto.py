"""DtO (thesis §3.2.6) and decoder Jacobians: native kernel vs the reference twin, same run.

Groups
- ``dto-<n>x<d>``: N Jacobians of n × d (float32, as a decoder returns them):
  ``native`` — ``vaecore.metrics.dto(J, backend="native")`` (validation + C++ Gram, Jacobi,
  Hungarian); ``reference-milp`` — numpy SVD + the MILP (3.29) in HiGHS, timed on a subset
  of ``SUBSET`` matrices (extra_info holds the per-matrix time and the time scaled to N);
  ``reference-lap`` — numpy SVD + scipy's assignment on all N; ``read-once`` — ``J.sum()``,
  the time it takes numpy to read the Jacobians once.
- ``jacobians-mlp``: ``vaecore.jacobians`` of the MLP decoder 5→1200→1200→1200→4096 (tanh)
  at N = 1000 points (forward mode), its peak resident memory measured in a subprocess, and
  reverse mode (``vmap(jacrev)``) on a subset for comparison.

Full numbers: ``pytest benchmarks/bench_dto.py --benchmark-enable``; ``VAECORE_BENCH_QUICK=1``
shrinks every size so CI can run it in seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import vaecore
from vaecore.metrics import dto
from vaecore.reference import orthogonality as ref

QUICK = os.environ.get("VAECORE_BENCH_QUICK") == "1"  # same flag as benchmarks/conftest.py
N = 20 if QUICK else 1000
N_OUT = 64 if QUICK else 4096
SUBSET = 3 if QUICK else 20
DIMS = (5, 10)

_cache: dict[int, np.ndarray] = {}


def jacobian_batch(d: int) -> np.ndarray:
    """N random float32 Jacobians of N_OUT × d with distinct column scales."""
    if d not in _cache:
        rng = np.random.default_rng(d)
        scales = np.linspace(2.0, 0.5, d).astype(np.float32)
        _cache[d] = rng.standard_normal((N, N_OUT, d), dtype=np.float32) * scales
    return _cache[d]


def median(benchmark) -> float | None:
    """Median seconds of a finished benchmark (None under --benchmark-disable)."""
    stats = getattr(benchmark, "stats", None)
    return None if stats is None else stats.stats.median


def info(benchmark, d: int, **extra) -> None:
    benchmark.extra_info.update(
        {"N": N, "n_out": N_OUT, "d": d, "dtype": "float32", "vaecore": vaecore.__version__,
         "threads": vaecore.build_info().get("num_threads"), **extra}
    )


@pytest.mark.parametrize("d", DIMS)
def test_dto_native(benchmark, d):
    J = jacobian_batch(d)
    sub = J[:SUBSET]
    want = ref.dto(sub, method="milp")[0]
    np.testing.assert_allclose(dto(sub, backend="native").per_sample, want, atol=1e-7)
    benchmark.group = f"dto-{N_OUT}x{d}"
    info(benchmark, d, impl="native", matrices_per_call=N)
    result = benchmark(dto, J, backend="native")
    assert result.per_sample.shape == (N,)


@pytest.mark.parametrize("d", DIMS)
def test_dto_native_kernel_only(benchmark, d):
    J = jacobian_batch(d)
    core = vaecore._native.native()
    benchmark.group = f"dto-{N_OUT}x{d}"
    info(benchmark, d, impl="native-kernel", matrices_per_call=N)
    benchmark(core.dto, J)


@pytest.mark.parametrize("d", DIMS)
def test_dto_read_once(benchmark, d):
    J = jacobian_batch(d)
    benchmark.group = f"dto-{N_OUT}x{d}"
    info(benchmark, d, impl="read-once (J.sum())", matrices_per_call=N)
    benchmark(J.sum)


@pytest.mark.parametrize("d", DIMS)
def test_dto_reference_milp(benchmark, d):
    sub = jacobian_batch(d)[:SUBSET]
    benchmark.group = f"dto-{N_OUT}x{d}"
    info(benchmark, d, impl="reference-milp (SVD + HiGHS MILP)", matrices_per_call=SUBSET)
    result = benchmark.pedantic(dto, args=(sub,), kwargs={"method": "milp", "backend": "reference"},
                                rounds=3, iterations=1)
    if median(benchmark) is not None:
        per_matrix = median(benchmark) / SUBSET
        benchmark.extra_info["median_per_matrix_s"] = per_matrix
        benchmark.extra_info["median_scaled_to_N_s"] = per_matrix * N
    assert result.per_sample.shape == (SUBSET,)


@pytest.mark.parametrize("d", DIMS)
def test_dto_reference_lap(benchmark, d):
    J = jacobian_batch(d)
    benchmark.group = f"dto-{N_OUT}x{d}"
    info(benchmark, d, impl="reference-lap (SVD + scipy assignment)", matrices_per_call=N)
    benchmark.pedantic(dto, args=(J,), kwargs={"method": "lap", "backend": "reference"},
                       rounds=3, iterations=1)


# --------------------------------------------------------------------------- jacobians()

HIDDEN = 32 if QUICK else 1200
OUT = 64 if QUICK else 4096
POINTS = 20 if QUICK else 1000
REVERSE_SUBSET = 2 if QUICK else 10


def mlp_decoder() -> torch.nn.Module:
    torch.manual_seed(0)
    layers = [torch.nn.Linear(5, HIDDEN), torch.nn.Tanh()]
    for _ in range(2):
        layers += [torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.Tanh()]
    layers.append(torch.nn.Linear(HIDDEN, OUT))
    return torch.nn.Sequential(*layers).eval()


_PEAK_SCRIPT = """
import json, os, threading, time, torch, vaecore
torch.manual_seed(0)
H, O, P = {hidden}, {out}, {points}
layers = [torch.nn.Linear(5, H), torch.nn.Tanh()]
for _ in range(2):
    layers += [torch.nn.Linear(H, H), torch.nn.Tanh()]
dec = torch.nn.Sequential(*layers, torch.nn.Linear(H, O)).eval()
z = torch.randn(P, 5)
vaecore.jacobians(dec, z[:2])  # warm-up: lazy imports of torch.func and allocator pools
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
base = rss()
peak = [base]
done = threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)
t = threading.Thread(target=sample)
t.start()
J = vaecore.jacobians(dec, z)
done.set()
t.join()
peak[0] = max(peak[0], rss())
print(json.dumps({{"rss_before_mb": base / 2**20, "peak_increase_mb": (peak[0] - base) / 2**20,
                  "result_mb": J.numel() * J.element_size() / 2**20}}))
"""


def peak_memory() -> dict:
    script = _PEAK_SCRIPT.format(hidden=HIDDEN, out=OUT, points=POINTS)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_jacobians_forward(benchmark):
    dec = mlp_decoder()
    z = torch.randn(POINTS, 5)
    want = torch.func.vmap(torch.func.jacrev(lambda x: dec(x[None])[0]))(z[:2]).detach()
    torch.testing.assert_close(vaecore.jacobians(dec, z[:2]), want, rtol=1e-4, atol=1e-6)
    benchmark.group = "jacobians-mlp"
    benchmark.extra_info.update({"decoder": f"5-{HIDDEN}-{HIDDEN}-{HIDDEN}-{OUT} tanh", "N": POINTS,
                                 "impl": "jacfwd+vmap, chunk_size=256"})
    if not QUICK:  # a fresh interpreter (imports torch): seconds, so full runs only
        benchmark.extra_info.update(peak_memory())
    J = benchmark.pedantic(vaecore.jacobians, args=(dec, z), rounds=3, iterations=1)
    assert J.shape == (POINTS, OUT, 5)


def test_jacobians_reverse_subset(benchmark):
    dec = mlp_decoder()
    z = torch.randn(REVERSE_SUBSET, 5)
    rev = torch.func.vmap(torch.func.jacrev(lambda x: dec(x[None])[0]))

    def run():
        with torch.no_grad():
            return rev(z)

    benchmark.group = "jacobians-mlp"
    benchmark.extra_info.update({"decoder": f"5-{HIDDEN}-{HIDDEN}-{HIDDEN}-{OUT} tanh",
                                 "N": REVERSE_SUBSET, "impl": "vmap(jacrev) (reverse mode), subset"})
    benchmark.pedantic(run, rounds=3, iterations=1)
    if median(benchmark) is not None:
        benchmark.extra_info["median_scaled_to_N_s"] = median(benchmark) / REVERSE_SUBSET * POINTS
