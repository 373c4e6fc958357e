"""sklearn-style common suite: every array metric (those ported from disentanglement_lib too) rejects bad input with a clear error
(NaN/inf, mismatched lengths, a single sample, empty input) before any computation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import vaecore
from vaecore.metrics import dci, ds, irs, mig, modularity_explicitness, sap


def _sap(z, w):
    return sap(z, w, z, w)


def _dci(z, w):
    return dci(z, w, z, w)


ARRAY_METRICS: dict[str, Callable] = {
    "ds-native": lambda z, w: ds(z, w, backend="native"),
    "ds-reference": lambda z, w: ds(z, w, backend="reference"),
    "mig-native": lambda z, w: mig(z, w, backend="native"),
    "mig-reference": lambda z, w: mig(z, w, backend="reference"),
    "sap": _sap,
    "sap-continuous": lambda z, w: sap(z, w, z, w, continuous=True),
    "dci": _dci,
    # ported from disentanglement_lib
    "modularity-native": lambda z, w: modularity_explicitness(z, w, z, w, backend="native"),
    "modularity-reference": lambda z, w: modularity_explicitness(z, w, z, w, backend="reference"),
    "irs": irs,
    "irs-raw-factors": lambda z, w: irs(z, w, n_bins=None),
}


def _good(n=40):
    rng = np.random.default_rng(0)
    w = rng.integers(0, 3, size=(n, 2)).astype(float)
    return w + 0.1 * rng.normal(size=(n, 2)), w


@pytest.fixture(params=sorted(ARRAY_METRICS), ids=str)
def metric(request):
    if request.param.endswith("-native") and not vaecore.has_native():
        pytest.skip("needs the compiled core")
    return ARRAY_METRICS[request.param]


def test_good_input_gives_a_finite_value(metric):
    assert np.isfinite(metric(*_good()).value)


@pytest.mark.parametrize("where", ["codes", "factors"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_raises(metric, where, bad):
    z, w = _good()
    if where == "codes":
        z[3, 1] = bad
    else:
        w[5, 0] = bad
    with pytest.raises(ValueError, match=rf"{where}(_train)? must be finite; got NaN or inf at row"):
        metric(z, w)


def test_mismatched_lengths_raise(metric):
    z, w = _good()
    with pytest.raises(ValueError, match="must have the same number of rows"):
        metric(z, w[:-1])


def test_single_sample_raises(metric):
    z, w = _good()
    with pytest.raises(ValueError, match=r"must have at least \d+ rows; got"):
        metric(z[:1], w[:1])


def test_empty_input_raises(metric):
    with pytest.raises(ValueError, match=r"must have at least \d+ rows; got"):
        metric(np.empty((0, 2)), np.empty((0, 2)))


def test_wrong_dimensions_raise(metric):
    z, w = _good()
    with pytest.raises(ValueError, match=r"codes(_train)? must have 2 dimensions; got shape"):
        metric(z[:, 0], w)
    with pytest.raises(ValueError, match=r"codes(_train)? must have at least 2 latents"):
        metric(z[:, :1], w)


def test_non_numeric_input_raises(metric):
    z, w = _good()
    with pytest.raises(TypeError, match="must be an array|must have a numeric"):
        metric("codes", w)
    with pytest.raises(TypeError, match="must have a numeric"):
        metric(z.astype(bool), w)
