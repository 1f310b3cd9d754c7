/*
 * Fuzzy dates: EDTF (ISO 8601-2) levels 0 and 1 turned into inclusive
 * ranges of seconds (struct date_span), and the rules that match such a
 * range against a query.  proto/DATES.md explains the model; this file
 * keeps to it.
 *
 * Every bound is exact integer arithmetic on int64 seconds.  Years are
 * limited to nine digits, so no bound, even widened by two units, comes
 * near overflow (|year| < 10^9 is about 3.2e16 seconds).
 */
#include <stdio.h>
#include <string.h>

#include "proto.h"

#define DATE_DAY		86400
#define DATE_MAX_DIGITS		9	/* of a Y-prefixed year */
#define DATE_QUOTE_MAX		64	/* bytes of input quoted in errors */

/* One side of an interval, or a single date. */
struct date_part {
	int	kind;
#define DATE_PART_DATE		0
#define DATE_PART_OPEN		1	/* .. */
#define DATE_PART_UNKNOWN	2	/* nothing written */
	int64_t	lo, hi, flo, fhi;
	int	prec;
};

/* The fields of one date as written, before their ranges are checked. */
struct date_fields {
	int64_t	year;		/* the first year covered */
	int64_t	years;		/* years covered: 1, 10, 100 or 1000 */
	int	digits;		/* of a Y-prefixed year, else 0 */
	int	month;		/* DATE_UNSET, DATE_X, 1-12 or a season 21-24 */
	int	day;		/* DATE_UNSET, DATE_X or 1-31 */
#define DATE_UNSET	-2
#define DATE_X		-1	/* XX: unspecified */
	int	hour, min, sec;	/* -1: not given */
	int	zhour, zmin;	/* offset from UTC, signed alike */
	int	qual;		/* units to widen by: 0, 1 or 2 */
};

static const char *date_prec_names[] = {
	"none", "year", "season", "month", "day", "time"
};

/* Indexed by DATE_BY_*. */
static const char *const date_by_names[] = {
	"day", "week", "month", "year"
};

/* Round towards minus infinity, which C's division does not. */
static int64_t
date_floor_div(int64_t a, int64_t b)
{
	int64_t	q;

	q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return (q);
}

static int
date_is_leap(int64_t y)
{
	return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
}

static int
date_month_days(int64_t y, int m)
{
	static const int	days[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && date_is_leap(y))
		return (29);
	return (days[m - 1]);
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date.  The year is
 * counted from March so that the leap day falls at its end; a 400-year
 * cycle has exactly 146097 days, which reduces any year to 0-399.
 */
int64_t
date_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t	cycle, yic, doy, doc;
	int64_t	mar;

	if (m <= 2)
		y--;
	cycle = date_floor_div(y, 400);
	yic = y - cycle * 400;
	mar = (m + 9) % 12;			/* March is 0, February 11 */
	doy = (153 * mar + 2) / 5 + d - 1;	/* day of the March year */
	doc = yic * 365 + yic / 4 - yic / 100 + doy;
	/* 719468 days lie between 0000-03-01 and 1970-01-01. */
	return (cycle * 146097 + doc - 719468);
}

/* The proleptic Gregorian date of a day number; the inverse of the above. */
void
date_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t	z, cycle, doc, yic, doy, mar;

	z = days + 719468;
	cycle = date_floor_div(z, 146097);
	doc = z - cycle * 146097;
	/* Take out the leap days so far to find the year in the cycle. */
	yic = (doc - doc / 1460 + doc / 36524 - doc / 146096) / 365;
	doy = doc - (yic * 365 + yic / 4 - yic / 100);
	mar = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mar + 2) / 5 + 1);
	*m = (unsigned)(mar < 10 ? mar + 3 : mar - 9);
	*y = yic + cycle * 400 + (*m <= 2);
}

/* The first second of a month counted as year * 12 + month - 1. */
static int64_t
date_month_start(int64_t index)
{
	int64_t	y;

	y = date_floor_div(index, 12);
	return (date_days_from_civil(y, (unsigned)(index - y * 12 + 1), 1) *
	    DATE_DAY);
}

