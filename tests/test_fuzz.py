"""Fuzz suite (issue 17, item 3): every public array function of vaecore.metrics and
vaecore.ops on hostile inputs — shapes (empty, one row, wrong ndim), dtypes (float16,
bfloat16 and float16 tensors, integers, bool, float128, lists), NaN/inf, magnitudes 1e±300,
label offsets up to 2**62.

Every case either returns a finite value in the metric's range that agrees with the
reference twin, or raises ``ValueError``/``TypeError`` whose message starts with the
function's name and names the offending argument. Each case runs under a watchdog
(:func:`watchdog`) that kills the process — with every thread's traceback — when the case
outlives its time, so a hang inside C code fails the run instead of stalling it. The
number of cases is printed at the end of the session's output ("fuzz cases run: ...").
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import re
import sys
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaecore._native import has_native
from vaecore.metrics import (
    active_units,
    closest_signed_permutation,
    dci,
    ds,
    dto,
    mig,
    polarized_regime,
    sap,
)
from vaecore.ops import full_cov_rsample

CASES: Counter = Counter()
REASONS: Counter = Counter()  # refusal messages, printed with VAECORE_FUZZ_REASONS=1
CASE_SECONDS = 30.0
_REAL_STDERR: list = []  # a dup of the terminal's stderr (pytest captures fd 2 during tests)
BACKENDS = ("native", "reference") if has_native() else ("reference",)
FUZZ = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@contextlib.contextmanager
def watchdog(seconds: float = CASE_SECONDS):
    """Abort the whole process with tracebacks when the block runs longer than ``seconds``
    (faulthandler's timer thread fires even while the main thread is inside C code)."""
    out = _REAL_STDERR[0] if _REAL_STDERR else sys.stderr
    faulthandler.dump_traceback_later(seconds, exit=True, file=out)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module", autouse=True)
def _report_cases(request):
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        _REAL_STDERR.append(os.fdopen(os.dup(2), "w"))
    yield
    _REAL_STDERR.pop().close()
    total = sum(v for k, v in CASES.items() if not k.endswith("(refused)"))
    refused = sum(v for k, v in CASES.items() if k.endswith("(refused)"))
    line = (f"fuzz cases run: {total} ({refused} refused with a clear error): "
            + ", ".join(f"{k} {v}" for k, v in sorted(CASES.items())))
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n" + line)
        for msg, count in REASONS.most_common(25):
            print(f"  {count:4d}  {msg}")


# --------------------------------------------------------------------------- inputs
MAGNITUDES = (0.0, 1e-300, 1e-40, 1e-8, 1.0, 1e8, 1e40, 1e300)
KINDS = ("f64", "f32", "f16", "f128", "i64", "i32", "u8", "bool", "t-bf16", "t-f16", "t-f32", "list")


def _convert(x: np.ndarray, kind: str):
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "f64":
            return x.astype(np.float64)
        if kind == "f32":
            return x.astype(np.float32)
        if kind == "f16":
            return x.astype(np.float16)
        if kind == "f128":
            return x.astype(np.longdouble)
        if kind in ("i64", "i32", "u8"):
            dt = {"i64": np.int64, "i32": np.int32, "u8": np.uint8}[kind]
            info = np.iinfo(dt)
            return np.clip(np.nan_to_num(np.round(x)), info.min, info.max).astype(dt)
        if kind == "bool":
            return x > 0
        if kind.startswith("t-"):
            dt = {"t-bf16": torch.bfloat16, "t-f16": torch.float16, "t-f32": torch.float32}[kind]
            return torch.from_numpy(np.asarray(x, np.float64)).to(dt)
        return x.tolist()


@st.composite
def matrices(draw, rows=(0, 1, 2, 3, 7, 25), cols=(0, 1, 2, 3), kinds=KINDS, ndims=(2, 2, 2, 2, 1, 3),
             good_rows=(12, 25, 40), good_cols=(2, 3), mags=MAGNITUDES):
    """``(array-like, description)``: a matrix of codes/values; one case in three is hostile in
    shape, dtype or content (empty, one row, wrong ndim, bool, NaN/inf), the others are
    well-formed with any magnitude and any numeric dtype (so most cases reach the kernels)."""
    seed = draw(st.integers(0, 2**32 - 1))
    hostile = draw(st.sampled_from((False, False, True)))
    if hostile:
        n, d = draw(st.sampled_from(rows)), draw(st.sampled_from(cols))
        ndim, kind = draw(st.sampled_from(ndims)), draw(st.sampled_from(kinds))
        inject = draw(st.sampled_from((None, np.nan, np.inf, -np.inf)))
    else:
        n, d, ndim, inject = draw(st.sampled_from(good_rows)), draw(st.sampled_from(good_cols)), 2, None
        kind = draw(st.sampled_from(("f64", "f64", "f32", "f16", "f128", "i64", "t-bf16", "t-f16", "t-f32", "list")))
    shape = {1: (n,), 2: (n, d), 3: (n, d, 2)}[ndim]
    mag = draw(st.sampled_from(mags))
    if not hostile and kind in ("f16", "t-f16"):  # keep well-formed cases inside the dtype's range
        mag = min(max(mag, 1e-4), 1e3) if mag else mag
    elif not hostile and kind in ("f32", "t-f32", "t-bf16"):
        mag = min(max(mag, 1e-30), 1e30) if mag else mag
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * mag
    if kind.startswith("i"):
        x = rng.normal(size=shape) * 3.0 + draw(st.sampled_from((0.0, 2.0**40, -(2.0**62))))
    if inject is not None and x.size:
        x.flat[rng.integers(x.size)] = inject
    return _convert(x, kind), f"{kind} {shape} x{mag:g} {inject}"


@st.composite
def labels(draw, n: int, n_factors=(1, 2, 3)):
    """Discrete factor labels for ``n`` rows: few classes, offsets up to 2**62, several
    dtypes; one case in five hostile (bool, NaN, a single class)."""
    seed = draw(st.integers(0, 2**32 - 1))
    f = draw(st.sampled_from(n_factors))
    hostile = draw(st.sampled_from((False, False, False, False, True)))
    k = draw(st.sampled_from((1, 2, 3, 5) if hostile else (2, 3, 4)))
    offset = draw(st.sampled_from((0, -7, 2**53, 2**62)))
    kinds = ("u8", "bool", "f64-nan") if hostile else ("i64", "i64", "f64", "t-i64")
    kind = draw(st.sampled_from(kinds))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=(n, f)).astype(np.int64) + offset
    if kind == "f64":
        return y.astype(np.float64)
    if kind == "f64-nan":
        y = y.astype(np.float64)
        if y.size:
            y.flat[0] = np.nan
        return y
    if kind == "u8":
        return (y - offset).astype(np.uint8)
    if kind == "bool":
        return (y - offset) > 0
    if kind == "t-i64":
        return torch.from_numpy(y)
    return y


