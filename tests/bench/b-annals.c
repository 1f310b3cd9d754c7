/*
 * annalsd as a benchmarked system: the release build of the daemon on a
 * fresh data directory, driven through libannals as a user would.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "bench.h"
#include "../../client/annals.h"
#include "../../proto/proto.h"

static pid_t	b_annals_pid;
static char	b_annals_sock[256];
static char	b_annals_data[256];

/* The methods this daemon's protocol table names. */
#define B_ANNALS_METHOD(m)	#m,
static const char *b_annals_methods[] = {
	PROTO_METHODS(B_ANNALS_METHOD) NULL
};

static int
b_annals_has_method(const char *name)
{
	size_t	i;

	for (i = 0; b_annals_methods[i] != NULL; i++) {
		if (strcmp(b_annals_methods[i], name) == 0)
			return (1);
	}
	return (0);
}

static int
b_annals_start(const char *dir)
{
	char		 bin[4200], log[300];
	const char	*argv[12];
	int		 i = 0;

	snprintf(bin, sizeof bin, "%s/annalsd", bench_bindir());
	snprintf(b_annals_sock, sizeof b_annals_sock, "%s/annalsd.sock", dir);
	snprintf(b_annals_data, sizeof b_annals_data, "%s/data", dir);
	snprintf(log, sizeof log, "%s/annalsd.log", dir);
	argv[i++] = bin;
	argv[i++] = "--data";
	argv[i++] = b_annals_data;
	argv[i++] = "--socket";
	argv[i++] = b_annals_sock;
	argv[i++] = "--quiet";
	argv[i] = NULL;
	if ((b_annals_pid = bench_spawn(argv, log)) <= 0)
		return (-1);
	if (bench_wait_socket(b_annals_sock, b_annals_pid, 20000) != 0) {
		bench_kill(&b_annals_pid);
		return (-1);
	}
	return (0);
}

static void
b_annals_stop(void)
{
	bench_kill(&b_annals_pid);
}

static pid_t
b_annals_server_pid(void)
{
	return (b_annals_pid);
}

static void *
b_annals_connect(char *err, size_t len)
{
	annals_ctx	*ctx;

	if ((ctx = annals_connect(b_annals_sock)) == NULL) {
		snprintf(err, len, "annals_connect: out of memory");
		return (NULL);
	}
	if (annals_errcode(ctx) != 0) {
		snprintf(err, len, "%s", annals_errmsg(ctx));
		annals_free(ctx);
		return (NULL);
	}
	return (ctx);
}

static void
b_annals_disconnect(void *conn)
{
	annals_free(conn);
}

/* Point ev at r's strings; actors need room for GEN_MAX_ACTORS. */
static void
b_annals_fill(const struct gen_rec *r, struct annals_event *ev,
    struct annals_actor *actors)
{
	size_t	k;

	memset(ev, 0, sizeof *ev);
	ev->start = r->start;
	for (k = 0; k < r->nactors; k++) {
		actors[k].name = r->actors[k];
		actors[k].role = NULL;
	}
	ev->actors = actors;
	ev->nactors = r->nactors;
	ev->type = r->type;
	ev->title = r->title[0] != '\0' ? r->title : NULL;
	ev->attrs = r->attrs;
	ev->attrs_len = r->attrs_len;
}

static int
b_annals_ingest(annals_ctx *ctx, const struct bench_task *t,
    struct bench_out *out, struct bench_lat *lat)
{
	struct gen_rec		*recs;
	struct annals_event	*evs;
	struct annals_actor	*acts;
	uint64_t		 first, end, i, sent[ANNALS_MAX_PENDING];
	size_t			 n, k, head = 0, pending = 0, done;
	uint32_t		 depth = t->depth ? t->depth : 1;
	int			 rc = 0;