/*
 * Copy at most DATE_QUOTE_MAX bytes of the input for a message, without
 * control characters and without cutting a UTF-8 sequence in two, since
 * the message travels as a msgpack string.
 */
static void
date_quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t	i, n;

	n = len;
	if (n > DATE_QUOTE_MAX) {
		n = DATE_QUOTE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if (n > size - 4)
		n = size - 4;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			buf[i] = '?';
		else
			buf[i] = s[i];
	}
	if (n < len) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
}

/* Fail with the input quoted and a fixed tail: " is not a date". */
static int
date_fail(struct aerr *err, const char *s, size_t len, const char *tail)
{
	char	q[DATE_QUOTE_MAX + 4];

	date_quote(q, sizeof q, s, len);
	aerr_set(err, AERR_INVALID, "%s%s", q, tail);
	return (-1);
}

static int
date_is_digit(char c)
{
	return (c >= '0' && c <= '9');
}

/* Read exactly n digits at *i; a digit or X right after is malformed. */
static int
date_number(const char *s, size_t len, size_t *i, int n, int *out)
{
	int	k, v = 0;

	if (len - *i < (size_t)n)
		return (-1);
	for (k = 0; k < n; k++) {
		if (!date_is_digit(s[*i + k]))
			return (-1);
		v = v * 10 + (s[*i + k] - '0');
	}
	*i += n;
	if (*i < len && (date_is_digit(s[*i]) || s[*i] == 'X'))
		return (-1);
	*out = v;
	return (0);
}

/* Two digits or XX (DATE_X in *out). */
static int
date_number_or_x(const char *s, size_t len, size_t *i, int *out)
{
	if (len - *i >= 2 && s[*i] == 'X' && s[*i + 1] == 'X') {
		*i += 2;
		if (*i < len && (date_is_digit(s[*i]) || s[*i] == 'X'))
			return (-1);
		*out = DATE_X;
		return (0);
	}
	return (date_number(s, len, i, 2, out));
}

/* A year: Y-prefixed with five or more digits, or [-]YYYY with X digits. */
static int
date_scan_year(const char *s, size_t len, size_t *i, struct date_fields *f)
{
	int	neg = 0, unknown = 0, n;
	int64_t	y = 0;

	if (*i < len && s[*i] == 'Y') {
		(*i)++;
		if (*i < len && s[*i] == '-') {
			neg = 1;
			(*i)++;
		}
		if (*i >= len || s[*i] == '0')
			return (-1);
		/* Count every digit but stop adding before int64 would. */
		for (n = 0; *i < len && date_is_digit(s[*i]); n++, (*i)++) {
			if (n < 18)
				y = y * 10 + (s[*i] - '0');
		}
		if (n <= 4)
			return (-1);
		f->digits = n;
		f->year = neg ? -y : y;
		f->years = 1;
		return (0);
	}

	if (*i < len && s[*i] == '-') {
		neg = 1;
		(*i)++;
	}
	if (len - *i < 4)
		return (-1);
	f->years = 1;
	for (n = 0; n < 4; n++, (*i)++) {
		if (date_is_digit(s[*i]) && !unknown)
			y = y * 10 + (s[*i] - '0');
		else if (s[*i] == 'X' && n > 0) {
			unknown = 1;
			y *= 10;
			f->years *= 10;
		} else
			return (-1);
	}
	if (*i < len && (date_is_digit(s[*i]) || s[*i] == 'X'))
		return (-1);
	/* Year 0 is 0000; -0000 names nothing. */
	if (neg && y == 0 && !unknown)
		return (-1);
	/* -001X is -0019 to -0010: the known digits give the latest year. */
	f->year = neg ? -(y + f->years - 1) : y;
	return (0);
}

