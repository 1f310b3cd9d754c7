"""annals.span() against the date vectors of tests/t-date.c, and against
the daemon: events with those dates, found or not by queries one second
either side of each bound."""

from __future__ import annotations

import os
import re

import pytest

import annals
from annals.dates import NEG_INF, POS_INF, days_from_civil, format_seconds
from conftest import ROOT

with open(os.path.join(ROOT, "tests", "t-date.c"), encoding="utf-8") as f:
    T_DATE = f.read()


def _table(name: str) -> list:
    """The rows of a C table: each a list of its str, NULL, NEG, POS and
    DATE_PREC_* entries."""
    body = T_DATE[T_DATE.index(name):]
    body = body[:body.index("};")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    rows = []
    for row in re.findall(r"\{([^{}]*)\}", body):
        # Adjacent C strings join into one.
        row = re.sub(r'"\s+"', "", row)
        rows.append(re.findall(r'"((?:[^"\\]|\\.)*)"|(NULL|NEG|POS|'
                               r'DATE_PREC_\w+)', row))
    return [[a if a or not b else b for a, b in r] for r in rows]


def _secs(text: str) -> int:
    if text == "NEG":
        return NEG_INF
    if text == "POS":
        return POS_INF
    m = re.fullmatch(r"(-?\d+)-(\d\d)-(\d\d)(?:T(\d\d):(\d\d):(\d\d))?", text)
    assert m, text
    y, mo, d = int(m[1]), int(m[2]), int(m[3])
    hh, mm, ss = (int(m[i] or 0) for i in (4, 5, 6))
    return days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss


FORMS = [r for r in _table("t_date_forms[] = {") if "\\" not in r[0]]
REJECTS = [r for r in _table("} bad[] = {") if "\\" not in r[0]]


def test_the_vectors_were_read():
    assert len(FORMS) > 60 and len(REJECTS) > 50
    assert ["2015", "2015-01-01", "2015-12-31T23:59:59", "2015-01-01",
            "2015-12-31T23:59:59", "NULL", "NULL", "DATE_PREC_YEAR"] in FORMS


@pytest.mark.parametrize("row", FORMS, ids=[r[0] for r in FORMS])
def test_span_gives_the_bounds_of_t_date(row):
    text, lo, hi, flo, fhi, ilo, ihi, prec = row
    s = annals.dates.parse(text)
    assert (s.lo, s.hi, s.flo, s.fhi) == tuple(map(_secs, (lo, hi, flo,
                                                             fhi)))
    if ilo == "NULL":
        assert s.ilo > s.ihi
    else:
        assert (s.ilo, s.ihi) == (_secs(ilo), _secs(ihi))
    assert s.precision == prec[len("DATE_PREC_"):].lower()


@pytest.mark.parametrize("row", REJECTS, ids=[r[0] for r in REJECTS])
def test_parse_refuses_as_t_date(row):
    text, message = row
    with pytest.raises(annals.InvalidError) as ei:
        annals.dates.parse(text)
    assert ei.value.message == message


def test_datetime_helpers():
    s = annals.span("2014~")
    lo, hi = s.strict()
    assert (lo.year, hi.year, hi.hour, hi.second) == (2014, 2014, 23, 59)
    flo, fhi = s.fuzzy()
    assert (flo.isoformat(), fhi.isoformat()) == \
        ("2013-01-01T00:00:00+00:00", "2015-12-31T23:59:59+00:00")
    assert s.inner() is None
    assert s.strict_dates()[1].isoformat() == "2014-12-31"
    s = annals.span("2015-01-26", "2015-01-29")
    assert [t.isoformat() for t in s.inner()] == \
        ["2015-01-26T23:59:59+00:00", "2015-01-29T00:00:00+00:00"]
    assert annals.span("2011-03-15", "..").strict()[1] is None
    assert s.match("2015-01-28", "2015-01-28") == "certain"
    assert annals.span("2014~").match("2016", "2016") is None
    assert annals.span("2014%").match("2016", "2016") == "possible"
    with pytest.raises(annals.InvalidError) as ei:
        annals.span("2015-01-20", "2015-01-10")
    assert ei.value.message == "end before start"
    with pytest.raises(annals.InvalidError) as ei:
        annals.span("2015/2016", "2017")
    assert ei.value.message == "end: start is already an interval"
    assert format_seconds(annals.span("-0044-03-15").lo) == \
        "-0044-03-15T00:00:00Z"


def _fmt(t: int):
    """A query date for the second t, when one can be written."""
    if t in (NEG_INF, POS_INF):
        return None
    text = format_seconds(t)
    return text if re.match(r"-?\d{4}-", text) else None


def test_the_daemon_uses_the_same_bounds(db):
    db.put([{"start": row[0], "actors": ["X"], "tags": [f"f{i}"]}
            for i, row in enumerate(FORMS)])
    probes = 0

    def hits(i: int, **q) -> int:
        nonlocal probes
        probes += 1
        return len(db.range_page(tag=f"f{i}", **q)["events"])

    for i, row in enumerate(FORMS):
        s = annals.dates.parse(row[0])
        where = f"{row[0]}: "
        # The strict range: wholly inside a query from lo, not lo + 1.
        if _fmt(s.lo) and _fmt(s.lo + 1):
            assert hits(i, frm=_fmt(s.lo), within=True) == 1, where + "lo"
            assert hits(i, frm=_fmt(s.lo + 1), within=True) == 0, where
        if _fmt(s.hi) and _fmt(s.hi - 1):
            assert hits(i, to=_fmt(s.hi), within=True) == 1, where + "hi"
            assert hits(i, to=_fmt(s.hi - 1), within=True) == 0, where
        # The fuzzy range: any match reaches flo and fhi, not one beyond.
        if _fmt(s.flo) and _fmt(s.flo - 1):
            assert hits(i, to=_fmt(s.flo)) == 1, where + "flo"
            assert hits(i, to=_fmt(s.flo - 1)) == 0, where + "flo"
        if _fmt(s.fhi) and _fmt(s.fhi + 1):
            assert hits(i, frm=_fmt(s.fhi)) == 1, where + "fhi"
            assert hits(i, frm=_fmt(s.fhi + 1)) == 0, where + "fhi"
        # The inner range: certain at each end, not a second outside.
        if s.ilo <= s.ihi:
            for t, out in ((s.ilo, s.ilo - 1), (s.ihi, s.ihi + 1)):
                if _fmt(t) and _fmt(out):
                    assert hits(i, frm=_fmt(t), to=_fmt(t),
                                certain=True) == 1, where + "inner"
                    assert hits(i, frm=_fmt(out), to=_fmt(out),
                                certain=True) == 0, where + "inner"
    assert probes > 400


def test_the_daemon_refuses_with_the_same_message(db):
    for text, message in REJECTS:
        if text == "":
            continue
        with pytest.raises(annals.InvalidError) as ei:
            db.put([{"start": text, "actors": ["X"]}])
        assert ei.value.message == f"records[0]: start: {message}"
        with pytest.raises(annals.InvalidError) as ei:
            annals.span(text)
        assert ei.value.message == f"start: {message}"