def _rows(x) -> int:
    return int(np.shape(x)[0]) if np.ndim(x) and not isinstance(x, list) else (len(x) if isinstance(x, list) else 0)


# --------------------------------------------------------------------------- oracle
def outcome(func: str, args: tuple[str, ...], call, lo: float = 0.0, hi: float = 1.0, allow_inf: bool = False):
    """Run ``call`` under the watchdog: a finite result value in [lo, hi] (returned), or a
    ValueError/TypeError naming ``func`` and one of ``args`` (returns the exception)."""
    CASES[func] += 1
    try:
        with watchdog():
            res = call()
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        assert msg.startswith(f"{func}"), f"message does not name {func}: {msg!r}"
        assert any(re.search(rf"\b{re.escape(a)}\b", msg) for a in args), f"no argument named: {msg!r}"
        CASES[f"{func} (refused)"] += 1
        if os.environ.get("VAECORE_FUZZ_REASONS"):
            REASONS[re.sub(r"\d+", "#", msg)[:90]] += 1
        return exc
    value = float(res.value) if hasattr(res, "value") else None
    if value is not None:
        assert (np.isfinite(value) or (allow_inf and value == np.inf)) and lo - 1e-9 <= value <= hi + 1e-9, (func, value)
    return res


def _same(a, b, atol=1e-9):
    """Both raised the same error type, or both returned values within ``atol``."""
    if isinstance(a, Exception) or isinstance(b, Exception):
        assert type(a) is type(b), (a, b)
        return
    assert a.value == pytest.approx(b.value, abs=atol)