/* hh:mm[:ss] then an optional Z or +hh:mm / -hh:mm. */
static int
date_scan_time(const char *s, size_t len, size_t *i, struct date_fields *f)
{
	int	neg;

	if (date_number(s, len, i, 2, &f->hour) == -1)
		return (-1);
	if (*i >= len || s[*i] != ':')
		return (-1);
	(*i)++;
	if (date_number(s, len, i, 2, &f->min) == -1)
		return (-1);
	if (*i < len && s[*i] == ':') {
		(*i)++;
		if (date_number(s, len, i, 2, &f->sec) == -1)
			return (-1);
	}
	if (*i < len && s[*i] == 'Z') {
		(*i)++;
		return (0);
	}
	if (*i < len && (s[*i] == '+' || s[*i] == '-')) {
		neg = s[*i] == '-';
		(*i)++;
		if (date_number(s, len, i, 2, &f->zhour) == -1)
			return (-1);
		if (*i >= len || s[*i] != ':')
			return (-1);
		(*i)++;
		if (date_number(s, len, i, 2, &f->zmin) == -1)
			return (-1);
		if (neg) {
			f->zhour = -f->zhour;
			f->zmin = -f->zmin;
		}
	}
	return (0);
}

/*
 * Read the fields of one date.  Returns -1 when what was read is
 * malformed, else 0 with *end where reading stopped: anything from there
 * on is trailing.
 */
static int
date_scan(const char *s, size_t len, struct date_fields *f, size_t *end)
{
	size_t	i = 0;

	memset(f, 0, sizeof *f);
	f->month = f->day = DATE_UNSET;
	f->hour = f->min = f->sec = -1;

	if (date_scan_year(s, len, &i, f) == -1)
		return (-1);
	if (f->digits == 0 && i < len && s[i] == '-') {
		i++;
		/* EDTF level 1 allows no month after 201X. */
		if (f->years != 1 ||
		    date_number_or_x(s, len, &i, &f->month) == -1)
			return (-1);
		if (i < len && s[i] == '-') {
			i++;
			if (date_number_or_x(s, len, &i, &f->day) == -1)
				return (-1);
			if (i < len && s[i] == 'T') {
				i++;
				if (f->day == DATE_X ||
				    date_scan_time(s, len, &i, f) == -1)
					return (-1);
			}
		}
	} else if (f->digits != 0 && i < len && s[i] == '-')
		return (-1);

	if (i < len && (s[i] == '?' || s[i] == '~' || s[i] == '%')) {
		f->qual = s[i] == '%' ? 2 : 1;
		i++;
	}
	*end = i;
	return (0);
}

/* Whether the fields name a real date and time. */
static int
date_check(const struct date_fields *f)
{
	if (f->month == DATE_UNSET)
		return (0);
	if (f->month == DATE_X)
		return (f->day == DATE_X || f->day == DATE_UNSET ? 0 : -1);
	if (f->month >= 21 && f->month <= 24)
		return (f->day == DATE_UNSET ? 0 : -1);
	if (f->month < 1 || f->month > 12)
		return (-1);
	if (f->day == DATE_UNSET || f->day == DATE_X)
		return (0);
	if (f->day < 1 || f->day > date_month_days(f->year, f->month))
		return (-1);
	if (f->hour > 23 || f->min > 59 || f->sec > 59)
		return (-1);
	/* Real zones run from -12:00 to +14:00; allow 14 either way. */
	if (f->zmin < -59 || f->zmin > 59 ||
	    f->zhour * 60 + f->zmin > 14 * 60 ||
	    f->zhour * 60 + f->zmin < -14 * 60)
		return (-1);
	return (0);
}

