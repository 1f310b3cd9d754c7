/*
 * SQLite 3 as a benchmarked peer, in-process in each client: WAL,
 * synchronous=FULL (a commit is durable when it returns), mmap_size
 * set.  Table events holds one row per record with an index on its
 * start day; event_actors (actor, start_day, id) is a WITHOUT ROWID
 * table, i.e. the index on (actor, start) holding the ids.  A batch is
 * one transaction; writers from several processes take turns on the
 * database lock (busy_timeout).
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bench.h"

#define B_SQLITE_MMAP	"2147418112"	/* the largest Debian's build takes */

static char	b_sqlite_path[300];
/* What the clients read, so that reading it is not optimized away. */
static volatile size_t	b_sqlite_sink;

static const char b_sqlite_schema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, start_day INTEGER NOT "
    "NULL, end_day INTEGER NOT NULL, start TEXT NOT NULL, actors TEXT NOT "
    "NULL, type TEXT, title TEXT, attrs BLOB);"
    "CREATE INDEX events_start ON events(start_day);"
    "CREATE TABLE event_actors(actor TEXT NOT NULL, start_day INTEGER NOT "
    "NULL, id INTEGER NOT NULL, PRIMARY KEY(actor, start_day, id)) "
    "WITHOUT ROWID;";

static const char b_sqlite_cols[] =
    "e.id, e.start, e.actors, e.type, e.title, e.attrs";

struct b_sqlite_conn {
	sqlite3		*db;
	sqlite3_stmt	*ins_ev, *ins_act, *begin, *commit, *rollback;
	sqlite3_stmt	*range, *actor, *prefix, *get, *count, *rbegin;
	sqlite3_stmt	*count_type;
};

static int
b_sqlite_start(const char *dir)
{
	sqlite3	*db;
	char	*msg = NULL;
	int	 rc;

	snprintf(b_sqlite_path, sizeof b_sqlite_path, "%s/events.sqlite", dir);
	if (sqlite3_open(b_sqlite_path, &db) != SQLITE_OK) {
		fprintf(stderr, "bench: sqlite3_open %s: %s\n", b_sqlite_path,
		    sqlite3_errmsg(db));
		sqlite3_close(db);
		return (-1);
	}
	rc = sqlite3_exec(db, b_sqlite_schema, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "bench: sqlite schema: %s\n", msg);
	sqlite3_free(msg);
	sqlite3_close(db);
	return (rc == SQLITE_OK ? 0 : -1);
}

static void
b_sqlite_stop(void)
{
}

static pid_t
b_sqlite_server_pid(void)
{
	return (0);
}

static void
b_sqlite_disconnect(void *conn)
{
	struct b_sqlite_conn	*sc = conn;

	if (sc == NULL)
		return;
	sqlite3_finalize(sc->ins_ev);
	sqlite3_finalize(sc->ins_act);
	sqlite3_finalize(sc->begin);
	sqlite3_finalize(sc->commit);
	sqlite3_finalize(sc->rollback);
	sqlite3_finalize(sc->range);
	sqlite3_finalize(sc->actor);
	sqlite3_finalize(sc->prefix);
	sqlite3_finalize(sc->get);
	sqlite3_finalize(sc->count);
	sqlite3_finalize(sc->count_type);
	sqlite3_finalize(sc->rbegin);
	sqlite3_close(sc->db);
	free(sc);
}

static int
b_sqlite_prep(struct b_sqlite_conn *sc, sqlite3_stmt **st, const char *sql,
    char *err, size_t len)
{
	if (sqlite3_prepare_v2(sc->db, sql, -1, st, NULL) != SQLITE_OK) {
		snprintf(err, len, "prepare %.60s: %s", sql,
		    sqlite3_errmsg(sc->db));
		return (-1);
	}
	return (0);
}

