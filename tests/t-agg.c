/*
 * Aggregations against the real daemon: histogram, top_actors and
 * co_actors on GDELT and ICEWS samples (loaded here row by row, with a
 * few fuzzy and multi-day events added), each count checked against one
 * made from range results and, where it can be, from the rows loaded.
 * Every test runs on the cuts of the samples in tests/data, and again,
 * as agg_shared_*, on the whole samples of ../shared/data when that is
 * there (skipped when not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "test.h"
#include "../client/annals.h"
#include "../proto/proto.h"

#define AGG_BATCH	1000
#define AGG_MAX_COLS	64

/* What the loader put: the strict start and the type of each event. */
struct agg_put {
	int64_t		 lo;
	char		 type[8];
};

struct agg_loader {
	annals_ctx		*ctx;
	struct annals_event	 evs[AGG_BATCH];
	struct annals_actor	 actors[AGG_BATCH][2];
	char			*strs[AGG_BATCH][6];
	size_t			 n;
	size_t			 total;
	struct agg_put		*put;
	size_t			 nput;
};

/* The events of the running test, for counts made without the daemon. */
static struct agg_loader	agg_l;

static void
agg_flush(struct agg_loader *l)
{
	size_t	i, j;

	if (l->n == 0)
		return;
	T_ASSERTF(annals_put(l->ctx, l->evs, l->n, NULL) == 0, "%s",
	    annals_errmsg(l->ctx));
	for (i = 0; i < l->n; i++) {
		for (j = 0; j < 6; j++)
			free(l->strs[i][j]);
	}
	l->total += l->n;
	l->n = 0;
}

/* Queue one event: date, up to two actors, a type, a source key. */
static void
agg_add(struct agg_loader *l, const char *start, const char *end,
    const char *a1, const char *a2, const char *type, const char *source,
    const char *key)
{
	struct annals_event	*ev = &l->evs[l->n];
	char			**s = l->strs[l->n];
	struct agg_put		*put;
	struct date_span	 span;
	struct aerr		 err;
	size_t			 na = 0;

	memset(ev, 0, sizeof *ev);
	memset(s, 0, 6 * sizeof *s);
	if (a1 != NULL && *a1 != '\0' && strcmp(a1, "NA") != 0) {
		s[0] = strdup(a1);
		l->actors[l->n][na].name = s[0];
		l->actors[l->n][na++].role = "source";
	}
	if (a2 != NULL && *a2 != '\0' && strcmp(a2, "NA") != 0 &&
	    (a1 == NULL || strcmp(a1, a2) != 0)) {
		s[1] = strdup(a2);
		l->actors[l->n][na].name = s[1];
		l->actors[l->n][na++].role = "target";
	}
	if (na == 0)
		return;
	T_ASSERTF(date_event_span(start, end, &span, &err) == 0, "%s: %s",
	    start, err.msg);
	T_ASSERT((l->put = realloc(l->put, (l->nput + 1) *
	    sizeof *l->put)) != NULL);
	put = &l->put[l->nput++];
	put->lo = span.lo;
	snprintf(put->type, sizeof put->type, "%s", type != NULL ? type : "");
	s[2] = strdup(start);
	s[3] = end != NULL ? strdup(end) : NULL;
	s[4] = type != NULL && *type != '\0' ? strdup(type) : NULL;
	s[5] = strdup(key);
	ev->start = s[2];
	ev->end = s[3];
	ev->type = s[4];
	ev->key = s[5];
	ev->source = source;
	ev->actors = l->actors[l->n];
	ev->nactors = na;
	if (++l->n == AGG_BATCH)
		agg_flush(l);
}

/* Split a tab-separated line in place. */
static size_t
agg_split(char *line, char **cols)
{
	size_t	n = 0;
	char	*p;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < AGG_MAX_COLS && (p = strsep(&line, "\t")) != NULL)
		cols[n++] = p;
	return (n);
}

/* A sample: the whole one of ../shared/data, or tests/data's cut. */
static const char *
agg_path(int shared, const char *sample, const char *fixture)
{
	static char	path[1024];

	if (shared)
		snprintf(path, sizeof path, "%s/%s", t_shared_data_or_skip(),
		    sample);
	else
		snprintf(path, sizeof path, "%s/../tests/data/%s", t_bindir(),
		    fixture);
	return (path);
}

