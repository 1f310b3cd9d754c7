/*
 * Fuzzy dates: the calendar, every accepted form with its strict, fuzzy
 * and inner bounds, the bad inputs with their exact messages, matching,
 * event spans, query bounds and formatting.
 *
 * Expected bounds are written as civil times and turned into seconds by
 * t_date_secs(), which relies only on date_days_from_civil(); that one
 * is checked first, day by day, against literal values from date(1).
 */
#include "test.h"
#include "../proto/proto.h"

#define NEG	"-inf"
#define POS	"+inf"

static int
t_date_leap(int64_t y)
{
	if (y % 400 == 0)
		return (1);
	if (y % 100 == 0)
		return (0);
	return (y % 4 == 0);
}

static unsigned
t_date_mdays(int64_t y, unsigned m)
{
	static const unsigned	days[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return (m == 2 && t_date_leap(y) ? 29 : days[m - 1]);
}

/* "YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ss" (any year), "-inf" or "+inf". */
static int64_t
t_date_secs(const char *s)
{
	long long	y;
	unsigned	m, d, hh = 0, mm = 0, ss = 0;
	int		n;

	if (strcmp(s, NEG) == 0)
		return (DATE_NEG_INF);
	if (strcmp(s, POS) == 0)
		return (DATE_POS_INF);
	n = sscanf(s, "%lld-%u-%uT%u:%u:%u", &y, &m, &d, &hh, &mm, &ss);
	if (n != 3 && n != 6)
		T_FAIL("bad expected time %s", s);
	return (date_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 +
	    ss);
}

static void
t_date_parse_ok(const char *s, struct date_span *span)
{
	struct aerr	err;

	aerr_clear(&err);
	if (date_parse(s, strlen(s), span, &err) != 0)
		T_FAIL("%s: %s", s, err.msg);
}

static int
t_date_same(const struct date_span *a, const struct date_span *b)
{
	return (a->lo == b->lo && a->hi == b->hi && a->flo == b->flo &&
	    a->fhi == b->fhi && a->ilo == b->ilo && a->ihi == b->ihi &&
	    a->prec == b->prec);
}

TEST(date_civil_known_days)
{
	static const struct {
		int64_t		y;
		unsigned	m, d;
		int64_t		days;
	} known[] = {
		/* date -u -d ... +%s divided by 86400 */
		{ 1970, 1, 1, 0 },
		{ 1969, 12, 31, -1 },
		{ 2000, 2, 29, 11016 },
		{ 2014, 12, 1, 16405 },
		{ 2015, 1, 28, 16463 },
		{ 1900, 3, 1, -25508 },
		{ 1, 1, 1, -719162 },
		{ 9999, 12, 31, 2932896 },
		/* Counted year by year: year 0 is a leap year. */
		{ 0, 1, 1, -719528 },
		{ -4, 2, 29, -720930 },
		{ -44, 3, 15, -735525 },
		{ -10000, 1, 1, -4371953 },
		{ 10000, 12, 31, 2933262 },
	};
	size_t		i;
	int64_t		y;
	unsigned	m, d;

	for (i = 0; i < sizeof known / sizeof known[0]; i++) {
		T_EQ_INT(date_days_from_civil(known[i].y, known[i].m,
		    known[i].d), known[i].days);
		date_civil_from_days(known[i].days, &y, &m, &d);
		T_EQ_INT(y, known[i].y);
		T_EQ_INT(m, known[i].m);
		T_EQ_INT(d, known[i].d);
	}
}

/* Every day from -10000-01-01 to 10000-12-31 follows the one before. */
TEST(date_civil_round_trip_every_day)
{
	int64_t		day, first, last, y, py;
	unsigned	m, d, pm, pd;

	first = date_days_from_civil(-10000, 1, 1);
	last = date_days_from_civil(10000, 12, 31);
	T_EQ_INT(first, -4371953);
	py = -10001;
	pm = 12;
	pd = 31;
	for (day = first; day <= last; day++) {
		date_civil_from_days(day, &y, &m, &d);
		if (pd < t_date_mdays(py, pm)) {
			T_ASSERTF(y == py && m == pm && d == pd + 1,
			    "day %lld", (long long)day);
		} else if (pm < 12) {
			T_ASSERTF(y == py && m == pm + 1 && d == 1,
			    "day %lld", (long long)day);
		} else {
			T_ASSERTF(y == py + 1 && m == 1 && d == 1,
			    "day %lld", (long long)day);
		}
		T_EQ_INT(date_days_from_civil(y, m, d), day);
		py = y;
		pm = m;
		pd = d;
	}
	T_EQ_INT(py, 10000);
	T_EQ_INT(pm, 12);
	T_EQ_INT(pd, 31);
}

/*
 * Each accepted form with its bounds: strict, fuzzy, inner (NULL: the
 * inner span is empty) and precision.
 */
static const struct {
	const char	*in;
	const char	*lo, *hi, *flo, *fhi, *ilo, *ihi;
	int		 prec;
} t_date_forms[] = {
	/* Level 0: year, month, day. */
	{ "2015", "2015-01-01", "2015-12-31T23:59:59",
	    "2015-01-01", "2015-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "0000", "0000-01-01", "0000-12-31T23:59:59",
	    "0000-01-01", "0000-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "-0044", "-0044-01-01", "-0044-12-31T23:59:59",
	    "-0044-01-01", "-0044-12-31T23:59:59", NULL, NULL,
	    DATE_PREC_YEAR },
	{ "2014-12", "2014-12-01", "2014-12-31T23:59:59",
	    "2014-12-01", "2014-12-31T23:59:59", NULL, NULL,
	    DATE_PREC_MONTH },
	{ "2015-02", "2015-02-01", "2015-02-28T23:59:59",
	    "2015-02-01", "2015-02-28T23:59:59", NULL, NULL,
	    DATE_PREC_MONTH },
	{ "2016-02", "2016-02-01", "2016-02-29T23:59:59",
	    "2016-02-01", "2016-02-29T23:59:59", NULL, NULL,
	    DATE_PREC_MONTH },
	{ "1900-02", "1900-02-01", "1900-02-28T23:59:59",
	    "1900-02-01", "1900-02-28T23:59:59", NULL, NULL,
	    DATE_PREC_MONTH },
	{ "2015-01-28", "2015-01-28", "2015-01-28T23:59:59",
	    "2015-01-28", "2015-01-28T23:59:59", NULL, NULL, DATE_PREC_DAY },
	{ "2015-04-30", "2015-04-30", "2015-04-30T23:59:59",
	    "2015-04-30", "2015-04-30T23:59:59", NULL, NULL, DATE_PREC_DAY },
	{ "2000-02-29", "2000-02-29", "2000-02-29T23:59:59",
	    "2000-02-29", "2000-02-29T23:59:59", NULL, NULL, DATE_PREC_DAY },
	{ "-0004-02-29", "-0004-02-29", "-0004-02-29T23:59:59",
	    "-0004-02-29", "-0004-02-29T23:59:59", NULL, NULL,
	    DATE_PREC_DAY },
	{ "-0044-03-15", "-0044-03-15", "-0044-03-15T23:59:59",
	    "-0044-03-15", "-0044-03-15T23:59:59", NULL, NULL,
	    DATE_PREC_DAY },

	/* Times: a minute or a second, converted to UTC. */
	{ "2015-01-28T10:30", "2015-01-28T10:30:00", "2015-01-28T10:30:59",
	    "2015-01-28T10:30:00", "2015-01-28T10:30:59", NULL, NULL,
	    DATE_PREC_TIME },
	{ "2015-01-28T10:30:15", "2015-01-28T10:30:15",
	    "2015-01-28T10:30:15", "2015-01-28T10:30:15",
	    "2015-01-28T10:30:15", NULL, NULL, DATE_PREC_TIME },
	{ "2015-01-28T10:30Z", "2015-01-28T10:30:00", "2015-01-28T10:30:59",
	    "2015-01-28T10:30:00", "2015-01-28T10:30:59", NULL, NULL,
	    DATE_PREC_TIME },
	{ "2015-01-28T10:30:15+02:00", "2015-01-28T08:30:15",
	    "2015-01-28T08:30:15", "2015-01-28T08:30:15",
	    "2015-01-28T08:30:15", NULL, NULL, DATE_PREC_TIME },
	{ "2015-01-28T10:30-00:30", "2015-01-28T11:00:00",
	    "2015-01-28T11:00:59", "2015-01-28T11:00:00",
	    "2015-01-28T11:00:59", NULL, NULL, DATE_PREC_TIME },
	{ "2015-01-28T22:30-05:00", "2015-01-29T03:30:00",
	    "2015-01-29T03:30:59", "2015-01-29T03:30:00",
	    "2015-01-29T03:30:59", NULL, NULL, DATE_PREC_TIME },
	{ "2015-01-01T01:00+14:00", "2014-12-31T11:00:00",
	    "2014-12-31T11:00:59", "2014-12-31T11:00:00",
	    "2014-12-31T11:00:59", NULL, NULL, DATE_PREC_TIME },
	{ "2015-01-01T00:00:00-00:00", "2015-01-01", "2015-01-01",
	    "2015-01-01", "2015-01-01", NULL, NULL, DATE_PREC_TIME },
	{ "2016-02-29T23:59:59Z", "2016-02-29T23:59:59",
	    "2016-02-29T23:59:59", "2016-02-29T23:59:59",
	    "2016-02-29T23:59:59", NULL, NULL, DATE_PREC_TIME },

	/* Qualifiers: one unit of the precision, two for %. */
	{ "2014~", "2014-01-01", "2014-12-31T23:59:59",
	    "2013-01-01", "2015-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "2014?", "2014-01-01", "2014-12-31T23:59:59",
	    "2013-01-01", "2015-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "2014%", "2014-01-01", "2014-12-31T23:59:59",
	    "2012-01-01", "2016-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "2012-06?", "2012-06-01", "2012-06-30T23:59:59",
	    "2012-05-01", "2012-07-31T23:59:59", NULL, NULL,
	    DATE_PREC_MONTH },
	{ "2015-01~", "2015-01-01", "2015-01-31T23:59:59",
	    "2014-12-01", "2015-02-28T23:59:59", NULL, NULL,
	    DATE_PREC_MONTH },
	{ "2015-12%", "2015-12-01", "2015-12-31T23:59:59",
	    "2015-10-01", "2016-02-29T23:59:59", NULL, NULL,
	    DATE_PREC_MONTH },
	{ "2015-03-01~", "2015-03-01", "2015-03-01T23:59:59",
	    "2015-02-28", "2015-03-02T23:59:59", NULL, NULL, DATE_PREC_DAY },
	{ "2016-03-01%", "2016-03-01", "2016-03-01T23:59:59",
	    "2016-02-28", "2016-03-03T23:59:59", NULL, NULL, DATE_PREC_DAY },
	{ "2015-01-28T10:30~", "2015-01-28T10:30:00", "2015-01-28T10:30:59",
	    "2015-01-28T10:29:00", "2015-01-28T10:31:59", NULL, NULL,
	    DATE_PREC_TIME },
	{ "2015-01-28T10:30:15?", "2015-01-28T10:30:15",
	    "2015-01-28T10:30:15", "2015-01-28T10:30:14",
	    "2015-01-28T10:30:16", NULL, NULL, DATE_PREC_TIME },
	{ "2015-01-28T23:59:59+01:00%", "2015-01-28T22:59:59",
	    "2015-01-28T22:59:59", "2015-01-28T22:59:57",
	    "2015-01-28T23:00:01", NULL, NULL, DATE_PREC_TIME },

	/* Unspecified digits. */
	{ "201X", "2010-01-01", "2019-12-31T23:59:59",
	    "2010-01-01", "2019-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "20XX", "2000-01-01", "2099-12-31T23:59:59",
	    "2000-01-01", "2099-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "2XXX", "2000-01-01", "2999-12-31T23:59:59",
	    "2000-01-01", "2999-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "201X~", "2010-01-01", "2019-12-31T23:59:59",
	    "2009-01-01", "2020-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "-001X", "-0019-01-01", "-0010-12-31T23:59:59",
	    "-0019-01-01", "-0010-12-31T23:59:59", NULL, NULL,
	    DATE_PREC_YEAR },
	{ "2015-XX", "2015-01-01", "2015-12-31T23:59:59",
	    "2015-01-01", "2015-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "2015-XX-XX", "2015-01-01", "2015-12-31T23:59:59",
	    "2015-01-01", "2015-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "2015-XX?", "2015-01-01", "2015-12-31T23:59:59",
	    "2014-01-01", "2016-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "2016-02-XX", "2016-02-01", "2016-02-29T23:59:59",
	    "2016-02-01", "2016-02-29T23:59:59", NULL, NULL,
	    DATE_PREC_MONTH },
	{ "2015-12-XX~", "2015-12-01", "2015-12-31T23:59:59",
	    "2015-11-01", "2016-01-31T23:59:59", NULL, NULL,
	    DATE_PREC_MONTH },

	/* Seasons; a unit is three months. */
	{ "2015-21", "2015-03-01", "2015-05-31T23:59:59",
	    "2015-03-01", "2015-05-31T23:59:59", NULL, NULL,
	    DATE_PREC_SEASON },
	{ "2015-22", "2015-06-01", "2015-08-31T23:59:59",
	    "2015-06-01", "2015-08-31T23:59:59", NULL, NULL,
	    DATE_PREC_SEASON },
	{ "2015-23", "2015-09-01", "2015-11-30T23:59:59",
	    "2015-09-01", "2015-11-30T23:59:59", NULL, NULL,
	    DATE_PREC_SEASON },
	{ "2015-24", "2015-12-01", "2016-02-29T23:59:59",
	    "2015-12-01", "2016-02-29T23:59:59", NULL, NULL,
	    DATE_PREC_SEASON },
	{ "2015-21~", "2015-03-01", "2015-05-31T23:59:59",
	    "2014-12-01", "2015-08-31T23:59:59", NULL, NULL,
	    DATE_PREC_SEASON },
	{ "2015-24?", "2015-12-01", "2016-02-29T23:59:59",
	    "2015-09-01", "2016-05-31T23:59:59", NULL, NULL,
	    DATE_PREC_SEASON },

	/* Long years. */
	{ "Y17000", "17000-01-01", "17000-12-31T23:59:59",
	    "17000-01-01", "17000-12-31T23:59:59", NULL, NULL,
	    DATE_PREC_YEAR },
	{ "Y-17000", "-17000-01-01", "-17000-12-31T23:59:59",
	    "-17000-01-01", "-17000-12-31T23:59:59", NULL, NULL,
	    DATE_PREC_YEAR },
	{ "Y170000002", "170000002-01-01", "170000002-12-31T23:59:59",
	    "170000002-01-01", "170000002-12-31T23:59:59", NULL, NULL,
	    DATE_PREC_YEAR },
	{ "Y-999999999%", "-999999999-01-01", "-999999999-12-31T23:59:59",
	    "-1000000001-01-01", "-999999997-12-31T23:59:59", NULL, NULL,
	    DATE_PREC_YEAR },

	/* Intervals: the inner span runs from A's end to B's start. */
	{ "2015-01-26/2015-01-29", "2015-01-26", "2015-01-29T23:59:59",
	    "2015-01-26", "2015-01-29T23:59:59",
	    "2015-01-26T23:59:59", "2015-01-29", DATE_PREC_DAY },
	{ "2011-03-15/2024-12-08", "2011-03-15", "2024-12-08T23:59:59",
	    "2011-03-15", "2024-12-08T23:59:59",
	    "2011-03-15T23:59:59", "2024-12-08", DATE_PREC_DAY },
	{ "2015-01-10/2015-01-11", "2015-01-10", "2015-01-11T23:59:59",
	    "2015-01-10", "2015-01-11T23:59:59",
	    "2015-01-10T23:59:59", "2015-01-11", DATE_PREC_DAY },
	{ "2015-01-10/2015-01-10", "2015-01-10", "2015-01-10T23:59:59",
	    "2015-01-10", "2015-01-10T23:59:59", NULL, NULL, DATE_PREC_DAY },
	{ "2014/2015-06", "2014-01-01", "2015-06-30T23:59:59",
	    "2014-01-01", "2015-06-30T23:59:59",
	    "2014-12-31T23:59:59", "2015-06-01", DATE_PREC_YEAR },
	{ "2014~/2015-06?", "2014-01-01", "2015-06-30T23:59:59",
	    "2013-01-01", "2015-07-31T23:59:59",
	    "2014-12-31T23:59:59", "2015-06-01", DATE_PREC_YEAR },
	{ "2015/2015-06", "2015-01-01", "2015-06-30T23:59:59",
	    "2015-01-01", "2015-06-30T23:59:59", NULL, NULL,
	    DATE_PREC_YEAR },
	{ "2015-21/2015-12-24T10:00Z", "2015-03-01", "2015-12-24T10:00:59",
	    "2015-03-01", "2015-12-24T10:00:59",
	    "2015-05-31T23:59:59", "2015-12-24T10:00:00", DATE_PREC_SEASON },
	{ "2015-01-28T10:30/2015-01-28T12:00:30", "2015-01-28T10:30:00",
	    "2015-01-28T12:00:30", "2015-01-28T10:30:00",
	    "2015-01-28T12:00:30", "2015-01-28T10:30:59",
	    "2015-01-28T12:00:30", DATE_PREC_TIME },
	{ "Y-17000/2015", "-17000-01-01", "2015-12-31T23:59:59",
	    "-17000-01-01", "2015-12-31T23:59:59",
	    "-17000-12-31T23:59:59", "2015-01-01", DATE_PREC_YEAR },

	/* Open ends. */
	{ "2011-03-15/..", "2011-03-15", POS, "2011-03-15", POS,
	    "2011-03-15T23:59:59", POS, DATE_PREC_DAY },
	{ "../2015", NEG, "2015-12-31T23:59:59", NEG, "2015-12-31T23:59:59",
	    NEG, "2015-01-01", DATE_PREC_YEAR },
	{ "../2015~", NEG, "2015-12-31T23:59:59", NEG, "2016-12-31T23:59:59",
	    NEG, "2015-01-01", DATE_PREC_YEAR },
	{ "2015-06~/..", "2015-06-01", POS, "2015-05-01", POS,
	    "2015-06-30T23:59:59", POS, DATE_PREC_MONTH },

	/* Unknown ends. */
	{ "2011-03-15/", "2011-03-15", "2011-03-15T23:59:59", "2011-03-15",
	    POS, NULL, NULL, DATE_PREC_DAY },
	{ "/2015", "2015-01-01", "2015-12-31T23:59:59", NEG,
	    "2015-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
	{ "/2015%", "2015-01-01", "2015-12-31T23:59:59", NEG,
	    "2017-12-31T23:59:59", NULL, NULL, DATE_PREC_YEAR },
};

TEST(date_parse_forms)
{
	struct date_span	 span;
	size_t			 i;
	const char		*in;

	for (i = 0; i < sizeof t_date_forms / sizeof t_date_forms[0]; i++) {
		in = t_date_forms[i].in;
		memset(&span, 0x5a, sizeof span);
		t_date_parse_ok(in, &span);
		T_ASSERTF(span.lo == t_date_secs(t_date_forms[i].lo),
		    "%s: lo %lld", in, (long long)span.lo);
		T_ASSERTF(span.hi == t_date_secs(t_date_forms[i].hi),
		    "%s: hi %lld", in, (long long)span.hi);
		T_ASSERTF(span.flo == t_date_secs(t_date_forms[i].flo),
		    "%s: flo %lld", in, (long long)span.flo);
		T_ASSERTF(span.fhi == t_date_secs(t_date_forms[i].fhi),
		    "%s: fhi %lld", in, (long long)span.fhi);
		if (t_date_forms[i].ilo == NULL) {
			T_ASSERTF(span.ilo == DATE_POS_INF &&
			    span.ihi == DATE_NEG_INF, "%s: inner %lld %lld",
			    in, (long long)span.ilo, (long long)span.ihi);
		} else {
			T_ASSERTF(span.ilo == t_date_secs(t_date_forms[i].ilo),
			    "%s: ilo %lld", in, (long long)span.ilo);
			T_ASSERTF(span.ihi == t_date_secs(t_date_forms[i].ihi),
			    "%s: ihi %lld", in, (long long)span.ihi);
		}
		T_ASSERTF(span.prec == t_date_forms[i].prec, "%s: prec %d",
		    in, span.prec);
		/* The invariants DATES.md promises for every span. */
		T_ASSERTF(span.flo <= span.lo && span.lo <= span.hi &&
		    span.hi <= span.fhi, "%s: bounds out of order", in);
	}
}

/* Cross-checks with literal epoch seconds from date -u -d ... +%s. */
TEST(date_parse_literal_seconds)
{
	struct date_span	span;

	t_date_parse_ok("2014-12", &span);
	T_EQ_INT(span.lo, 1417392000);
	T_EQ_INT(span.hi, 1420070399);
	t_date_parse_ok("2000-02-29", &span);
	T_EQ_INT(span.lo, 951782400);
	T_EQ_INT(span.hi, 951782400 + 86399);
	t_date_parse_ok("1969-12-31T23:59:59", &span);
	T_EQ_INT(span.lo, -1);
	t_date_parse_ok("1900-03-01", &span);
	T_EQ_INT(span.lo, -2203891200LL);
	t_date_parse_ok("0001-01-01", &span);
	T_EQ_INT(span.lo, -62135596800LL);
	t_date_parse_ok("9999-12-31T23:59:59Z", &span);
	T_EQ_INT(span.lo, 253402300799LL);
	/* Counted year by year, as for the day numbers. */
	t_date_parse_ok("-0044-03-15", &span);
	T_EQ_INT(span.lo, -63549360000LL);
	t_date_parse_ok("Y17000", &span);
	T_EQ_INT(span.lo, 474301008000LL);
	t_date_parse_ok("Y-17000", &span);
	T_EQ_INT(span.lo, -598635360000LL);
}

/* The length is honoured: no NUL needed, and none read past it. */
TEST(date_parse_uses_length_only)
{
	struct date_span	 span;
	struct aerr		 err;
	char			*buf;
	size_t			 i, n, len;
	int			 r;

	T_OK(date_parse("2015-01-01xyz", 10, &span, &err));
	T_EQ_INT(span.lo, t_date_secs("2015-01-01"));
	T_EQ_INT(span.prec, DATE_PREC_DAY);
	T_OK(date_parse("2015-01/2016", 7, &span, &err));
	T_EQ_INT(span.hi, t_date_secs("2015-01-31T23:59:59"));

	/*
	 * Every prefix of every form, in a buffer of exactly that size so
	 * the sanitizers catch a read past it: parsed or refused, never
	 * anything else.
	 */
	for (i = 0; i < sizeof t_date_forms / sizeof t_date_forms[0]; i++) {
		len = strlen(t_date_forms[i].in);
		for (n = 1; n <= len; n++) {
			buf = malloc(n);
			T_ASSERT(buf != NULL);
			memcpy(buf, t_date_forms[i].in, n);
			aerr_clear(&err);
			r = date_parse(buf, n, &span, &err);
			if (r == 0) {
				T_ASSERT(span.lo <= span.hi);
				T_EQ_INT(err.code, AERR_OK);
			} else {
				T_EQ_INT(r, -1);
				T_EQ_INT(err.code, AERR_INVALID);
				T_ASSERT(err.msg[0] != '\0');
			}
			free(buf);
		}
	}
}

TEST(date_parse_rejects)
{
	static const struct {
		const char	*in;
		const char	*msg;
	} bad[] = {
		{ "", "empty date" },
		{ "2015-02-30", "2015-02-30 is not a date" },
		{ "2015-02-29", "2015-02-29 is not a date" },
		{ "1900-02-29", "1900-02-29 is not a date" },
		{ "2100-02-29", "2100-02-29 is not a date" },
		{ "-0001-02-29", "-0001-02-29 is not a date" },
		{ "2015-04-31", "2015-04-31 is not a date" },
		{ "2015-01-32", "2015-01-32 is not a date" },
		{ "2015-01-00", "2015-01-00 is not a date" },
		{ "2015-13", "2015-13 is not a date" },
		{ "2015-00", "2015-00 is not a date" },
		{ "2015-20", "2015-20 is not a date" },
		{ "2015-25", "2015-25 is not a date" },
		{ "2015-21-05", "2015-21-05 is not a date" },
		{ "1846-7", "1846-7 is not a date" },
		{ "2015-1-01", "2015-1-01 is not a date" },
		{ "2015-01-1", "2015-01-1 is not a date" },
		{ "2015-001", "2015-001 is not a date" },
		{ "15", "15 is not a date" },
		{ "201", "201 is not a date" },
		{ "20150", "20150 is not a date" },
		{ "20150101", "20150101 is not a date" },
		{ "-044", "-044 is not a date" },
		{ "-0000", "-0000 is not a date" },
		{ "+2015", "+2015 is not a date" },
		{ " 2015", " 2015 is not a date" },
		{ "2015-", "2015- is not a date" },
		{ "2015-01-", "2015-01- is not a date" },
		{ "2015-01-01x", "2015-01-01x: trailing characters" },
		{ "2015-01-01 ", "2015-01-01 : trailing characters" },
		{ "2015-01-01-05", "2015-01-01-05: trailing characters" },
		{ "2015-01T10:00", "2015-01T10:00: trailing characters" },
		{ "2015-01-01t10:00", "2015-01-01t10:00: trailing characters" },
		{ "2015-01-01T10:00z", "2015-01-01T10:00z: trailing characters" },
		{ "2015-01-01Z", "2015-01-01Z: trailing characters" },
		{ "2015-01-01T", "2015-01-01T is not a date" },
		{ "2015-01-01T10", "2015-01-01T10 is not a date" },
		{ "2015-01-01T10:0", "2015-01-01T10:0 is not a date" },
		{ "2015-01-01T10:00:", "2015-01-01T10:00: is not a date" },
		{ "2015-01-01T24:00", "2015-01-01T24:00 is not a date" },
		{ "2015-01-01T25:00", "2015-01-01T25:00 is not a date" },
		{ "2015-01-01T23:60", "2015-01-01T23:60 is not a date" },
		{ "2015-01-01T23:59:60", "2015-01-01T23:59:60 is not a date" },
		{ "2015-01-01T10:00+15:00",
		    "2015-01-01T10:00+15:00 is not a date" },
		{ "2015-01-01T10:00+14:01",
		    "2015-01-01T10:00+14:01 is not a date" },
		{ "2015-01-01T10:00-14:30",
		    "2015-01-01T10:00-14:30 is not a date" },
		{ "2015-01-01T10:00+05:60",
		    "2015-01-01T10:00+05:60 is not a date" },
		{ "2015-01-01T10:00+0500",
		    "2015-01-01T10:00+0500 is not a date" },
		{ "2015-01-01T10:00+05", "2015-01-01T10:00+05 is not a date" },
		{ "XXXX", "XXXX is not a date" },
		{ "X015", "X015 is not a date" },
		{ "2X1X", "2X1X is not a date" },
		{ "201X-05", "201X-05 is not a date" },
		{ "201XX", "201XX is not a date" },
		{ "2015-X1", "2015-X1 is not a date" },
		{ "2015-XX-05", "2015-XX-05 is not a date" },
		{ "2015-01-XXT10:00", "2015-01-XXT10:00 is not a date" },
		{ "2015-xx", "2015-xx is not a date" },
		{ "Y2015", "Y2015 is not a date" },
		{ "Y017000", "Y017000 is not a date" },
		{ "Y17000-01", "Y17000-01 is not a date" },
		{ "Y", "Y is not a date" },
		{ "Y-", "Y- is not a date" },
		{ "y17000", "y17000 is not a date" },
		{ "Y1234567890", "Y1234567890: year out of range" },
		{ "Y-99999999999999999999999",
		    "Y-99999999999999999999999: year out of range" },
		{ "2015~~", "2015~~: trailing characters" },
		{ "2015?~", "2015?~: trailing characters" },
		{ "2015~-01", "2015~-01: trailing characters" },
		{ "~2015", "~2015 is not a date" },
		{ "..", ".. is not a date" },
		{ "...", "... is not a date" },
		{ "/", "/: neither start nor end" },
		{ "../..", "../..: neither start nor end" },
		{ "../", "../: neither start nor end" },
		{ "/..", "/..: neither start nor end" },
		{ "2015/2016/2017", "2015/2016/2017 is not a date" },
		{ "2015-01-20/2015-01-10",
		    "2015-01-20/2015-01-10: end before start" },
		{ "2016/2015", "2016/2015: end before start" },
		{ "2015-02-30/2016", "2015-02-30 is not a date" },
		{ "2015/2016x", "2016x: trailing characters" },
		{ "2015 / 2016", "2015 : trailing characters" },
		{ "2015/..~", "..~ is not a date" },
		{ "\x01", "? is not a date" },
	};
	struct date_span	span;
	struct aerr		err;
	size_t			i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		aerr_clear(&err);
		T_ASSERTF(date_parse(bad[i].in, strlen(bad[i].in), &span,
		    &err) == -1, "%s was accepted", bad[i].in);
		T_EQ_INT(err.code, AERR_INVALID);
		T_EQ_STR(err.msg, bad[i].msg);
	}
}

/* A long input is quoted in part, and never split inside a character. */
TEST(date_parse_quotes_long_input)
{
	struct date_span	span;
	struct aerr		err;
	char			in[200], want[200];

	memset(in, 'x', 100);
	in[100] = '\0';
	memset(want, 'x', 64);
	strcpy(want + 64, "... is not a date");
	T_EQ_INT(date_parse(in, strlen(in), &span, &err), -1);
	T_EQ_STR(err.msg, want);

	/* 63 x then a two-byte e-acute that straddles byte 64. */
	memset(in, 'x', 63);
	strcpy(in + 63, "\xc3\xa9yyyy");
	memset(want, 'x', 63);
	strcpy(want + 63, "... is not a date");
	T_EQ_INT(date_parse(in, strlen(in), &span, &err), -1);
	T_EQ_STR(err.msg, want);
}

TEST(date_match_rules)
{
	static const struct {
		const char	*date;
		const char	*from, *to;
		int		 want;
	} cases[] = {
		/* The examples the model is built on. */
		{ "2014-12", "2014-12", "2014-12", DATE_MATCH_CERTAIN },
		{ "2015-01-26/2015-01-29", "2015-01-28", "2015-01-28",
		    DATE_MATCH_CERTAIN },
		{ "2014-12", "2014-12-15", "2014-12-15", DATE_MATCH_POSSIBLE },
		{ "2014~", "2015-01", "2015-01", DATE_MATCH_POSSIBLE },
		{ "2011-03-15/2024-12-08", "2015-01", "2015-01",
		    DATE_MATCH_CERTAIN },
		{ "2014", "2016", "2016", DATE_MATCH_NONE },

		/* Inclusive ends, to the second. */
		{ "2014", NULL, NULL, DATE_MATCH_CERTAIN },
		{ "2014", "2014-12-31T23:59:59", NULL, DATE_MATCH_POSSIBLE },
		{ "2014", "2015", NULL, DATE_MATCH_NONE },
		{ "2014", NULL, "2014-01-01", DATE_MATCH_POSSIBLE },
		{ "2014", NULL, "2013", DATE_MATCH_NONE },
		{ "2014-12", "2014-11-30T23:59:59", "2014-12-01T00:00",
		    DATE_MATCH_POSSIBLE },
		{ "2014-12", "2014-11-30T23:59", "2014-11-30T23:59",
		    DATE_MATCH_NONE },

		/* Qualifiers reach one unit, % two. */
		{ "2014~", "2016", "2016", DATE_MATCH_NONE },
		{ "2014%", "2016", "2016", DATE_MATCH_POSSIBLE },
		{ "2014%", "2017", "2017", DATE_MATCH_NONE },
		{ "2015-24", "2016-02", "2016-02", DATE_MATCH_POSSIBLE },
		{ "2015-24", "2016-03", "2016-03", DATE_MATCH_NONE },
		{ "2015-24~", "2016-03", "2016-03", DATE_MATCH_POSSIBLE },
		{ "2015-24", "2015-12", "2016-02", DATE_MATCH_CERTAIN },

		/* The inner span of an interval. */
		{ "2015-01-26/2015-01-29", "2015-01-26", "2015-01-26",
		    DATE_MATCH_CERTAIN },
		{ "2015-01-26/2015-01-29", "2015-01-29", "2015-01-29",
		    DATE_MATCH_CERTAIN },
		{ "2015-01-26/2015-01-29", "2015-01-25", "2015-01-25",
		    DATE_MATCH_NONE },
		{ "2015-01-26/2015-01-29", "2015-01-30", "2015-01-30",
		    DATE_MATCH_NONE },
		{ "2014/2016", "2015-06", "2015-06", DATE_MATCH_CERTAIN },
		{ "2014/2016", "2014-06", "2014-06", DATE_MATCH_POSSIBLE },
		/* The instant between December and January is surely in. */
		{ "2014-12/2015-01", "2014-12-31T23:59:59",
		    "2014-12-31T23:59:59", DATE_MATCH_CERTAIN },
		{ "2014-12/2015-01", "2014-12-30T23:59:59",
		    "2014-12-30T23:59:59", DATE_MATCH_POSSIBLE },
		{ "2015-01-10/2015-01-11", "2015-01-10T23:59:59",
		    "2015-01-10T23:59:59", DATE_MATCH_CERTAIN },

		/* Open and unknown ends. */
		{ "2011-03-15/..", "2030", "2030", DATE_MATCH_CERTAIN },
		{ "2011-03-15/..", "2011-03-15", "2011-03-15",
		    DATE_MATCH_CERTAIN },
		{ "2011-03-15/..", "2011-03-14", "2011-03-14",
		    DATE_MATCH_NONE },
		{ "../2015", "1900", "1900", DATE_MATCH_CERTAIN },
		{ "../2015", "2016", "2016", DATE_MATCH_NONE },
		{ "2011-03-15/", "2030", "2030", DATE_MATCH_POSSIBLE },
		{ "2011-03-15/", "2011-03", "2011-03", DATE_MATCH_CERTAIN },
		{ "2011-03-15/", "2011-03-14", "2011-03-14", DATE_MATCH_NONE },
		{ "/2015", "2000", "2000", DATE_MATCH_POSSIBLE },
		{ "/2015", "2015", "2015", DATE_MATCH_CERTAIN },
		{ "/2015", "2016", "2016", DATE_MATCH_NONE },

		/* A time zone moved the event to the next day in UTC. */
		{ "2015-01-28T22:30-05:00", "2015-01-29", "2015-01-29",
		    DATE_MATCH_CERTAIN },
		{ "2015-01-28T22:30-05:00", "2015-01-28", "2015-01-28",
		    DATE_MATCH_NONE },
	};
	struct date_span	span;
	struct aerr		err;
	int64_t			qlo, qhi;
	size_t			i;
	int			got;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		t_date_parse_ok(cases[i].date, &span);
		T_OK(date_query_bounds(cases[i].from, cases[i].to, &qlo, &qhi,
		    &err));
		got = date_match(&span, qlo, qhi);
		T_ASSERTF(got == cases[i].want, "%s in %s..%s: %d, not %d",
		    cases[i].date, cases[i].from ? cases[i].from : "..",
		    cases[i].to ? cases[i].to : "..", got, cases[i].want);
		/* Within implies certain; certain or not, never the reverse. */
		if (date_within(&span, qlo, qhi))
			T_EQ_INT(got, DATE_MATCH_CERTAIN);
	}
}

