"""Frames at the daemon's --max-frame: the largest request that fits, the
first that does not (the daemon closes; reconnect works), and pages and
gets of large events that stop short of the limit."""

from __future__ import annotations

import msgpack
import pytest

import annals
from conftest import event

MAX = 256 * 1024


def _frame_body(client, rec):
    return len(msgpack.packb([0, client._msgid % 0xFFFFFFFF + 1, "put",
                              [{"records": [rec]}]], use_bin_type=True))


def _sized(client, size):
    """A record whose put request body is exactly size bytes."""
    rec = event(1, text="")
    text = "x" * (size - _frame_body(client, rec) - 8)
    while _frame_body(client, dict(rec, text=text)) < size:
        text += "x"
    rec["text"] = text
    assert _frame_body(client, rec) == size
    return rec


def test_requests_at_and_over_the_limit(daemon_factory):
    d = daemon_factory(["--max-frame", str(MAX)])
    c = d.client()
    assert c.server["max_frame"] == MAX
    assert c.put([_sized(c, MAX)])[0]["status"] == "added"
    with pytest.raises(annals.LimitError) as ei:
        c.put([_sized(c, MAX + 1)])
    assert ei.value.message == \
        f"frame of {MAX + 1} bytes exceeds limit {MAX}"
    assert ei.value.fatal and not c.connected
    c.reconnect()
    assert len(c.get_by_key("t", "k1")["text"]) > MAX - 200
    c.close()


def test_replies_stop_short_of_the_limit(daemon_factory):
    d = daemon_factory(["--max-frame", str(MAX)])
    c = d.client()
    big = "é" * (40 * 1024)     # 80 KiB of UTF-8 each
    ids = [r["id"] for r in c.put_bulk(
        (event(i, text=big) for i in range(20)), batch=2)]
    page = c.range_page(limit=20)
    assert 0 < len(page["events"]) < 20 and page["cursor"] is not None
    got = list(c.range(page=20))
    assert sorted(e["id"] for e in got) == sorted(ids)
    assert all(e["text"] == big for e in got)
    with pytest.raises(annals.LimitError) as ei:
        c.get(ids)
    assert ei.value.message.startswith(
        f"result exceeds the frame limit of {MAX} bytes at ids[")
    assert not ei.value.fatal and c.ping() == "pong"
    changes = list(c.iter_changes(0))
    assert [ch["id"] for ch in changes] == ids
    c.close()