/* The strict and fuzzy bounds of checked fields. */
static void
date_part_set(const struct date_fields *f, struct date_part *p)
{
	int64_t	first, last, unit, t;

	p->kind = DATE_PART_DATE;
	if (f->month == DATE_UNSET || f->month == DATE_X) {
		/* A year, a decade or century, or year-XX(-XX). */
		first = f->year * 12;
		last = (f->year + f->years - 1) * 12 + 11;
		unit = 12;
		p->prec = DATE_PREC_YEAR;
	} else if (f->month >= 21) {
		/* Spring starts in March; winter ends in next February. */
		first = f->year * 12 + (f->month - 21) * 3 + 2;
		last = first + 2;
		unit = 3;
		p->prec = DATE_PREC_SEASON;
	} else if (f->day == DATE_UNSET || f->day == DATE_X) {
		first = last = f->year * 12 + f->month - 1;
		unit = 1;
		p->prec = DATE_PREC_MONTH;
	} else {
		t = date_days_from_civil(f->year, (unsigned)f->month,
		    (unsigned)f->day) * DATE_DAY;
		if (f->hour == -1) {
			unit = DATE_DAY;
			p->prec = DATE_PREC_DAY;
		} else {
			unit = f->sec == -1 ? 60 : 1;
			t += f->hour * 3600 + f->min * 60 +
			    (f->sec == -1 ? 0 : f->sec);
			t -= f->zhour * 3600 + f->zmin * 60;
			p->prec = DATE_PREC_TIME;
		}
		p->lo = t;
		p->hi = t + unit - 1;
		p->flo = p->lo - f->qual * unit;
		p->fhi = p->hi + f->qual * unit;
		return;
	}
	p->lo = date_month_start(first);
	p->hi = date_month_start(last + 1) - 1;
	p->flo = date_month_start(first - f->qual * unit);
	p->fhi = date_month_start(last + 1 + f->qual * unit) - 1;
}

/* One side of an interval: empty (unknown), .. (open) or a date. */
static int
date_side(const char *s, size_t len, struct date_part *p, struct aerr *err)
{
	struct date_fields	f;
	size_t			end;

	memset(p, 0, sizeof *p);
	if (len == 0) {
		p->kind = DATE_PART_UNKNOWN;
		return (0);
	}
	if (len == 2 && s[0] == '.' && s[1] == '.') {
		p->kind = DATE_PART_OPEN;
		return (0);
	}
	if (date_scan(s, len, &f, &end) == -1)
		return (date_fail(err, s, len, " is not a date"));
	if (end != len)
		return (date_fail(err, s, len, ": trailing characters"));
	if (f.digits > DATE_MAX_DIGITS)
		return (date_fail(err, s, len, ": year out of range"));
	if (date_check(&f) == -1)
		return (date_fail(err, s, len, " is not a date"));
	date_part_set(&f, p);
	return (0);
}

/* Join a start and an end as an interval; see DATES.md for each case. */
static void
date_combine(const struct date_part *a, const struct date_part *b,
    struct date_span *out)
{
	out->prec = DATE_PREC_NONE;
	switch (a->kind) {
	case DATE_PART_DATE:
		out->lo = a->lo;
		out->flo = a->flo;
		out->ilo = a->hi;
		out->prec = a->prec;
		break;
	case DATE_PART_OPEN:
		out->lo = out->flo = out->ilo = DATE_NEG_INF;
		break;
	default:
		out->lo = b->lo;
		out->flo = DATE_NEG_INF;
		out->ilo = DATE_POS_INF;
		break;
	}
	switch (b->kind) {
	case DATE_PART_DATE:
		out->hi = b->hi;
		out->fhi = b->fhi;
		out->ihi = b->lo;
		if (out->prec == DATE_PREC_NONE || b->prec < out->prec)
			out->prec = b->prec;
		break;
	case DATE_PART_OPEN:
		out->hi = out->fhi = out->ihi = DATE_POS_INF;
		break;
	default:
		out->hi = a->hi;
		out->fhi = DATE_POS_INF;
		out->ihi = DATE_NEG_INF;
		break;
	}
	if (a->kind == DATE_PART_UNKNOWN || b->kind == DATE_PART_UNKNOWN ||
	    out->ilo > out->ihi) {
		out->ilo = DATE_POS_INF;
		out->ihi = DATE_NEG_INF;
	}
}

/* Parse a date or an interval A/B of len bytes (no NUL needed). */
int
date_parse(const char *s, size_t len, struct date_span *out,
    struct aerr *err)
{
	struct date_part	 a, b;
	const char		*slash;
	size_t			 alen;