/* GDELT 1.0 and 2.0 rows: SQLDATE, Actor1Code, Actor2Code, EventCode. */
static void
agg_load_gdelt(struct agg_loader *l, const char *path)
{
	char	 line[8192], date[16], *cols[AGG_MAX_COLS];
	FILE	*f;
	size_t	 n;

	T_ASSERTF((f = fopen(path, "r")) != NULL, "%s", path);
	while (fgets(line, sizeof line, f) != NULL) {
		if ((n = agg_split(line, cols)) < 57 || strlen(cols[1]) != 8)
			continue;
		snprintf(date, sizeof date, "%.4s-%.2s-%.2s", cols[1],
		    cols[1] + 4, cols[1] + 6);
		agg_add(l, date, NULL, cols[5], cols[15], cols[26], "gdelt",
		    cols[0]);
	}
	fclose(f);
}

/* ICEWS rows: (Event ID, Event Date) is the key. */
static void
agg_load_icews(struct agg_loader *l, const char *path)
{
	char	 line[8192], key[64], *cols[AGG_MAX_COLS];
	FILE	*f;
	int	 first = 1;

	T_ASSERTF((f = fopen(path, "r")) != NULL, "%s", path);
	while (fgets(line, sizeof line, f) != NULL) {
		if (first) {
			first = 0;
			continue;
		}
		if (agg_split(line, cols) < 20)
			continue;
		snprintf(key, sizeof key, "%s/%s", cols[0], cols[1]);
		agg_add(l, cols[1], NULL, cols[2], cols[8], cols[6], "icews",
		    key);
	}
	fclose(f);
}

/* Events the samples lack: fuzzy, coarse, multi-day and open ones. */
static void
agg_load_fuzzy(struct agg_loader *l)
{
	static const char *const starts[][2] = {
		{ "2018-06", NULL }, { "2018", NULL }, { "2018~", NULL },
		{ "2018-05-30", "2018-06-03" }, { "2018-06-01/..", NULL },
		{ "2018-06?", NULL }, { "2018-22", NULL }, { "201X", NULL },
		{ "2016-12-28/2017-01-04", NULL }, { "2015-01%", NULL },
		{ "2018-05-31T22:00Z/2018-06-01T02:00Z", NULL },
		{ "2014-12/2015-02", NULL }, { "/2018-06-02", NULL },
		{ "2018-06-01/", NULL }, { "2011-03-15/2024-12-08", NULL },
		/*
		 * Crossers that skipped walks would miss (hist_crossers):
		 * a day long but not from midnight, in the class of the
		 * samples' one-day events; fuzzy before their start.
		 */
		{ "2017-03-31T12:00Z/2017-04-01T12:00Z", NULL },
		{ "2018-06-04T12:00Z/2018-06-05T12:00Z", NULL },
		{ "2017-04-01~", NULL }, { "2018-06-05~", NULL },
	};
	char	key[16];
	size_t	i;

	for (i = 0; i < sizeof starts / sizeof starts[0]; i++) {
		snprintf(key, sizeof key, "f%zu", i);
		agg_add(l, starts[i][0], starts[i][1], "USA",
		    i % 2 ? "RUS" : "SYR", i % 3 ? "042" : "190", "fuzzy",
		    key);
	}
}

static annals_ctx *
agg_start(struct th_daemon *d, int shared)
{
	struct agg_loader	*l = &agg_l;
	struct annals_stats	 st;
	annals_ctx		*ctx;

	/* Skip before there is a daemon to leave behind. */
	if (shared)
		t_shared_data_or_skip();
	T_OK(th_daemon_start(d, NULL));
	ctx = annals_connect(d->sock);
	T_ASSERTF(annals_errcode(ctx) == 0, "%s", annals_errmsg(ctx));
	memset(l, 0, sizeof *l);
	l->ctx = ctx;
	agg_load_gdelt(l, agg_path(shared, "gdelt1-events-sample.tsv",
	    "sample-gdelt1.tsv"));
	agg_load_gdelt(l, agg_path(shared, "gdelt2-events-sample.tsv",
	    "sync-gdelt2.tsv"));
	agg_load_icews(l, agg_path(shared, "icews-sample.tsv",
	    "sample-icews.tsv"));
	agg_load_fuzzy(l);
	agg_flush(l);
	/* Every key is new: the daemon holds each event put, once. */
	T_OK(annals_stats(ctx, &st));
	T_EQ_U64(st.events, l->total);
	T_EQ_U64(l->nput, l->total);
	return (ctx);
}

