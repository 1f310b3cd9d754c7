"""EDTF dates as the daemon reads them (proto/DATES.md).

An event's ``start`` and ``end`` stay strings as written; :func:`span`
turns them into the strict, fuzzy and inner ranges the daemon compares
with queries, as whole seconds since 1970 (any year) and, through the
:class:`Span` methods, as :class:`datetime.datetime` values.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Optional, Tuple

from .errors import InvalidError

#: The open bounds, as the daemon stores them (INT64_MIN / INT64_MAX).
NEG_INF = -(2 ** 63)
POS_INF = 2 ** 63 - 1

PRECISIONS = ("none", "year", "season", "month", "day", "time")

_DAY = 86400
_MAX_DIGITS = 9
_QUOTE_MAX = 64
_MAX_FIELD = 64
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _month_days(y: int, m: int) -> int:
    if m == 2:
        return 29 if _leap(y) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def _month_start(index: int) -> int:
    y = index // 12
    return days_from_civil(y, index - y * 12 + 1, 1) * _DAY


def _quote(s: str) -> str:
    raw = s.encode("utf-8")
    if len(raw) > _QUOTE_MAX:
        cut = raw[:_QUOTE_MAX].decode("utf-8", "ignore") + "..."
    else:
        cut = s
    return "".join("?" if ord(c) < 0x20 or c == "\x7f" else c for c in cut)


def _fail(s: str, tail: str) -> InvalidError:
    return InvalidError(_quote(s) + tail)


@dataclass(frozen=True)
class _Part:
    kind: str  # "date", "open" or "unknown"
    lo: int = 0
    hi: int = 0
    flo: int = 0
    fhi: int = 0
    prec: int = 0


class _Malformed(Exception):
    pass


class _Scanner:
    """Reads the fields of one date as proto/date.c's date_scan does."""

    def __init__(self, s: str) -> None:
        self.s = s
        self.i = 0

    def peek(self, chars: str) -> bool:
        return self.i < len(self.s) and self.s[self.i] in chars

    def take(self, chars: str) -> bool:
        if self.peek(chars):
            self.i += 1
            return True
        return False

    def number(self, n: int) -> int:
        """Exactly n digits; a digit or X right after is malformed."""
        part = self.s[self.i:self.i + n]
        if len(part) < n or not all(c in _DIGITS for c in part):
            raise _Malformed
        self.i += n
        if self.peek(_DIGITS + "X"):
            raise _Malformed
        return int(part)

    def number_or_x(self) -> Optional[int]:
        if self.s.startswith("XX", self.i):
            self.i += 2
            if self.peek(_DIGITS + "X"):
                raise _Malformed
            return None
        return self.number(2)


_DIGITS = "0123456789"


def _scan(s: str) -> Tuple[dict, int]:
    """The fields of a date and where reading stopped."""
    sc = _Scanner(s)
    f: dict = {"digits": 0, "years": 1, "month": "unset", "day": "unset",
               "hour": None, "min": None, "sec": None, "zm": 0, "zmin": 0,
               "qual": 0}
    if sc.take("Y"):
        neg = sc.take("-")
        if not sc.peek("123456789"):
            raise _Malformed
        begin = sc.i
        while sc.peek(_DIGITS):
            sc.i += 1
        f["digits"] = sc.i - begin
        if f["digits"] <= 4:
            raise _Malformed
        f["year"] = int(s[begin:sc.i]) * (-1 if neg else 1)
    else:
        neg = sc.take("-")
        text = s[sc.i:sc.i + 4]
        if len(text) < 4 or text[0] not in _DIGITS:
            raise _Malformed
        known = text.rstrip("X")
        if not all(c in _DIGITS for c in known):
            raise _Malformed
        sc.i += 4
        if sc.peek(_DIGITS + "X"):
            raise _Malformed
        f["years"] = 10 ** (4 - len(known))
        y = int(known) * f["years"]
        if neg and y == 0 and f["years"] == 1:
            raise _Malformed
        f["year"] = -(y + f["years"] - 1) if neg else y
    if f["digits"] == 0 and sc.take("-"):
        if f["years"] != 1:
            raise _Malformed
        f["month"] = sc.number_or_x()
        if sc.take("-"):
            f["day"] = sc.number_or_x()
            if sc.take("T"):
                if f["day"] is None:
                    raise _Malformed
                _scan_time(sc, f)
    elif f["digits"] != 0 and sc.peek("-"):
        raise _Malformed
    if sc.peek("?~%"):
        f["qual"] = 2 if sc.s[sc.i] == "%" else 1
        sc.i += 1
    return f, sc.i


