"""The tour of contrib/python/README.md, run as written (doctest) on the
demo data loaded as `make run` loads it."""

from __future__ import annotations

import doctest
import os
import subprocess



from conftest import BUILD, ROOT


def test_readme_tour_runs_as_written(daemon, monkeypatch):
    with open(os.path.join(ROOT, "contrib", "demo", "events.jsonl"),
              "rb") as f:
        subprocess.run([os.path.join(BUILD, "annals"), "-s", daemon.sock,
                        "add", "-"], stdin=f, stdout=subprocess.DEVNULL,
                       check=True)
    os.mkdir(os.path.join(daemon.dir, "var"))
    os.symlink(daemon.sock, os.path.join(daemon.dir, "var", "annalsd.sock"))
    monkeypatch.chdir(daemon.dir)
    failed, tried = doctest.testfile(
        os.path.join(ROOT, "contrib", "python", "README.md"),
        module_relative=False, optionflags=doctest.ELLIPSIS)
    assert tried >= 30 and failed == 0