	if (depth > ANNALS_MAX_PENDING)
		depth = ANNALS_MAX_PENDING;
	first = t->first + t->count * (uint64_t)t->client / t->nclients;
	end = t->first + t->count * (uint64_t)(t->client + 1) / t->nclients;
	recs = calloc(t->batch, sizeof *recs);
	evs = calloc(t->batch, sizeof *evs);
	acts = calloc((size_t)t->batch * GEN_MAX_ACTORS, sizeof *acts);
	if (recs == NULL || evs == NULL || acts == NULL) {
		bench_fail(out, "out of memory");
		return (-1);
	}
	for (i = first; i < end || pending > 0;) {
		if (i < end && pending < depth) {
			n = end - i < t->batch ? (size_t)(end - i) : t->batch;
			for (k = 0; k < n; k++) {
				gen_record(bench_rec(t, i + k), &recs[k]);
				b_annals_fill(&recs[k], &evs[k],
				    acts + k * GEN_MAX_ACTORS);
			}
			sent[(head + pending) % ANNALS_MAX_PENDING] =
			    bench_now();
			if (annals_put_append(ctx, evs, n) != 0) {
				bench_fail(out, "put_append: %s",
				    annals_errmsg(ctx));
				rc = -1;
				break;
			}
			pending++;
			i += n;
			continue;
		}
		if (annals_put_wait(ctx, NULL, &done) != 0) {
			bench_fail(out, "put_wait: %s", annals_errmsg(ctx));
			rc = -1;
			break;
		}
		bench_lat_add(lat, bench_now() - sent[head]);
		head = (head + 1) % ANNALS_MAX_PENDING;
		pending--;
		out->ops++;
		out->items += done;
	}
	free(recs);
	free(evs);
	free(acts);
	return (rc);
}

/* Run q as a range or actor query; count the records of its first page. */
static int
b_annals_query_run(annals_ctx *ctx, const annals_query *q, int actor,
    uint32_t limit, struct bench_out *out)
{
	annals_iter			*it;
	const struct annals_event	*ev;
	uint32_t			 n = 0;

	it = actor ? annals_actor(ctx, q) : annals_range(ctx, q);
	if (it == NULL) {
		bench_fail(out, "%s: %s", actor ? "actor" : "range",
		    annals_errmsg(ctx));
		return (-1);
	}
	while (n < limit && (ev = annals_iter_next(it)) != NULL)
		n++;
	if (annals_iter_error(it) != 0) {
		bench_fail(out, "iter: %s", annals_errmsg(ctx));
		annals_iter_free(it);
		return (-1);
	}
	annals_iter_free(it);
	out->items += n;
	return (0);
}

static int
b_annals_range_once(annals_ctx *ctx, annals_query *q, uint64_t *seed,
    uint32_t limit, struct bench_out *out)
{
	char	from[16], to[16];
	int32_t	day = gen_query_day(seed, 30);

	gen_day_str(day, from, sizeof from);
	gen_day_str(day + 29, to, sizeof to);
	if (annals_query_set_range(q, from, to) != 0) {
		bench_fail(out, "set_range %s %s", from, to);
		return (-1);
	}
	return (b_annals_query_run(ctx, q, 0, limit, out));
}

static int
b_annals_actor_once(annals_ctx *ctx, annals_query *q, uint64_t *seed,
    uint32_t limit, struct bench_out *out)
{
	if (annals_query_set_actor(q, gen_query_actor(seed), NULL) != 0) {
		bench_fail(out, "set_actor");
		return (-1);
	}
	return (b_annals_query_run(ctx, q, 1, limit, out));
}

/*
 * Ten years by month over every event (or those of q's type): by start
 * month (the question the peers answer too), or in every month an event
 * overlaps.
 */
static int
b_annals_histogram_once(annals_ctx *ctx, annals_query *q, int mode,
    struct bench_out *out)
{
	struct annals_histogram	*h;
	char			 from[16], to[16];

	snprintf(from, sizeof from, "%d-01", HIST_FIRST_YEAR);
	snprintf(to, sizeof to, "%d-12", HIST_FIRST_YEAR + HIST_MONTHS / 12 -
	    1);
	if (annals_query_set_range(q, from, to) != 0) {
		bench_fail(out, "set_range %s %s", from, to);
		return (-1);
	}
	if (annals_histogram(ctx, q, ANNALS_BY_MONTH, mode, &h) != 0) {
		bench_fail(out, "histogram: %s", annals_errmsg(ctx));
		return (-1);
	}
	if (h->nbuckets != HIST_MONTHS) {
		bench_fail(out, "histogram: %zu buckets, not %d", h->nbuckets,
		    HIST_MONTHS);
		annals_histogram_free(h);
		return (-1);
	}
	out->items += h->nbuckets;
	annals_histogram_free(h);
	return (0);
}

