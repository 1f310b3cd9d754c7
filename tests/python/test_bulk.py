"""Large loads and long walks: a pipelined bulk put of 100,000 events with
per-record results, and paging that gives what one page gives."""

from __future__ import annotations

import annals
from conftest import event


def _strip(events):
    return [{k: v for k, v in e.items() if k != "match"} for e in events]


def test_bulk_put_of_100000_events(db):
    n = 100_000
    results = db.put_bulk(event(i, start=f"{1900 + i % 120}-{i % 12 + 1:02d}")
                          for i in range(n))
    assert len(results) == n
    assert all(r["status"] == "added" for r in results)
    ids = [r["id"] for r in results]
    assert len(set(ids)) == n
    assert db.stats()["events"] == n
    # Per record, in input order: the id of record i is the event i.
    for i in (0, 1, 9_999, 10_000, 54_321, n - 1):
        assert db.get([ids[i]])[0]["key"] == f"k{i}"
    # Again: every record is found by source and key, unchanged.
    again = db.put_bulk((event(i, start=f"{1900 + i % 120}-{i % 12 + 1:02d}")
                         for i in range(n)), batch=5000, window=3)
    assert [r["id"] for r in again] == ids
    assert {r["status"] for r in again} == {"unchanged"}


def test_bulk_put_reports_each_bad_record(db):
    recs = [event(i) for i in range(2500)]
    recs[7]["start"] = "2015-02-30"
    recs[1500]["actors"] = []
    recs[2499]["type"] = "t" * 65
    # The messages are the daemon's: the index is within the batch.
    with_errors = db.put_bulk(recs, batch=1000, skip_invalid=True)
    assert len(with_errors) == 2500
    assert with_errors[7] == {"status": "invalid",
                              "error": "records[7]: start: 2015-02-30 is "
                                       "not a date"}
    assert with_errors[1500]["error"] == \
        "records[500]: actors: 0 given, at least 1 required"
    assert with_errors[2499]["error"] == \
        "records[499]: type: 65 bytes exceeds limit 64"
    good = [r for r in with_errors if r["status"] == "added"]
    assert len(good) == 2497 and db.stats()["events"] == 2497
    # Without skip_invalid the first refusal is raised, after the rest
    # of the batches in flight were answered.
    recs = [event(10_000 + i) for i in range(30)]
    recs[12]["start"] = "nope"
    try:
        db.put_bulk(recs, batch=10)
    except annals.InvalidError as e:
        assert e.message == "records[2]: start: nope is not a date"
    else:
        raise AssertionError("a bad record was accepted")
    assert db.stats()["events"] == 2497 + 20
    assert db.ping() == "pong"


def test_paging_10000_events_equals_one_page(db):
    db.put_bulk(event(i, start=f"2015-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                      actors=["RUS", f"A{i % 7}"]) for i in range(10_000))
    one = db.range_page(limit=10_000)
    assert len(one["events"]) == 10_000 and one["cursor"] is None
    paged = list(db.range(page=7))
    assert _strip(paged) == one["events"]
    assert [e["match"] for e in paged] == one["matches"]
    assert _strip(db.range(page=999)) == one["events"]
    desc = db.range_page(limit=10_000, order="desc")["events"]
    assert _strip(db.range(page=333, desc=True)) == desc
    assert desc == one["events"][::-1] or \
        sorted(e["id"] for e in desc) == sorted(e["id"] for e in
                                                one["events"])
    actor_one = db.call("actor", actor="A3", limit=10_000)["events"]
    assert _strip(db.actor("A3", page=50)) == actor_one
    assert len(actor_one) == len([i for i in range(10_000) if i % 7 == 3])
    months = db.range_page("2015-03", "2015-04", limit=10_000,
                           certain=True)["events"]
    assert _strip(db.range("2015-03", "2015-04", page=101,
                           certain=True)) == months