static void *
b_sqlite_connect(char *err, size_t len)
{
	struct b_sqlite_conn	*sc;
	char			 sql[512];
	char			*msg = NULL;

	if ((sc = calloc(1, sizeof *sc)) == NULL)
		return (NULL);
	if (sqlite3_open(b_sqlite_path, &sc->db) != SQLITE_OK) {
		snprintf(err, len, "sqlite3_open %s: %s", b_sqlite_path,
		    sqlite3_errmsg(sc->db));
		b_sqlite_disconnect(sc);
		return (NULL);
	}
	if (sqlite3_exec(sc->db, "PRAGMA synchronous=FULL;"
	    "PRAGMA mmap_size=" B_SQLITE_MMAP ";PRAGMA busy_timeout=60000;",
	    NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, len, "pragma: %s", msg);
		sqlite3_free(msg);
		b_sqlite_disconnect(sc);
		return (NULL);
	}
	if (b_sqlite_prep(sc, &sc->ins_ev, "INSERT INTO events(id, start_day, "
	    "end_day, start, actors, type, title, attrs) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8)", err, len) != 0 ||
	    b_sqlite_prep(sc, &sc->ins_act, "INSERT INTO event_actors(actor, "
	    "start_day, id) VALUES (?1, ?2, ?3)", err, len) != 0 ||
	    b_sqlite_prep(sc, &sc->begin, "BEGIN IMMEDIATE", err, len) != 0 ||
	    b_sqlite_prep(sc, &sc->commit, "COMMIT", err, len) != 0 ||
	    b_sqlite_prep(sc, &sc->rollback, "ROLLBACK", err, len) != 0) {
		b_sqlite_disconnect(sc);
		return (NULL);
	}
	snprintf(sql, sizeof sql, "SELECT %s FROM events e WHERE e.start_day "
	    "BETWEEN ?1 AND ?2 ORDER BY e.start_day, e.id LIMIT ?3",
	    b_sqlite_cols);
	if (b_sqlite_prep(sc, &sc->range, sql, err, len) != 0)
		goto fail;
	snprintf(sql, sizeof sql, "SELECT %s FROM event_actors a JOIN events "
	    "e ON e.id = a.id WHERE a.actor = ?1 ORDER BY a.start_day DESC, "
	    "a.id DESC LIMIT ?2", b_sqlite_cols);
	if (b_sqlite_prep(sc, &sc->actor, sql, err, len) != 0)
		goto fail;
	/*
	 * Of the ways to write it, the fastest here: the newest ids from
	 * the actor index alone, without repeats, then their rows (10x
	 * faster than "WHERE id IN (...) ORDER BY start_day DESC").
	 */
	snprintf(sql, sizeof sql, "SELECT %s FROM (SELECT start_day, id "
	    "FROM event_actors WHERE actor >= ?1 AND actor < ?2 GROUP BY "
	    "start_day, id ORDER BY start_day DESC, id DESC LIMIT ?3) x "
	    "JOIN events e ON e.id = x.id ORDER BY x.start_day DESC, "
	    "x.id DESC", b_sqlite_cols);
	if (b_sqlite_prep(sc, &sc->prefix, sql, err, len) != 0)
		goto fail;
	snprintf(sql, sizeof sql, "SELECT %s FROM events e WHERE e.id = ?1",
	    b_sqlite_cols);
	if (b_sqlite_prep(sc, &sc->get, sql, err, len) != 0)
		goto fail;
	/* Its schema has no type index: the start index, then the rows. */
	if (b_sqlite_prep(sc, &sc->count, "SELECT count(*) FROM events WHERE "
	    "start_day >= ?1 AND start_day < ?2", err, len) != 0 ||
	    b_sqlite_prep(sc, &sc->count_type, "SELECT count(*) FROM events "
	    "WHERE start_day >= ?1 AND start_day < ?2 AND type >= ?3 AND "
	    "type < ?4", err, len) != 0 ||
	    b_sqlite_prep(sc, &sc->rbegin, "BEGIN", err, len) != 0)
		goto fail;
	return (sc);
fail:
	b_sqlite_disconnect(sc);
	return (NULL);
}

static int
b_sqlite_step_done(struct b_sqlite_conn *sc, sqlite3_stmt *st,
    struct bench_out *out)
{
	int	rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		bench_fail(out, "sqlite: %s", sqlite3_errmsg(sc->db));
		return (-1);
	}
	return (0);
}

