"""Selection of the disentangled / entangled β-VAEs (thesis §4.2.3, SPEC-ch4 §6.1)."""

from __future__ import annotations

import numpy as np
import pytest

from vaecore.perturb import find_runs, principal_order, select_models
from vaecore.training import load_run


def test_principal_order_closed_form():
    # mean σ² per latent: exp(lv) averaged → latent 2 smallest, then 0, then 1
    lv = np.log(np.array([[0.5, 0.9, 0.1], [0.3, 0.7, 0.1]]))
    np.testing.assert_array_equal(principal_order(lv), [2, 0, 1])
    with pytest.raises(ValueError, match="logvar"):
        principal_order(np.zeros(3))


def test_selection_ranks_by_mig_and_drops_over_pruned(tiny_runs):
    from vaecore.metrics import active_units, mig
    from vaecore.perturb.select import posterior

    import perturb_tiny

    ds = perturb_tiny.TinyBars()
    sel = select_models(tiny_runs["sweep"], n=1)
    assert len(sel.scores) == 4
    by = {s.run: s for s in sel.scores}
    pruned = by[str(tiny_runs["pruned"])]
    assert not pruned.usable and pruned.active_units < 3
    assert str(tiny_runs["pruned"]) not in sel.disentangled + sel.entangled
    usable = [s for s in sel.scores if s.usable]
    assert sel.disentangled == (max(usable, key=lambda s: s.mig).run,)
    assert sel.entangled == (min(usable, key=lambda s: s.mig).run,)
    assert sel.value > 0
    # the scores are MIG / active units / order of the run's posterior over the whole grid
    run = load_run(sel.disentangled[0])
    idx = np.arange(len(ds))
    mu, lv = posterior(run.model, ds, idx)
    s = by[sel.disentangled[0]]
    assert s.mig == pytest.approx(mig(mu, ds.factors_at(idx)).value, abs=1e-12)
    assert s.active_units == active_units(lv).value
    assert s.order == tuple(principal_order(lv))
    assert "disentangled" in sel.markdown() and "dropped" in sel.markdown()


def test_selection_bad_input(tiny_runs):
    runs = tiny_runs["bvae"]
    with pytest.raises(ValueError, match="β-VAEs.*'ae'"):
        select_models([runs[0], tiny_runs["ae"]])
    with pytest.raises(ValueError, match="at least 2 usable.*got 1 of 2"):
        select_models([runs[0], tiny_runs["pruned"]])
    with pytest.raises(ValueError, match="at least two"):
        select_models([runs[0]])
    with pytest.raises(ValueError, match="at least 4 usable"):
        select_models(runs, n=2)
    with pytest.raises(ValueError, match="metric"):
        select_models(runs, metric="dci")
    with pytest.raises(FileNotFoundError):
        find_runs(tiny_runs["sweep"] / "nope")


def test_find_runs_reads_a_sweep_store(tiny_runs, tmp_path):
    from vaecore.experiments.store import ResultsStore

    runs = tiny_runs["bvae"]
    with ResultsStore(tmp_path) as store:
        for s, run in enumerate(runs):
            rid = store.add("bvae", {"beta": 0.5}, s)
            store.mark_running(rid)
            if s < 2:
                store.mark_done(rid, {"mig": 0.1}, str(run))
    assert find_runs(tmp_path) == runs[:2]
    assert find_runs(runs[0]) == [runs[0]]
    assert set(find_runs(tiny_runs["sweep"])) == {*runs, tiny_runs["pruned"]}