	if (len == 0) {
		aerr_set(err, AERR_INVALID, "empty date");
		return (-1);
	}
	slash = memchr(s, '/', len);
	if (slash == NULL) {
		if (date_side(s, len, &a, err) == -1)
			return (-1);
		if (a.kind != DATE_PART_DATE)
			return (date_fail(err, s, len, " is not a date"));
		out->lo = a.lo;
		out->hi = a.hi;
		out->flo = a.flo;
		out->fhi = a.fhi;
		out->ilo = DATE_POS_INF;
		out->ihi = DATE_NEG_INF;
		out->prec = a.prec;
		return (0);
	}

	alen = slash - s;
	if (memchr(slash + 1, '/', len - alen - 1) != NULL)
		return (date_fail(err, s, len, " is not a date"));
	if (date_side(s, alen, &a, err) == -1 ||
	    date_side(slash + 1, len - alen - 1, &b, err) == -1)
		return (-1);
	if (a.kind != DATE_PART_DATE && b.kind != DATE_PART_DATE)
		return (date_fail(err, s, len, ": neither start nor end"));
	if (a.kind == DATE_PART_DATE && b.kind == DATE_PART_DATE &&
	    b.hi < a.lo)
		return (date_fail(err, s, len, ": end before start"));
	date_combine(&a, &b, out);
	return (0);
}

/* The length of a field's string, or -1 past EVENT_MAX_DATE. */
static int
date_field_len(const char *s, const char *field, size_t *len,
    struct aerr *err)
{
	*len = strnlen(s, EVENT_MAX_DATE + 1);
	if (*len > EVENT_MAX_DATE) {
		aerr_set(err, AERR_INVALID, "%s: longer than %d bytes", field,
		    EVENT_MAX_DATE);
		return (-1);
	}
	return (0);
}

/*
 * The span of an event from its start (a date or an interval) and its
 * optional end (a date or ..), as if written start/end.
 */
int
date_event_span(const char *start, const char *end, struct date_span *out,
    struct aerr *err)
{
	struct date_part	a, b;
	size_t			slen, elen;

	if (start == NULL) {
		aerr_set(err, AERR_INVALID, "start: missing");
		return (-1);
	}
	if (date_field_len(start, "start", &slen, err) == -1)
		return (-1);
	if (end == NULL || memchr(start, '/', slen) != NULL) {
		if (date_parse(start, slen, out, err) == -1) {
			aerr_prefix(err, "start: ");
			return (-1);
		}
		if (end != NULL) {
			aerr_set(err, AERR_INVALID,
			    "end: start is already an interval");
			return (-1);
		}
		return (0);
	}

	if (slen == 0) {
		aerr_set(err, AERR_INVALID, "start: empty date");
		return (-1);
	}
	if (date_side(start, slen, &a, err) == -1) {
		aerr_prefix(err, "start: ");
		return (-1);
	}
	if (a.kind != DATE_PART_DATE) {
		date_fail(err, start, slen, " is not a date");
		aerr_prefix(err, "start: ");
		return (-1);
	}

	if (date_field_len(end, "end", &elen, err) == -1)
		return (-1);
	if (elen == 0) {
		aerr_set(err, AERR_INVALID, "end: empty date");
		return (-1);
	}
	if (memchr(end, '/', elen) != NULL) {
		date_fail(err, end, elen, " is an interval, not a date");
		aerr_prefix(err, "end: ");
		return (-1);
	}
	if (date_side(end, elen, &b, err) == -1) {
		aerr_prefix(err, "end: ");
		return (-1);
	}
	if (b.kind == DATE_PART_DATE && b.hi < a.lo) {
		aerr_set(err, AERR_INVALID, "end before start");
		return (-1);
	}
	date_combine(&a, &b, out);
	return (0);
}

/* The strict bounds of a query's from or to; NULL and .. are open. */
static int
date_query_side(const char *s, const char *field, int64_t *lo, int64_t *hi,
    struct aerr *err)
{
	struct date_span	span;
	size_t			len;