def _tie_free(z) -> bool:
    arr = np.asarray(z.float() if isinstance(z, torch.Tensor) else z, dtype=np.float64) if not isinstance(z, list) else np.asarray(z)
    if arr.ndim != 2 or arr.dtype.kind != "f" or not np.isfinite(arr).all():
        return False
    return all(np.unique(c).size == c.size for c in arr.T)


# --------------------------------------------------------------------------- metrics
@FUZZ
@given(data=st.data(), codes=matrices())
def test_fuzz_mig(data, codes):
    z, _ = codes
    w = data.draw(labels(max(_rows(z), 0)))
    drop = data.draw(st.booleans())
    got = [outcome("mig", ("codes", "factors", "n_bins"), lambda b=b: mig(z, w, drop_constant=drop, backend=b))
           for b in BACKENDS]
    if len(got) == 2:
        _same(*got, atol=1e-12)


@FUZZ
@given(data=st.data(), codes=matrices(rows=(0, 1, 2, 7, 12, 30)))
def test_fuzz_ds(data, codes):
    z, _ = codes
    w = data.draw(labels(_rows(z)))
    n_f = int(np.shape(w)[1]) if np.ndim(w) == 2 else 1
    if data.draw(st.sampled_from((False, False, True))):  # a hostile option
        cat = data.draw(st.sampled_from((["categorcal"] * n_f, [1] * n_f, "categorical", [True] * (n_f + 1), None)))
        k = data.draw(st.sampled_from((0, -1, 5)))
    else:
        cat = data.draw(st.sampled_from((None, [True] * n_f, ["categorical"] * n_f, ["ordinal", "cyclic", "continuous"][:n_f])))
        k = data.draw(st.sampled_from((5, 1, 3)))
    args = ("codes", "factors", "categorical", "k")
    got = [outcome("ds", args, lambda b=b: ds(z, w, categorical=cat, k=k, backend=b)) for b in BACKENDS]
    if len(got) == 2 and _tie_free(z):
        _same(*got, atol=1e-9)


@settings(FUZZ, max_examples=25)
@given(data=st.data(), codes=matrices(rows=(0, 1, 2, 7, 20)))
def test_fuzz_sap(data, codes):
    z, _ = codes
    w = data.draw(labels(_rows(z), n_factors=(1, 2)))
    cont = data.draw(st.booleans())
    args = ("codes_train", "factors_train", "codes_test", "factors_test")
    outcome("sap", args, lambda: sap(z, w, z, w, continuous=cont))


@settings(FUZZ, max_examples=12)
@given(data=st.data(), codes=matrices(rows=(0, 1, 2, 12), cols=(1, 2, 3)))
def test_fuzz_dci(data, codes):
    z, _ = codes
    w = data.draw(labels(_rows(z), n_factors=(1, 2)))
    backend = data.draw(st.sampled_from(("lightgbm", "lightgbm", "sklearn", "xgboost")))
    args = ("codes_train", "factors_train", "codes_test", "factors_test", "backend")
    outcome("dci", args, lambda: dci(z, w, z, w, backend=backend))


