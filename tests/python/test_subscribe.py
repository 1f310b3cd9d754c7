"""subscribe: another client's put arrives as it commits, and the
generator resumes where it was after the daemon went away."""

from __future__ import annotations

import annals
from conftest import event


def test_subscribe_sees_another_clients_put(daemon):
    a, b = daemon.client(), daemon.client()
    first = b.put([event(1)])[0]["id"]
    feed = a.subscribe(0)
    change = next(feed)
    assert change["op"] == "put" and change["id"] == first
    assert change["event"]["title"] == "event 1"
    second = b.put([event(2)])[0]["id"]
    change = next(feed)
    assert (change["op"], change["id"]) == ("put", second)
    b.delete([first])
    change = next(feed)
    assert (change["op"], change["id"]) == ("delete", first)
    # Other calls on the subscribed connection keep the notifications.
    b.put([event(3)])
    assert a.stats()["events"] == 2
    assert next(feed)["event"]["title"] == "event 3"
    with_errors = b.put([event(4)])
    assert next(feed)["id"] == with_errors[0]["id"]
    feed.close()
    assert a.ping() == "pong"
    # A second subscribe refused, with the daemon's message.
    a.call("subscribe", since=0)
    try:
        a.call("subscribe", since=0)
    except annals.InvalidError as e:
        assert e.message == "already subscribed: unsubscribe first"
    else:
        raise AssertionError("a second subscribe was accepted")
    a.close()
    b.close()


def test_subscribe_resumes_after_reconnect(daemon):
    a, b = daemon.client(timeout=10), daemon.client()
    b.put([event(i) for i in range(3)])
    feed = a.subscribe(0, retry=0.1, retries=100)
    seen = [next(feed)["seq"] for _ in range(3)]
    assert seen == sorted(seen)
    b.close()
    assert daemon.stop() == 0
    daemon.start()
    with daemon.client() as b:
        b.put([event(10), event(11)])
        rest = [next(feed) for _ in range(2)]
        assert [c["event"]["title"] for c in rest] == ["event 10",
                                                        "event 11"]
        assert rest[0]["seq"] == seen[-1] + 1
        assert a.connected
    # Nothing more comes: the idle generator ends.
    assert list(a.subscribe(rest[-1]["seq"], idle=0.3)) == []
    feed.close()
    a.close()


def test_subscribe_without_reconnect_raises(daemon):
    a = daemon.client(timeout=10)
    feed = a.subscribe(0, reconnect=False)
    assert daemon.stop() == 0
    try:
        next(feed)
    except annals.ConnectionLost:
        pass
    else:
        raise AssertionError("no ConnectionLost")
    daemon.start()
    a.reconnect()
    assert a.ping() == "pong"
    a.close()