TEST(date_within_is_strict_containment)
{
	struct date_span	span;

	t_date_parse_ok("2014-12", &span);
	T_ASSERT(date_within(&span, t_date_secs("2014-12-01"),
	    t_date_secs("2014-12-31T23:59:59")));
	T_ASSERT(!date_within(&span, t_date_secs("2014-12-01"),
	    t_date_secs("2014-12-31T23:59:58")));
	T_ASSERT(!date_within(&span, t_date_secs("2014-12-01T00:00:01"),
	    DATE_POS_INF));
	T_ASSERT(date_within(&span, DATE_NEG_INF, DATE_POS_INF));
	/* Fuzziness does not count: the strict span is inside. */
	t_date_parse_ok("2014-12%", &span);
	T_ASSERT(date_within(&span, t_date_secs("2014-12-01"),
	    t_date_secs("2014-12-31T23:59:59")));
	/* An open end is inside only an open query. */
	t_date_parse_ok("2011/..", &span);
	T_ASSERT(!date_within(&span, DATE_NEG_INF, t_date_secs("2999-01-01")));
	T_ASSERT(date_within(&span, t_date_secs("2011-01-01"), DATE_POS_INF));
}

TEST(date_event_span_combines)
{
	static const struct {
		const char	*start, *end, *as;
	} same[] = {
		{ "2015-01-26", "2015-01-29", "2015-01-26/2015-01-29" },
		{ "2015-01-26", NULL, "2015-01-26" },
		{ "2015-01-26/2015-01-29", NULL, "2015-01-26/2015-01-29" },
		{ "2011-03-15", "..", "2011-03-15/.." },
		{ "2015~", "2016?", "2015~/2016?" },
		{ "2015-21", "2015-12-24T10:00+01:00",
		    "2015-21/2015-12-24T10:00+01:00" },
		{ "../2015", NULL, "../2015" },
		{ "2015/", NULL, "2015/" },
		{ "2015-01-10", "2015-01-10", "2015-01-10/2015-01-10" },
	};
	struct date_span	got, want;
	struct aerr		err;
	size_t			i;

	for (i = 0; i < sizeof same / sizeof same[0]; i++) {
		aerr_clear(&err);
		if (date_event_span(same[i].start, same[i].end, &got, &err))
			T_FAIL("%s %s: %s", same[i].start,
			    same[i].end ? same[i].end : "-", err.msg);
		t_date_parse_ok(same[i].as, &want);
		T_ASSERTF(t_date_same(&got, &want), "%s %s", same[i].start,
		    same[i].end ? same[i].end : "-");
	}
}

