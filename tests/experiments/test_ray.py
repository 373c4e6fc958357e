from __future__ import annotations

import pytest

from vaecore.experiments import ExperimentSpec, ResultsStore, ray_available, sweep

pytestmark = pytest.mark.skipif(
    not ray_available(), reason="ray is not installed (optional extra: pip install 'vaecore[ray]')"
)


def test_ray_local_instance_two_runs(tmp_path, fakes):
    import ray

    from vaecore.experiments import RayExecutor

    spec = ExperimentSpec.from_dict({
        "experiment": {"name": "fake", "runner": fakes},
        "variants": [{"variant": "a", "x": 0.0}, {"variant": "b", "x": 0.5, "fail": 0}],
        "scales": {"quick": {"seeds": 1}},
    })
    runs = spec.expand(scale="quick")
    executor = RayExecutor(workers=2)
    try:
        nodes = ray.nodes()
        assert nodes and all(n["NodeManagerAddress"] == "127.0.0.1" for n in nodes)
        with ResultsStore(tmp_path) as store:
            res = sweep(runs, store, executor=executor, log=lambda s: None)
            assert (res.done, res.failed) == (1, 1)
            done = store.runs(status="done")[0]
            assert done.metrics["dto"] == 0.0 and done.metrics["ds"] == 1.0
            assert "fake failure" in store.runs(status="failed")[0].error
    finally:
        executor.close()
    assert not ray.is_initialized()