static int
b_annals_put_one(annals_ctx *ctx, uint64_t idx, struct bench_out *out)
{
	struct gen_rec		rec;
	struct annals_event	ev;
	struct annals_actor	acts[GEN_MAX_ACTORS];

	gen_record(idx, &rec);
	b_annals_fill(&rec, &ev, acts);
	if (annals_put(ctx, &ev, 1, NULL) != 0) {
		bench_fail(out, "put: %s", annals_errmsg(ctx));
		return (-1);
	}
	return (0);
}

static int
b_annals_run(void *conn, const struct bench_task *t, struct bench_out *out,
    struct bench_lat *lat, struct bench_lat *lat2)
{
	annals_ctx		*ctx = conn;
	annals_query		*q = NULL;
	struct annals_event	*ev;
	uint64_t		 seed = t->seed, t0, puts = 0;
	int			 fd = -1, rc = 0, put;

	if (t->kind == W_INGEST)
		return (b_annals_ingest(ctx, t, out, lat));
	if ((q = annals_query_new()) == NULL ||
	    annals_query_set_page_size(q, t->limit) != 0) {
		bench_fail(out, "query_new: out of memory");
		annals_query_free(q);
		return (-1);
	}
	if (t->kind == W_ACTOR || t->kind == W_PREFIX)
		annals_query_set_desc(q, 1);
	if (t->kind == W_RANGE_FIELDS &&
	    annals_query_set_fields(q, RANGE_FIELDS) != 0) {
		bench_fail(out, "set_fields %s", RANGE_FIELDS);
		annals_query_free(q);
		return (-1);
	}
	if (t->kind == W_PREFIX) {
		char	prefix[16];

		snprintf(prefix, sizeof prefix, "%s*", gen_prefix());
		annals_query_set_actor(q, prefix, NULL);
	}
	if (t->kind == W_HIST_TYPE &&
	    annals_query_set_type(q, HIST_TYPE) != 0) {
		bench_fail(out, "set_type: out of memory");
		annals_query_free(q);
		return (-1);
	}
	if (t->kind == W_PING_RAW || t->kind == W_PING_PIPE) {
		if ((fd = bench_unix_connect(b_annals_sock)) == -1) {
			bench_fail(out, "connect %s", b_annals_sock);
			annals_query_free(q);
			return (-1);
		}
	}
	while (rc == 0 && bench_now() < t->deadline) {
		t0 = bench_now();
		put = 0;
		switch (t->kind) {
		case W_RANGE:
		case W_RANGE_FIELDS:
			rc = b_annals_range_once(ctx, q, &seed, t->limit, out);
			break;
		case W_ACTOR:
			rc = b_annals_actor_once(ctx, q, &seed, t->limit, out);
			break;
		case W_PREFIX:
			rc = b_annals_query_run(ctx, q, 1, t->limit, out);
			break;
		case W_GET:
			rc = annals_get(ctx, 1 + gen_rand(&seed) % t->nevents,
			    &ev);
			if (rc != 0)
				bench_fail(out, "get: %s", annals_errmsg(ctx));
			else {
				out->items++;
				annals_event_free(ev);
			}
			break;
		case W_PING:
			if ((rc = annals_ping(ctx)) != 0)
				bench_fail(out, "ping: %s", annals_errmsg(ctx));
			break;
		case W_PING_RAW:
		case W_PING_PIPE:
			rc = bench_raw_ping(fd, t->kind == W_PING_RAW ? 1 :
			    t->depth);
			if (rc != 0)
				bench_fail(out, "raw ping failed");
			out->ops += t->kind == W_PING_RAW ? 0 : t->depth - 1;
			break;
		case W_HISTOGRAM:
		case W_HIST_TYPE:
			rc = b_annals_histogram_once(ctx, q, ANNALS_COUNT_START,
			    out);
			break;
		case W_HIST_OVERLAP:
			rc = b_annals_histogram_once(ctx, q,
			    ANNALS_COUNT_OVERLAP, out);
			break;
		case W_MIXED:
			if (gen_rand(&seed) % 10 == 0) {
				put = 1;
				rc = b_annals_put_one(ctx, t->put_base +
				    (uint64_t)t->client * 100000000 + puts++,
				    out);
			} else if (gen_rand(&seed) & 1) {
				annals_query_set_actor(q, NULL, NULL);
				annals_query_set_desc(q, 0);
				rc = b_annals_range_once(ctx, q, &seed,
				    t->limit, out);
			} else {
				annals_query_set_range(q, NULL, NULL);
				annals_query_set_desc(q, 1);
				rc = b_annals_actor_once(ctx, q, &seed,
				    t->limit, out);
			}
			break;
		default:
			bench_fail(out, "workload %d not supported", t->kind);
			rc = -1;
			break;
		}
		if (rc != 0)
			break;
		bench_op_done(out, lat, lat2, put, t0);
	}
	if (fd != -1)
		close(fd);
	annals_query_free(q);
	return (rc);
}