TEST(date_event_span_errors)
{
	static const struct {
		const char	*start, *end, *msg;
	} bad[] = {
		{ NULL, NULL, "start: missing" },
		{ NULL, "2015", "start: missing" },
		{ "", NULL, "start: empty date" },
		{ "", "2015", "start: empty date" },
		{ "..", NULL, "start: .. is not a date" },
		{ "..", "2015", "start: .. is not a date" },
		{ "2015-02-30", NULL, "start: 2015-02-30 is not a date" },
		{ "2015-02-30", "2016", "start: 2015-02-30 is not a date" },
		{ "2015-02-30/2016", "2017",
		    "start: 2015-02-30 is not a date" },
		{ "2015-01-20/2015-01-10", NULL,
		    "start: 2015-01-20/2015-01-10: end before start" },
		{ "2015", "2016-13", "end: 2016-13 is not a date" },
		{ "2015", "2015-01-01x", "end: 2015-01-01x: trailing characters" },
		{ "2015", "", "end: empty date" },
		{ "2015-01-20", "2015-01-10", "end before start" },
		{ "2015", "2014-12-31T23:59:59Z", "end before start" },
		{ "2015/2016", "2017", "end: start is already an interval" },
		{ "2015/..", "..", "end: start is already an interval" },
		{ "2015", "2016/2017", "end: 2016/2017 is an interval, not a date" },
		{ "2015", "/", "end: / is an interval, not a date" },
		{ "1234567890123456789012345678901234567890"
		    "1234567890123456789012345", NULL,
		    "start: longer than 64 bytes" },
		{ "2015", "1234567890123456789012345678901234567890"
		    "1234567890123456789012345", "end: longer than 64 bytes" },
	};
	struct date_span	span;
	struct aerr		err;
	size_t			i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		aerr_clear(&err);
		T_ASSERTF(date_event_span(bad[i].start, bad[i].end, &span,
		    &err) == -1, "%s %s was accepted",
		    bad[i].start ? bad[i].start : "-",
		    bad[i].end ? bad[i].end : "-");
		T_EQ_INT(err.code, AERR_INVALID);
		T_EQ_STR(err.msg, bad[i].msg);
	}
	/* An end in the same unit as the start, or just after, is fine. */
	T_OK(date_event_span("2015", "2015-01-01", &span, &err));
	T_OK(date_event_span("2015-01-01T10:00", "2015-01-01T10:00:59", &span,
	    &err));
}

