"""The compiled core loads and reports what it holds."""

import pytest

import vaecore
from vaecore import _native
from vaecore.cli import main


@pytest.mark.native
def test_build_info_reports_native_core():
    info = vaecore.build_info()
    assert info["native"] is True
    assert info["version"] == vaecore.__version__
    assert info["num_threads"] >= 1
    assert isinstance(info["kernel_families"], list)


@pytest.mark.native
def test_set_num_threads_roundtrip():
    core = _native.native()
    before = core.num_threads()
    try:
        vaecore.set_num_threads(1)
        assert core.num_threads() == 1
    finally:
        vaecore.set_num_threads(0)
    assert core.num_threads() == before or before >= 1


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_set_num_threads_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="set_num_threads: n must be an int >= 0"):
        vaecore.set_num_threads(bad)


@pytest.mark.native
def test_resolve_backend():
    assert _native.resolve_backend("f", "auto") == "native"
    assert _native.resolve_backend("f", "reference") == "reference"
    with pytest.raises(ValueError, match=r"f: backend must be one of \('auto', 'native', 'reference'\); got 'gpu'"):
        _native.resolve_backend("f", "gpu")


@pytest.mark.native
def test_cli_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert '"native": true' in out