def _scan_time(sc: _Scanner, f: dict) -> None:
    f["hour"] = sc.number(2)
    if not sc.take(":"):
        raise _Malformed
    f["min"] = sc.number(2)
    if sc.take(":"):
        f["sec"] = sc.number(2)
    if sc.take("Z"):
        return
    if sc.peek("+-"):
        sign = -1 if sc.s[sc.i] == "-" else 1
        sc.i += 1
        zh = sc.number(2)
        if not sc.take(":"):
            raise _Malformed
        f["zm"] = sc.number(2)
        f["zmin"] = sign * (zh * 60 + f["zm"])


def _side(s: str) -> _Part:
    if s == "":
        return _Part("unknown")
    if s == "..":
        return _Part("open")
    try:
        f, end = _scan(s)
    except _Malformed:
        raise _fail(s, " is not a date") from None
    if end != len(s):
        raise _fail(s, ": trailing characters")
    if f["digits"] > _MAX_DIGITS:
        raise _fail(s, ": year out of range")
    return _part(s, f)


def _part(s: str, f: dict) -> _Part:
    year, years, month, day, qual = f["year"], f["years"], f["month"], \
        f["day"], f["qual"]
    if month in ("unset", None):
        if month is None and day not in ("unset", None):
            raise _fail(s, " is not a date")
        first, last = year * 12, (year + years - 1) * 12 + 11
        unit, prec = 12, 1
    elif 21 <= month <= 24:
        if day != "unset":
            raise _fail(s, " is not a date")
        first = year * 12 + (month - 21) * 3 + 2
        last, unit, prec = first + 2, 3, 2
    elif not 1 <= month <= 12:
        raise _fail(s, " is not a date")
    elif day in ("unset", None):
        first = last = year * 12 + month - 1
        unit, prec = 1, 3
    else:
        if not 1 <= day <= _month_days(year, month):
            raise _fail(s, " is not a date")
        t = days_from_civil(year, month, day) * _DAY
        if f["hour"] is None:
            unit, prec = _DAY, 4
        else:
            if f["hour"] > 23 or f["min"] > 59 or (f["sec"] or 0) > 59 or \
                    f["zm"] > 59 or abs(f["zmin"]) > 14 * 60:
                raise _fail(s, " is not a date")
            unit = 60 if f["sec"] is None else 1
            t += f["hour"] * 3600 + f["min"] * 60 + (f["sec"] or 0) - \
                f["zmin"] * 60
            prec = 5
        return _Part("date", t, t + unit - 1, t - qual * unit,
                     t + unit - 1 + qual * unit, prec)
    return _Part("date", _month_start(first), _month_start(last + 1) - 1,
                 _month_start(first - qual * unit),
                 _month_start(last + 1 + qual * unit) - 1, prec)


def _to_datetime(t: int) -> Optional[_dt.datetime]:
    if t in (NEG_INF, POS_INF):
        return None
    return _EPOCH + _dt.timedelta(seconds=t)


@dataclass(frozen=True)
class Span:
    """What a date, or a start and end, covers: inclusive second bounds.

    ``lo..hi`` is the strict range, ``flo..fhi`` the fuzzy one (widened
    for ``? ~ %`` and unknown ends), ``ilo..ihi`` the inner range (what is
    surely covered; empty when ``ilo > ihi``).  Open bounds are
    :data:`NEG_INF` / :data:`POS_INF`, as in the daemon.
    """

    lo: int
    hi: int
    flo: int
    fhi: int
    ilo: int
    ihi: int
    precision: str

    def strict(self) -> Tuple[Optional[_dt.datetime], Optional[_dt.datetime]]:
        """The strict bounds as UTC datetimes; None for an open bound.

        Raises OverflowError for a bound outside datetime's years 1-9999.
        """
        return _to_datetime(self.lo), _to_datetime(self.hi)

    def fuzzy(self) -> Tuple[Optional[_dt.datetime], Optional[_dt.datetime]]:
        """The fuzzy bounds as UTC datetimes; None for an open bound."""
        return _to_datetime(self.flo), _to_datetime(self.fhi)

    def inner(self) -> Optional[Tuple[Optional[_dt.datetime],
                                      Optional[_dt.datetime]]]:
        """The inner bounds as UTC datetimes, or None when it is empty."""
        if self.ilo > self.ihi:
            return None
        return _to_datetime(self.ilo), _to_datetime(self.ihi)

    def strict_dates(self) -> Tuple[Optional[_dt.date], Optional[_dt.date]]:
        """The days of the strict bounds (UTC); None for an open bound."""
        lo, hi = self.strict()
        return (lo.date() if lo else None, hi.date() if hi else None)

    def match(self, frm: Optional[str] = None,
              to: Optional[str] = None) -> Optional[str]:
        """How this span matches a query: "certain", "possible" or None."""
        qlo, qhi = query_bounds(frm, to)
        if self.lo >= qlo and self.hi <= qhi:
            return "certain"
        if self.ilo <= self.ihi and self.ilo <= qhi and self.ihi >= qlo:
            return "certain"
        if self.flo <= qhi and self.fhi >= qlo:
            return "possible"
        return None