static int
b_annals_supports(int kind)
{
	if (kind == W_HISTOGRAM || kind == W_HIST_OVERLAP ||
	    kind == W_HIST_TYPE)
		return (b_annals_has_method("histogram"));
	return (1);
}

static int
b_annals_db_cmp(const void *a, const void *b)
{
	const msgpack_object_kv	*x = a, *y = b;
	const msgpack_object	*xb, *yb;

	xb = mp_get(&x->val, "bytes");
	yb = mp_get(&y->val, "bytes");
	if (xb == NULL || yb == NULL)
		return ((xb == NULL) - (yb == NULL));
	return ((xb->via.u64 < yb->via.u64) - (xb->via.u64 > yb->via.u64));
}

/*
 * Where the bytes went: each database's share per event, largest first,
 * from stats (a line of the bench's output, for the size figures).
 */
static void
b_annals_db_shares(annals_ctx *ctx)
{
	msgpack_unpacked	 u;
	msgpack_object		*dbs;
	const msgpack_object	*ev, *b;
	void			*res = NULL;
	size_t			 len = 0;
	uint32_t		 i;

	if (annals_call(ctx, "stats", NULL, 0, &res, &len) != 0)
		return;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, res, len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS && (ev = mp_get(&u.data, "events")) !=
	    NULL && ev->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    ev->via.u64 > 0 && (dbs = (msgpack_object *)mp_get(&u.data,
	    "databases")) != NULL && dbs->type == MSGPACK_OBJECT_MAP) {
		qsort(dbs->via.map.ptr, dbs->via.map.size,
		    sizeof *dbs->via.map.ptr, b_annals_db_cmp);
		printf("annals B/event by database:");
		for (i = 0; i < dbs->via.map.size; i++) {
			b = mp_get(&dbs->via.map.ptr[i].val, "bytes");
			if (b == NULL || b->via.u64 == 0 ||
			    dbs->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
				continue;
			printf(" %.*s %.0f",
			    (int)dbs->via.map.ptr[i].key.via.str.size,
			    dbs->via.map.ptr[i].key.via.str.ptr,
			    (double)b->via.u64 / (double)ev->via.u64);
		}
		printf("\n");
	}
	msgpack_unpacked_destroy(&u);
	annals_buf_free(res);
}

/*
 * How full each database's pages are: the bytes of its keys and values
 * over the bytes of its pages, read from the data directory alongside
 * the daemon (LMDB lets another process read).  Part-empty pages are
 * what a B-tree leaves after puts in the middle of a database; annalsd
 * --compact writes them full.  Databases of under 64 pages are left out.
 */
static void
b_annals_db_fill(void)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 main_dbi, dbi;
	MDB_cursor	*mc, *cur;
	MDB_val		 k, v, ek, ev;
	MDB_stat	 ms;
	char		 name[128];
	double		 bytes, pages;

	if (mdb_env_create(&env) != 0)
		return;
	mdb_env_set_maxdbs(env, 128);
	if (mdb_env_open(env, b_annals_data, MDB_RDONLY, 0) != 0 ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0) {
		mdb_env_close(env);
		return;
	}
	printf("annals page fill by database (keys and values over pages):");
	if (mdb_dbi_open(txn, NULL, 0, &main_dbi) == 0 &&
	    mdb_cursor_open(txn, main_dbi, &mc) == 0) {
		while (mdb_cursor_get(mc, &k, &v, MDB_NEXT) == 0) {
			snprintf(name, sizeof name, "%.*s", (int)k.mv_size,
			    (const char *)k.mv_data);
			if (mdb_dbi_open(txn, name, 0, &dbi) != 0 ||
			    mdb_stat(txn, dbi, &ms) != 0)
				continue;
			pages = (double)(ms.ms_branch_pages +
			    ms.ms_leaf_pages + ms.ms_overflow_pages);
			if (pages < 64 || mdb_cursor_open(txn, dbi, &cur) != 0)
				continue;
			bytes = 0;
			while (mdb_cursor_get(cur, &ek, &ev, MDB_NEXT) == 0)
				bytes += (double)(ek.mv_size + ev.mv_size);
			mdb_cursor_close(cur);
			printf(" %s %.0f%%", name,
			    100 * bytes / (pages * ms.ms_psize));
		}
		mdb_cursor_close(mc);
	}
	printf("\n");
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

