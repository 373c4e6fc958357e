"""Fuzz suite (issue 17, item 3) for the dataset constructors and index/factor access:
ArrayDataset, Synth. Lin./Non-Lin., noisy(), and the grid datasets' index and factor maps,
on hostile shapes, dtypes, values and options. Each case returns data that is finite and
consistent, or raises ValueError/TypeError naming the argument; each runs under a
faulthandler watchdog. The number of cases is printed at the end ("dataset fuzz cases run").
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import re
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaecore import datasets
from vaecore.datasets.base import split_indices
from vaecore.datasets.synthetic import SynthLin, SynthNonLin
from vaecore.training import ArrayDataset

CASES: Counter = Counter()
_ERR: list = []
FUZZ = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@contextlib.contextmanager
def watchdog(seconds: float = 30.0):
    faulthandler.dump_traceback_later(seconds, exit=True, **({"file": _ERR[0]} if _ERR else {}))
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        _ERR.append(os.fdopen(os.dup(2), "w"))
    yield
    _ERR.pop().close()
    total = sum(v for k, v in CASES.items() if not k.endswith("(refused)"))
    refused = sum(v for k, v in CASES.items() if k.endswith("(refused)"))
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\ndataset fuzz cases run: {total} ({refused} refused with a clear error): "
              + ", ".join(f"{k} {v}" for k, v in sorted(CASES.items())))


def attempt(func: str, args: tuple[str, ...], call):
    CASES[func] += 1
    try:
        with watchdog():
            return call()
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        assert msg.startswith(func) or msg.startswith(f"load("), msg
        assert any(re.search(rf"\b{re.escape(a)}\b", msg) or (not a.isidentifier() and a in msg)
                   for a in args), msg
        CASES[f"{func} (refused)"] += 1
        return exc


def _array(rng, shape, kind, mag, inject):
    x = rng.normal(size=shape) * mag
    if inject is not None and x.size:
        x.flat[rng.integers(x.size)] = inject
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "f32":
            return x.astype(np.float32)
        if kind == "f16":
            return x.astype(np.float16)
        if kind == "i64":
            return np.clip(np.nan_to_num(np.round(x)), -(2**62), 2**62).astype(np.int64)
        if kind == "bool":
            return x > 0
        if kind == "t-bf16":
            return torch.from_numpy(x).to(torch.bfloat16)
        if kind == "list":
            return x.tolist()
    return x


def pick(data, good: tuple, bad: tuple, hostile: bool):
    """One value: from ``good`` for a well-formed case, from both tuples for a hostile one."""
    return data.draw(st.sampled_from(good + bad if hostile else good))


@FUZZ
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), hostile=st.sampled_from((False, False, True)))
def test_fuzz_array_dataset(data, seed, hostile):
    n = pick(data, (19, 40, 2), (1, 0), hostile)
    shape = pick(data, ((3,), (2, 2)), ((), (0,)), hostile)
    kind = pick(data, ("f64", "f32", "i64", "t-bf16", "list", "f16"), ("bool",), hostile)
    mag = pick(data, (1.0, 1e-300, 1e30), (1e39, 1e300), hostile) if kind not in ("f16", "t-bf16") else 1.0
    inject = pick(data, (None,), (np.nan, np.inf), hostile)
    n_factors = pick(data, (None, 1, 2), (0,), hostile)
    factor_kind = pick(data, ("f64", "i64", "big-int"), ("bool",), hostile)
    kinds = pick(data, ("default", "ok"), ("short", "typo", "string"), hostile)
    split_seed = pick(data, (0, 3), (-1, 1.5), hostile)
    rng = np.random.default_rng(seed)
    obs = _array(rng, (n, *shape), kind, mag, inject)
    factors = None
    if n_factors is not None:
        if factor_kind == "big-int":
            factors = rng.integers(0, 3, size=(n, n_factors)) + 2**62
        else:
            factors = _array(rng, (n, n_factors), factor_kind, 1.0, None)
    nf = 0 if n_factors is None else n_factors
    fk = {"default": None, "ok": ["categorical"] * nf, "short": ["continuous"] * (nf + 1),
          "typo": ["categorcal"] * nf if nf else ["x"], "string": "continuous"}[kinds]
    ds = attempt("ArrayDataset", ("observations", "factors", "factor_kinds"),
                 lambda: ArrayDataset(obs, factors, factor_kinds=fk))
    if isinstance(ds, Exception):
        return
    x = ds.observations_at(np.arange(len(ds)))
    assert x.dtype == np.float32 and np.isfinite(x).all() and len(ds) == n
    want = np.asarray(obs.float() if isinstance(obs, torch.Tensor) else obs, dtype=np.float64)
    np.testing.assert_array_equal(x, want.astype(np.float32))
    if factors is not None and factor_kind == "big-int":
        np.testing.assert_array_equal(ds.factors_at(np.arange(n)), factors)
    parts = attempt(f"{ds.name}.split", ("seed",), lambda: ds.split(seed=split_seed))
    if not isinstance(parts, Exception):
        for a, b in zip(parts, split_indices(n, split_seed)):
            np.testing.assert_array_equal(a, b)
        assert sum(map(len, parts)) == n and len(parts[0]) == (8 * n) // 10


@FUZZ
@given(data=st.data(), which=st.sampled_from(("lin", "nonlin")), hostile=st.sampled_from((False, False, True)))
def test_fuzz_synthetic(data, which, hostile):
    n = pick(data, (5, 1, 12), (0, -3, 2.5, True, "7", None), hostile)
    seed = pick(data, (0, 1, 9), (-1, 2.5, None), hostile)
    extra = pick(data, (2.0, 1, 1e37) if which == "lin" else (0, 4), (0.0, -1.0, np.nan, 1e300, True), hostile)
    if which == "lin":
        args, call = ("n_samples", "seed", "ratio"), lambda: SynthLin(n_samples=n, seed=seed, ratio=extra)
    else:
        args, call = ("n_samples", "seed", "mlp_seed"), lambda: SynthNonLin(n_samples=n, seed=seed, mlp_seed=extra)
    ds = attempt("load(", args, call)
    if not isinstance(ds, Exception):
        assert np.isfinite(ds.observations_at(np.arange(len(ds)))).all()
        huge = np.full((1, 2), data.draw(st.sampled_from((0.5, 1e300, 1e20))))
        got = attempt(f"{ds.name}.observations", ("factors",), lambda: ds.observations(huge))
        assert isinstance(got, Exception) or np.isfinite(got).all()


@FUZZ
@given(data=st.data(), hostile=st.sampled_from((False, False, True)))
def test_fuzz_noisy(data, hostile):
    eps = pick(data, (0.1, 0.0, 1e38, 2.5), (-0.1, np.nan, 1e300, "0.1", None), hostile)
    seed = pick(data, (0, 7), (-1, 1.5), hostile)
    base = SynthLin(n_samples=10)
    ds = attempt("noisy", ("eps", "seed"), lambda: datasets.noisy(base, eps, seed))
    if not isinstance(ds, Exception):
        x = ds.observations_at(np.arange(10))
        assert x.dtype == np.float32 and np.isfinite(x).all()


@pytest.fixture(scope="module")
def dsprites():
    return datasets.load("dsprites")


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(("i64", "f64", "f64-frac", "huge", "neg", "nan", "bool", "2d", "u64")))
def test_fuzz_grid_index_maps(dsprites, seed, kind):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(dsprites), size=4)
    bad = {"i64": idx, "f64": idx.astype(np.float64), "f64-frac": idx + 0.5, "huge": np.array([1e300]),
           "neg": np.array([-1]), "nan": np.array([np.nan]), "bool": idx > 5, "2d": idx.reshape(2, 2),
           "u64": np.array([2**64 - 1], np.uint64)}[kind]
    f = attempt("dsprites.index_to_factors", ("indices",), lambda: dsprites.index_to_factors(bad))
    if not isinstance(f, Exception):
        back = attempt("dsprites.factors_to_index", ("factors",), lambda: dsprites.factors_to_index(f))
        np.testing.assert_array_equal(back, np.asarray(bad, np.int64))
    fac = rng.integers(0, 3, size=(3, 5)).astype(np.float64)
    fac.flat[rng.integers(fac.size)] = {"huge": 1e300, "nan": np.nan, "neg": -1.0, "f64-frac": 0.5}.get(kind, 0.0)
    attempt("dsprites.factors_to_index", ("factors",), lambda: dsprites.factors_to_index(fac))


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("idx")


@settings(FUZZ, max_examples=40)
@given(head=st.sampled_from((b"\x00\x00\x08\x01", b"\x00\x00\x08\x02", b"\x00\x00\x08\x00", b"\x00\x00\x09\x01", b"")),
       sizes=st.lists(st.integers(-2**31, 2**31 - 1) | st.integers(0, 6), max_size=3), body=st.binary(max_size=40),
       gz=st.booleans())
def test_fuzz_read_idx(idx_dir, head, sizes, body, gz):
    import gzip
    import struct

    from vaecore.datasets.mnist import read_idx

    raw = head + b"".join(struct.pack(">i", s) for s in sizes) + body
    path = idx_dir / ("f.gz" if gz else "f")
    path.write_bytes(gzip.compress(raw) if gz and len(raw) % 3 else raw)  # some ".gz" files are not gzip
    got = attempt("read_idx", (repr(str(path)).strip("'"),), lambda: read_idx(str(path)))
    if not isinstance(got, Exception):
        assert got.dtype == np.uint8 and got.size == len(raw) - 4 - 4 * raw[3]
