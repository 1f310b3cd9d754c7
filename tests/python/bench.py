#!/usr/bin/python3
"""Python client rates next to libannals' (tests/python/rate.c) on the
same daemon and records: `make bench-python` (BENCH_PY_N records, 20
years of them; range-1c is one client reading one month per query,
a page of 1000 at a time, as the C bench does).  Prints a table and the
ratios python/libannals."""

from __future__ import annotations

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import BUILD, Daemon  # noqa: E402


N = int(os.environ.get("BENCH_PY_N", "200000"))
QUERIES = int(os.environ.get("BENCH_PY_QUERIES", "240"))
BATCH, DEPTH = 1000, 8


def record(i: int) -> dict:
    return {"start": f"{2000 + i % 20}-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
            "actors": [f"A{i % 200}", f"B{i % 37}"], "title": f"event {i}",
            "source": "bench", "key": f"k{i}"}


def c_rate(sock: str, *args: str):
    out = subprocess.run([os.path.join(BUILD, "rate-c"), sock, *args],
                         capture_output=True, text=True, check=True)
    n, secs = out.stdout.split()
    return int(n), float(secs)


def main() -> None:
    rows = []
    d = Daemon(["--map-size", "1G"])
    try:
        with d.client() as db:
            t0 = time.monotonic()
            db.put_bulk((record(i) for i in range(N)), batch=BATCH,
                        window=DEPTH)
            py_put = N / (time.monotonic() - t0)
            t0 = time.monotonic()
            events = 0
            for i in range(QUERIES):
                y, m = 2000 + i % 20, i % 12 + 1
                for _ in db.range(f"{y}-{m:02d}-01", f"{y}-{m:02d}-28"):
                    events += 1
            py_range = events / (time.monotonic() - t0)
        n, secs = c_rate(d.sock, "range", str(QUERIES))
        assert n == events, (n, events)
        c_range = n / secs
    finally:
        d.remove()
    d = Daemon(["--map-size", "1G"])
    try:
        n, secs = c_rate(d.sock, "put", str(N), str(BATCH), str(DEPTH))
        c_put = n / secs
    finally:
        d.remove()
    rows = [("bulk put, records/s", py_put, c_put),
            ("range-1c, events/s", py_range, c_range)]
    print(f"{N} records, {QUERIES} month queries ({events} events)")
    print(f"{'':24} {'python':>12} {'libannals':>12} {'ratio':>7}")
    for name, py, c in rows:
        print(f"{name:24} {py:12.0f} {c:12.0f} {py / c:7.2f}")


if __name__ == "__main__":
    main()
