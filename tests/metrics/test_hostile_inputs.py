"""Issue 17 regressions: no silent wrong numbers and no hangs in the array metrics.

Each test is one case of the issue: scale (1e-300 .. 1e300), integer labels beyond 2**53,
misspelt options, float32 overflow on a cast, bfloat16 tensors.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from vaecore._validation import check_array
from vaecore.metrics import dci, ds, mig, polarized_regime, sap

N = 160


@contextlib.contextmanager
def watchdog(seconds: float):
    """Kill the test process (with every thread's traceback) if the block outlives
    ``seconds``: unlike SIGALRM this also stops a hang inside C code."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    f = rng.integers(0, 4, size=(N, 2))
    z = np.c_[f[:, 0] + 0.3 * rng.normal(size=N), f[:, 1] + 0.3 * rng.normal(size=N), rng.normal(size=N)]
    return z, f


_HANG = textwrap.dedent(
    """
    import numpy as np, sys, time
    from vaecore.metrics import sap
    rng = np.random.default_rng(1)
    f = rng.integers(0, 4, size=(NROWS, 2))
    z = np.c_[f + 0.3 * rng.normal(size=(NROWS, 2)), rng.normal(size=NROWS)] * 1e100
    print("start", flush=True)
    for _ in range(REPEAT):
        r = sap(z, f, z, f)
    print(repr(r.value), flush=True)
    """
)


def _child(nrows, repeat):
    code = _HANG.replace("NROWS", str(nrows)).replace("REPEAT", str(repeat))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def test_sap_huge_codes_return_a_finite_value(data):
    # sap(z * 1e100, ...) used to loop forever inside liblinear (no Ctrl-C either)
    z, f = data
    with watchdog(60):
        got = sap(z * 1e100, f, z * 1e100, f)
    zs = (z - z.mean(axis=0)) / z.std(axis=0)  # huge codes are standardised: same as unit-scale codes
    assert got.value == sap(zs, f, zs, f).value
    assert np.isfinite(got.matrix).all() and 0.0 <= got.value <= 1.0


@pytest.mark.slow  # starts a Python process (~5-10 s on a busy machine)
def test_sap_is_interruptible():
    proc = _child(400, 10_000)
    try:
        assert proc.stdout.readline().strip() == "start"
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        t0 = time.perf_counter()
        _, err = proc.communicate(timeout=10)
        assert time.perf_counter() - t0 < 10
        assert "KeyboardInterrupt" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_ds_huge_factor_values_finite(data):
    z, f = data
    want = ds(z, f)
    for scale in (1e300, 2.0**-1000, 1e-300):
        got = ds(z, f * scale)
        assert got.value == pytest.approx(want.value, abs=1e-12)
        np.testing.assert_allclose(got.normalizers, want.normalizers * scale, rtol=1e-12)
    assert ds(z * 1e300, f).value == want.value  # codes: exact power-of-two scaling
    assert ds(z * 2.0**-1000, f, backend="reference").value == ds(z, f, backend="reference").value


def test_polarized_regime_huge_logvar_is_finite():
    rng = np.random.default_rng(0)
    mu, lv = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)) - 2
    lv[0, 0] = 1000.0
    res = polarized_regime(mu, lv)
    assert np.isfinite(res.value) and res.value == pytest.approx(1.0, abs=1e-12)
    assert res.kl == np.inf and np.isfinite(res.kl_approx)
    # continuity across the switch to the log-space sums (600)
    lv[0, 0] = 599.0
    a = polarized_regime(mu, lv)
    lv[0, 0] = 601.0
    b = polarized_regime(mu, lv)
    assert b.kl / a.kl == pytest.approx(np.exp(2.0), rel=1e-9)
    assert b.kl_approx == pytest.approx(a.kl_approx - (2.0 / 2 / 5 if a.active[0] else 0.0), rel=1e-9)


@pytest.mark.parametrize("backend", ["sklearn", "lightgbm"])
def test_dci_tiny_codes_match_unit_codes(data, backend):
    pytest.importorskip("lightgbm") if backend == "lightgbm" else None
    z, f = data[0][:60], (data[1][:60] >= 2).astype(np.int64)  # binary: one tree per stage
    want = dci(z, f, z, f, backend=backend)
    assert want.value > 0.5
    for scale in (1e-50, 1e-40) if backend == "lightgbm" else (1e-50,):
        got = dci(z * scale, f, z * scale, f, backend=backend)
        assert got.value == pytest.approx(want.value, abs=1e-9), scale