	*lo = DATE_NEG_INF;
	*hi = DATE_POS_INF;
	if (s == NULL || strcmp(s, "..") == 0)
		return (0);
	if (date_field_len(s, field, &len, err) == -1)
		return (-1);
	if (date_parse(s, len, &span, err) == -1) {
		aerr_prefix(err, "%s: ", field);
		return (-1);
	}
	*lo = span.lo;
	*hi = span.hi;
	return (0);
}

/* A query runs from the start of from to the end of to, both inclusive. */
int
date_query_bounds(const char *from, const char *to, int64_t *qlo,
    int64_t *qhi, struct aerr *err)
{
	int64_t	flo, fhi, tlo, thi;

	if (date_query_side(from, "from", &flo, &fhi, err) == -1 ||
	    date_query_side(to, "to", &tlo, &thi, err) == -1)
		return (-1);
	if (thi < flo) {
		aerr_set(err, AERR_INVALID, "to before from");
		return (-1);
	}
	*qlo = flo;
	*qhi = thi;
	return (0);
}

int
date_prec_parse(const char *name, int *prec)
{
	size_t	i;

	for (i = 0; i < sizeof date_prec_names / sizeof *date_prec_names; i++) {
		if (strcmp(name, date_prec_names[i]) == 0) {
			*prec = (int)i;
			return (0);
		}
	}
	return (-1);
}

/* The name of a DATE_PREC_*; "unknown" for anything else. */
const char *
date_prec_name(int prec)
{
	if (prec < 0 ||
	    (size_t)prec >= sizeof date_prec_names / sizeof *date_prec_names)
		return ("unknown");
	return (date_prec_names[prec]);
}

/* Whether the span, taken at its word, lies wholly inside the query. */
int
date_within(const struct date_span *span, int64_t qlo, int64_t qhi)
{
	return (span->lo >= qlo && span->hi <= qhi);
}

/* How surely a span falls in [qlo, qhi]: DATE_MATCH_*. */
int
date_match(const struct date_span *span, int64_t qlo, int64_t qhi)
{
	if (date_within(span, qlo, qhi))
		return (DATE_MATCH_CERTAIN);
	if (span->ilo <= span->ihi && span->ilo <= qhi && span->ihi >= qlo)
		return (DATE_MATCH_CERTAIN);
	if (span->flo <= qhi && span->fhi >= qlo)
		return (DATE_MATCH_POSSIBLE);
	return (DATE_MATCH_NONE);
}

/* Write YYYY-MM-DDThh:mm:ssZ, or .. for either infinity. */
void
date_format(int64_t t, char *buf, size_t size)
{
	int64_t		days, secs, y;
	unsigned	m, d;

	if (t == DATE_NEG_INF || t == DATE_POS_INF) {
		snprintf(buf, size, "..");
		return;
	}
	/* Not t - days * DATE_DAY: near the infinities that overflows. */
	days = date_floor_div(t, DATE_DAY);
	secs = t % DATE_DAY;
	if (secs < 0)
		secs += DATE_DAY;
	date_civil_from_days(days, &y, &m, &d);
	snprintf(buf, size, "%s%04lld-%02u-%02uT%02d:%02d:%02dZ",
	    y < 0 ? "-" : "", (long long)(y < 0 ? -y : y), m, d,
	    (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

/* The DATE_BY_* of a bucket's name: 0, or -1 when s names none. */
int
date_by_parse(const char *s, int *by)
{
	int	i;

	for (i = DATE_BY_DAY; i <= DATE_BY_YEAR; i++) {
		if (strcmp(s, date_by_names[i]) == 0) {
			*by = i;
			return (0);
		}
	}
	return (-1);
}

/* The name of a DATE_BY_*; "?" for anything else. */
const char *
date_by_name(int by)
{
	return (by >= DATE_BY_DAY && by <= DATE_BY_YEAR ? date_by_names[by] :
	    "?");
}