static uint64_t
b_annals_db_bytes(char *note, size_t len)
{
	struct annals_stats	 st;
	annals_ctx		*ctx;
	char			 path[300];
	uint64_t		 file;

	snprintf(path, sizeof path, "%s/data.mdb", b_annals_data);
	file = bench_file_bytes(path);
	ctx = annals_connect(b_annals_sock);
	if (ctx != NULL && annals_stats(ctx, &st) == 0) {
		snprintf(note, len, "data.mdb on disk; %llu bytes in use, "
		    "map %llu", (unsigned long long)st.db_bytes,
		    (unsigned long long)st.map_bytes);
		b_annals_db_shares(ctx);
		b_annals_db_fill();
	} else
		snprintf(note, len, "data.mdb on disk");
	annals_free(ctx);
	return (file);
}

static uint64_t
b_annals_rss(char *note, size_t len)
{
	uint64_t	busy, rss, mapped;

	/*
	 * Right after the last workload (mixed-8c writes) the daemon holds
	 * LMDB's buffers of its largest recent commit; it gives them back
	 * a second after the writes stop (annalsd --write-memory): both.
	 */
	busy = bench_proc_rss(b_annals_pid, "/data.mdb", &mapped);
	sleep(2);
	rss = bench_proc_rss(b_annals_pid, "/data.mdb", &mapped);
	snprintf(note, len, "annalsd VmRSS less %.1f MiB of data.mdb mapped, "
	    "2 s after the last write (%.1f MiB at once)", mapped / 1048576.0,
	    busy / 1048576.0);
	return (rss);
}

/*
 * annals compact on the running daemon: the data.mdb it leaves, and in
 * the note how long it took and how long writes waited.
 */
static uint64_t
b_annals_compacted(char *note, size_t len)
{
	const msgpack_object	*after, *ms, *held;
	msgpack_unpacked	 u;
	annals_ctx		*ctx;
	void			*res = NULL;
	size_t			 rlen = 0;
	uint64_t		 bytes = 0;

	ctx = annals_connect(b_annals_sock);
	if (ctx == NULL || annals_errcode(ctx) != 0 ||
	    annals_call(ctx, "compact", NULL, 0, &res, &rlen) != 0) {
		snprintf(note, len, "annals compact failed: %s", ctx != NULL ?
		    annals_errmsg(ctx) : "out of memory");
		annals_free(ctx);
		return (0);
	}
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, res, rlen, NULL) ==
	    MSGPACK_UNPACK_SUCCESS && u.data.type == MSGPACK_OBJECT_MAP &&
	    (after = mp_get(&u.data, "bytes_after")) != NULL &&
	    (ms = mp_get(&u.data, "ms")) != NULL &&
	    (held = mp_get(&u.data, "writes_held_ms")) != NULL) {
		bytes = after->via.u64;
		snprintf(note, len, "data.mdb after annals compact (%.1f s, "
		    "writes held %.1f s)", (double)ms->via.u64 / 1e3,
		    (double)held->via.u64 / 1e3);
	} else
		snprintf(note, len, "annals compact: an answer without its "
		    "figures");
	msgpack_unpacked_destroy(&u);
	annals_buf_free(res);
	annals_free(ctx);
	return (bytes);
}

const struct bench_sys bench_annals = {
	"annals",
	b_annals_start,
	b_annals_stop,
	b_annals_server_pid,
	b_annals_connect,
	b_annals_disconnect,
	b_annals_run,
	b_annals_supports,
	b_annals_db_bytes,
	b_annals_rss,
	NULL,
	"/data.mdb",
	b_annals_compacted,
};