@FUZZ
@given(data=st.data(), mu=matrices(), threshold=st.sampled_from((0.5, 0.5, 0.0, -1.0, np.nan, 1e300)))
def test_fuzz_polarized_and_active_units(data, mu, threshold):
    m, _ = mu
    if data.draw(st.sampled_from((False, False, False, True))):
        lv = data.draw(matrices())[0]
    else:  # a log-variance of the same shape: moderate, huge (1000, 1e300) or tiny entries
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
        lv = rng.normal(size=np.shape(m)) - 1.0
        if lv.size:
            lv.flat[rng.integers(lv.size)] = data.draw(st.sampled_from((0.0, 1000.0, -1000.0, 1e300, -1e300, 710.0)))
    res = outcome("polarized_regime", ("mu", "logvar", "threshold"),
                  lambda: polarized_regime(m, lv, threshold=threshold), hi=np.inf, allow_inf=True)
    # ΔKL = inf is the documented value when L_KL is 0 (or underflows) and L≈KL is not
    if not isinstance(res, Exception):
        assert res.value >= 0 and not np.isnan(res.kl) and not np.isnan(res.kl_approx)
    au = outcome("active_units", ("logvar", "threshold"), lambda: active_units(lv, threshold=threshold + 1.0),
                 hi=np.inf)
    if not isinstance(au, Exception):
        assert 0 <= au.value <= np.shape(lv)[1]


# --------------------------------------------------------------------------- DtO (twin)
@st.composite
def jacobians(draw):
    """Batches (N, n_out, d) of magnitudes 1e-300 .. 1e300 in every dtype, plus hostile shapes,
    dtypes and NaN/inf."""
    if draw(st.sampled_from((False, False, True))):
        return draw(matrices(rows=(0, 1, 3), ndims=(3, 3, 2, 1), mags=(0.0, 1e-8, 1.0, 1e8)))[0]
    seed = draw(st.integers(0, 2**32 - 1))
    n, out, d = draw(st.sampled_from((1, 4))), draw(st.sampled_from((3, 5))), draw(st.sampled_from((1, 2, 3)))
    mag = draw(st.sampled_from((1e-300, 1e-160, 1e-40, 1e-8, 1.0, 1e8, 1e40, 1e100, 1e160, 1e300)))
    kind = draw(st.sampled_from(("f64", "f32", "f16", "t-bf16", "t-f32", "i64", "list")))
    x = np.random.default_rng(seed).normal(size=(n, out, d)) * mag
    if kind == "i64":
        x = np.random.default_rng(seed).normal(size=(n, out, d)) * 5
    return _convert(x, kind)


@settings(FUZZ, max_examples=30)
@given(J=jacobians())
def test_fuzz_dto_matches_twin(J):
    got = [outcome("dto", ("jacobians", "active"), lambda b=b: dto(J, backend=b), hi=np.inf) for b in BACKENDS]
    if len(got) == 2:
        _same(*got, atol=1e-7)


def test_dto_extreme_scales_match_twin():
    J = np.random.default_rng(1).normal(size=(1, 8, 3))
    for scale in (1e-300, 1e-200, 1e-162, 1e77, 1e100, 1e154, 1e160, 1e300):
        CASES["dto"] += 1
        with watchdog():
            got = [dto(J * scale, backend=b).value for b in BACKENDS]
        assert got[0] == pytest.approx(got[-1], abs=1e-8)


@settings(FUZZ, max_examples=30)
@given(v=matrices(rows=(0, 1, 2, 3), cols=(0, 1, 2, 3), ndims=(3, 2, 2, 1)))
def test_fuzz_closest_signed_permutation_matches_twin(v):
    V, _ = v
    if isinstance(V, np.ndarray) and V.ndim == 3 and V.shape[1] != V.shape[2] and V.shape[1] > 0:
        V = V[:, :, :1].repeat(V.shape[1], axis=2)
    got = []
    for b in BACKENDS:
        CASES["closest_signed_permutation"] += 1
        try:
            with watchdog():
                got.append(closest_signed_permutation(V, backend=b))
        except (ValueError, TypeError) as exc:
            assert str(exc).startswith("closest_signed_permutation: V ") or "method" in str(exc), exc
            got.append(type(exc))
    if len(got) == 2 and not isinstance(got[0], type):
        P = got[0].astype(np.float64)
        assert np.all(np.abs(P).sum(axis=-1) == 1) and np.all(np.abs(P).sum(axis=-2) == 1)
        a = np.asarray(V.float() if isinstance(V, torch.Tensor) else V, np.float64)
        # any optimal assignment scores the same: compare the objective, not the matrix
        score = [np.sum(np.abs(a) * np.abs(p.astype(np.float64))) for p in got]
        assert score[0] == pytest.approx(score[1], rel=1e-9, abs=1e-300)
    elif len(got) == 2:
        assert got[0] is got[1]