TEST(date_query_bounds_cover_whole_units)
{
	static const struct {
		const char	*from, *to, *qlo, *qhi;
	} ok[] = {
		{ NULL, NULL, NEG, POS },
		{ "..", "..", NEG, POS },
		{ "2015-01", "2015-01", "2015-01-01", "2015-01-31T23:59:59" },
		{ NULL, "2015", NEG, "2015-12-31T23:59:59" },
		{ "..", "2015", NEG, "2015-12-31T23:59:59" },
		{ "2015", "..", "2015-01-01", POS },
		{ "2015-01-01", "2015-01-01", "2015-01-01",
		    "2015-01-01T23:59:59" },
		{ "2015-01-01T10:00", "2015-01-01T10:00", "2015-01-01T10:00:00",
		    "2015-01-01T10:00:59" },
		{ "2014/2016", "2018/2020", "2014-01-01", "2020-12-31T23:59:59" },
		/* A query bound is taken at its word, never widened. */
		{ "2014~", "2014~", "2014-01-01", "2014-12-31T23:59:59" },
		{ "2016-02", NULL, "2016-02-01", POS },
		{ "2016-24", "2016-24", "2016-12-01", "2017-02-28T23:59:59" },
	};
	static const struct {
		const char	*from, *to, *msg;
	} bad[] = {
		{ "2015-13", NULL, "from: 2015-13 is not a date" },
		{ NULL, "x", "to: x is not a date" },
		{ "", NULL, "from: empty date" },
		{ "2015", "2014", "to before from" },
		{ "2015-01-02", "2015-01-01", "to before from" },
		{ "2015", "2015-02-30", "to: 2015-02-30 is not a date" },
		{ "1234567890123456789012345678901234567890"
		    "1234567890123456789012345", NULL,
		    "from: longer than 64 bytes" },
	};
	struct aerr	err;
	int64_t		qlo, qhi;
	size_t		i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		aerr_clear(&err);
		if (date_query_bounds(ok[i].from, ok[i].to, &qlo, &qhi, &err))
			T_FAIL("%s %s: %s", ok[i].from ? ok[i].from : "-",
			    ok[i].to ? ok[i].to : "-", err.msg);
		T_EQ_INT(qlo, t_date_secs(ok[i].qlo));
		T_EQ_INT(qhi, t_date_secs(ok[i].qhi));
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		aerr_clear(&err);
		T_ASSERTF(date_query_bounds(bad[i].from, bad[i].to, &qlo, &qhi,
		    &err) == -1, "%s %s was accepted",
		    bad[i].from ? bad[i].from : "-",
		    bad[i].to ? bad[i].to : "-");
		T_EQ_INT(err.code, AERR_INVALID);
		T_EQ_STR(err.msg, bad[i].msg);
	}
}

