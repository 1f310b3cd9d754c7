/*
 * The libannals side of tests/python/bench.py: the same records and the
 * same range queries as the Python client makes there, timed in C.
 *
 *	rate SOCKET put N BATCH DEPTH	print records put per second
 *	rate SOCKET range QUERIES	print events read per second
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../client/annals.h"

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Record i as bench.py's record(i) makes it. */
struct rec {
	char			start[16], title[32], key[32], a[16], b[16];
	struct annals_actor	actors[2];
};

static void
rec_fill(struct rec *r, struct annals_event *ev, unsigned i)
{
	snprintf(r->start, sizeof r->start, "%u-%02u-%02u", 2000 + i % 20,
	    i % 12 + 1, i % 28 + 1);
	snprintf(r->title, sizeof r->title, "event %u", i);
	snprintf(r->key, sizeof r->key, "k%u", i);
	snprintf(r->a, sizeof r->a, "A%u", i % 200);
	snprintf(r->b, sizeof r->b, "B%u", i % 37);
	r->actors[0].name = r->a;
	r->actors[1].name = r->b;
	memset(ev, 0, sizeof *ev);
	ev->start = r->start;
	ev->title = r->title;
	ev->source = "bench";
	ev->key = r->key;
	ev->actors = r->actors;
	ev->nactors = 2;
}

static int
put(annals_ctx *ctx, unsigned n, unsigned batch, unsigned depth)
{
	struct rec		*recs;
	struct annals_event	*evs;
	unsigned		 i = 0, k, m, head = 0, pending = 0;

	recs = calloc((size_t)batch * ANNALS_MAX_PENDING, sizeof *recs);
	evs = calloc((size_t)batch * ANNALS_MAX_PENDING, sizeof *evs);
	if (recs == NULL || evs == NULL)
		return (-1);
	while (i < n || pending > 0) {
		if (i < n && pending < depth) {
			unsigned slot = (head + pending) % ANNALS_MAX_PENDING;

			m = n - i < batch ? n - i : batch;
			for (k = 0; k < m; k++)
				rec_fill(&recs[slot * batch + k],
				    &evs[slot * batch + k], i + k);
			if (annals_put_append(ctx, &evs[slot * batch], m) != 0)
				return (-1);
			pending++;
			i += m;
			continue;
		}
		if (annals_put_wait(ctx, NULL, NULL) != 0)
			return (-1);
		head = (head + 1) % ANNALS_MAX_PENDING;
		pending--;
	}
	free(recs);
	free(evs);
	return (0);
}

/* Query q of bench.py's queries(): one month of one of the 20 years. */
static long
range(annals_ctx *ctx, unsigned queries)
{
	annals_query	*q;
	annals_iter	*it;
	char		 from[16], to[16];
	long		 events = 0;
	unsigned	 i;

	if ((q = annals_query_new()) == NULL)
		return (-1);
	for (i = 0; i < queries; i++) {
		snprintf(from, sizeof from, "%u-%02u-01", 2000 + i % 20,
		    i % 12 + 1);
		snprintf(to, sizeof to, "%u-%02u-28", 2000 + i % 20,
		    i % 12 + 1);
		if (annals_query_set_range(q, from, to) != 0 ||
		    (it = annals_range(ctx, q)) == NULL)
			return (-1);
		while (annals_iter_next(it) != NULL)
			events++;
		annals_iter_free(it);
	}
	annals_query_free(q);
	return (events);
}

int
main(int argc, char **argv)
{
	annals_ctx	*ctx;
	double		 t0;
	long		 n;

	if (argc < 4) {
		fprintf(stderr, "usage: rate SOCKET put N BATCH DEPTH | "
		    "rate SOCKET range QUERIES\n");
		return (2);
	}
	ctx = annals_connect(argv[1]);
	if (ctx == NULL || annals_errcode(ctx) != 0) {
		fprintf(stderr, "rate: %s\n", ctx ? annals_errmsg(ctx) : "nomem");
		return (1);
	}
	t0 = now();
	if (strcmp(argv[2], "put") == 0 && argc == 6) {
		n = atol(argv[3]);
		if (put(ctx, (unsigned)n, (unsigned)atoi(argv[4]),
		    (unsigned)atoi(argv[5])) != 0) {
			fprintf(stderr, "rate: put: %s\n", annals_errmsg(ctx));
			return (1);
		}
	} else if ((n = range(ctx, (unsigned)atoi(argv[3]))) < 0) {
		fprintf(stderr, "rate: range: %s\n", annals_errmsg(ctx));
		return (1);
	}
	printf("%ld %.6f\n", n, now() - t0);
	annals_free(ctx);
	return (0);
}