/* Events put with a type under type, starting in [lo, lo + secs). */
static uint64_t
agg_put_count(const char *type, int64_t lo, int64_t secs)
{
	uint64_t	n = 0;
	size_t		i;

	for (i = 0; i < agg_l.nput; i++) {
		if (agg_l.put[i].lo >= lo && agg_l.put[i].lo < lo + secs &&
		    strncmp(agg_l.put[i].type, type, strlen(type)) == 0)
			n++;
	}
	return (n);
}

/* The number of events a range query returns. */
static uint64_t
agg_range_count(annals_ctx *ctx, annals_query *q)
{
	annals_iter	*it;
	uint64_t	 n = 0;

	T_OK(annals_query_set_page_size(q, 10000));
	it = annals_range(ctx, q);
	T_ASSERTF(it != NULL, "%s", annals_errmsg(ctx));
	while (annals_iter_next(it) != NULL)
		n++;
	T_EQ_INT(annals_iter_error(it), 0);
	annals_iter_free(it);
	return (n);
}

/* YYYY-MM-DD of the day holding t (seconds). */
static void
agg_day(int64_t t, char *buf, size_t size)
{
	int64_t		y, days = t / 86400 - (t % 86400 < 0);
	unsigned	m, d;

	date_civil_from_days(days, &y, &m, &d);
	snprintf(buf, size, "%04lld-%02u-%02u", (long long)y, m, d);
}

/* Filters of one check, applied to both the histogram and the ranges. */
struct agg_filter {
	const char	*actor;
	const char	*type;
	int		 certain;
	int		 within;
	int		 prec;
};

static annals_query *
agg_query(const struct agg_filter *f, const char *from, const char *to)
{
	annals_query	*q;

	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_range(q, from, to));
	T_OK(annals_query_set_actor(q, f->actor, NULL));
	T_OK(annals_query_set_type(q, f->type));
	T_OK(annals_query_set_certain(q, f->certain));
	T_OK(annals_query_set_within(q, f->within));
	T_OK(annals_query_set_precision(q, f->prec));
	return (q);
}

/*
 * Each bucket of an overlap histogram over [from, to] (whole buckets)
 * equals a range query over that bucket; the total equals one over all.
 */
static void
agg_check_overlap(annals_ctx *ctx, const struct agg_filter *f, int by,
    const char *from, const char *to, size_t want_buckets)
{
	struct annals_histogram	*h;
	annals_query		*q;
	char			 lo[32], hi[32];
	uint64_t		 sum = 0;
	size_t			 i;

	q = agg_query(f, from, to);
	T_ASSERTF(annals_histogram(ctx, q, by, ANNALS_COUNT_OVERLAP, &h) == 0,
	    "%s", annals_errmsg(ctx));
	T_EQ_U64(h->total, agg_range_count(ctx, q));
	annals_query_free(q);
	T_EQ_U64(h->nbuckets, want_buckets);
	for (i = 0; i < h->nbuckets; i++) {
		if (by == ANNALS_BY_WEEK) {
			agg_day(h->buckets[i].time / 1000, lo, sizeof lo);
			agg_day(h->buckets[i].time / 1000 + 6 * 86400, hi,
			    sizeof hi);
		} else {
			snprintf(lo, sizeof lo, "%s", h->buckets[i].start);
			snprintf(hi, sizeof hi, "%s", h->buckets[i].start);
		}
		q = agg_query(f, lo, hi);
		T_ASSERTF(h->buckets[i].count == agg_range_count(ctx, q),
		    "bucket %s (%s..%s): %llu", h->buckets[i].start, lo, hi,
		    (unsigned long long)h->buckets[i].count);
		annals_query_free(q);
		sum += h->buckets[i].count;
	}
	/* Not a check that cannot fail: the data must be in the range. */
	T_ASSERT(sum > 0);
	annals_histogram_free(h);
}