TEST(date_format_known)
{
	static const struct {
		int64_t		 t;
		const char	*text;
	} known[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ -1, "1969-12-31T23:59:59Z" },
		{ 951782400, "2000-02-29T00:00:00Z" },
		{ 1422441015, "2015-01-28T10:30:15Z" },
		{ 253402300799LL, "9999-12-31T23:59:59Z" },
		{ -62135596800LL, "0001-01-01T00:00:00Z" },
		{ -63549360000LL, "-0044-03-15T00:00:00Z" },
		{ 474301008000LL, "17000-01-01T00:00:00Z" },
		{ DATE_NEG_INF, ".." },
		{ DATE_POS_INF, ".." },
	};
	char	buf[64];
	size_t	i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++) {
		date_format(known[i].t, buf, sizeof buf);
		T_EQ_STR(buf, known[i].text);
	}
	/* A short buffer is cut, not overrun. */
	memset(buf, '#', sizeof buf);
	date_format(0, buf, 5);
	T_EQ_STR(buf, "1970");
	T_EQ_INT(buf[5], '#');
	/* The extremes short of infinity still format. */
	date_format(DATE_NEG_INF + 1, buf, sizeof buf);
	T_EQ_INT(buf[0], '-');
	date_format(DATE_POS_INF - 1, buf, sizeof buf);
	T_ASSERT(strchr(buf, 'T') != NULL);
}

