"""The atomic-write helper and the path guards (vaecore._io, vaecore._paths)."""

import os
import subprocess
import sys
import textwrap

import pytest

from vaecore._io import atomic_write, atomic_write_json, atomic_write_text
from vaecore._paths import check_component, resolve_under


def test_failed_write_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")

    def boom(fh):
        fh.write(b"half of the new conte")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(target, boom)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_killed_writer_leaves_old_file_intact(tmp_path):
    target = tmp_path / "data.json"
    atomic_write_json(target, {"version": 1})
    script = textwrap.dedent(
        f"""
        import os, signal
        from vaecore._io import atomic_write
        def write(fh):
            fh.write(b'{{"version": 2, "payload": "')
            fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        atomic_write({str(target)!r}, write)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ}, timeout=60)
    assert proc.returncode == -9
    assert target.read_text().strip() == '{\n  "version": 1\n}'


def test_atomic_write_creates_parent(tmp_path):
    path = atomic_write_text(tmp_path / "a" / "b.txt", "x")
    assert path.read_text() == "x"


@pytest.mark.parametrize("name", ["", ".", "..", "...", "a/b", "../x", "/abs", "a\\b", "c:d", "a\x00b", " x", "x "])
def test_check_component_refuses(name):
    with pytest.raises(ValueError, match=r"\[experiment\] name must be one path component"):
        check_component(name, what="[experiment] name")


def test_check_component_accepts_and_types():
    assert check_component("table-3.3-dsprites", what="name") == "table-3.3-dsprites"
    with pytest.raises(TypeError, match="name must be a string; got int"):
        check_component(3, what="name")


def test_resolve_under(tmp_path):
    assert resolve_under(tmp_path, "a/b.csv", what="table") == (tmp_path / "a" / "b.csv").resolve()
    with pytest.raises(ValueError, match="table must stay inside"):
        resolve_under(tmp_path, "../../x", what="table")
    with pytest.raises(ValueError, match="absolute path"):
        resolve_under(tmp_path, "/etc/x", what="table")
    (tmp_path / "link").symlink_to("/")
    with pytest.raises(ValueError, match="must stay inside"):
        resolve_under(tmp_path, "link/etc", what="table")