# --------------------------------------------------------------------------- ops (twin)
@settings(FUZZ, max_examples=40)
@given(seed=st.integers(0, 2**32 - 1), b=st.sampled_from((0, 1, 3)), k=st.sampled_from((0, 1, 3)),
       dtype=st.sampled_from((torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64)),
       mag=st.sampled_from(MAGNITUDES), inject=st.sampled_from((None, None, np.nan, np.inf)),
       where=st.sampled_from(("mu", "scale_tril", "eps")), diag=st.sampled_from((1.0, 1.0, 0.0, -1.0)))
def test_fuzz_full_cov_rsample_matches_twin(seed, b, k, dtype, mag, inject, where, diag):
    rng = np.random.default_rng(seed)
    arrays = {
        "mu": rng.normal(size=(b, k)) * mag,
        "scale_tril": np.tril(rng.normal(size=(b, k, k)) * mag, -1) + diag * np.eye(k) * max(mag, 1e-3),
        "eps": rng.normal(size=(b, k)),
    }
    if inject is not None and arrays[where].size:
        arrays[where].flat[rng.integers(arrays[where].size)] = inject
    with np.errstate(over="ignore"):
        t = {name: torch.from_numpy(a).to(dtype) for name, a in arrays.items()}
    args = ("mu", "scale_tril", "eps")
    got = []
    for backend in BACKENDS:
        CASES["full_cov_rsample"] += 1
        try:
            with watchdog():
                z, kl = full_cov_rsample(t["mu"], t["scale_tril"], t["eps"], backend=backend)
        except (ValueError, TypeError) as exc:
            msg = str(exc)
            assert msg.startswith("full_cov_rsample: ") and any(a in msg for a in args), msg
            got.append(type(exc))
            continue
        assert torch.isfinite(z).all() and torch.isfinite(kl).all() and (kl >= -1e-6 * (1 + kl.abs())).all()
        got.append((z, kl))
    if len(got) == 2 and not isinstance(got[0], type):
        tol = 1e-9 if dtype == torch.float64 else 1e-3
        for a, c in zip(got[0], got[1]):
            torch.testing.assert_close(a, c, rtol=tol, atol=tol * (1 + float(c.abs().max(initial=0)) if c.numel() else 1))
    elif len(got) == 2:
        assert got[0] is got[1]


# --------------------------------------------------------------------------- sampling metrics
@settings(FUZZ, max_examples=20)
@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(("f64", "f32", "t-bf16", "t-f32", "f128", "i64", "bool", "list")),
       mag=st.sampled_from((1.0, 1e-300, 1e200, 1e300)), inject=st.sampled_from((None, None, np.nan)),
       which=st.sampled_from(("factor_vae_score", "beta_vae_score")))
def test_fuzz_sampling_metrics_hostile_represent(seed, kind, mag, inject, which):
    from vaecore.datasets.synthetic import SynthLin
    from vaecore.metrics import beta_vae_score, factor_vae_score

    data = SynthLin(n_samples=20)
    M = np.random.default_rng(seed).normal(size=(3, 3))

    def represent(x):
        z = (np.asarray(x, np.float64) @ M) * mag
        if inject is not None:
            z[0, 0] = inject
        return _convert(z, kind)

    kw = dict(num_train=20, num_eval=10, batch_size=8, progress=False)
    fn = factor_vae_score if which == "factor_vae_score" else beta_vae_score
    if which == "factor_vae_score":
        kw["num_variance_estimate"] = 40
    outcome(which, ("represent",), lambda: fn(data, represent, **kw))