/* What date_format writes, date_parse reads back as that very second. */
TEST(date_format_round_trip)
{
	struct date_span	span;
	int64_t			t, first, last;
	char			buf[64];

	first = t_date_secs("-9999-01-01");
	last = t_date_secs("9999-12-31T23:59:59");
	/* An odd step visits every second of the minute over the range. */
	for (t = first; t <= last; t += 7777777) {
		date_format(t, buf, sizeof buf);
		t_date_parse_ok(buf, &span);
		T_ASSERTF(span.lo == t && span.hi == t, "%s", buf);
		T_EQ_INT(span.prec, DATE_PREC_TIME);
	}
	date_format(last, buf, sizeof buf);
	t_date_parse_ok(buf, &span);
	T_EQ_INT(span.lo, last);
}

TEST(date_prec_names)
{
	static const struct {
		const char	*name;
		int		 prec;
	} names[] = {
		{ "none", DATE_PREC_NONE },
		{ "year", DATE_PREC_YEAR },
		{ "season", DATE_PREC_SEASON },
		{ "month", DATE_PREC_MONTH },
		{ "day", DATE_PREC_DAY },
		{ "time", DATE_PREC_TIME },
	};
	size_t	i;
	int	prec;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		prec = -1;
		T_OK(date_prec_parse(names[i].name, &prec));
		T_EQ_INT(prec, names[i].prec);
		T_EQ_STR(date_prec_name(names[i].prec), names[i].name);
	}
	T_EQ_INT(date_prec_parse("Day", &prec), -1);
	T_EQ_INT(date_prec_parse("days", &prec), -1);
	T_EQ_INT(date_prec_parse("", &prec), -1);
	T_EQ_STR(date_prec_name(DATE_PREC_TIME + 1), "unknown");
	T_EQ_STR(date_prec_name(-1), "unknown");
	/* Coarser precisions compare lower: min_prec filters rely on it. */
	T_ASSERT(DATE_PREC_YEAR < DATE_PREC_SEASON &&
	    DATE_PREC_SEASON < DATE_PREC_MONTH &&
	    DATE_PREC_MONTH < DATE_PREC_DAY && DATE_PREC_DAY < DATE_PREC_TIME);
}