static void
agg_check_histograms(int shared)
{
	static const struct agg_filter	plain = { NULL, NULL, 0, 0, 0 };
	static const struct agg_filter	usa = { "USA", NULL, 0, 0, 0 };
	static const struct agg_filter	us = { "US*", "04", 0, 0, 0 };
	static const struct agg_filter	certain = { NULL, NULL, 1, 0, 0 };
	static const struct agg_filter	within = { "USA", NULL, 0, 1, 0 };
	static const struct agg_filter	days = { NULL, NULL, 0, 0,
	    ANNALS_PREC_MONTH };
	struct th_daemon		d;
	annals_ctx			*ctx = agg_start(&d, shared);

	/* Ten years by month, the 1980s by year, June 2018 by day. */
	agg_check_overlap(ctx, &plain, ANNALS_BY_MONTH, "2010-01", "2019-12",
	    120);
	agg_check_overlap(ctx, &usa, ANNALS_BY_MONTH, "2010-01", "2019-12",
	    120);
	agg_check_overlap(ctx, &plain, ANNALS_BY_YEAR, "1980", "2020", 41);
	agg_check_overlap(ctx, &certain, ANNALS_BY_YEAR, "2010", "2020", 11);
	agg_check_overlap(ctx, &plain, ANNALS_BY_DAY, "2018-05-25",
	    "2018-06-10", 17);
	agg_check_overlap(ctx, &us, ANNALS_BY_DAY, "2018-05-25",
	    "2018-06-10", 17);
	agg_check_overlap(ctx, &certain, ANNALS_BY_DAY, "2018-05-25",
	    "2018-06-10", 17);
	agg_check_overlap(ctx, &within, ANNALS_BY_DAY, "2018-05-25",
	    "2018-06-10", 17);
	agg_check_overlap(ctx, &days, ANNALS_BY_MONTH, "2018-01", "2018-12",
	    12);
	/* ISO weeks: 2018-05-28 and 2019-12-30 are Mondays. */
	agg_check_overlap(ctx, &plain, ANNALS_BY_WEEK, "2018-05-28",
	    "2018-06-24", 4);
	agg_check_overlap(ctx, &usa, ANNALS_BY_WEEK, "2016-12-26",
	    "2017-01-08", 2);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(agg_histogram_equals_range_counts)
{
	agg_check_histograms(0);
}

TEST(agg_shared_histogram_equals_range_counts)
{
	agg_check_histograms(1);
}

static void
agg_check_start_mode(int shared)
{
	static const struct agg_filter	plain = { NULL, NULL, 0, 0, 0 };
	struct annals_histogram		*h;
	const struct annals_event	*ev;
	struct date_span		 span;
	struct aerr			 err;
	struct th_daemon		 d;
	annals_ctx			*ctx = agg_start(&d, shared);
	annals_query			*q;
	annals_iter			*it;
	uint64_t			 want[12], total = 0;
	int64_t				 y, month, next;
	unsigned			 m, dd;
	size_t				 i;

	/* By start month over 2018: group the range's events ourselves. */
	memset(want, 0, sizeof want);
	q = agg_query(&plain, "2018", "2018");
	T_OK(annals_query_set_page_size(q, 10000));
	it = annals_range(ctx, q);
	while ((ev = annals_iter_next(it)) != NULL) {
		T_OK(date_event_span(ev->start, ev->end, &span, &err));
		if (span.lo < 1514764800 || span.lo > 1546300799)
			continue;
		date_civil_from_days(span.lo / 86400, &y, &m, &dd);
		want[m - 1]++;
		total++;
	}
	T_EQ_INT(annals_iter_error(it), 0);
	annals_iter_free(it);
	T_ASSERTF(annals_histogram(ctx, q, ANNALS_BY_MONTH, ANNALS_COUNT_START,
	    &h) == 0, "%s", annals_errmsg(ctx));
	annals_query_free(q);
	T_EQ_U64(h->nbuckets, 12);
	T_EQ_U64(h->total, total);
	/* The range returned every event put that starts in 2018. */
	for (i = 0; i < 12; i++) {
		month = date_days_from_civil(2018, i + 1, 1) * 86400;
		next = date_days_from_civil(2018 + i / 11, (i + 1) % 12 + 1,
		    1) * 86400;
		T_ASSERTF(want[i] == agg_put_count("", month, next - month),
		    "month %zu: %llu", i + 1, (unsigned long long)want[i]);
	}
	/* Not a check that cannot fail: ICEWS is all of June 2018. */
	T_ASSERT(want[5] > 0);
	for (i = 0; i < 12; i++)
		T_ASSERTF(h->buckets[i].count == want[i], "month %zu: %llu "
		    "!= %llu", i + 1, (unsigned long long)h->buckets[i].count,
		    (unsigned long long)want[i]);
	T_EQ_STR(h->buckets[5].start, "2018-06");
	T_EQ_U64(h->buckets[5].time, 1527811200000ULL);
	annals_histogram_free(h);

	/* ISO week labels across a year's end; a clipped first bucket. */
	q = agg_query(&plain, "2020-12-30", "2021-01-11");
	T_OK(annals_histogram(ctx, q, ANNALS_BY_WEEK, ANNALS_COUNT_OVERLAP,
	    &h));
	T_EQ_U64(h->nbuckets, 3);
	T_EQ_STR(h->buckets[0].start, "2020-W53");
	T_EQ_STR(h->buckets[1].start, "2021-W01");
	T_EQ_STR(h->buckets[2].start, "2021-W02");
	annals_histogram_free(h);
	annals_query_free(q);

	/* No range, too many buckets, a bad mode. */
	q = agg_query(&plain, NULL, "2018");
	T_EQ_INT(annals_histogram(ctx, q, ANNALS_BY_DAY, 0, &h), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_EQ_STR(annals_errmsg(ctx), "from: required for a histogram");
	annals_query_free(q);
	q = agg_query(&plain, "1000", "2018");
	T_EQ_INT(annals_histogram(ctx, q, ANNALS_BY_DAY, 0, &h), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_ELIMIT);
	T_EQ_INT(annals_histogram(ctx, q, 9, 0, &h), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_ASSERT(h == NULL);
	annals_query_free(q);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(agg_histogram_start_mode_and_labels)
{
	agg_check_start_mode(0);
}

TEST(agg_shared_histogram_start_mode_and_labels)
{
	agg_check_start_mode(1);
}

struct agg_tally {
	char		*name;
	uint64_t	 count;
};

static int
agg_tally_cmp(const void *a, const void *b)
{
	const struct agg_tally	*x = a, *y = b;

	if (x->count != y->count)
		return (x->count > y->count ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/* Count each actor of the query's events, leaving out skip's names. */
static size_t
agg_tally(annals_ctx *ctx, annals_query *q, const char *skip,
    struct agg_tally **out, uint64_t *events)
{
	const struct annals_event	*ev;
	struct agg_tally		*t = NULL;
	annals_iter			*it;
	size_t				 n = 0, i, j, k;

	*events = 0;
	T_OK(annals_query_set_page_size(q, 10000));
	if (skip != NULL)
		it = annals_actor(ctx, q);
	else
		it = annals_range(ctx, q);
	T_ASSERTF(it != NULL, "%s", annals_errmsg(ctx));
	while ((ev = annals_iter_next(it)) != NULL) {
		(*events)++;
		for (i = 0; i < ev->nactors; i++) {
			for (k = 0; k < i; k++) {
				if (strcmp(ev->actors[k].name,
				    ev->actors[i].name) == 0)
					break;
			}
			if (k < i || (skip != NULL &&
			    strcmp(ev->actors[i].name, skip) == 0))
				continue;
			for (j = 0; j < n; j++) {
				if (strcmp(t[j].name, ev->actors[i].name) == 0)
					break;
			}
			if (j == n) {
				t = realloc(t, (n + 1) * sizeof *t);
				t[n].name = strdup(ev->actors[i].name);
				t[n++].count = 0;
			}
			t[j].count++;
		}
	}
	T_EQ_INT(annals_iter_error(it), 0);
	annals_iter_free(it);
	qsort(t, n, sizeof *t, agg_tally_cmp);
	*out = t;
	return (n);
}

static void
agg_check_actors(annals_ctx *ctx, annals_query *q, const char *co,
    uint32_t limit)
{
	struct annals_actor_counts	*c;
	struct agg_tally		*t;
	uint64_t			 events;
	size_t				 n, i;

	n = agg_tally(ctx, q, co, &t, &events);
	if (co != NULL)
		T_ASSERTF(annals_co_actors(ctx, q, limit, &c) == 0, "%s",
		    annals_errmsg(ctx));
	else
		T_ASSERTF(annals_top_actors(ctx, q, limit, &c) == 0, "%s",
		    annals_errmsg(ctx));
	T_EQ_U64(c->nactors, n < limit ? n : limit);
	T_ASSERT(c->nactors > 0);
	for (i = 0; i < c->nactors; i++) {
		T_EQ_STR(c->actors[i].name, t[i].name);
		T_EQ_U64(c->actors[i].count, t[i].count);
	}
	if (co != NULL)
		T_EQ_U64(c->events, events);
	for (i = 0; i < n; i++)
		free(t[i].name);
	free(t);
	annals_actor_counts_free(c);
}

static void
agg_check_top_co(int shared)
{
	static const struct agg_filter	plain = { NULL, NULL, 0, 0, 0 };
	static const struct agg_filter	type = { NULL, "04", 0, 0, 0 };
	static const struct agg_filter	usa = { "USA", NULL, 0, 0, 0 };
	static const struct agg_filter	usa_certain = { "USA", "0", 1, 0, 0 };
	struct annals_actor_counts	*c;
	struct th_daemon		 d;
	annals_ctx			*ctx = agg_start(&d, shared);
	annals_query			*q;

	q = agg_query(&plain, "2010", "2019");
	agg_check_actors(ctx, q, NULL, 25);
	annals_query_free(q);
	q = agg_query(&type, "2018-06-01", "2018-06-01");
	agg_check_actors(ctx, q, NULL, 10);
	annals_query_free(q);
	q = agg_query(&plain, "1982", "1982");
	agg_check_actors(ctx, q, NULL, 10000);
	annals_query_free(q);
	q = agg_query(&usa, "2018", "2019");
	agg_check_actors(ctx, q, "USA", 15);
	annals_query_free(q);
	q = agg_query(&usa_certain, "2018-06", "2018-06");
	agg_check_actors(ctx, q, "USA", 5);
	annals_query_free(q);

	/* top_actors takes only an actor prefix; co_actors needs an actor. */
	q = agg_query(&usa, "2018", "2019");
	T_EQ_INT(annals_top_actors(ctx, q, 5, &c), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_OK(annals_query_set_actor(q, "US*", NULL));
	T_OK(annals_top_actors(ctx, q, 100, &c));
	T_ASSERT(c->nactors > 1);
	T_ASSERT(strncmp(c->actors[0].name, "US", 2) == 0 &&
	    strncmp(c->actors[c->nactors - 1].name, "US", 2) == 0);
	annals_actor_counts_free(c);
	T_OK(annals_query_set_actor(q, NULL, NULL));
	T_EQ_INT(annals_co_actors(ctx, q, 5, &c), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_EQ_INT(annals_top_actors(ctx, q, 0, &c), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	annals_query_free(q);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(agg_top_and_co_actors_equal_range_counts)
{
	agg_check_top_co(0);
}

TEST(agg_shared_top_and_co_actors_equal_range_counts)
{
	agg_check_top_co(1);
}

/* Run the annals command on d's socket; its standard output in buf. */
static int
agg_cli(const struct th_daemon *d, const char *args, char *buf, size_t size)
{
	char	 cmd[2048];
	size_t	 n;
	FILE	*p;

	snprintf(cmd, sizeof cmd, "%s/annals -s %s %s", t_bindir(), d->sock,
	    args);
	T_ASSERT((p = popen(cmd, "r")) != NULL);
	n = fread(buf, 1, size - 1, p);
	buf[n] = '\0';
	return (pclose(p));
}

static void
agg_check_cli(int shared)
{
	struct annals_histogram		*h;
	struct annals_actor_counts	*c;
	struct th_daemon		 d;
	annals_ctx			*ctx = agg_start(&d, shared);
	annals_query			*q;
	json_t				*doc, *ev;
	char				*out, line[128];
	int64_t				 day;
	uint64_t			 all = 0;
	size_t				 i, n;

	out = malloc(1 << 22);
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_range(q, "2018-05-28", "2018-06-10"));
	T_OK(annals_query_set_type(q, "04"));
	T_OK(annals_histogram(ctx, q, ANNALS_BY_DAY, ANNALS_COUNT_START, &h));
	T_EQ_INT(agg_cli(&d, "--format csv histogram 2018-05-28 2018-06-10 "
	    "--by day --count start --type 04", out, 1 << 22), 0);
	T_ASSERT(strncmp(out, "start,count\n", 12) == 0);
	T_EQ_U64(h->nbuckets, 14);
	for (i = 0; i < h->nbuckets; i++) {
		snprintf(line, sizeof line, "\n%s,%llu\n", h->buckets[i].start,
		    (unsigned long long)h->buckets[i].count);
		T_ASSERTF(strstr(out, line) != NULL, "no %s", line + 1);
		/* Each day holds the events put that start on it. */
		day = (date_days_from_civil(2018, 5, 28) + i) * 86400;
		T_ASSERTF(h->buckets[i].count == agg_put_count("04", day,
		    86400), "%s: %llu", h->buckets[i].start,
		    (unsigned long long)h->buckets[i].count);
		all += h->buckets[i].count;
	}
	T_ASSERT(all > 0);
	annals_histogram_free(h);
	/* A table for people, with the total under it. */
	T_EQ_INT(agg_cli(&d, "--format table histogram 2018 2018 --by month",
	    out, 1 << 22), 0);
	T_ASSERT(strncmp(out, "START", 5) == 0 && strstr(out, "\n2018-06 ") !=
	    NULL && strstr(out, " events in 12 buckets\n") != NULL);

	T_OK(annals_query_set_type(q, NULL));
	T_OK(annals_top_actors(ctx, q, 3, &c));
	T_EQ_INT(agg_cli(&d, "--format jsonl top 2018-05-28 2018-06-10 "
	    "--limit 3", out, 1 << 22), 0);
	for (i = 0; i < 3; i++) {
		snprintf(line, sizeof line, "\"count\":%llu}",
		    (unsigned long long)c->actors[i].count);
		T_ASSERT(strstr(out, c->actors[i].name) != NULL &&
		    strstr(out, line) != NULL);
	}
	annals_actor_counts_free(c);
	T_EQ_INT(agg_cli(&d, "--format table co-actors USA 2018 2018 "
	    "--limit 2", out, 1 << 22), 0);
	T_ASSERT(strncmp(out, "ACTOR", 5) == 0 &&
	    strstr(out, "events of the actor)") != NULL);
	T_EQ_INT(agg_cli(&d, "histogram 2018", out, 1 << 22) >> 8, 2);
	T_EQ_INT(agg_cli(&d, "histogram 2018 2019 --by fortnight", out,
	    1 << 22) >> 8, 2);

	/* TimelineJS: one slide per event, dates in parts. */
	T_EQ_INT(agg_cli(&d, "export 2018-06-01 2018-06-01 --source fuzzy "
	    "--format timelinejs", out, 1 << 22), 0);
	T_ASSERTF((doc = json_loads(out, 0, NULL)) != NULL, "%.200s", out);
	T_OK(annals_query_set_range(q, "2018-06-01", "2018-06-01"));
	T_OK(annals_query_set_source(q, "fuzzy"));
	n = agg_range_count(ctx, q);
	T_EQ_U64(json_array_size(json_object_get(doc, "events")), n);
	json_array_foreach(json_object_get(doc, "events"), i, ev) {
		T_ASSERT(json_integer_value(json_object_get(json_object_get(ev,
		    "start_date"), "year")) >= 2010);
		T_ASSERT(json_string_value(json_object_get(json_object_get(ev,
		    "text"), "headline")) != NULL);
	}
	json_decref(doc);
	annals_query_free(q);
	free(out);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(agg_cli_histogram_top_co_actors_and_timelinejs)
{
	agg_check_cli(0);
}

TEST(agg_shared_cli_histogram_top_co_actors_and_timelinejs)
{
	agg_check_cli(1);
}