static int
b_sqlite_insert(struct b_sqlite_conn *sc, uint64_t idx, struct bench_out *out)
{
	struct gen_rec	rec;
	char		actors[256];
	size_t		k, off = 0;

	gen_record(idx, &rec);
	actors[0] = '\0';
	for (k = 0; k < rec.nactors; k++)
		off += (size_t)snprintf(actors + off, sizeof actors - off,
		    "%s%s", k ? "," : "", rec.actors[k]);
	sqlite3_bind_int64(sc->ins_ev, 1, (sqlite3_int64)idx + 1);
	sqlite3_bind_int(sc->ins_ev, 2, rec.sday);
	sqlite3_bind_int(sc->ins_ev, 3, rec.eday);
	sqlite3_bind_text(sc->ins_ev, 4, rec.start, -1, SQLITE_STATIC);
	sqlite3_bind_text(sc->ins_ev, 5, actors, -1, SQLITE_STATIC);
	sqlite3_bind_text(sc->ins_ev, 6, rec.type, -1, SQLITE_STATIC);
	if (rec.title[0] != '\0')
		sqlite3_bind_text(sc->ins_ev, 7, rec.title, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(sc->ins_ev, 7);
	if (rec.attrs != NULL)
		sqlite3_bind_blob(sc->ins_ev, 8, rec.attrs,
		    (int)rec.attrs_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(sc->ins_ev, 8);
	if (b_sqlite_step_done(sc, sc->ins_ev, out) != 0)
		return (-1);
	for (k = 0; k < rec.nactors; k++) {
		sqlite3_bind_text(sc->ins_act, 1, rec.actors[k], -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(sc->ins_act, 2, rec.sday);
		sqlite3_bind_int64(sc->ins_act, 3, (sqlite3_int64)idx + 1);
		if (b_sqlite_step_done(sc, sc->ins_act, out) != 0)
			return (-1);
	}
	return (0);
}

/* Insert the records of places [idx, idx + n) in one transaction. */
static int
b_sqlite_batch(struct b_sqlite_conn *sc, const struct bench_task *t,
    uint64_t idx, size_t n, struct bench_out *out)
{
	size_t	k;

	if (b_sqlite_step_done(sc, sc->begin, out) != 0)
		return (-1);
	for (k = 0; k < n; k++) {
		if (b_sqlite_insert(sc, bench_rec(t, idx + k), out) != 0) {
			sqlite3_step(sc->rollback);
			sqlite3_reset(sc->rollback);
			return (-1);
		}
	}
	return (b_sqlite_step_done(sc, sc->commit, out));
}

static int
b_sqlite_ingest(struct b_sqlite_conn *sc, const struct bench_task *t,
    struct bench_out *out, struct bench_lat *lat)
{
	uint64_t	first, end, i, t0;
	size_t		n;

	first = t->first + t->count * (uint64_t)t->client / t->nclients;
	end = t->first + t->count * (uint64_t)(t->client + 1) / t->nclients;
	for (i = first; i < end; i += n) {
		n = end - i < t->batch ? (size_t)(end - i) : t->batch;
		t0 = bench_now();
		if (b_sqlite_batch(sc, t, i, n, out) != 0)
			return (-1);
		bench_lat_add(lat, bench_now() - t0);
		out->ops++;
		out->items += n;
	}
	return (0);
}

/* Step a query to its end, reading every column as a client would. */
static int
b_sqlite_rows(struct b_sqlite_conn *sc, sqlite3_stmt *st, struct bench_out *out)
{
	size_t	touched = 0;
	int	rc, c;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (c = 0; c < 6; c++) {
			if (sqlite3_column_type(st, c) == SQLITE_BLOB)
				touched += sqlite3_column_bytes(st, c) +
				    (sqlite3_column_blob(st, c) != NULL);
			else
				touched += sqlite3_column_bytes(st, c) +
				    (sqlite3_column_text(st, c) != NULL);
		}
		out->items++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		bench_fail(out, "sqlite: %s", sqlite3_errmsg(sc->db));
		return (-1);
	}
	b_sqlite_sink += touched;
	return (0);
}

static int
b_sqlite_range_once(struct b_sqlite_conn *sc, uint64_t *seed, uint32_t limit,
    struct bench_out *out)
{
	int32_t	day = gen_query_day(seed, 30);

	sqlite3_bind_int(sc->range, 1, day);
	sqlite3_bind_int(sc->range, 2, day + 29);
	sqlite3_bind_int(sc->range, 3, (int)limit);
	return (b_sqlite_rows(sc, sc->range, out));
}

static int
b_sqlite_actor_once(struct b_sqlite_conn *sc, uint64_t *seed, uint32_t limit,
    struct bench_out *out)
{
	sqlite3_bind_text(sc->actor, 1, gen_query_actor(seed), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(sc->actor, 2, (int)limit);
	return (b_sqlite_rows(sc, sc->actor, out));
}

/*
 * Ten years by month: one count over the start index per month, in one
 * read transaction (faster than GROUP BY on a computed month).
 */
static int
b_sqlite_hist_once(struct b_sqlite_conn *sc, int typed, struct bench_out *out)
{
	sqlite3_stmt	*st = typed ? sc->count_type : sc->count;
	char		 hi[8];
	int		 i, rc = 0;

	/* The type prefix as a key range: [03, 04). */
	snprintf(hi, sizeof hi, "%s", HIST_TYPE);
	hi[strlen(hi) - 1]++;
	if (b_sqlite_step_done(sc, sc->rbegin, out) != 0)
		return (-1);
	for (i = 0; i < HIST_MONTHS && rc == 0; i++) {
		sqlite3_bind_int(st, 1, gen_days(HIST_FIRST_YEAR +
		    i / 12, 1 + i % 12, 1));
		sqlite3_bind_int(st, 2, gen_days(HIST_FIRST_YEAR +
		    (i + 1) / 12, 1 + (i + 1) % 12, 1));
		if (typed) {
			sqlite3_bind_text(st, 3, HIST_TYPE, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, hi, -1, SQLITE_TRANSIENT);
		}
		if (sqlite3_step(st) != SQLITE_ROW) {
			bench_fail(out, "sqlite: %s", sqlite3_errmsg(sc->db));
			rc = -1;
		} else
			b_sqlite_sink += (size_t)sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	if (b_sqlite_step_done(sc, sc->commit, out) != 0)
		return (-1);
	out->items += HIST_MONTHS;
	return (rc);
}

static int
b_sqlite_run(void *conn, const struct bench_task *t, struct bench_out *out,
    struct bench_lat *lat, struct bench_lat *lat2)
{
	struct b_sqlite_conn	*sc = conn;
	uint64_t		 seed = t->seed, t0, puts = 0;
	char			 lo[16], hi[16];
	size_t			 plen;
	int			 ret = 0, put;

	if (t->kind == W_INGEST)
		return (b_sqlite_ingest(sc, t, out, lat));
	/* The prefix as a key range: [SYR, SYS). */
	snprintf(lo, sizeof lo, "%s", gen_prefix());
	snprintf(hi, sizeof hi, "%s", gen_prefix());
	plen = strlen(hi);
	if (plen > 0)
		hi[plen - 1]++;
	while (ret == 0 && bench_now() < t->deadline) {
		t0 = bench_now();
		put = 0;
		switch (t->kind) {
		case W_RANGE:
			ret = b_sqlite_range_once(sc, &seed, t->limit, out);
			break;
		case W_ACTOR:
			ret = b_sqlite_actor_once(sc, &seed, t->limit, out);
			break;
		case W_PREFIX:
			sqlite3_bind_text(sc->prefix, 1, lo, -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(sc->prefix, 2, hi, -1,
			    SQLITE_STATIC);
			sqlite3_bind_int(sc->prefix, 3, (int)t->limit);
			ret = b_sqlite_rows(sc, sc->prefix, out);
			break;
		case W_HISTOGRAM:
		case W_HIST_TYPE:
			ret = b_sqlite_hist_once(sc, t->kind == W_HIST_TYPE,
			    out);
			break;
		case W_GET:
			sqlite3_bind_int64(sc->get, 1, (sqlite3_int64)(1 +
			    gen_rand(&seed) % t->nevents));
			ret = b_sqlite_rows(sc, sc->get, out);
			break;
		case W_MIXED:
			if (gen_rand(&seed) % 10 == 0) {
				put = 1;
				ret = b_sqlite_batch(sc, t, t->put_base +
				    (uint64_t)t->client * 100000000 + puts++,
				    1, out);
			} else if (gen_rand(&seed) & 1)
				ret = b_sqlite_range_once(sc, &seed, t->limit,
				    out);
			else
				ret = b_sqlite_actor_once(sc, &seed, t->limit,
				    out);
			break;
		default:
			bench_fail(out, "workload %d not supported", t->kind);
			ret = -1;
			break;
		}
		if (ret != 0)
			break;
		bench_op_done(out, lat, lat2, put, t0);
	}
	return (ret);
}

static int
b_sqlite_supports(int kind)
{
	/* In-process: there is no round trip to measure. */
	return (kind != W_HIST_OVERLAP && kind != W_RANGE_FIELDS &&
	    kind != W_PING && kind != W_PING_RAW && kind != W_PING_PIPE);
}

static uint64_t
b_sqlite_db_bytes(char *note, size_t len)
{
	sqlite3	*db;
	char	 wal[320];

	/* Fold the WAL into the database, as a quiet database would be. */
	if (sqlite3_open(b_sqlite_path, &db) == SQLITE_OK)
		sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE);", NULL,
		    NULL, NULL);
	sqlite3_close(db);
	snprintf(wal, sizeof wal, "%s-wal", b_sqlite_path);
	snprintf(note, len, "events.sqlite and its WAL on disk, after a "
	    "checkpoint");
	return (bench_file_bytes(b_sqlite_path) + bench_file_bytes(wal));
}

const struct bench_sys bench_sqlite = {
	"sqlite",
	b_sqlite_start,
	b_sqlite_stop,
	b_sqlite_server_pid,
	b_sqlite_connect,
	b_sqlite_disconnect,
	b_sqlite_run,
	b_sqlite_supports,
	b_sqlite_db_bytes,
	NULL,
	"range finds events whose start day is in the window (an index on "
	"start), not all that overlap it; runs in each client process",
	"/events.sqlite",
	NULL,
};
