/*
 * The date parser: date_parse() on the input as one date, then
 * date_event_span() and date_query_bounds() on the input cut in two at
 * its first NUL byte (start and end, from and to; an empty half is
 * absent).
 *
 * Promises checked: a span keeps flo <= lo <= hi <= fhi with its inner
 * range inside the strict one (DATES.md); a single date means the same
 * as a start without an end; the first instant of a date written back
 * as YYYY-MM-DDThh:mm:ssZ parses to the same instant; a query runs
 * forwards; errors are fit for the wire whenever the input was UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include "../../proto/proto.h"
#include "fuzz.h"

/* A NUL-terminated copy of len bytes, of exactly that size. */
static char *
fuzz_date_copy(const uint8_t *p, size_t len)
{
	char	*s;

	if ((s = malloc(len + 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return (s);
}

/* Write t back as a date and parse that: the same first instant. */
static void
fuzz_date_format(int64_t t)
{
	struct date_span	sp;
	struct aerr		err;
	char			buf[64];

	/* Only four-digit years print as a date that parses. */
	if (t < date_days_from_civil(-9999, 1, 1) * 86400 ||
	    t >= date_days_from_civil(10000, 1, 1) * 86400)
		return;
	date_format(t, buf, sizeof buf);
	FUZZ_CHECK(date_parse(buf, strlen(buf), &sp, &err) == 0);
	FUZZ_CHECK(sp.lo == t && sp.hi == t);
	FUZZ_CHECK(sp.prec == DATE_PREC_TIME);
}

static void
fuzz_date_one(const uint8_t *data, size_t size, int utf8)
{
	struct date_span	 sp, sp2;
	struct aerr		 err;
	char			*s;

	/* Exactly size bytes and no NUL: date_parse() must use its length. */
	if ((s = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	if (date_parse(s, size, &sp, &err) != 0) {
		fuzz_check_error(&err, utf8);
		FUZZ_CHECK(err.code == AERR_INVALID);
		free(s);
		return;
	}
	free(s);
	fuzz_check_span(&sp);
	fuzz_date_format(sp.lo);

	/* The same text as an event's start, without an end. */
	if (size > EVENT_MAX_DATE || memchr(data, '\0', size) != NULL)
		return;
	s = fuzz_date_copy(data, size);
	FUZZ_CHECK(date_event_span(s, NULL, &sp2, &err) == 0);
	FUZZ_CHECK(fuzz_span_eq(&sp, &sp2));
	free(s);
}

static void
fuzz_date_pair(const uint8_t *data, size_t size, int utf8)
{
	const uint8_t		*nul;
	struct date_span	 sp;
	struct aerr		 err;
	int64_t			 qlo, qhi;
	char			*a, *b;
	size_t			 alen;

	if ((nul = memchr(data, '\0', size)) == NULL)
		return;
	alen = (size_t)(nul - data);
	a = fuzz_date_copy(data, alen);
	b = fuzz_date_copy(nul + 1, size - alen - 1);
	/* The second half ends at the next NUL, as a C string would. */
	if (date_event_span(a, *b == '\0' ? NULL : b, &sp, &err) == 0)
		fuzz_check_span(&sp);
	else {
		fuzz_check_error(&err, utf8);
		FUZZ_CHECK(err.code == AERR_INVALID);
	}
	if (date_query_bounds(*a == '\0' ? NULL : a, *b == '\0' ? NULL : b,
	    &qlo, &qhi, &err) == 0)
		FUZZ_CHECK(qlo <= qhi);
	else {
		fuzz_check_error(&err, utf8);
		FUZZ_CHECK(err.code == AERR_INVALID);
	}
	free(a);
	free(b);
}

void
fuzz_date(const uint8_t *data, size_t size)
{
	int	utf8;

	utf8 = utf8_valid((const char *)data, size);
	fuzz_date_one(data, size, utf8);
	fuzz_date_pair(data, size, utf8);
}

FUZZ_ENTRY(date)
