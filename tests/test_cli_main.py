"""``python -m vaecore`` runs the same command line as the ``vaecore`` entry point."""

from __future__ import annotations

import json
import subprocess
import sys


def test_python_dash_m_runs_the_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "vaecore", "info"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert "native" in info
