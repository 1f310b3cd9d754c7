"""pip installs contrib/python with Debian's setuptools and no network,
and the installed package is the one that works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import ROOT


def test_pip_install_target(tmp_path, daemon):
    target = tmp_path / "site"
    # A copy, as setuptools leaves its build files beside the sources.
    src = tmp_path / "src"
    shutil.copytree(os.path.join(ROOT, "contrib", "python"), src,
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation",
         "--no-index", "--no-deps", "--disable-pip-version-check",
         "--target", str(target), str(src)],
        capture_output=True, text=True, cwd=tmp_path,
        env=dict(os.environ, PIP_NO_CACHE_DIR="1"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert (target / "annals" / "client.py").exists()
    assert (target / "annals" / "py.typed").exists()
    code = ("import annals, sys; c = annals.connect(sys.argv[1]); "
            "print(annals.__file__, c.ping())")
    run = subprocess.run([sys.executable, "-c", code, daemon.sock],
                         capture_output=True, text=True, cwd=tmp_path,
                         env=dict(os.environ, PYTHONPATH=str(target)))
    assert run.returncode == 0, run.stderr
    path, pong = run.stdout.split()
    assert path.startswith(str(target)) and pong == "pong"