def _combine(a: _Part, b: _Part) -> Span:
    prec = 0
    if a.kind == "date":
        lo, flo, ilo, prec = a.lo, a.flo, a.hi, a.prec
    elif a.kind == "open":
        lo = flo = ilo = NEG_INF
    else:
        lo, flo, ilo = b.lo, NEG_INF, POS_INF
    if b.kind == "date":
        hi, fhi, ihi = b.hi, b.fhi, b.lo
        if prec == 0 or b.prec < prec:
            prec = b.prec
    elif b.kind == "open":
        hi = fhi = ihi = POS_INF
    else:
        hi, fhi, ihi = a.hi, POS_INF, NEG_INF
    if "unknown" in (a.kind, b.kind) or ilo > ihi:
        ilo, ihi = POS_INF, NEG_INF
    return Span(lo, hi, flo, fhi, ilo, ihi, PRECISIONS[prec])


def parse(s: str) -> Span:
    """The span of one date or interval ``A/B``; InvalidError if bad."""
    if s == "":
        raise InvalidError("empty date")
    if "/" not in s:
        a = _side(s)
        if a.kind != "date":
            raise _fail(s, " is not a date")
        return Span(a.lo, a.hi, a.flo, a.fhi, POS_INF, NEG_INF,
                    PRECISIONS[a.prec])
    left, _, right = s.partition("/")
    if "/" in right:
        raise _fail(s, " is not a date")
    a, b = _side(left), _side(right)
    if a.kind != "date" and b.kind != "date":
        raise _fail(s, ": neither start nor end")
    if a.kind == "date" and b.kind == "date" and b.hi < a.lo:
        raise _fail(s, ": end before start")
    return _combine(a, b)


def _prefixed(field: str, exc: InvalidError) -> InvalidError:
    return InvalidError(f"{field}: {exc.message}")


def _check_len(s: str, field: str) -> None:
    if len(s.encode("utf-8")) > _MAX_FIELD:
        raise InvalidError(f"{field}: longer than {_MAX_FIELD} bytes")


def span(start: str, end: Optional[str] = None) -> Span:
    """The span of an event from its ``start`` and optional ``end``.

    The same bounds the daemon stores for the event, and the same
    message (as :class:`annals.InvalidError`) when it would refuse it.
    """
    _check_len(start, "start")
    if end is None or "/" in start:
        try:
            out = parse(start)
        except InvalidError as e:
            raise _prefixed("start", e) from None
        if end is not None:
            raise InvalidError("end: start is already an interval")
        return out
    if start == "":
        raise InvalidError("start: empty date")
    try:
        a = _side(start)
    except InvalidError as e:
        raise _prefixed("start", e) from None
    if a.kind != "date":
        raise InvalidError(f"start: {_quote(start)} is not a date")
    _check_len(end, "end")
    if end == "":
        raise InvalidError("end: empty date")
    if "/" in end:
        raise InvalidError(f"end: {_quote(end)} is an interval, not a date")
    try:
        b = _side(end)
    except InvalidError as e:
        raise _prefixed("end", e) from None
    if b.kind == "date" and b.hi < a.lo:
        raise InvalidError("end before start")
    return _combine(a, b)


def _query_side(s: str, field: str) -> Span:
    _check_len(s, field)
    try:
        return parse(s)
    except InvalidError as e:
        raise _prefixed(field, e) from None


def query_bounds(frm: Optional[str] = None,
                 to: Optional[str] = None) -> Tuple[int, int]:
    """The seconds a query covers: from the start of ``frm`` to the end
    of ``to``; None or ``..`` is open."""
    qlo = _query_side(frm, "from").lo if frm not in (None, "..") \
        else NEG_INF
    qhi = _query_side(to, "to").hi if to not in (None, "..") else POS_INF
    if qhi < qlo:
        raise InvalidError("to before from")
    return qlo, qhi


def format_seconds(t: int) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` (UTC, any year) or ``..`` for an infinity:
    the daemon's way of printing a bound, which reads back as that second
    when the year has four digits."""
    if t in (NEG_INF, POS_INF):
        return ".."
    days, secs = divmod(t, _DAY)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (m <= 2)
    sign = "-" if y < 0 else ""
    return (f"{sign}{abs(y):04d}-{m:02d}-{d:02d}T{secs // 3600:02d}:"
            f"{secs // 60 % 60:02d}:{secs % 60:02d}Z")