def test_integer_labels_beyond_2_53_stay_apart(data):
    z, f = data
    big = f.astype(np.int64) + 2**62  # float64 would merge neighbouring labels
    assert mig(z, big).value == mig(z, f).value
    assert mig(z, big, backend="reference").value == mig(z, f, backend="reference").value
    assert ds(z, big, categorical=[True, True]).value == ds(z, f, categorical=[True, True]).value
    assert ds(z, big).value == pytest.approx(ds(z, f).value, abs=1e-12)  # regression: shifted exactly
    assert sap(z, big, z, big).value == sap(z, f, z, f).value
    assert sap(z, big, z, big, continuous=True).value == pytest.approx(sap(z, f, z, f, continuous=True).value)
    fb = (f[:60] >= 2).astype(np.int64)  # binary factors keep the sklearn fit short
    assert dci(z[:60], fb + 2**62, z[:60], fb + 2**62).value == dci(z[:60], fb, z[:60], fb).value
    ubig = f.astype(np.uint64) + np.uint64(2**63 + 5)
    assert mig(z, ubig).value == mig(z, f).value


def test_ds_misspelt_categorical_kind_raises(data):
    z, f = data
    with pytest.raises(ValueError, match=r"ds: categorical must hold bools or factor kinds .*'categorcal' at position 0"):
        ds(z, f, categorical=["categorcal", "ordinal"])
    assert ds(z, f, categorical=["categorical", "ordinal"]).categorical == (True, False)


def test_cast_overflow_and_int_range_checked_after_the_cast():
    with pytest.raises(ValueError, match=r"x must be finite in float32 .*overflows the cast from float64 at row 1"):
        check_array("f", "x", np.array([1.0, 1e300]), dtype=np.float32)
    if np.finfo(np.longdouble).max > np.finfo(np.float64).max:
        with pytest.raises(ValueError, match="overflows the cast from float128"):
            check_array("f", "x", np.array([np.longdouble("1e400")]))
    with pytest.raises(ValueError, match=r"x must hold integers in \[-9223372036854775808"):
        check_array("f", "x", np.array([1e300]), dtype=np.int64)
    with pytest.raises(ValueError, match="x must hold integers in"):
        check_array("f", "x", np.array([2**64 - 1], np.uint64), dtype=np.int64)


def test_bfloat16_and_float16_tensors_are_widened(data):
    z, f = data
    zb = torch.from_numpy(z).to(torch.bfloat16)
    z32 = zb.float().numpy().astype(np.float64)
    assert mig(zb, f).value == mig(z32, f).value
    assert ds(zb, torch.from_numpy(f)).value == ds(z32, f).value
    assert polarized_regime(zb, zb).value == polarized_regime(z32, z32).value
    zh = torch.from_numpy(z).half()
    assert mig(zh, f).value == mig(zh.double().numpy(), f).value
    with pytest.raises(TypeError, match="codes must be a dense numeric array"):
        mig(torch.from_numpy(z).to_sparse(), f)


def test_ds_float_factor_with_huge_offset_matches_twin(data):
    # 2**53 + k as float64: the regression targets kept their differences only after the shift
    z, f = data
    w = f.astype(np.float64) * 2 + 2.0**53
    got = [ds(z, w, backend=b).value for b in ("native", "reference")]
    assert got[0] == pytest.approx(got[1], abs=1e-12)
    assert got[0] == pytest.approx(ds(z, f).value, abs=1e-12)
    assert sap(z, w, z, w, continuous=True).value == pytest.approx(sap(z, f, z, f, continuous=True).value, abs=1e-12)


def test_factor_vae_huge_codes_vote_like_unit_codes():
    from vaecore.datasets.synthetic import SynthLin
    from vaecore.metrics import factor_vae_score

    data = SynthLin(n_samples=20)
    kw = dict(num_train=30, num_eval=20, batch_size=8, num_variance_estimate=60, progress=False)
    unit = factor_vae_score(data, lambda x: np.asarray(x, np.float64)[:, :2], **kw)
    huge = factor_vae_score(data, lambda x: np.asarray(x, np.float64)[:, :2] * 2.0**900, **kw)
    assert huge.value == unit.value and np.array_equal(huge.votes, unit.votes)
