/*
 * The store on a temporary LMDB environment: writes, indexes, queries,
 * paging, and a randomized comparison with a plain in-memory model.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include <lmdb.h>

#include "../daemon/annalsd.h"
#include "../daemon/agg.h"
#include "../daemon/store-int.h"
#include "../daemon/words.h"

static struct store *
open_store_staged(size_t map, int no_text_index, size_t stage_text)
{
	struct store_config	 cfg;
	struct store		*st;
	struct aerr		 err;
	static char		 path[128];

	snprintf(path, sizeof path, "%s/db", t_dir());
	memset(&cfg, 0, sizeof cfg);
	cfg.path = path;
	cfg.map_size = map;
	cfg.max_map_size = (size_t)1 << 32;
	/* A stage of a few entries: every test also sweeps it. */
	cfg.stage_entries = 5;
	cfg.stage_text = stage_text;
	/* And each sweep checks the stage it kept in memory. */
	cfg.text_mirror_check = 1;
	cfg.no_text_index = no_text_index;
	st = store_open(&cfg, &err);
	T_ASSERTF(st != NULL, "%s", err.msg);
	return (st);
}

static struct store *
open_store_with(size_t map, int no_text_index)
{
	return (open_store_staged(map, no_text_index, 2));
}

static struct store *
open_store(size_t map)
{
	return (open_store_with(map, 0));
}

/* A write transaction on the test's store, behind the store's back. */
static MDB_txn *
raw_begin(MDB_env **env)
{
	MDB_txn	*txn;
	char	 path[128];

	snprintf(path, sizeof path, "%s/db", t_dir());
	T_OK(mdb_env_create(env));
	mdb_env_set_maxdbs(*env, STORE_DBS_MAX);
	T_OK(mdb_env_open(*env, path, 0, 0644));
	T_OK(mdb_txn_begin(*env, NULL, 0, &txn));
	return (txn);
}

/* The class and start of id's record, as its block of ids has them. */
static int
raw_id_get(MDB_txn *txn, uint64_t id, int *class, int64_t *start)
{
	struct id_block	 b;
	unsigned char	 key[8];
	MDB_dbi		 dbi;
	MDB_val		 k = { 8, key }, v;
	int		 i = (int)(id & (ID_BLOCK_IDS - 1));

	T_OK(mdb_dbi_open(txn, "idblocks", 0, &dbi));
	skey_be64(key, id >> ID_BLOCK_SHIFT);
	if (mdb_get(txn, dbi, &k, &v) != 0)
		return (MDB_NOTFOUND);
	T_OK(store_idb_decode(v.mv_data, v.mv_size, &b));
	if ((b.present & (UINT64_C(1) << i)) == 0)
		return (MDB_NOTFOUND);
	*class = b.class[i];
	*start = b.start[i];
	return (0);
}

/* Set the class and start of id's record in its block of ids. */
static void
raw_id_set(MDB_txn *txn, uint64_t id, int class, int64_t start)
{
	struct id_block	 b;
	unsigned char	 key[8], buf[ID_BLOCK_MAX];
	MDB_dbi		 dbi;
	MDB_val		 k = { 8, key }, v;
	int		 i = (int)(id & (ID_BLOCK_IDS - 1));

	T_OK(mdb_dbi_open(txn, "idblocks", 0, &dbi));
	skey_be64(key, id >> ID_BLOCK_SHIFT);
	if (mdb_get(txn, dbi, &k, &v) == 0)
		T_OK(store_idb_decode(v.mv_data, v.mv_size, &b));
	else
		b.present = 0;
	b.present |= UINT64_C(1) << i;
	b.class[i] = (unsigned char)class;
	b.start[i] = start;
	v.mv_size = store_idb_encode(&b, buf);
	v.mv_data = buf;
	T_OK(mdb_put(txn, dbi, &k, &v, 0));
}

/* Open the database of the records of class: events, or its own. */
static int
raw_rec_dbi(MDB_txn *txn, int class, MDB_dbi *dbi)
{
	char	name[32];

	store_rec_db_name(class, name, sizeof name);
	return (mdb_dbi_open(txn, name, 0, dbi));
}

/*
 * The key of id's record (start, id) and its database, events or that
 * of its class: its place is in ids.
 */
static void
raw_rec_key(MDB_txn *txn, uint64_t id, unsigned char *key, MDB_val *k,
    MDB_dbi *dbi)
{
	int64_t	start;
	int	class;

	T_OK(raw_id_get(txn, id, &class, &start));
	k->mv_size = skey_rec_key(key, start, id);
	k->mv_data = key;
	T_OK(raw_rec_dbi(txn, class, dbi));
}

/* The databases of records, by number (store_rec_db's order). */
static void
raw_rec_dbs(MDB_txn *txn, MDB_dbi *dbis)
{
	int	i;

	for (i = 0; i < REC_DBS; i++)
		T_OK(raw_rec_dbi(txn, store_rec_db_class(i), &dbis[i]));
}

static void
raw_commit(MDB_env *env, MDB_txn *txn)
{
	T_OK(mdb_txn_commit(txn));
	mdb_env_close(env);
}

/*
 * Leave the store as a daemon without an index would: its 3 databases
 * gone, and meta's word that it was complete.
 */
static void
drop_index(const char *const *dbis, const char *done)
{
	MDB_env		*env;
	MDB_txn		*txn = raw_begin(&env);
	MDB_dbi		 dbi;
	MDB_val		 k = { strlen(done), (void *)done };
	int		 d;

	for (d = 0; d < 3; d++) {
		T_OK(mdb_dbi_open(txn, dbis[d], 0, &dbi));
		T_OK(mdb_drop(txn, dbi, 1));
	}
	T_OK(mdb_dbi_open(txn, "meta", 0, &dbi));
	T_OK(mdb_del(txn, dbi, &k, NULL));
	raw_commit(env, txn);
}

/* Fill ev: actors is "RUS:source,SYRGOV"; NULLs leave fields out. */
static void
mkev(struct event *ev, const char *start, const char *end,
    const char *actors, const char *type, const char *source,
    const char *key)
{
	struct aerr	 err;
	char		*list, *tok, *save, *colon;

	memset(ev, 0, sizeof *ev);
	ev->start = strdup(start);
	ev->end = end ? strdup(end) : NULL;
	ev->type = type ? strdup(type) : NULL;
	ev->source = source ? strdup(source) : NULL;
	ev->key = key ? strdup(key) : NULL;
	ev->title = strdup("a title");
	list = strdup(actors);
	ev->actors = calloc(EVENT_MAX_ACTORS, sizeof *ev->actors);
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((colon = strchr(tok, ':')) != NULL)
			*colon++ = '\0';
		ev->actors[ev->nactors].name = strdup(tok);
		ev->actors[ev->nactors].role = colon ? strdup(colon) : NULL;
		ev->nactors++;
	}
	free(list);
	T_ASSERTF(record_validate(ev, &err) == 0, "%s: %s", start, err.msg);
}

static void
add_tag(struct event *ev, const char *tag)
{
	ev->tags = realloc(ev->tags, (ev->ntags + 1) * sizeof *ev->tags);
	ev->tags[ev->ntags++] = strdup(tag);
}

/*
 * Tests with readers on other threads do as annalsd does (commit.c): the
 * map grows only while no reader holds a transaction, since growing
 * maps the file again under them.  Readers pass the gate to read; a
 * writer about to grow closes it, so that readers looping back in
 * cannot keep it waiting, and grows once the last one is out.
 */
static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 changed;
	int		 readers;
	int		 closed;
} read_gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };

static void
gate_enter(void)
{
	T_OK(pthread_mutex_lock(&read_gate.lock));
	while (read_gate.closed)
		T_OK(pthread_cond_wait(&read_gate.changed, &read_gate.lock));
	read_gate.readers++;
	T_OK(pthread_mutex_unlock(&read_gate.lock));
}

static void
gate_leave(void)
{
	T_OK(pthread_mutex_lock(&read_gate.lock));
	if (--read_gate.readers == 0)
		T_OK(pthread_cond_broadcast(&read_gate.changed));
	T_OK(pthread_mutex_unlock(&read_gate.lock));
}

/* Grow the map with no reader inside; as store_grow(). */
static int
gate_grow(struct store *st, struct aerr *err)
{
	int	rc;

	T_OK(pthread_mutex_lock(&read_gate.lock));
	read_gate.closed = 1;
	while (read_gate.readers > 0)
		T_OK(pthread_cond_wait(&read_gate.changed, &read_gate.lock));
	rc = store_grow(st, err);
	read_gate.closed = 0;
	T_OK(pthread_cond_broadcast(&read_gate.changed));
	T_OK(pthread_mutex_unlock(&read_gate.lock));
	return (rc);
}

/* Write one op at time now; it must apply. */
static void
write1(struct store *st, struct store_op *op, uint64_t now)
{
	struct store_batch	b;
	struct aerr		err;
	int			rc;

	memset(&b, 0, sizeof b);
	b.ops = op;
	b.nops = 1;
	store_write_prepare(&b, 1);
	while ((rc = store_write_try(st, &b, 1, now, &err)) ==
	    STORE_NEED_GROW) {
		rc = gate_grow(st, &err);
		T_ASSERTF(rc == 0, "%s", err.msg);
	}
	T_ASSERTF(rc == 0, "%s", err.msg);
	T_ASSERTF(!b.failed, "%s", b.err.msg);
}

/* Put one event; returns its id and sets *status. */
static uint64_t
put1(struct store *st, struct event *ev, int *status)
{
	struct store_op		op;

	memset(&op, 0, sizeof op);
	op.kind = CHANGE_PUT;
	op.ev = ev;
	write1(st, &op, 1000);
	if (status != NULL)
		*status = op.status;
	return (op.out_id);
}

static int
del1(struct store *st, uint64_t id)
{
	struct store_op		op;

	memset(&op, 0, sizeof op);
	op.kind = CHANGE_DELETE;
	op.id = id;
	write1(st, &op, 2000);
	return (op.status);
}

struct found {
	uint64_t	*ids;
	int		*match;
	size_t		 n, cap;
	int		 more;
	int64_t		 next_start;
	uint64_t	 next_id;
};

static uint64_t
record_id(const void *data, size_t len, struct event *out)
{
	msgpack_unpacked	u;
	struct event		ev;
	struct aerr		err;
	uint64_t		id;

	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, data, len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	memset(&ev, 0, sizeof ev);
	T_ASSERTF(record_decode(&u.data, &ev, &err) == 0, "%s", err.msg);
	id = ev.id;
	if (out != NULL) {
		*out = ev;
		if (mp_get(&u.data, "rev") != NULL)
			mp_uint(mp_get(&u.data, "rev"), "rev", &out->rev, &err);
	} else
		record_clear(&ev);
	msgpack_unpacked_destroy(&u);
	return (id);
}

static int
collect(void *arg, const struct store_page *page)
{
	struct found	*f = arg;
	size_t		 i;

	for (i = 0; i < page->nhits; i++) {
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 64;
			f->ids = realloc(f->ids, f->cap * sizeof *f->ids);
			f->match = realloc(f->match, f->cap * sizeof *f->match);
		}
		f->ids[f->n] = record_id(page->hits[i].data, page->hits[i].len,
		    NULL);
		T_EQ_U64(f->ids[f->n], page->hits[i].id);
		f->match[f->n++] = page->hits[i].match;
	}
	f->more = page->more;
	f->next_start = page->next_start;
	f->next_id = page->next_id;
	return (0);
}

static void
found_free(struct found *f)
{
	free(f->ids);
	free(f->match);
	memset(f, 0, sizeof *f);
}

static void
mkquery(struct query *q, const char *from, const char *to,
    const char *actor)
{
	struct aerr	err;
	size_t		len;

	memset(q, 0, sizeof *q);
	q->kind = actor ? QUERY_ACTOR : QUERY_RANGE;
	q->from = from ? strdup(from) : NULL;
	q->to = to ? strdup(to) : NULL;
	if (actor != NULL) {
		q->actor = strdup(actor);
		len = strlen(q->actor);
		if (len > 0 && q->actor[len - 1] == '*') {
			q->actor[len - 1] = '\0';
			q->actor_prefix = 1;
		}
	}
	q->limit = PROTO_MAX_PAGE;
	T_ASSERTF(date_query_bounds(q->from, q->to, &q->qlo, &q->qhi,
	    &err) == 0, "%s", err.msg);
}

/* Every page of a query, following the resume point. */
static void
query_all(struct store *st, struct query *q, struct found *f)
{
	struct aerr	err;
	size_t		pages = 0;

	memset(f, 0, sizeof *f);
	q->has_cursor = 0;
	for (;;) {
		T_ASSERTF(store_query(st, q, NULL, collect, f, &err) == 0, "%s",
		    err.msg);
		pages++;
		T_ASSERT(pages < 100000);
		if (!f->more)
			break;
		q->has_cursor = 1;
		q->cur_start = f->next_start;
		q->cur_id = f->next_id;
	}
	q->has_cursor = 0;
}

static int
has_id(const struct found *f, uint64_t id, int *match)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		if (f->ids[i] == id) {
			if (match != NULL)
				*match = f->match[i];
			return (1);
		}
	}
	return (0);
}

TEST(store_put_get_update_delete)
{
	struct store	*st = open_store(1 << 20);
	struct event	 ev;
	struct aerr	 err;
	struct found	 f;
	struct query	 q;
	uint64_t	 id, id2;
	int		 status;

	mkev(&ev, "2015-01-26/2015-01-29", NULL, "RUS:source,SYRGOV:target",
	    "036", NULL, NULL);
	id = put1(st, &ev, &status);
	T_EQ_INT(status, STORE_ADDED);
	T_ASSERT(id >= 1);
	record_clear(&ev);

	mkev(&ev, "2014-12", NULL, "USA", "010", NULL, NULL);
	id2 = put1(st, &ev, &status);
	T_ASSERT(id2 > id);
	record_clear(&ev);

	/* Update by id: the new date moves it in the time index. */
	mkev(&ev, "2016-03-01", NULL, "RUS:source", "036", NULL, NULL);
	ev.id = id;
	T_EQ_U64(put1(st, &ev, &status), id);
	T_EQ_INT(status, STORE_UPDATED);
	record_clear(&ev);

	mkquery(&q, "2015-01", "2015-01", NULL);
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 0);
	found_free(&f);
	query_clear(&q);
	mkquery(&q, "2016-03", "2016-03", NULL);
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 1);
	T_EQ_U64(f.ids[0], id);
	found_free(&f);
	query_clear(&q);
	/* The actor dropped by the update is gone from its index. */
	mkquery(&q, NULL, NULL, "SYRGOV");
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 0);
	found_free(&f);
	query_clear(&q);

	{
		struct store_stats s;

		T_OK(store_stats(st, &s, &err));
		T_EQ_U64(s.events, 2);
		T_EQ_U64(s.actors, 2);	/* RUS, USA */
		T_EQ_U64(s.last_seq, 3);
	}

	/* An update naming an id that does not exist is not_found. */
	{
		struct store_op		op;
		struct store_batch	b;

		mkev(&ev, "2016", NULL, "RUS", NULL, NULL, NULL);
		ev.id = 999;
		memset(&op, 0, sizeof op);
		op.kind = CHANGE_PUT;
		op.ev = &ev;
		memset(&b, 0, sizeof b);
		b.ops = &op;
		b.nops = 1;
		T_OK(store_write(st, &b, 1, 5, &err));
		T_ASSERT(b.failed);
		T_EQ_INT(b.err.code, AERR_NOT_FOUND);
		T_EQ_STR(b.err.msg, "records[0]: event 999 not found");
		record_clear(&ev);
	}

	T_EQ_INT(del1(st, id2), 1);
	T_EQ_INT(del1(st, id2), 0);
	mkquery(&q, NULL, NULL, "USA");
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 0);
	found_free(&f);
	query_clear(&q);
	store_close(st);
}

TEST(store_upsert_by_source_key)
{
	struct store	*st = open_store(1 << 20);
	struct event	 ev;
	uint64_t	 id, id2;
	int		 status;

	mkev(&ev, "2015-01-14", NULL, "USA", "010", "gdelt", "881990832");
	id = put1(st, &ev, &status);
	T_EQ_INT(status, STORE_ADDED);
	record_clear(&ev);

	/* The same content again is unchanged: sync scripts rerun. */
	mkev(&ev, "2015-01-14", NULL, "USA", "010", "gdelt", "881990832");
	T_EQ_U64(put1(st, &ev, &status), id);
	T_EQ_INT(status, STORE_UNCHANGED);
	T_EQ_U64(ev.rev, 1);
	record_clear(&ev);

	mkev(&ev, "2015-01-15", NULL, "USA", "010", "gdelt", "881990832");
	id2 = put1(st, &ev, &status);
	T_EQ_U64(id2, id);
	T_EQ_INT(status, STORE_UPDATED);
	T_EQ_U64(ev.rev, 2);
	record_clear(&ev);

	{
		struct store_stats	s;
		struct aerr		err;

		T_OK(store_stats(st, &s, &err));
		T_EQ_U64(s.events, 1);
	}
	store_close(st);
}

struct got {
	struct event	ev;
	int		found;
};

static int
got_one(void *arg, size_t i, const void *data, size_t len)
{
	struct got	*g = arg;

	(void)i;
	if (data != NULL) {
		record_id(data, len, &g->ev);
		g->found = 1;
	}
	return (0);
}

TEST(store_get_by_key_and_missing)
{
	struct store	*st = open_store(1 << 20);
	struct event	 ev;
	struct got	 g;
	struct aerr	 err;
	uint64_t	 id, missing = 12345;

	mkev(&ev, "2018-06-01", NULL, "IRN:source,USA:target", "040",
	    "icews", "32830960");
	id = put1(st, &ev, NULL);
	record_clear(&ev);

	memset(&g, 0, sizeof g);
	T_OK(store_get_by_key(st, "icews", "32830960", got_one, &g, &err));
	T_ASSERT(g.found);
	T_EQ_U64(g.ev.id, id);
	T_EQ_STR(g.ev.actors[1].role, "target");
	record_clear(&g.ev);

	T_ASSERT(store_get_by_key(st, "icews", "nope", got_one, &g,
	    &err) == -1);
	T_EQ_INT(err.code, AERR_NOT_FOUND);

	memset(&g, 0, sizeof g);
	T_OK(store_get(st, &missing, 1, got_one, &g, &err));
	T_ASSERT(!g.found);
	store_close(st);
}

TEST(store_long_events_overlap_short_queries)
{
	struct store	*st = open_store(8 << 20);
	struct event	 ev;
	struct found	 f;
	struct query	 q;
	char		 date[32];
	uint64_t	 war, ongoing;
	int		 i, m;

	/* Ten years of short events, a day each. */
	for (i = 0; i < 3650; i++) {
		int64_t		y;
		unsigned	mo, d;

		date_civil_from_days(date_days_from_civil(2010, 1, 1) + i,
		    &y, &mo, &d);
		snprintf(date, sizeof date, "%04lld-%02u-%02u", (long long)y,
		    mo, d);
		mkev(&ev, date, NULL, i % 2 ? "SYRGOV" : "SYRREB", "190", NULL,
		    NULL);
		put1(st, &ev, NULL);
		record_clear(&ev);
	}
	mkev(&ev, "2011-03-15/2024-12-08", NULL, "SYR", "190", NULL, NULL);
	war = put1(st, &ev, NULL);
	record_clear(&ev);
	mkev(&ev, "2014-09-23/..", NULL, "USA", "190", NULL, NULL);
	ongoing = put1(st, &ev, NULL);
	record_clear(&ev);

	mkquery(&q, "2015-01", "2015-01", NULL);
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 31 + 2);
	T_ASSERT(has_id(&f, war, &m));
	T_EQ_INT(m, DATE_MATCH_CERTAIN);
	T_ASSERT(has_id(&f, ongoing, &m));
	/* In (start, id) order: the long events started first. */
	T_EQ_U64(f.ids[0], war);
	T_EQ_U64(f.ids[1], ongoing);
	found_free(&f);
	query_clear(&q);

	/* One week: 7 days and the two long events. */
	mkquery(&q, "2016-02-01", "2016-02-07", NULL);
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 7 + 2);
	found_free(&f);
	query_clear(&q);

	/* Outside both long events: only the short ones. */
	mkquery(&q, "2010-06-01", "2010-06-30", NULL);
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 30);
	T_ASSERT(!has_id(&f, war, NULL));
	found_free(&f);
	query_clear(&q);
	store_close(st);
}

TEST(store_fuzzy_matches_certain_and_possible)
{
	struct store	*st = open_store(1 << 20);
	struct event	 ev;
	struct found	 f;
	struct query	 q;
	uint64_t	 dec, approx, talks;
	int		 m;

	mkev(&ev, "2014-12", NULL, "RUS", "036", NULL, NULL);
	dec = put1(st, &ev, NULL);
	record_clear(&ev);
	mkev(&ev, "2014~", NULL, "IRN", "036", NULL, NULL);
	approx = put1(st, &ev, NULL);
	record_clear(&ev);
	mkev(&ev, "2015-01-26/2015-01-29", NULL, "RUS", "036", NULL, NULL);
	talks = put1(st, &ev, NULL);
	record_clear(&ev);

	mkquery(&q, "2014-12", "2014-12", NULL);
	query_all(st, &q, &f);
	T_ASSERT(has_id(&f, dec, &m));
	T_EQ_INT(m, DATE_MATCH_CERTAIN);
	T_ASSERT(has_id(&f, approx, &m));
	T_EQ_INT(m, DATE_MATCH_POSSIBLE);
	T_ASSERT(!has_id(&f, talks, NULL));
	found_free(&f);
	query_clear(&q);

	mkquery(&q, "2014-12-15", "2014-12-15", NULL);
	query_all(st, &q, &f);
	T_ASSERT(has_id(&f, dec, &m));
	T_EQ_INT(m, DATE_MATCH_POSSIBLE);
	found_free(&f);
	/* Certain only drops the possible ones. */
	q.certain = 1;
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 0);
	found_free(&f);
	query_clear(&q);

	mkquery(&q, "2015-01-28", "2015-01-28", NULL);
	query_all(st, &q, &f);
	T_ASSERT(has_id(&f, talks, &m));
	T_EQ_INT(m, DATE_MATCH_CERTAIN);
	T_ASSERT(has_id(&f, approx, &m));	/* 2014~ reaches into 2015 */
	T_EQ_INT(m, DATE_MATCH_POSSIBLE);
	found_free(&f);
	/* within: only what lies wholly inside the range. */
	q.within = 1;
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 0);
	found_free(&f);
	query_clear(&q);
	store_close(st);
}

/*
 * A range walk reads the records of the events it meets one after the
 * other, stepping over those a filter drops before their record is read
 * (store_rec_step): here runs of none to seven such records, more than
 * it steps over before it seeks instead, records large enough that the
 * steps cross leaves, and long events starting before the range, whose
 * records are far from the others.  Both orders, page by page.
 */
TEST(store_range_steps_over_dropped_records)
{
	struct store	*st = open_store(16 << 20);
	struct event	 ev;
	struct query	 q;
	struct found	 f;
	uint64_t	 all[256], days[32];
	size_t		 nall = 0, ndays = 0, i, n;
	char		 start[32], text[600];
	int		 d, k, within, desc, limit;

	memset(text, 'x', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	for (k = 1; k <= 5; k++) {
		snprintf(start, sizeof start, "2014-%02d-01", k);
		mkev(&ev, start, "2015-12-31", "RUS", "036", NULL, NULL);
		ev.text = strdup(text);
		all[nall++] = put1(st, &ev, NULL);
		record_clear(&ev);
	}
	for (d = 1; d <= 28; d++) {
		snprintf(start, sizeof start, "2015-03-%02d", d);
		mkev(&ev, start, NULL, "RUS", "036", NULL, NULL);
		ev.text = strdup(text);
		days[ndays++] = all[nall++] = put1(st, &ev, NULL);
		record_clear(&ev);
		/* Past the range: what a walk with within drops. */
		for (k = 0; k < d % 8; k++) {
			mkev(&ev, start, "2015-06-01", "USA", "036", NULL,
			    NULL);
			ev.text = strdup(text);
			all[nall++] = put1(st, &ev, NULL);
			record_clear(&ev);
		}
	}
	mkev(&ev, "2015-04-10", NULL, "RUS", "036", NULL, NULL);
	put1(st, &ev, NULL);
	record_clear(&ev);

	for (within = 0; within <= 1; within++) {
		const uint64_t	*want = within ? days : all;

		n = within ? ndays : nall;
		for (desc = 0; desc <= 1; desc++) {
			for (limit = 3; limit <= 100; limit += 97) {
				mkquery(&q, "2015-03", "2015-03", NULL);
				q.within = within;
				q.desc = desc;
				q.limit = limit;
				query_all(st, &q, &f);
				T_ASSERTF(f.n == n, "within %d desc %d limit "
				    "%d: %zu hits, expected %zu", within,
				    desc, limit, f.n, n);
				for (i = 0; i < n && i < f.n; i++)
					T_EQ_U64(f.ids[i],
					    want[desc ? n - 1 - i : i]);
				found_free(&f);
				query_clear(&q);
			}
		}
	}
	store_close(st);
}

TEST(store_actor_prefix_role_and_filters)
{
	struct store	*st = open_store(1 << 20);
	struct event	 ev;
	struct found	 f;
	struct query	 q;
	uint64_t	 a, b, c, d;

	mkev(&ev, "2015-01-10", NULL, "SYRGOV:source,RUS:target", "036",
	    "demo", "a");
	add_tag(&ev, "moscow");
	a = put1(st, &ev, NULL);
	record_clear(&ev);
	mkev(&ev, "2015-01-11", NULL, "SYRREB:source,SYRGOV:target", "0311",
	    "demo", "b");
	b = put1(st, &ev, NULL);
	record_clear(&ev);
	mkev(&ev, "2015-01", NULL, "SYR:target", "190", "gdelt", "c");
	c = put1(st, &ev, NULL);
	record_clear(&ev);
	mkev(&ev, "2015-01-12", NULL, "USA:source,SYRIA:target", "043",
	    "gdelt", "d");
	d = put1(st, &ev, NULL);
	record_clear(&ev);

	/* SYRGOV appears once per event even under a prefix. */
	mkquery(&q, NULL, NULL, "SYR*");
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 4);
	T_EQ_U64(f.ids[0], c);	/* 2015-01 starts on the 1st */
	T_EQ_U64(f.ids[1], a);
	T_EQ_U64(f.ids[2], b);
	T_EQ_U64(f.ids[3], d);
	found_free(&f);
	query_clear(&q);

	mkquery(&q, NULL, NULL, "SYRGOV");
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 2);
	found_free(&f);
	q.role = strdup("source");
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 1);
	T_EQ_U64(f.ids[0], a);
	found_free(&f);
	query_clear(&q);

	mkquery(&q, NULL, NULL, "SYR");
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 1);
	T_EQ_U64(f.ids[0], c);
	found_free(&f);
	query_clear(&q);

	/* type is a prefix: 03 finds 036 and 0311 but not 043. */
	mkquery(&q, "2015", "2015", NULL);
	q.type = strdup("03");
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 2);
	found_free(&f);
	free(q.type);
	q.type = NULL;
	q.source = strdup("gdelt");
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 2);
	found_free(&f);
	free(q.source);
	q.source = NULL;
	q.tag = strdup("moscow");
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 1);
	T_EQ_U64(f.ids[0], a);
	found_free(&f);
	free(q.tag);
	q.tag = NULL;
	/* day precision drops the month-precision event. */
	q.min_prec = DATE_PREC_DAY;
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 3);
	T_ASSERT(!has_id(&f, c, NULL));
	found_free(&f);
	q.min_prec = 0;
	q.desc = 1;
	query_all(st, &q, &f);
	T_EQ_INT(f.n, 4);
	T_EQ_U64(f.ids[0], d);
	T_EQ_U64(f.ids[3], c);
	found_free(&f);
	query_clear(&q);

	store_close(st);
}

struct actor_list {
	char		names[16][32];
	uint64_t	counts[16];
	size_t		n;
};

static int
actor_one(void *arg, const char *name, size_t len, uint64_t count)
{
	struct actor_list	*l = arg;

	T_ASSERT(l->n < 16 && len < 32);
	memcpy(l->names[l->n], name, len);
	l->names[l->n][len] = '\0';
	l->counts[l->n++] = count;
	return (0);
}

TEST(store_actor_counts_follow_deletes)
{
	struct store		*st = open_store(1 << 20);
	struct event		 ev;
	struct actor_list	 l;
	struct aerr		 err;
	uint64_t		 a;
	int			 more;

	mkev(&ev, "2015", NULL, "SYRGOV,SYRREB,SYRGOV:target", NULL, NULL,
	    NULL);
	a = put1(st, &ev, NULL);
	record_clear(&ev);
	mkev(&ev, "2016", NULL, "SYRGOV", NULL, NULL, NULL);
	put1(st, &ev, NULL);
	record_clear(&ev);

	memset(&l, 0, sizeof l);
	T_OK(store_actors(st, "SYR", NULL, 100, actor_one, &l, &more, &err));
	T_EQ_INT(l.n, 2);
	T_EQ_STR(l.names[0], "SYRGOV");
	T_EQ_U64(l.counts[0], 2);
	T_EQ_STR(l.names[1], "SYRREB");
	T_EQ_INT(more, 0);

	memset(&l, 0, sizeof l);
	T_OK(store_actors(st, "SYR", NULL, 1, actor_one, &l, &more, &err));
	T_EQ_INT(l.n, 1);
	T_EQ_INT(more, 1);
	memset(&l, 0, sizeof l);
	T_OK(store_actors(st, "SYR", "SYRGOV", 1, actor_one, &l, &more,
	    &err));
	T_EQ_STR(l.names[0], "SYRREB");

	T_EQ_INT(del1(st, a), 1);
	memset(&l, 0, sizeof l);
	T_OK(store_actors(st, NULL, NULL, 100, actor_one, &l, &more, &err));
	T_EQ_INT(l.n, 1);
	T_EQ_STR(l.names[0], "SYRGOV");
	T_EQ_U64(l.counts[0], 1);
	store_close(st);
}

/*
 * A batch b of n puts of one day, keyed k0, k1, ... of source t; the
 * caller frees *evs (each record_clear()ed) and *ops.
 */
static void
keyed_batch(int n, struct event **evs, struct store_op **ops,
    struct store_batch *b)
{
	char	key[32];
	int	i;

	*evs = calloc(n, sizeof **evs);
	*ops = calloc(n, sizeof **ops);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "k%d", i);
		mkev(&(*evs)[i], "2015-01-14", NULL, "USA,RUS", "010", "t",
		    key);
		(*ops)[i].kind = CHANGE_PUT;
		(*ops)[i].ev = &(*evs)[i];
	}
	memset(b, 0, sizeof *b);
	b->ops = *ops;
	b->nops = n;
}

TEST(store_map_full_grows_and_replays)
{
	struct store		*st = open_store(64 << 10);
	struct store_batch	 b;
	struct store_op		*ops;
	struct event		*evs;
	struct store_stats	 s;
	struct aerr		 err;
	int			 i, n = 2000;

	keyed_batch(n, &evs, &ops, &b);
	T_ASSERTF(store_write(st, &b, 1, 7, &err) == 0, "%s", err.msg);
	T_ASSERTF(!b.failed, "%s", b.err.msg);
	T_OK(store_stats(st, &s, &err));
	T_EQ_U64(s.events, (uint64_t)n);
	T_ASSERT(s.map_grows > 0);
	/* Ids were assigned once: the replay did not skip any. */
	T_EQ_U64(ops[n - 1].out_id, (uint64_t)n);
	for (i = 0; i < n; i++)
		record_clear(&evs[i]);

	/* A failing disk fails the batch and loses nothing committed. */
	store_inject_commit_error(st, 28 /* ENOSPC */, 1);
	mkev(&evs[0], "2016", NULL, "USA", NULL, NULL, NULL);
	ops[0].ev = &evs[0];
	b.nops = 1;
	T_ASSERT(store_write(st, &b, 1, 8, &err) == -1);
	T_EQ_INT(err.code, AERR_DISK_FULL);
	T_ASSERT(b.failed);
	T_OK(store_stats(st, &s, &err));
	T_EQ_U64(s.events, (uint64_t)n);
	/* And the next write succeeds without a restart. */
	T_OK(store_write(st, &b, 1, 9, &err));
	T_ASSERT(!b.failed);
	record_clear(&evs[0]);
	free(evs);
	free(ops);
	store_close(st);
}

TEST(store_paging_equals_one_shot)
{
	struct store		*st = open_store(32 << 20);
	struct store_batch	 b;
	struct store_op		*ops;
	struct event		*evs;
	struct found		 all, paged;
	struct query		 q;
	struct aerr		 err;
	char			 date[32];
	int			 i, n = 12000, desc;
	unsigned		 seed = t_seed();

	evs = calloc(n, sizeof *evs);
	ops = calloc(n, sizeof *ops);
	for (i = 0; i < n; i++) {
		int64_t		y;
		unsigned	mo, d;

		/* Several events share each day, so ids break the ties. */
		date_civil_from_days(date_days_from_civil(2000, 1, 1) +
		    rand_r(&seed) % 3000, &y, &mo, &d);
		snprintf(date, sizeof date, i % 5 ? "%04lld-%02u-%02u" :
		    "%04lld-%02u", (long long)y, mo, d);
		mkev(&evs[i], date, NULL, i % 3 ? "RUS" : "USA,RUS", "036",
		    NULL, NULL);
		ops[i].kind = CHANGE_PUT;
		ops[i].ev = &evs[i];
	}
	memset(&b, 0, sizeof b);
	b.ops = ops;
	b.nops = n;
	T_ASSERTF(store_write(st, &b, 1, 7, &err) == 0, "%s", err.msg);
	for (i = 0; i < n; i++)
		record_clear(&evs[i]);
	free(evs);
	free(ops);

	for (desc = 0; desc < 2; desc++) {
		mkquery(&q, NULL, NULL, "RUS");
		q.desc = desc;
		memset(&all, 0, sizeof all);
		T_OK(store_query(st, &q, NULL, collect, &all, &err));
		T_EQ_INT(all.n, PROTO_MAX_PAGE);
		T_EQ_INT(all.more, 1);	/* 12000 > one page of 10000 */
		found_free(&all);
		q.limit = PROTO_MAX_PAGE;
		query_all(st, &q, &all);
		T_EQ_INT(all.n, (size_t)n);
		q.limit = 97;
		query_all(st, &q, &paged);
		T_EQ_INT(paged.n, all.n);
		T_ASSERT(memcmp(paged.ids, all.ids, all.n *
		    sizeof *all.ids) == 0);
		for (i = 1; i < n; i++)
			T_ASSERT(all.ids[i] != all.ids[i - 1]);
		found_free(&all);
		found_free(&paged);
		query_clear(&q);
	}
	store_close(st);
}

/* The model: what the store should hold, kept in plain arrays. */
struct model_ev {
	uint64_t		 id;
	int			 live;
	char			 start[32];
	char			 actors[3][8];
	int			 nactors;
	char			 type[8];	/* "": none */
	struct date_span	 span;
};

static void
random_event(unsigned *seed, struct model_ev *m, struct event *ev)
{
	static const char *const codes[] = { "RUS", "SYR", "SYRGOV",
	    "SYRREB", "USA", "IRN", "TUR" };
	static const char *const quals[] = { "", "", "", "~", "?", "%" };
	/* CAMEO-like codes, a literal '*', and no type at all. */
	static const char *const types[] = { "036", "0361", "03", "030",
	    "031", "032", "033", "037", "04", "042", "190", "19", "1", "03*",
	    "" };
	char		actors[64];
	int64_t		y, y2;
	unsigned	mo, d, mo2, d2;
	int64_t		day = date_days_from_civil(1990, 1, 1) +
			    rand_r(seed) % 12000;
	int		kind = rand_r(seed) % 10, i;

	date_civil_from_days(day, &y, &mo, &d);
	date_civil_from_days(day + rand_r(seed) % (kind == 9 ? 4000 : 30),
	    &y2, &mo2, &d2);
	if (kind < 4)
		snprintf(m->start, sizeof m->start, "%04lld-%02u-%02u%s",
		    (long long)y, mo, d, quals[rand_r(seed) % 6]);
	else if (kind < 6)
		snprintf(m->start, sizeof m->start, "%04lld-%02u%s",
		    (long long)y, mo, quals[rand_r(seed) % 6]);
	else if (kind < 7)
		snprintf(m->start, sizeof m->start, "%04lld%s", (long long)y,
		    quals[rand_r(seed) % 6]);
	else
		snprintf(m->start, sizeof m->start,
		    "%04lld-%02u-%02u/%04lld-%02u-%02u", (long long)y, mo, d,
		    (long long)y2, mo2, d2);
	m->nactors = 1 + rand_r(seed) % 3;
	actors[0] = '\0';
	for (i = 0; i < m->nactors; i++) {
		snprintf(m->actors[i], sizeof m->actors[i], "%s",
		    codes[rand_r(seed) % 7]);
		if (i > 0)
			strcat(actors, ",");
		strcat(actors, m->actors[i]);
	}
	snprintf(m->type, sizeof m->type, "%s", types[rand_r(seed) %
	    (sizeof types / sizeof types[0])]);
	mkev(ev, m->start, NULL, actors, *m->type ? m->type : NULL, NULL,
	    NULL);
	m->span = ev->span;
}

static int
model_has_actor(const struct model_ev *m, const char *actor, int prefix)
{
	int	i;

	for (i = 0; i < m->nactors; i++) {
		if (prefix ? strncmp(m->actors[i], actor,
		    strlen(actor)) == 0 : strcmp(m->actors[i], actor) == 0)
			return (1);
	}
	return (0);
}

/* Whether m passes a query over [lo, hi] with these filters (or NULL). */
static int
model_passes(const struct model_ev *m, int64_t lo, int64_t hi,
    const char *type, const char *actor, int prefix)
{
	if (!m->live || date_match(&m->span, lo, hi) == DATE_MATCH_NONE)
		return (0);
	if (type != NULL && strncmp(m->type, type, strlen(type)) != 0)
		return (0);
	return (actor == NULL || model_has_actor(m, actor, prefix));
}

/* Random puts, updates and deletes, in the store and in the model. */
static size_t
model_fill(struct store *st, unsigned *seed, struct model_ev *model,
    int rounds)
{
	struct event	ev;
	size_t		n = 0, k;
	int		round, op, status;

	for (round = 0; round < rounds; round++) {
		op = rand_r(seed) % 10;
		if (op < 6 || n == 0) {
			random_event(seed, &model[n], &ev);
			model[n].id = put1(st, &ev, &status);
			T_EQ_INT(status, STORE_ADDED);
			model[n].live = 1;
			record_clear(&ev);
			n++;
		} else if (op < 8) {
			k = rand_r(seed) % n;
			if (!model[k].live)
				continue;
			random_event(seed, &model[k], &ev);
			ev.id = model[k].id;
			T_EQ_U64(put1(st, &ev, &status), model[k].id);
			record_clear(&ev);
		} else {
			k = rand_r(seed) % n;
			T_EQ_INT(del1(st, model[k].id), model[k].live);
			model[k].live = 0;
		}
	}
	return (n);
}

static int
model_cmp(const void *a, const void *b)
{
	const struct model_ev *x = *(struct model_ev *const *)a;
	const struct model_ev *y = *(struct model_ev *const *)b;

	if (x->span.lo != y->span.lo)
		return (x->span.lo < y->span.lo ? -1 : 1);
	return (x->id < y->id ? -1 : x->id > y->id);
}

TEST(store_randomized_against_model)
{
	static const char *const actors[] = { "RUS", "SYR*", "SYRGOV", "USA",
	    "IRN", "S*", NULL };
	struct store		*st = open_store(16 << 20);
	struct model_ev		*model, **expect;
	struct found		 f;
	struct query		 q;
	struct store_check	*check;
	struct aerr		 err;
	char			 from[16], to[16];
	unsigned		 seed = t_seed();
	size_t			 n, i, cap = 4000;
	int			 qi;

	model = calloc(cap, sizeof *model);
	expect = calloc(cap, sizeof *expect);
	n = model_fill(st, &seed, model, 3000);

	for (qi = 0; qi < 300; qi++) {
		int		y = 1989 + rand_r(&seed) % 36;
		const char	*actor = rand_r(&seed) % 2 ? NULL :
				    actors[rand_r(&seed) % 6];
		size_t		ne = 0, alen;
		int		prefix = 0;
		char		abuf[16];

		snprintf(from, sizeof from, "%d-%02d", y,
		    1 + rand_r(&seed) % 12);
		snprintf(to, sizeof to, "%d-%02d", y + rand_r(&seed) % 2,
		    1 + rand_r(&seed) % 12);
		if (strcmp(to, from) < 0)
			snprintf(to, sizeof to, "%s", from);
		mkquery(&q, from, to, actor);
		q.limit = 1 + rand_r(&seed) % 50;
		q.desc = rand_r(&seed) % 2;
		query_all(st, &q, &f);

		if (actor != NULL) {
			snprintf(abuf, sizeof abuf, "%s", actor);
			alen = strlen(abuf);
			if (abuf[alen - 1] == '*') {
				abuf[alen - 1] = '\0';
				prefix = 1;
			}
		}
		for (i = 0; i < n; i++) {
			if (model_passes(&model[i], q.qlo, q.qhi, NULL,
			    actor != NULL ? abuf : NULL, prefix))
				expect[ne++] = &model[i];
		}
		qsort(expect, ne, sizeof *expect, model_cmp);
		T_ASSERTF(f.n == ne, "%s..%s actor %s: got %zu, expected %zu",
		    from, to, actor ? actor : "-", f.n, ne);
		for (i = 0; i < ne; i++) {
			uint64_t want = expect[q.desc ? ne - 1 - i : i]->id;

			T_ASSERTF(f.ids[i] == want, "%s..%s: hit %zu is %llu, "
			    "expected %llu", from, to, i,
			    (unsigned long long)f.ids[i],
			    (unsigned long long)want);
		}
		found_free(&f);
		query_clear(&q);
	}
	/* Swept and staged entries, every one where it belongs. */
	check = calloc(1, sizeof *check);
	T_OK(store_check(st, check, &err));
	T_ASSERTF(check->nproblems == 0, "%s", check->problems[0]);
	free(check);
	free(model);
	free(expect);
	store_close(st);
}

/* Actors and their event counts, as top_actors and co_actors order them. */
struct tally {
	char		 name[8];
	uint64_t	 count;
};

static int
tally_cmp(const void *a, const void *b)
{
	const struct tally	*x = a, *y = b;

	if (x->count != y->count)
		return (x->count > y->count ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/*
 * Count the actors of the model's events passing the filters, leaving
 * out those the actor filter names (co_actors); returns how many.
 */
static size_t
model_tally(const struct model_ev *model, size_t n, const struct query *q,
    const char *type, const char *actor, int prefix, struct tally *t,
    uint64_t *events)
{
	size_t	i, j, nt = 0;
	int	a, b;

	*events = 0;
	for (i = 0; i < n; i++) {
		if (!model_passes(&model[i], q->qlo, q->qhi, type, actor,
		    prefix))
			continue;
		(*events)++;
		for (a = 0; a < model[i].nactors; a++) {
			const char *name = model[i].actors[a];

			for (b = 0; b < a; b++) {
				if (strcmp(model[i].actors[b], name) == 0)
					break;
			}
			if (b < a || (actor != NULL && (prefix ?
			    strncmp(name, actor, strlen(actor)) == 0 :
			    strcmp(name, actor) == 0)))
				continue;
			for (j = 0; j < nt && strcmp(t[j].name, name); j++)
				;
			if (j == nt) {
				snprintf(t[nt].name, sizeof t[nt].name, "%s",
				    name);
				t[nt++].count = 0;
			}
			t[j].count++;
		}
	}
	qsort(t, nt, sizeof *t, tally_cmp);
	return (nt);
}

/*
 * Make q's histogram as the model checks it: by year counting overlaps
 * (mode 0), or by month counting starts (mode 1).
 */
static void
model_hist(struct store *st, const struct query *q, int mode,
    struct agg_hist *h)
{
	struct aerr	err;

	memset(h, 0, sizeof *h);
	h->by = mode ? DATE_BY_MONTH : DATE_BY_YEAR;
	h->mode = mode ? AGG_COUNT_START : AGG_COUNT_OVERLAP;
	T_ASSERTF(store_histogram(st, q, h, &err) == 0, "%s", err.msg);
}

/* Bucket b of h, clipped to q's range as the histogram clips it. */
static void
model_bucket(const struct agg_hist *h, const struct query *q, size_t b,
    int64_t *lo, int64_t *hi)
{
	*lo = agg_bucket_start(h->by, h->first + (int64_t)b);
	*hi = agg_bucket_start(h->by, h->first + (int64_t)b + 1) - 1;
	if (*lo < q->qlo)
		*lo = q->qlo;
	if (*hi > q->qhi)
		*hi = q->qhi;
}

/* Histograms, top and co-actors of q (with type) against the model. */
static void
type_check_aggs(struct store *st, const struct model_ev *model, size_t n,
    struct query *q, const char *type, const char *actor, int prefix)
{
	struct agg_hist	 h;
	struct agg_list	 l;
	struct tally	 t[16];
	struct aerr	 err;
	int64_t		 lo, hi;
	uint64_t	 want, events;
	size_t		 b, i, nt;
	int		 mode;

	for (mode = 0; mode < 2; mode++) {
		model_hist(st, q, mode, &h);
		for (b = 0; b < h.n; b++) {
			model_bucket(&h, q, b, &lo, &hi);
			for (want = 0, i = 0; i < n; i++) {
				if (!model_passes(&model[i], lo, hi, type,
				    actor, prefix))
					continue;
				if (h.mode == AGG_COUNT_OVERLAP ||
				    (model[i].span.lo >= lo &&
				    model[i].span.lo <= hi))
					want++;
			}
			T_ASSERTF(h.counts[b] == want, "type %s actor %s mode "
			    "%d bucket %zu: %llu, expected %llu", type,
			    actor ? actor : "-", h.mode, b,
			    (unsigned long long)h.counts[b],
			    (unsigned long long)want);
		}
		agg_hist_free(&h);
	}

	nt = model_tally(model, n, q, type, actor, prefix, t, &events);
	memset(&l, 0, sizeof l);
	if (actor == NULL)
		T_OK(store_top_actors(st, q, NULL, 100, &l, &err));
	else {
		T_OK(store_co_actors(st, q, 100, &l, &err));
		T_EQ_U64(l.events, events);
	}
	T_ASSERTF(l.n == nt, "type %s actor %s: %zu actors, expected %zu",
	    type, actor ? actor : "-", l.n, nt);
	for (i = 0; i < nt; i++) {
		T_ASSERTF(strcmp(l.items[i].name, t[i].name) == 0 &&
		    l.items[i].count == t[i].count, "type %s actor %s: %s %llu,"
		    " expected %s %llu", type, actor ? actor : "-",
		    l.items[i].name, (unsigned long long)l.items[i].count,
		    t[i].name, (unsigned long long)t[i].count);
	}
	agg_list_free(&l);
}

/*
 * Type filters answered from the type index (issue #16) give what a
 * filter on every record gives: range and actor pages, histograms, top
 * and co-actors, over random puts, updates and deletes with a stage of a
 * few entries; then the same once the index is rebuilt on opening a
 * store written without it.
 */
TEST(store_type_index_against_model)
{
	static const char *const types[] = { "0", "03", "036", "0361",
	    "03*", "1", "19", "190", "04", "2" };
	static const char *const actors[] = { "RUS", "SYR*", "USA", "S*" };
	static const char *const dbis[] = { "type", "type_new", "types" };
	struct store		*st = open_store(16 << 20);
	struct model_ev		*model, **expect;
	struct store_check	*check = calloc(1, sizeof *check);
	struct found		 f;
	struct query		 q;
	struct aerr		 err;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	char			 from[16], to[16], abuf[16];
	unsigned		 seed = t_seed();
	size_t			 n, i, ne;
	int			 pass, qi, y, prefix;

	model = calloc(3000, sizeof *model);
	expect = calloc(3000, sizeof *expect);
	n = model_fill(st, &seed, model, 2500);
	for (pass = 0; pass < 2; pass++) {
		for (qi = 0; qi < 120; qi++) {
			const char	*type = types[rand_r(&seed) % 10];
			const char	*actor = rand_r(&seed) % 2 ? NULL :
					    actors[rand_r(&seed) % 4];

			y = 1989 + rand_r(&seed) % 36;
			snprintf(from, sizeof from, "%d-%02d", y,
			    1 + rand_r(&seed) % 12);
			snprintf(to, sizeof to, "%d-12", y + rand_r(&seed) % 3);
			mkquery(&q, from, to, actor);
			q.type = strdup(type);
			q.limit = 1 + rand_r(&seed) % 50;
			q.desc = rand_r(&seed) % 2;
			query_all(st, &q, &f);
			prefix = q.actor_prefix;
			if (actor != NULL)
				snprintf(abuf, sizeof abuf, "%s", q.actor);
			for (ne = 0, i = 0; i < n; i++) {
				if (model_passes(&model[i], q.qlo, q.qhi, type,
				    actor ? abuf : NULL, prefix))
					expect[ne++] = &model[i];
			}
			qsort(expect, ne, sizeof *expect, model_cmp);
			T_ASSERTF(f.n == ne, "%s..%s type %s actor %s: got %zu,"
			    " expected %zu", from, to, type, actor ? actor :
			    "-", f.n, ne);
			for (i = 0; i < ne; i++)
				T_EQ_U64(f.ids[i],
				    expect[q.desc ? ne - 1 - i : i]->id);
			found_free(&f);
			type_check_aggs(st, model, n, &q, type, actor ? abuf :
			    NULL, prefix);
			query_clear(&q);
		}
		T_OK(store_check(st, check, &err));
		T_ASSERTF(check->nproblems == 0, "%s", check->problems[0]);
		store_close(st);
		if (pass == 1)
			break;
		/* As a daemon before the type index left the store. */
		drop_index(dbis, "typed_to");
		st = open_store(16 << 20);
	}
	/* An entry gone from the type index is found by the check. */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "type", 0, &dbi));
	{
		MDB_cursor	*cur;
		MDB_val		 ck, cv;

		T_OK(mdb_cursor_open(txn, dbi, &cur));
		T_OK(mdb_cursor_get(cur, &ck, &cv, MDB_FIRST));
		T_OK(mdb_cursor_del(cur, 0));
		mdb_cursor_close(cur);
	}
	raw_commit(env, txn);
	st = open_store(16 << 20);
	T_OK(store_check(st, check, &err));
	T_ASSERT(check->nproblems >= 2);	/* the record, the count */
	T_ASSERT(strstr(check->problems[0], "type") != NULL);
	store_close(st);
	free(check);
	free(model);
	free(expect);
}

struct change_list {
	uint64_t	seq[64], id[64];
	int		op[64];
	size_t		n;
};

static int
change_one(void *arg, const struct store_change *ch)
{
	struct change_list	*l = arg;

	T_ASSERT(l->n < 64);
	l->seq[l->n] = ch->seq;
	l->id[l->n] = ch->id;
	l->op[l->n] = ch->op;
	if (ch->op == CHANGE_PUT)
		T_EQ_U64(record_id(ch->data, ch->len, NULL), ch->id);
	else
		T_ASSERT(ch->data == NULL);
	l->n++;
	return (0);
}

TEST(store_change_log_is_compacted_and_pruned)
{
	struct store_config	 cfg;
	struct store		*st;
	struct change_list	 l;
	struct event		 ev;
	struct aerr		 err;
	char			 path[128];
	uint64_t		 a, b, c, next, last;
	int			 more;

	snprintf(path, sizeof path, "%s/db", t_dir());
	memset(&cfg, 0, sizeof cfg);
	cfg.path = path;
	cfg.map_size = 1 << 20;
	cfg.max_map_size = 1 << 24;
	cfg.changes_keep_ms = 1000;
	st = store_open(&cfg, &err);
	T_ASSERTF(st != NULL, "%s", err.msg);

	mkev(&ev, "2015", NULL, "RUS", NULL, "s", "a");
	a = put1(st, &ev, NULL);		/* seq 1 */
	record_clear(&ev);
	mkev(&ev, "2016", NULL, "USA", NULL, "s", "b");
	b = put1(st, &ev, NULL);		/* seq 2 */
	record_clear(&ev);
	mkev(&ev, "2017", NULL, "IRN", NULL, "s", "c");
	c = put1(st, &ev, NULL);		/* seq 3 */
	record_clear(&ev);
	mkev(&ev, "2015-06", NULL, "RUS", NULL, "s", "a");
	T_EQ_U64(put1(st, &ev, NULL), a);	/* seq 4 replaces 1 */
	record_clear(&ev);
	T_EQ_INT(del1(st, b), 1);		/* seq 5 replaces 2 */
	T_EQ_U64(store_last_seq(st), 5);

	memset(&l, 0, sizeof l);
	T_OK(store_changes(st, 0, 100, change_one, &l, &next, &more, &last,
	    &err));
	T_EQ_INT(l.n, 3);
	T_EQ_U64(l.seq[0], 3);
	T_EQ_U64(l.id[0], c);
	T_EQ_U64(l.seq[1], 4);
	T_EQ_U64(l.id[1], a);
	T_EQ_U64(l.seq[2], 5);
	T_EQ_U64(l.id[2], b);
	T_EQ_INT(l.op[2], CHANGE_DELETE);
	T_EQ_U64(next, 5);
	T_EQ_U64(last, 5);
	T_EQ_INT(more, 0);

	/* Paging: two at a time from seq 3. */
	memset(&l, 0, sizeof l);
	T_OK(store_changes(st, 3, 1, change_one, &l, &next, &more, &last,
	    &err));
	T_EQ_INT(l.n, 1);
	T_EQ_U64(next, 4);
	T_EQ_INT(more, 1);

	/* The deletion (logged at time 2000) is pruned at time 5000. */
	store_prune_soon(st);
	{
		struct store_op		op;
		struct store_batch	bt;

		mkev(&ev, "2018", NULL, "TUR", NULL, NULL, NULL);
		memset(&op, 0, sizeof op);
		op.kind = CHANGE_PUT;
		op.ev = &ev;
		memset(&bt, 0, sizeof bt);
		bt.ops = &op;
		bt.nops = 1;
		T_OK(store_write(st, &bt, 1, 5000, &err));
		record_clear(&ev);
	}
	T_ASSERT(store_changes(st, 0, 100, change_one, &l, &next, &more,
	    &last, &err) == -1);
	T_EQ_INT(err.code, AERR_EXPIRED);
	memset(&l, 0, sizeof l);
	T_OK(store_changes(st, 5, 100, change_one, &l, &next, &more, &last,
	    &err));
	T_EQ_INT(l.n, 1);
	T_EQ_U64(l.seq[0], 6);
	store_close(st);
}

/*
 * Every cut of the encoding buf of len bytes is refused, and each of its
 * bytes changed is refused or decodes within its bytes (the sanitizers'
 * build checks), each in a buffer of its own size.
 */
static void
damage_each_byte(const unsigned char *buf, size_t len,
    int (*decodes)(const void *, size_t), unsigned *seed)
{
	unsigned char	*p;
	size_t		 cut;

	for (cut = 0; cut < len; cut++) {
		p = malloc(cut ? cut : 1);
		T_ASSERT(p != NULL);
		memcpy(p, buf, cut);
		T_ASSERT(decodes(p, cut) != 0);
		free(p);
		p = malloc(len);
		T_ASSERT(p != NULL);
		memcpy(p, buf, len);
		p[cut] ^= (unsigned char)(1 + rand_r(seed) % 255);
		(void)decodes(p, len);
		free(p);
	}
}

/* The bitmap of a random block of 64, every seventh round full. */
static uint64_t
random_present(unsigned *seed, int round)
{
	uint64_t	present;

	present = (uint64_t)rand_r(seed) << 33 ^ (uint64_t)rand_r(seed) << 11 ^
	    (uint64_t)rand_r(seed);
	if (round % 7 == 0)
		present = UINT64_MAX;
	return (present != 0 ? present : 1);
}

static int
idb_decodes(const void *p, size_t len)
{
	struct id_block	b;

	return (store_idb_decode(p, len, &b));
}

static int
log_decodes(const void *p, size_t len)
{
	struct log_block	b;

	return (store_log_decode(p, len, &b));
}

/*
 * A block of ids comes back as encoded, whatever its starts: days and
 * seconds apart, far apart (written whole), before 1970 and the ends of
 * time, each class; and any cut or changed byte of one is refused or
 * decodes within its bytes (the sanitizers' build checks).
 */
TEST(store_ids_blocks_encode_and_decode)
{
	static const int64_t	 far[] = { DATE_NEG_INF, DATE_POS_INF,
				    INT64_MIN + 1, INT64_MAX - 86400, 0,
				    -62135596800, 253402300799 };
	struct id_block		 b, d;
	unsigned char		 buf[ID_BLOCK_MAX];
	unsigned		 seed = t_seed();
	size_t			 len;
	int			 round, i;

	for (round = 0; round < 2000; round++) {
		b.present = random_present(&seed, round);
		for (i = 0; i < ID_BLOCK_IDS; i++) {
			switch (rand_r(&seed) % 4) {
			case 0:
				b.start[i] = far[rand_r(&seed) % 7];
				break;
			case 1:
				b.start[i] = (int64_t)(rand_r(&seed) % 20000 -
				    10000) * 86400;
				break;
			default:
				b.start[i] = (int64_t)rand_r(&seed) -
				    RAND_MAX / 2;
				break;
			}
			b.class[i] = rand_r(&seed) % 3 == 0 ? (unsigned char)
			    (SKEY_REC_SHORT + 1 + rand_r(&seed) %
			    (SKEY_CLASS_INF - SKEY_REC_SHORT)) : 0;
		}
		len = store_idb_encode(&b, buf);
		T_ASSERT(len <= ID_BLOCK_MAX);
		T_OK(store_idb_decode(buf, len, &d));
		T_EQ_U64(d.present, b.present);
		for (i = 0; i < ID_BLOCK_IDS; i++) {
			if ((b.present & (UINT64_C(1) << i)) == 0)
				continue;
			T_ASSERTF(d.start[i] == b.start[i] &&
			    d.class[i] == b.class[i], "round %d, id %d: %lld "
			    "class %d came back as %lld class %d", round, i,
			    (long long)b.start[i], b.class[i],
			    (long long)d.start[i], d.class[i]);
		}
		if (round % 50 == 0)
			damage_each_byte(buf, len, idb_decodes, &seed);
	}
}

/*
 * Ids live 64 to a block: a block whose ids are all deleted goes, one
 * that keeps some shrinks, a moved start moves with its id, and a day of
 * events takes about a byte an id.
 */
TEST(store_ids_blocks_follow_puts_moves_and_deletes)
{
	struct store		*st = open_store(4 << 20);
	struct store_check	*c = calloc(1, sizeof *c);
	struct event		 ev;
	struct aerr		 err;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_stat		 ms;
	MDB_val			 v;
	MDB_val			 k = { 8, NULL };
	unsigned char		 key[SKEY_REC_LEN];
	uint64_t		 id;
	int64_t			 start;
	int			 class;
	char			 day[16];

	for (id = 1; id <= 200; id++) {
		snprintf(day, sizeof day, "2015-01-%02d", 1 + (int)(id / 10));
		mkev(&ev, day, NULL, "RUS", "036", NULL, NULL);
		T_EQ_U64(put1(st, &ev, NULL), id);
		record_clear(&ev);
	}
	for (id = 64; id < 128; id++)
		del1(st, id);
	del1(st, 130);
	/* 150 to 2014~ (fuzzy: a long class), 160 to before 1970. */
	mkev(&ev, "2014~", NULL, "RUS", "036", NULL, NULL);
	ev.id = 150;
	T_EQ_U64(put1(st, &ev, NULL), 150);
	record_clear(&ev);
	mkev(&ev, "-0044-03-15", NULL, "RUS", "036", NULL, NULL);
	ev.id = 160;
	T_EQ_U64(put1(st, &ev, NULL), 160);
	record_clear(&ev);
	T_OK(store_check(st, c, &err));
	T_ASSERTF(c->nproblems == 0, "%s", c->problems[0]);
	T_EQ_U64(c->events, 200 - 65);
	store_close(st);

	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "idblocks", 0, &dbi));
	T_OK(mdb_stat(txn, dbi, &ms));
	/* 0 to 63, 128 to 191, 192 to 200: the block of 64 to 127 went. */
	T_EQ_U64(ms.ms_entries, 3);
	T_ASSERT(raw_id_get(txn, 100, &class, &start) == MDB_NOTFOUND);
	T_ASSERT(raw_id_get(txn, 130, &class, &start) == MDB_NOTFOUND);
	T_OK(raw_id_get(txn, 131, &class, &start));
	T_EQ_INT(class, 0);
	T_ASSERT(start == 1420070400 + 13 * 86400);	/* 2015-01-14 */
	T_OK(raw_id_get(txn, 150, &class, &start));
	T_ASSERT(class > SKEY_REC_SHORT);
	T_OK(raw_id_get(txn, 160, &class, &start));
	T_ASSERT(start < 0);
	raw_rec_key(txn, 160, key, &k, &dbi);
	T_OK(mdb_get(txn, dbi, &k, &v));
	/* The first block: 63 ids of 21 days, in a few bytes each. */
	T_OK(mdb_dbi_open(txn, "idblocks", 0, &dbi));
	memset(key, 0, 8);
	k.mv_size = 8;
	k.mv_data = key;
	T_OK(mdb_get(txn, dbi, &k, &v));
	T_ASSERTF(v.mv_size <= 8 + 63 + 8, "a block of %zu bytes", v.mv_size);
	raw_commit(env, txn);
	free(c);
}

/*
 * A block of the change log comes back as encoded, whatever its
 * entries: puts and deletes of ids close, far apart (written whole) and
 * at the ends, dictionary keys of every length; and any cut or changed
 * byte of one is refused or decodes within its bytes.
 */
TEST(store_log_blocks_encode_and_decode)
{
	static const uint64_t	 far[] = { 0, 1, UINT64_MAX, UINT64_MAX - 1,
				    UINT64_C(1) << 61, UINT64_C(1) << 63 };
	static const int	 ops[] = { CHANGE_PUT, CHANGE_DELETE,
				    CHANGE_DICT_PUT, CHANGE_DICT_DELETE };
	static unsigned char	 keys[LOG_BLOCK_SEQS][DICT_KEY_MAX];
	static unsigned char	 buf[LOG_BLOCK_MAX];
	struct log_block	 b, d;
	struct log_entry	*e, *f;
	unsigned		 seed = t_seed();
	uint64_t		 id = 1000;
	size_t			 len, j;
	int			 round, i;

	for (round = 0; round < 2000; round++) {
		b.present = random_present(&seed, round);
		for (i = 0; i < LOG_BLOCK_SEQS; i++) {
			e = &b.e[i];
			memset(e, 0, sizeof *e);
			/* Mostly events, as a log holds them. */
			e->op = ops[rand_r(&seed) % 8 < 6 ? rand_r(&seed) % 2 :
			    2 + rand_r(&seed) % 2];
			if (e->op == CHANGE_DICT_PUT ||
			    e->op == CHANGE_DICT_DELETE) {
				e->dkeylen = rand_r(&seed) % 5 == 0 ?
				    DICT_KEY_MAX : 1 + (size_t)rand_r(&seed) %
				    DICT_KEY_MAX;
				for (j = 0; j < e->dkeylen; j++)
					keys[i][j] = (unsigned char)
					    rand_r(&seed);
				e->dkey = keys[i];
				continue;
			}
			switch (rand_r(&seed) % 4) {
			case 0:
				id = far[rand_r(&seed) % 6];
				break;
			case 1:
				id += (uint64_t)(rand_r(&seed) % 1000000);
				break;
			default:
				id += (uint64_t)(rand_r(&seed) % 5) - 2;
				break;
			}
			e->id = id;
		}
		len = store_log_encode(&b, buf);
		T_ASSERT(len <= LOG_BLOCK_MAX);
		T_OK(store_log_decode(buf, len, &d));
		T_EQ_U64(d.present, b.present);
		for (i = 0; i < LOG_BLOCK_SEQS; i++) {
			if ((b.present & (UINT64_C(1) << i)) == 0)
				continue;
			e = &b.e[i];
			f = &d.e[i];
			T_ASSERTF(f->op == e->op && f->id == e->id &&
			    f->dkeylen == e->dkeylen && (e->dkeylen == 0 ||
			    memcmp(f->dkey, e->dkey, e->dkeylen) == 0),
			    "round %d, seq %d: op %d id %llu key of %zu came "
			    "back as op %d id %llu key of %zu", round, i,
			    e->op, (unsigned long long)e->id, e->dkeylen,
			    f->op, (unsigned long long)f->id, f->dkeylen);
		}
		if (round % 50 == 0)
			damage_each_byte(buf, len, log_decodes, &seed);
	}
}

/* Every change after since, paged by store_changes, into l. */
static void
changes_all(struct store *st, uint64_t since, uint64_t *seq, uint64_t *id,
    int *op, size_t max, size_t *n)
{
	struct change_list	 l;
	struct aerr		 err;
	uint64_t		 next = since, last;
	size_t			 i;
	int			 more;

	*n = 0;
	do {
		memset(&l, 0, sizeof l);
		T_OK(store_changes(st, next, 50, change_one, &l, &next, &more,
		    &last, &err));
		for (i = 0; i < l.n; i++) {
			T_ASSERT(*n < max);
			seq[*n] = l.seq[i];
			id[*n] = l.id[i];
			op[*n] = l.op[i];
			(*n)++;
		}
	} while (more);
}

/*
 * How full the leaves of the records' database name are: the bytes of
 * their nodes (key, value, node header and its pointer) over the room
 * of their pages.  *n: its records.
 */
static double
rec_fill(MDB_txn *txn, const char *name, size_t *n)
{
	MDB_dbi		 dbi;
	MDB_stat	 ms;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	double		 bytes = 0;

	*n = 0;
	T_OK(mdb_dbi_open(txn, name, 0, &dbi));
	T_OK(mdb_stat(txn, dbi, &ms));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		bytes += (double)(k.mv_size + v.mv_size + 8 + 2);
		(*n)++;
	}
	mdb_cursor_close(cur);
	T_ASSERT(ms.ms_leaf_pages > 0 && ms.ms_overflow_pages == 0);
	return (bytes / ((double)ms.ms_leaf_pages * (ms.ms_psize - 16)));
}

/*
 * A load in date order of day, month and year events, the three kinds
 * interleaved as a feed sends them: each kind's records are appended to
 * a database of their own (events, events.22, events.25), and so fill
 * their pages.  Format 11 kept the long ones in events, each class
 * before the next, where every put split a page in half.
 */
TEST(store_long_records_fill_the_pages_of_their_class)
{
	enum { DAYS = 1500, PER_BATCH = 100 };
	static const char *const dbs[] = { "events", "events.22",
	    "events.25" };
	struct store		*st = open_store(64 << 20);
	struct store_check	*c = calloc(1, sizeof *c);
	struct store_op		 ops[3 * PER_BATCH];
	struct event		 evs[3 * PER_BATCH];
	struct store_batch	 b;
	struct aerr		 err;
	struct tm		 tm;
	MDB_env			*env;
	MDB_txn			*txn;
	time_t			 t;
	double			 fill;
	size_t			 day, i, n;
	char			 start[16], month[16], year[16];

	for (day = 0; day < DAYS; day += PER_BATCH) {
		for (i = 0; i < PER_BATCH; i++) {
			t = (time_t)(1262304000 + (day + i) * 86400);
			gmtime_r(&t, &tm);
			strftime(start, sizeof start, "%Y-%m-%d", &tm);
			t += 29 * 86400;
			gmtime_r(&t, &tm);
			strftime(month, sizeof month, "%Y-%m-%d", &tm);
			t += 335 * 86400;
			gmtime_r(&t, &tm);
			strftime(year, sizeof year, "%Y-%m-%d", &tm);
			mkev(&evs[3 * i], start, NULL, "RUS", "036", NULL,
			    NULL);
			mkev(&evs[3 * i + 1], start, month, "RUS,USA", "036",
			    NULL, NULL);
			mkev(&evs[3 * i + 2], start, year, "SYRGOV", "042",
			    NULL, NULL);
		}
		memset(ops, 0, sizeof ops);
		for (i = 0; i < 3 * PER_BATCH; i++) {
			ops[i].kind = CHANGE_PUT;
			ops[i].ev = &evs[i];
		}
		memset(&b, 0, sizeof b);
		b.ops = ops;
		b.nops = 3 * PER_BATCH;
		T_ASSERTF(store_write(st, &b, 1, 1000, &err) == 0, "%s",
		    err.msg);
		T_ASSERTF(!b.failed, "%s", b.err.msg);
		for (i = 0; i < 3 * PER_BATCH; i++)
			record_clear(&evs[i]);
	}
	T_OK(store_check(st, c, &err));
	T_ASSERTF(c->nproblems == 0, "%s", c->problems[0]);
	T_EQ_U64(c->events, 3 * DAYS);
	store_close(st);
	free(c);

	txn = raw_begin(&env);
	for (i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
		fill = rec_fill(txn, dbs[i], &n);
		T_EQ_U64(n, DAYS);
		T_ASSERTF(fill > 0.85, "%s: pages %.0f%% full", dbs[i],
		    fill * 100);
	}
	raw_commit(env, txn);
}

/*
 * The change log lives 64 seqs to a block: an update takes its event's
 * entry out of the block it was in, a block left empty goes, a delete
 * is logged where its seq falls, pages of the feed cross blocks, and a
 * load's entries take about a byte each.
 */
TEST(store_log_blocks_follow_puts_updates_and_deletes)
{
	struct store		*st = open_store(4 << 20);
	struct store_check	*c = calloc(1, sizeof *c);
	struct event		 ev;
	struct aerr		 err;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k, v;
	unsigned char		 kbuf[8];
	uint64_t		 seq[300], ids[300], want;
	int			 op[300];
	size_t			 n, i;
	char			 day[16], key[16];
	uint64_t		 id;

	for (id = 1; id <= 200; id++) {
		snprintf(day, sizeof day, "2015-01-%02d", 1 + (int)(id / 10));
		snprintf(key, sizeof key, "k%llu", (unsigned long long)id);
		mkev(&ev, day, NULL, "RUS", "036", "s", key);
		T_EQ_U64(put1(st, &ev, NULL), id);
		record_clear(&ev);
	}
	/* Seqs 201 to 263 replace 1 to 63, all that block 0 held. */
	for (id = 1; id <= 63; id++) {
		snprintf(key, sizeof key, "k%llu", (unsigned long long)id);
		mkev(&ev, "2016-02-02", NULL, "USA", "036", "s", key);
		T_EQ_U64(put1(st, &ev, NULL), id);
		record_clear(&ev);
	}
	T_EQ_INT(del1(st, 100), 1);		/* seq 264 replaces 100 */
	T_EQ_U64(store_last_seq(st), 264);
	T_OK(store_check(st, c, &err));
	T_ASSERTF(c->nproblems == 0, "%s", c->problems[0]);
	T_EQ_U64(c->changes, 200);

	changes_all(st, 0, seq, ids, op, 300, &n);
	T_EQ_U64(n, 200);
	for (i = 0, want = 64; i < n; i++, want++) {
		if (want == 100)
			want++;
		T_EQ_U64(seq[i], want);
		T_EQ_U64(ids[i], want <= 200 ? want : want == 264 ? 100 :
		    want - 200);
		T_EQ_INT(op[i], want == 264 ? CHANGE_DELETE : CHANGE_PUT);
	}
	/* From within a block, and from its last seq. */
	changes_all(st, 130, seq, ids, op, 300, &n);
	T_EQ_U64(n, 134);
	T_EQ_U64(seq[0], 131);
	changes_all(st, 191, seq, ids, op, 300, &n);
	T_EQ_U64(seq[0], 192);
	changes_all(st, 264, seq, ids, op, 300, &n);
	T_EQ_U64(n, 0);
	store_close(st);

	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "logblocks", 0, &dbi));
	k.mv_size = 8;
	k.mv_data = kbuf;
	skey_be64(kbuf, 0);
	T_ASSERT(mdb_get(txn, dbi, &k, &v) == MDB_NOTFOUND);
	/* Seqs 64 to 127 less 100: one byte each, after the bitmap. */
	skey_be64(kbuf, 1);
	T_OK(mdb_get(txn, dbi, &k, &v));
	T_ASSERTF(v.mv_size <= 8 + 63 + 2, "a block of %zu bytes", v.mv_size);
	raw_commit(env, txn);
	free(c);
}

/* Whether one of the problems check described holds what. */
static int
check_says(const struct store_check *c, const char *what)
{
	uint64_t	i;

	for (i = 0; i < c->nproblems && i < STORE_CHECK_KEEP; i++) {
		if (strstr(c->problems[i], what) != NULL)
			return (1);
	}
	return (0);
}

/*
 * A block of the change log that does not decode: the check says so,
 * and the feed goes past it to the blocks after.
 */
TEST(store_check_finds_a_log_block_that_does_not_decode)
{
	struct store		*st = open_store(4 << 20);
	struct store_check	*c = calloc(1, sizeof *c);
	struct event		 ev;
	struct aerr		 err;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k, v;
	unsigned char		 kbuf[8], vbuf[LOG_BLOCK_MAX];
	uint64_t		 seq[200], ids[200], id;
	int			 op[200];
	size_t			 n;

	for (id = 1; id <= 140; id++) {
		mkev(&ev, "2015-01-26", NULL, "RUS", "036", NULL, NULL);
		T_EQ_U64(put1(st, &ev, NULL), id);
		record_clear(&ev);
	}
	/* Seqs 141 to 197: block 1 keeps the puts of 121 to 127. */
	for (id = 64; id <= 120; id++)
		T_EQ_INT(del1(st, id), 1);
	store_close(st);

	/* Block 1 (seqs 64 to 127) loses its last byte. */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "logblocks", 0, &dbi));
	k.mv_size = 8;
	k.mv_data = kbuf;
	skey_be64(kbuf, 1);
	T_OK(mdb_get(txn, dbi, &k, &v));
	memcpy(vbuf, v.mv_data, v.mv_size);
	v.mv_size--;
	v.mv_data = vbuf;
	T_OK(mdb_put(txn, dbi, &k, &v, 0));
	raw_commit(env, txn);

	st = open_store(4 << 20);
	T_OK(store_check(st, c, &err));
	T_EQ_U64(c->nproblems, 8);
	T_ASSERT(check_says(c, "changes: the block of seq 64 does not "
	    "decode"));
	T_ASSERT(check_says(c, "event 121: change 121 is not its put"));
	T_ASSERT(check_says(c, "event 127: change 127 is not its put"));
	changes_all(st, 0, seq, ids, op, 200, &n);
	T_EQ_U64(n, 140 - 7);
	T_EQ_U64(seq[62], 63);
	T_EQ_U64(seq[63], 128);
	T_EQ_U64(seq[n - 1], 197);
	T_EQ_INT(op[n - 1], CHANGE_DELETE);
	store_close(st);
	free(c);
}

TEST(store_check_passes_then_finds_damage)
{
	struct store		*st = open_store(4 << 20);
	struct store_check	*c = calloc(1, sizeof *c);
	struct event		 ev;
	struct aerr		 err;
	char			 key[16];
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	struct id_block		 idb;
	struct wctx		 w;
	struct ixcur		 ic;
	unsigned char		 idbuf[ID_BLOCK_MAX], tkey[SKEY_TIME_LEN];
	int			 i;

	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "k%d", i);
		mkev(&ev, i % 2 ? "2015-01-26/2015-01-29" : "2014~", NULL,
		    i % 3 ? "RUS,SYRGOV:target" : "USA", "036", "t", key);
		put1(st, &ev, NULL);
		record_clear(&ev);
	}
	for (i = 1; i <= 200; i += 7)
		del1(st, (uint64_t)i);
	T_OK(store_check(st, c, &err));
	T_EQ_U64(c->nproblems, 0);
	T_EQ_U64(c->events, 200 - 29);

	/*
	 * Remove one posting of the time index and one actor count behind
	 * the check's back: the posting out of its block, which the store
	 * writes again.
	 */
	T_OK(mdb_txn_begin(st->env, NULL, 0, &txn));
	memset(&w, 0, sizeof w);
	w.st = st;
	w.txn = txn;
	T_OK(store_ixcur_open(st, txn, st->timeblocks, &ic));
	T_OK(store_ixcur_get(&ic, &k, &v, MDB_FIRST));
	memcpy(tkey, k.mv_data, k.mv_size);
	k.mv_data = tkey;
	store_ixcur_close(&ic);
	T_OK(store_post_del(&w, st->timeblocks, &k));
	T_OK(mdb_txn_commit(txn));
	store_close(st);
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "actors", 0, &dbi));
	k.mv_size = 3;
	k.mv_data = (void *)"USA";
	T_OK(mdb_del(txn, dbi, &k, NULL));
	raw_commit(env, txn);

	st = open_store(4 << 20);
	T_OK(store_check(st, c, &err));
	/* The count is missed by the entries in the index and the stage. */
	T_ASSERTF(c->nproblems == 3, "%s / %s / %s", c->problems[0],
	    c->problems[1], c->problems[2]);
	T_ASSERTF(strstr(c->problems[0], "missing from the time index") !=
	    NULL || strstr(c->problems[1], "missing from the time index") !=
	    NULL, "%s / %s", c->problems[0], c->problems[1]);
	store_close(st);

	/*
	 * An actor entry both staged and in the index is found too: the
	 * last block's first posting, whose key is the block's and whose
	 * span leads its value, after its length.
	 */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "actor", 0, &dbi));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	T_OK(mdb_cursor_get(cur, &k, &v, MDB_LAST));
	mdb_cursor_close(cur);
	T_ASSERT(v.mv_size > 1 && ((unsigned char *)v.mv_data)[0] <
	    v.mv_size);
	v.mv_size = ((unsigned char *)v.mv_data)[0];
	v.mv_data = (unsigned char *)v.mv_data + 1;
	T_OK(mdb_dbi_open(txn, "actor_new", 0, &dbi));
	T_OK(mdb_put(txn, dbi, &k, &v, 0));
	raw_commit(env, txn);

	st = open_store(4 << 20);
	T_OK(store_check(st, c, &err));
	T_ASSERTF(c->nproblems >= 4, "%llu problems",
	    (unsigned long long)c->nproblems);
	T_ASSERTF(check_says(c, "staged and indexed at once"), "%s",
	    c->problems[0]);
	store_close(st);

	/*
	 * ids and the records mirror each other: one gone (2, the first
	 * left, from its block), one made up (999, in a block of its own).
	 */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "idblocks", 0, &dbi));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	T_OK(mdb_cursor_get(cur, &k, &v, MDB_FIRST));
	T_OK(store_idb_decode(v.mv_data, v.mv_size, &idb));
	T_ASSERT(idb.present & (UINT64_C(1) << 2));
	idb.present &= ~(UINT64_C(1) << 2);
	v.mv_size = store_idb_encode(&idb, idbuf);
	v.mv_data = idbuf;
	T_OK(mdb_cursor_put(cur, &k, &v, MDB_CURRENT));
	mdb_cursor_close(cur);
	memcpy(key, "\0\0\0\0\0\0\0\x0f", 8);	/* ids 960 to 1023 */
	k.mv_size = 8;
	k.mv_data = key;
	idb.present = UINT64_C(1) << (999 - 960);
	idb.start[999 - 960] = 0;
	idb.class[999 - 960] = 0;
	v.mv_size = store_idb_encode(&idb, idbuf);
	v.mv_data = idbuf;
	T_OK(mdb_put(txn, dbi, &k, &v, 0));
	raw_commit(env, txn);

	st = open_store(4 << 20);
	T_OK(store_check(st, c, &err));
	T_ASSERTF(check_says(c, "event 2: ids does not map it") &&
	    check_says(c, "ids: event 999 has no record"), "%s",
	    c->problems[0]);
	free(c);
	store_close(st);
}

/*
 * A block of postings that does not decode: the check says that its
 * walk of the index stopped, and misses the events it held.
 */
/*
 * Put n events of RUS, type 036, on 2015-01-26 into the test's store,
 * close it, and open a cursor on the first entry of its database db, to
 * be damaged behind the store's back.
 */
static MDB_txn *
raw_first_of(int n, const char *db, MDB_env **env, MDB_cursor **cur,
    MDB_val *k, MDB_val *v)
{
	struct store	*st = open_store(4 << 20);
	struct event	 ev;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	int		 i;

	for (i = 0; i < n; i++) {
		mkev(&ev, "2015-01-26", NULL, "RUS", "036", NULL, NULL);
		put1(st, &ev, NULL);
		record_clear(&ev);
	}
	store_close(st);
	txn = raw_begin(env);
	T_OK(mdb_dbi_open(txn, db, 0, &dbi));
	T_OK(mdb_cursor_open(txn, dbi, cur));
	T_OK(mdb_cursor_get(*cur, k, v, MDB_FIRST));
	return (txn);
}

TEST(store_check_finds_a_block_that_does_not_decode)
{
	struct store		*st;
	struct store_check	*c = calloc(1, sizeof *c);
	struct aerr		 err;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, v;

	/* Past the stage's 5, into a block. */
	txn = raw_first_of(20, "type", &env, &cur, &k, &v);
	/* A span of 9 bytes, of which the value holds 1. */
	v.mv_size = 2;
	v.mv_data = (void *)"\x09\x01";
	T_OK(mdb_cursor_put(cur, &k, &v, MDB_CURRENT));
	mdb_cursor_close(cur);
	raw_commit(env, txn);

	st = open_store(4 << 20);
	T_OK(store_check(st, c, &err));
	T_ASSERTF(check_says(c, "type index: walk stopped") &&
	    check_says(c, "event 1: missing from the type index"), "%s",
	    c->problems[0]);
	free(c);
	store_close(st);
}

struct wire_copy {
	unsigned char	*p;
	size_t		 len;
};

static int
copy_wire(void *arg, size_t i, const void *data, size_t len)
{
	struct wire_copy	*w = arg;

	(void)i;
	T_ASSERT(data != NULL);
	w->p = malloc(len);
	T_ASSERT(w->p != NULL);
	memcpy(w->p, data, len);
	w->len = len;
	return (0);
}

/* attrs {"basis": "added", "weight": 3, "at": {"a": [1, "b"]}}, packed. */
static void
pos_attrs(struct event *ev)
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_pack_kv_str(&pk, "basis", "added");
	mp_pack_kv_uint(&pk, "weight", 3);
	mp_pack_str(&pk, "at");
	msgpack_pack_map(&pk, 1);
	mp_pack_str(&pk, "a");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint64(&pk, 1);
	mp_pack_str(&pk, "b");
	ev->attrs = (unsigned char *)sb.data;
	ev->attrs_len = sb.size;
}

/* What a list asks for: id, start, end, actors and title. */
#define LIST_FIELDS	(RECORD_FIELD_ID | RECORD_FIELD(6) | \
			    RECORD_FIELD(7) | RECORD_FIELD(8) | RECORD_FIELD(10))

/*
 * A record stored by position, expanded with only some fields, is the
 * whole map cut by fields_write(), byte for byte: for each field alone,
 * each but one, and a list's.
 */
static void
pos_cuts_match(const unsigned char *rec, size_t len)
{
	msgpack_sbuffer	whole, cut, want;
	uint32_t	sets[2 * RECORD_NFIELDS + 1], set;
	size_t		i;

	for (i = 0; i < RECORD_NFIELDS; i++) {
		sets[2 * i] = RECORD_FIELD_ID | RECORD_FIELD(i);
		sets[2 * i + 1] = RECORD_FIELDS_ALL & ~RECORD_FIELD(i);
	}
	sets[2 * RECORD_NFIELDS] = LIST_FIELDS;
	msgpack_sbuffer_init(&whole);
	msgpack_sbuffer_init(&cut);
	msgpack_sbuffer_init(&want);
	T_OK(store_pos_expand(NULL, NULL, rec, len, &whole, 0,
	    RECORD_FIELDS_ALL));
	for (i = 0; i < sizeof sets / sizeof sets[0]; i++) {
		set = sets[i] | RECORD_FIELD_ID;
		msgpack_sbuffer_clear(&cut);
		msgpack_sbuffer_clear(&want);
		T_OK(store_pos_expand(NULL, NULL, rec, len, &cut, 0, set));
		fields_write(&want, whole.data, whole.size, set);
		T_ASSERTF(cut.size == want.size &&
		    memcmp(cut.data, want.data, want.size) == 0,
		    "fields %#x: %zu bytes expanded, %zu cut", set, cut.size,
		    want.size);
	}
	msgpack_sbuffer_destroy(&whole);
	msgpack_sbuffer_destroy(&cut);
	msgpack_sbuffer_destroy(&want);
}

/*
 * Records are stored by position (store-pos.c) and come back as the map
 * of the event put, byte for byte, whatever fields they hold; a record
 * the form cannot hold (16 actors: more than a fixarray) stays a map.
 * Cut to some fields, they are what fields_write() makes of the map.
 */
TEST(store_records_by_position_give_back_their_maps)
{
	static const char *const dates[][2] = {
		{ "2015-01-26", NULL }, { "2015-01-26/2015-01-29", NULL },
		{ "2015-01-26", "2015-01-29" }, { "2014-12", NULL },
		{ "2014~", NULL }, { "1969-12-31", NULL },
		{ "2015-01-26T10:00:00Z", NULL }, { "-0044-03-15", NULL },
		{ "0001-01-01", "0001-01-02" }, { "9999-12-31", NULL },
		{ "2015-01-26", "2015-01-26T12:00:00Z" },
		{ "2016-02-29/2016-03-01", NULL }, { "2015-01-26/2015-01", NULL },
	};
	const size_t		 ndates = sizeof dates / sizeof dates[0];
	struct store		*st = open_store(4 << 20);
	struct store_check	*c = calloc(1, sizeof *c);
	struct event		 ev;
	struct wire_copy	 w;
	struct aerr		 err;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbis[REC_DBS];
	MDB_cursor		*cur;
	MDB_val			 k, v;
	uint64_t		 id;
	size_t			 i, n = ndates + 2, maps = 0, bypos = 0, rlen = 0;
	size_t			 wlen = 0;
	char			 name[16];
	int			 db;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "k%zu", i);
		if (i < ndates)
			mkev(&ev, dates[i][0], dates[i][1],
			    i % 2 ? "RUS:mediator,USA" : "SYRGOV", "036",
			    i % 3 ? "icews" : NULL, i % 3 ? name : NULL);
		else
			mkev(&ev, "2020-05-05", NULL, "ABC", NULL, NULL,
			    NULL);
		if (i == ndates + 1) {
			/* 16 actors: an array16, which stays a map. */
			for (ev.nactors = 0; ev.nactors < 16; ev.nactors++) {
				snprintf(name, sizeof name, "A%u",
				    ev.nactors);
				free(ev.actors[ev.nactors].name);
				ev.actors[ev.nactors].name = strdup(name);
			}
		}
		if (i % 2 == 0) {
			ev.text = strdup("a text");
			ev.place.name = strdup("Minsk");
			ev.place.country = strdup("BLR");
			ev.place.lat = 53.9;
			ev.place.has_lat = 1;
			add_tag(&ev, "ceasefire");
			pos_attrs(&ev);
		}
		if (i % 3 == 2) {
			ev.urls = calloc(1, sizeof *ev.urls);
			ev.urls[0] = strdup("https://example.org/a");
			ev.nurls = 1;
		}
		T_ASSERTF(record_validate(&ev, &err) == 0, "%zu: %s", i,
		    err.msg);
		id = put1(st, &ev, NULL);

		/* The wire form is the event packed with its stamps. */
		memset(&w, 0, sizeof w);
		T_OK(store_get(st, &id, 1, copy_wire, &w, &err));
		msgpack_unpacked_init(&u);
		T_ASSERT(msgpack_unpack_next(&u, (const char *)w.p, w.len,
		    NULL) == MSGPACK_UNPACK_SUCCESS);
		ev.id = id;
		T_OK(mp_uint(mp_get(&u.data, "rev"), "rev", &ev.rev, &err));
		T_OK(mp_uint(mp_get(&u.data, "created"), "created",
		    &ev.created, &err));
		T_OK(mp_uint(mp_get(&u.data, "updated"), "updated",
		    &ev.updated, &err));
		msgpack_unpacked_destroy(&u);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		record_pack(&pk, &ev);
		T_ASSERTF(sb.size == w.len && memcmp(sb.data, w.p, w.len) == 0,
		    "record %zu (%s) came back as other bytes", i,
		    dates[i < ndates ? i : 0][0]);
		wlen += w.len;
		msgpack_sbuffer_destroy(&sb);
		free(w.p);
		record_clear(&ev);
	}
	T_OK(store_check(st, c, &err));
	T_ASSERTF(c->nproblems == 0, "%s", c->problems[0]);
	store_close(st);

	txn = raw_begin(&env);
	raw_rec_dbs(txn, dbis);
	for (db = 0; db < REC_DBS; db++) {
		T_OK(mdb_cursor_open(txn, dbis[db], &cur));
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
			if (*(const unsigned char *)v.mv_data == 0xc1) {
				pos_cuts_match(v.mv_data, v.mv_size -
				    STORE_SEQ_LEN);
				bypos++;
			} else
				maps++;
			rlen += v.mv_size - STORE_SEQ_LEN;
		}
		mdb_cursor_close(cur);
	}
	raw_commit(env, txn);
	T_EQ_U64(bypos, n - 1);
	T_EQ_U64(maps, 1);
	/* The names, wrappers and stamps went. */
	T_ASSERTF(rlen * 10 < wlen * 7, "%zu bytes stored for %zu on the "
	    "wire", rlen, wlen);
	free(c);
}

/*
 * Every cut and every one-byte change of a record stored by position
 * either decodes, to a map that unpacks whole, or is refused, reading
 * nothing past its bytes (each tried from a buffer of its own length,
 * which the sanitizers' build checks).
 */
TEST(store_records_by_position_damaged_are_refused)
{
	struct store		*st = open_store(4 << 20);
	struct event		 ev;
	struct wire_copy	 w;
	struct aerr		 err;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k, v;
	msgpack_sbuffer		 out;
	msgpack_unpacked	 u;
	unsigned char		 key[24], *rec, *p;
	uint64_t		 id;
	size_t			 len, cut, i, ok = 0, refused = 0;
	int			 flip;

	mkev(&ev, "2015-01-26/2015-02-03", NULL, "RUS:mediator,USA", "036",
	    "icews", "k1");
	ev.text = strdup("a text");
	add_tag(&ev, "talks");
	pos_attrs(&ev);
	id = put1(st, &ev, NULL);
	record_clear(&ev);
	memset(&w, 0, sizeof w);
	T_OK(store_get(st, &id, 1, copy_wire, &w, &err));
	store_close(st);

	/* The stored bytes, its seq cut off. */
	txn = raw_begin(&env);
	raw_rec_key(txn, id, key, &k, &dbi);
	T_OK(mdb_get(txn, dbi, &k, &v));
	len = v.mv_size - STORE_SEQ_LEN;
	rec = malloc(len);
	T_ASSERT(rec != NULL);
	memcpy(rec, v.mv_data, len);
	raw_commit(env, txn);
	T_ASSERT(rec[0] == 0xc1);

	msgpack_sbuffer_init(&out);
	T_OK(store_pos_expand(NULL, NULL, rec, len, &out, 0,
	    RECORD_FIELDS_ALL));
	/* Its attrs name no id yet: the map is what the wire carried. */
	T_ASSERT(out.size == w.len && memcmp(out.data, w.p, w.len) == 0);
	for (flip = 0; flip < 2; flip++) {
		for (cut = 0; cut < (flip ? len * 8 : len); cut++) {
			p = malloc(flip ? len : cut ? cut : 1);
			T_ASSERT(p != NULL);
			memcpy(p, rec, flip ? len : cut);
			if (flip)
				p[cut / 8] ^= (unsigned char)(1 << (cut % 8));
			/* Whole, or cut to a list's fields, by turns. */
			msgpack_sbuffer_clear(&out);
			if (store_pos_expand(NULL, NULL, p, flip ? len : cut,
			    &out, 0, cut % 2 ? RECORD_FIELDS_ALL : LIST_FIELDS)
			    == 0) {
				msgpack_unpacked_init(&u);
				i = 0;
				T_ASSERT(msgpack_unpack_next(&u, out.data,
				    out.size, &i) == MSGPACK_UNPACK_SUCCESS &&
				    i == out.size &&
				    u.data.type == MSGPACK_OBJECT_MAP);
				msgpack_unpacked_destroy(&u);
				ok++;
			} else {
				T_EQ_U64(out.size, 0);
				refused++;
			}
			(void)store_pos_attrs(p, flip ? len : cut);
			free(p);
		}
	}
	/* Cuts are refused; some flips change a value and decode. */
	T_ASSERT(refused >= len && ok > 0);
	msgpack_sbuffer_destroy(&out);
	free(rec);
	free(w.p);
}

/*
 * Event 1 of the three raw_first_of() put, damaged behind the store's
 * back, is skipped by a range query, refused by get and reported by the
 * check.
 */
static void
first_event_refused(void)
{
	struct store		*st = open_store(4 << 20);
	struct store_check	*c = calloc(1, sizeof *c);
	struct query		 q;
	struct found		 f;
	struct aerr		 err;
	struct got		 g;
	uint64_t		 one = 1;

	mkquery(&q, "2015", "2015", NULL);
	query_all(st, &q, &f);
	T_EQ_U64(f.n, 2);
	T_ASSERT(!has_id(&f, 1, NULL));
	found_free(&f);
	query_clear(&q);
	memset(&g, 0, sizeof g);
	T_ASSERT(store_get(st, &one, 1, got_one, &g, &err) == -1);
	T_ASSERTF(strstr(err.msg, "event 1 does not decode") != NULL, "%s",
	    err.msg);
	T_OK(store_check(st, c, &err));
	T_ASSERTF(check_says(c, "event 1"), "%s", c->nproblems ?
	    c->problems[0] : "no problem found");
	free(c);
	store_close(st);
}

/*
 * A record stored by position that does not decode is reported by the
 * check, and a query goes past it.
 */
TEST(store_check_finds_a_record_that_does_not_decode)
{
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	unsigned char		 cut[16];

	txn = raw_first_of(3, "events", &env, &cur, &k, &v);
	T_ASSERT(v.mv_size > STORE_SEQ_LEN + 4 &&
	    *(const unsigned char *)v.mv_data == 0xc1);
	/* Its first four bytes, then its seq. */
	memcpy(cut, v.mv_data, 4);
	memcpy(cut + 4, (const unsigned char *)v.mv_data + v.mv_size -
	    STORE_SEQ_LEN, STORE_SEQ_LEN);
	v.mv_data = cut;
	v.mv_size = 4 + STORE_SEQ_LEN;
	T_OK(mdb_cursor_put(cur, &k, &v, MDB_CURRENT));
	mdb_cursor_close(cur);
	raw_commit(env, txn);
	first_event_refused();
}

/*
 * So is a record kept as a map (format 7 and before, or 16 actors) that
 * is cut short: the walk to its attrs fails, where it went out as it was
 * to the page of a query, whose client then refused the whole page.
 */
TEST(store_check_finds_a_map_record_that_does_not_decode)
{
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	msgpack_sbuffer		 map;

	txn = raw_first_of(3, "events", &env, &cur, &k, &v);
	msgpack_sbuffer_init(&map);
	T_OK(store_pos_expand(NULL, NULL, v.mv_data, v.mv_size -
	    STORE_SEQ_LEN, &map, 0, RECORD_FIELDS_ALL));
	T_ASSERT((map.data[0] & 0xf0) == 0x80 && map.size > 2);
	/* Its last value cut by two bytes, then its seq. */
	map.size -= 2;
	msgpack_sbuffer_write(&map, (const char *)v.mv_data + v.mv_size -
	    STORE_SEQ_LEN, STORE_SEQ_LEN);
	v.mv_data = map.data;
	v.mv_size = map.size;
	T_OK(mdb_cursor_put(cur, &k, &v, MDB_CURRENT));
	mdb_cursor_close(cur);
	raw_commit(env, txn);
	msgpack_sbuffer_destroy(&map);
	first_event_refused();
}

/*
 * A record stored by position whose value nests deeper than a value of
 * a map in a frame may is refused, not expanded to a map that a
 * client's frame check would refuse with the whole reply: a damaged one,
 * for a put never stores such.  The value's arrays are fixarrays, which
 * store_mp_len() walks two deep before handing the rest on, or start
 * with an array16, handed on at once (fuzz/regress/storepos).
 */
TEST(store_records_by_position_nested_past_a_frame_are_refused)
{
	unsigned char	 rec[64];
	msgpack_sbuffer	 out;
	struct aerr	 err;
	size_t		 len, i;
	int		 deep, a16;

	store_mp_init();
	for (a16 = 0; a16 < 2; a16++) {
		for (deep = PROTO_MAX_DEPTH - 2; deep <= PROTO_MAX_DEPTH + 2;
		    deep++) {
			/* id 1, and a title of deep arrays in each other. */
			len = 0;
			rec[len++] = 0xc1;
			len += store_varint_put(rec + len, RECORD_FIELD_ID |
			    RECORD_FIELD(record_field_index("title", 5, 0)));
			rec[len++] = 1;
			for (i = 0; i < (size_t)deep - 1; i++) {
				if (a16 && i == 0) {
					memcpy(rec + len, "\xdc\x00\x01", 3);
					len += 3;
				} else
					rec[len++] = 0x91;
			}
			rec[len++] = 0x90;
			msgpack_sbuffer_init(&out);
			if (deep < PROTO_MAX_DEPTH) {
				T_OK(store_pos_expand(NULL, NULL, rec, len,
				    &out, 0, RECORD_FIELDS_ALL));
				T_ASSERTF(frame_check((unsigned char *)out.data,
				    out.size, &err) == 0, "%d deep: %s", deep,
				    err.msg);
			} else
				T_ASSERTF(store_pos_expand(NULL, NULL, rec,
				    len, &out, 0, RECORD_FIELDS_ALL) == -1 &&
				    out.size == 0, "%d deep%s expanded", deep,
				    a16 ? " from an array16" : "");
			msgpack_sbuffer_destroy(&out);
		}
	}
}

/* Every span stored in an index entry decodes to the span it came from. */
TEST(store_span_encoding_round_trips)
{
	static const char *const forms[][2] = {
		{ "2015-01-26", NULL }, { "2014-12", NULL }, { "2015", NULL },
		{ "2014~", NULL }, { "2014?", NULL }, { "2014%", NULL },
		{ "2015-01-26", "2015-01-29" }, { "201X", NULL },
		{ "2015-21", NULL }, { "-0044-03-15", NULL },
		{ "2015-01-26T10:00:00Z", NULL }, { "2015-01", ".." },
		{ "2015-01-26", "2015-01-26T12:00:00Z" },
		{ "2014-12-31~", "2015-01-02?" }, { "Y-999999999", NULL },
		{ "Y999999999", NULL }, { "19XX", NULL },
	};
	unsigned char		 buf[SKEY_SPAN_MAX];
	struct date_span	 in, out;
	struct aerr		 err;
	size_t			 i, len, cut;

	for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		T_ASSERTF(date_event_span(forms[i][0], forms[i][1], &in,
		    &err) == 0, "%s: %s", forms[i][0], err.msg);
		len = skey_span(buf, &in);
		T_ASSERTF(len >= 2 && len <= SKEY_SPAN_MAX, "%s: %zu bytes",
		    forms[i][0], len);
		memset(&out, 0, sizeof out);
		T_ASSERT(skey_get_span(buf, len, in.lo, &out) == 0);
		T_ASSERTF(out.lo == in.lo && out.hi == in.hi &&
		    out.flo == in.flo && out.fhi == in.fhi &&
		    out.ilo == in.ilo && out.ihi == in.ihi &&
		    out.prec == in.prec, "%s/%s changed in the index",
		    forms[i][0], forms[i][1] ? forms[i][1] : "");
		/* Cut short or with a byte too many, it is refused. */
		for (cut = 0; cut < len; cut++)
			T_ASSERT(skey_get_span(buf, cut, in.lo, &out) != 0);
		buf[len] = 0;
		T_ASSERT(skey_get_span(buf, len + 1, in.lo, &out) != 0);
	}
	/* A day takes four bytes: that is what keeps the indexes small. */
	T_ASSERT(date_event_span("2015-01-26", NULL, &in, &err) == 0);
	T_ASSERTF(skey_span(buf, &in) == 4, "a day takes %zu bytes",
	    skey_span(buf, &in));
}

/* A directory written with another index encoding is refused by name. */
/* Count the empty strings a stored record holds at the top level. */
static int
count_empty(void *arg, size_t i, const void *data, size_t len)
{
	msgpack_unpacked	 u;
	const msgpack_object	*o;
	uint32_t		 j;
	int			*n = arg;

	(void)i;
	T_ASSERT(data != NULL);
	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, data, len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	o = &u.data;
	for (j = 0; j < o->via.map.size; j++) {
		if (o->via.map.ptr[j].val.type == MSGPACK_OBJECT_STR &&
		    o->via.map.ptr[j].val.via.str.size == 0)
			(*n)++;
	}
	msgpack_unpacked_destroy(&u);
	return (0);
}

/*
 * Issue #14: records older daemons stored with "" come back without the
 * key once the store has been opened by this one.
 */
TEST(issue_14_store_drops_stored_empty_strings)
{
	struct store	*st;
	struct event	 ev;
	struct aerr	 err;
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 meta;
	MDB_val		 k = { 8, (void *)"no_empty" };
	struct store_check check;
	uint64_t	 id;
	int		 n = 0;

	st = open_store((size_t)1 << 20);
	mkev(&ev, "2015-01-26", NULL, "RUS", NULL, NULL, NULL);
	/* What record_decode() let through before: "" kept as a value. */
	free(ev.title);
	ev.title = strdup("");
	ev.type = strdup("");
	ev.text = strdup("");
	id = put1(st, &ev, NULL);
	record_clear(&ev);
	T_OK(store_get(st, &id, 1, count_empty, &n, &err));
	T_EQ_INT(n, 3);
	store_close(st);

	/* As an older daemon left it: not yet cleaned. */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "meta", 0, &meta));
	T_OK(mdb_del(txn, meta, &k, NULL));
	raw_commit(env, txn);

	st = open_store((size_t)1 << 20);
	n = 0;
	T_OK(store_get(st, &id, 1, count_empty, &n, &err));
	T_EQ_INT(n, 0);
	T_OK(store_check(st, &check, &err));
	T_EQ_U64(check.nproblems, 0);
	store_close(st);
}

TEST(store_refuses_another_format)
{
	struct store_config	 cfg;
	struct store		*st;
	struct event		 ev;
	struct aerr		 err;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 meta;
	MDB_val			 k = { 6, (void *)"format" }, v;
	unsigned char		 later[8] = { 0, 0, 0, 0, 0, 0, 0,
				    STORE_FORMAT + 1 };
	char			 path[128];
	int			 status;

	st = open_store((size_t)1 << 20);
	mkev(&ev, "2015-01-26", NULL, "RUS", "036", NULL, NULL);
	put1(st, &ev, &status);
	record_clear(&ev);
	store_close(st);

	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "meta", 0, &meta));
	T_ASSERT(mdb_get(txn, meta, &k, &v) == 0 && v.mv_size == 8);
	/* Written before the format was recorded: format 1. */
	T_OK(mdb_del(txn, meta, &k, NULL));
	raw_commit(env, txn);

	snprintf(path, sizeof path, "%s/db", t_dir());
	memset(&cfg, 0, sizeof cfg);
	cfg.path = path;
	cfg.map_size = (size_t)1 << 20;
	cfg.max_map_size = (size_t)1 << 20;
	T_ASSERT(store_open(&cfg, &err) == NULL);
	T_ASSERTF(strstr(err.msg, "holds store format 1 and this annalsd "
	    "reads format 13") != NULL, "%s", err.msg);

	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "meta", 0, &meta));
	v.mv_size = 8;
	v.mv_data = later;
	T_OK(mdb_put(txn, meta, &k, &v, 0));
	raw_commit(env, txn);
	T_ASSERT(store_open(&cfg, &err) == NULL);
	T_ASSERTF(strstr(err.msg, "holds store format 14 and this annalsd "
	    "reads format 13") != NULL, "%s", err.msg);
}

/*
 * A histogram of starts without filters adds up the per-day counts:
 * after puts, date changes and deletes it still equals the starts of the
 * events left, by day, week, month and year; so does the index walk that
 * a bound inside a day falls back to.
 */
TEST(store_histogram_start_counts_follow_writes)
{
	static const char *const starts[] = { "2015-01-26", "2015-01",
	    "2015", "2015-01-31/2015-02-02", "2014-12-31T23:00:00Z",
	    "2016-02-29", "2015-01-26~", "-0044-03-15" };
	static const int	 bys[] = { DATE_BY_DAY, DATE_BY_WEEK,
	    DATE_BY_MONTH, DATE_BY_YEAR };
	struct store		*st = open_store(8 << 20);
	struct store_check	*check = calloc(1, sizeof *check);
	struct agg_hist		 h;
	struct query		 q;
	struct event		 ev;
	struct aerr		 err;
	int64_t			 los[400];
	uint64_t		*want, total;
	unsigned		 seed = t_seed();
	size_t			 n, i, b, bi;
	int			 alive[400], k;

	for (n = 0; n < 400; n++) {
		mkev(&ev, starts[rand_r(&seed) % 8], NULL, "RUS", "036", NULL,
		    NULL);
		T_ASSERT(put1(st, &ev, NULL) == n + 1);
		los[n] = ev.span.lo;
		alive[n] = 1;
		record_clear(&ev);
	}
	/* Move some to another day, delete others. */
	for (i = 0; i < 120; i++) {
		k = rand_r(&seed) % 400;
		if (!alive[k])
			continue;
		if (i % 2) {
			del1(st, (uint64_t)k + 1);
			alive[k] = 0;
			continue;
		}
		mkev(&ev, starts[rand_r(&seed) % 8], NULL, "USA", "036", NULL,
		    NULL);
		ev.id = (uint64_t)k + 1;
		put1(st, &ev, NULL);
		los[k] = ev.span.lo;
		record_clear(&ev);
	}
	T_OK(store_check(st, check, &err));
	T_ASSERTF(check->nproblems == 0, "%s", check->problems[0]);

	for (bi = 0; bi < 4; bi++) {
		memset(&q, 0, sizeof q);
		T_OK(date_query_bounds("2014-12-01", "2016-03-31", &q.qlo,
		    &q.qhi, &err));
		memset(&h, 0, sizeof h);
		h.by = bys[bi];
		h.mode = AGG_COUNT_START;
		T_ASSERTF(store_histogram(st, &q, &h, &err) == 0, "%s",
		    err.msg);
		want = calloc(h.n, sizeof *want);
		total = 0;
		for (i = 0; i < 400; i++) {
			if (!alive[i] || los[i] < q.qlo || los[i] > q.qhi)
				continue;
			want[agg_bucket_of(h.by, los[i]) - h.first]++;
			total++;
		}
		T_EQ_U64(h.total, total);
		for (b = 0; b < h.n; b++)
			T_ASSERTF(h.counts[b] == want[b], "by %d bucket %zu: "
			    "%llu != %llu", h.by, b,
			    (unsigned long long)h.counts[b],
			    (unsigned long long)want[b]);
		agg_hist_free(&h);

		/* A bound inside a day walks the index: same counts. */
		q.qlo += 3600;
		memset(&h, 0, sizeof h);
		h.by = bys[bi];
		h.mode = AGG_COUNT_START;
		T_OK(store_histogram(st, &q, &h, &err));
		memset(want, 0, h.n * sizeof *want);
		for (i = 0; i < 400; i++) {
			if (alive[i] && los[i] >= q.qlo && los[i] <= q.qhi)
				want[agg_bucket_of(h.by, los[i]) - h.first]++;
		}
		for (b = 0; b < h.n; b++)
			T_EQ_U64(h.counts[b], want[b]);
		agg_hist_free(&h);
		free(want);
	}
	free(check);
	store_close(st);
}

/*
 * A backup rewrites every database in key order, so its pages are full:
 * after a load in random date order it is smaller than LMDB's own
 * compacting copy of the same store, and it is a whole store: its uuid
 * (meta), and a word index that answers as the store's did.
 */
TEST(store_backup_fills_pages)
{
	enum { NBATCH = 20, PER = 500 };
	static const char *const actors[] = { "RUS,SYRGOV", "USA,CHN:target",
	    "UNO,ARL,SYR", "TUR,IRN" };
	struct store_op		 ops[PER];
	struct event		 evs[PER];
	struct store_batch	 b;
	struct store_check	 check;
	struct store_stats	 stats;
	struct store_config	 cfg;
	struct store		*st, *copy;
	struct aerr		 err;
	struct stat		 sb;
	MDB_env			*env;
	struct query		 q;
	struct found		 f;
	char			 start[32], ours[160], lmdbs[160], file[200];
	char			 uuid[40];
	uint64_t		 bytes, r = 12345, geneva = 0, rus = 0;
	int			 fds[2], i, j;
	char			 one;

	st = open_store((size_t)64 << 20);
	for (i = 0; i < NBATCH; i++) {
		for (j = 0; j < PER; j++) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			snprintf(start, sizeof start, "%04d-%02d-%02d",
			    1950 + (int)((r >> 33) % 70),
			    1 + (int)((r >> 20) % 12), 1 + (int)((r >> 40) % 28));
			mkev(&evs[j], start, NULL, actors[(r >> 50) % 4],
			    "042", NULL, NULL);
			if ((r >> 44) % 5 == 0) {
				free(evs[j].title);
				evs[j].title = strdup("Talks in Geneva");
				geneva++;
				rus += (r >> 50) % 4 == 0;
			}
			memset(&ops[j], 0, sizeof ops[j]);
			ops[j].kind = CHANGE_PUT;
			ops[j].ev = &evs[j];
		}
		memset(&b, 0, sizeof b);
		b.ops = ops;
		b.nops = PER;
		T_ASSERTF(store_write(st, &b, 1, 1000, &err) == 0, "%s",
		    err.msg);
		T_ASSERT(!b.failed);
		for (j = 0; j < PER; j++)
			record_clear(&evs[j]);
	}

	snprintf(ours, sizeof ours, "%s/ours", t_dir());
	T_OK(pipe(fds));
	T_OK(store_backup_start(st, ours, fds[1], &err));
	T_ASSERT(read(fds[0], &one, 1) == 1);
	T_ASSERTF(store_backup_finish(st, &bytes, &err) == 0, "%s", err.msg);
	close(fds[0]);
	close(fds[1]);
	T_OK(store_stats(st, &stats, &err));
	snprintf(uuid, sizeof uuid, "%s", store_uuid(st));
	store_close(st);

	snprintf(lmdbs, sizeof lmdbs, "%s/lmdbs", t_dir());
	T_OK(mkdir(lmdbs, 0750));
	snprintf(file, sizeof file, "%s/db", t_dir());
	T_OK(mdb_env_create(&env));
	T_OK(mdb_env_open(env, file, MDB_RDONLY, 0644));
	T_OK(mdb_env_copy2(env, lmdbs, MDB_CP_COMPACT));
	mdb_env_close(env);
	snprintf(file, sizeof file, "%s/data.mdb", lmdbs);
	T_OK(stat(file, &sb));
	T_ASSERTF(bytes * 10 < (uint64_t)sb.st_size * 9, "backup %llu bytes, "
	    "LMDB's compact copy %lld", (unsigned long long)bytes,
	    (long long)sb.st_size);

	memset(&cfg, 0, sizeof cfg);
	cfg.path = ours;
	cfg.map_size = (size_t)64 << 20;
	cfg.max_map_size = (size_t)64 << 20;
	copy = store_open(&cfg, &err);
	T_ASSERTF(copy != NULL, "%s", err.msg);
	T_OK(store_check(copy, &check, &err));
	T_EQ_U64(check.nproblems, 0);
	T_EQ_U64(check.events, (uint64_t)NBATCH * PER);
	T_ASSERTF(strcmp(store_uuid(copy), uuid) == 0, "%s, not %s",
	    store_uuid(copy), uuid);
	for (i = 0; i < 2; i++) {
		mkquery(&q, NULL, NULL, i == 0 ? NULL : "RUS");
		q.text = strdup(i == 0 ? "geneva" : "\"talks in\"");
		query_all(copy, &q, &f);
		T_ASSERT((i == 0 ? geneva : rus) > 0);
		T_EQ_U64(f.n, i == 0 ? geneva : rus);
		found_free(&f);
		query_clear(&q);
	}
	store_close(copy);
}

/*
 * The text filter (daemon/store-text.c, words.c).  Words are written in
 * several spellings that fold to one: accents, case, Arabic vowels.
 */
static const char *const text_vocab[][3] = {
	{ "geneve", "Genève", "GENÈVE" },
	{ "paix", "Paix", "PAIX" },
	{ "negociations", "négociations", "NÉGOCIATIONS" },
	{ "переговоры", "Переговоры", "ПЕРЕГОВОРЫ" },
	{ "елка", "Ёлка", "ёлка" },
	{ "lodz", "Łódź", "LODZ" },
	{ "orsted", "Ørsted", "ØRSTED" },
	{ "dakovic", "Đaković", "ĐAKOVIĆ" },
	{ "مفاوضات", "مُفَاوَضَات", "مفاوضات" },
	{ "talks", "Talks", "TALKS" },
	{ "talk", "Talk", "talk" },
	{ "talking", "talking", "Talking" },
	{ "peace", "Peace", "PEACE" },
	{ "the", "The", "the" },
	{ "in", "in", "IN" },
};
#define TEXT_NVOCAB	(sizeof text_vocab / sizeof text_vocab[0])

struct text_ev {
	struct model_ev	 m;
	int		 w[2][6];	/* title, text: vocabulary indexes */
	int		 nw[2];
};

/* Write words as an event's title or text, in random spellings. */
static char *
text_field(unsigned *seed, const int *w, int n)
{
	static const char *const seps[] = { " ", ", ", " — ", "; " };
	char	buf[512];
	int	i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(buf, seps[rand_r(seed) % 4]);
		strcat(buf, text_vocab[w[i]][rand_r(seed) % 3]);
	}
	return (strdup(buf));
}

static void
text_random(unsigned *seed, struct text_ev *t, struct event *ev)
{
	int	f, i;

	random_event(seed, &t->m, ev);
	free(ev->title);
	ev->title = NULL;
	for (f = 0; f < 2; f++) {
		t->nw[f] = f == 0 ? 1 + rand_r(seed) % 6 :
		    rand_r(seed) % 3 == 0 ? 1 + rand_r(seed) % 6 : 0;
		for (i = 0; i < t->nw[f]; i++)
			t->w[f][i] = rand_r(seed) % TEXT_NVOCAB;
		if (t->nw[f] > 0)
			*(f == 0 ? &ev->title : &ev->text) =
			    text_field(seed, t->w[f], t->nw[f]);
	}
}

/* A query term of the model: a word, or a prefix of words. */
struct text_mterm {
	char	 s[64];
	int	 prefix;
};

static int
text_has_term(const struct text_ev *t, const struct text_mterm *q)
{
	int	f, i;

	for (f = 0; f < 2; f++) {
		for (i = 0; i < t->nw[f]; i++) {
			const char *w = text_vocab[t->w[f][i]][0];

			if (q->prefix ? strncmp(w, q->s, strlen(q->s)) == 0 :
			    strcmp(w, q->s) == 0)
				return (1);
		}
	}
	return (0);
}

static int
text_has_phrase(const struct text_ev *t, int a, int b)
{
	int	f, i;

	for (f = 0; f < 2; f++) {
		for (i = 0; i + 1 < t->nw[f]; i++) {
			if (t->w[f][i] == a && t->w[f][i + 1] == b)
				return (1);
		}
	}
	return (0);
}

/*
 * A histogram with q's text filter against the events the model found
 * for q (expect, ne of them): in each bucket, those a range over it
 * returns, or those starting in it; in all, the distinct ones.
 */
static void
text_check_hist(struct store *st, struct query *q, struct model_ev **expect,
    size_t ne)
{
	struct agg_hist	 h;
	struct aerr	 err;
	int64_t		 lo, hi;
	uint64_t	 want, total;
	size_t		 b, i;
	int		 mode;

	q->desc = 0;
	for (mode = 0; mode < 2; mode++) {
		model_hist(st, q, mode, &h);
		for (total = 0, i = 0; i < ne; i++) {
			if (mode == AGG_COUNT_OVERLAP ||
			    (expect[i]->span.lo >= q->qlo &&
			    expect[i]->span.lo <= q->qhi))
				total++;
		}
		T_ASSERTF(h.total == total, "text %s mode %d: total %llu, "
		    "expected %llu", q->text, mode,
		    (unsigned long long)h.total, (unsigned long long)total);
		for (b = 0; b < h.n; b++) {
			model_bucket(&h, q, b, &lo, &hi);
			for (want = 0, i = 0; i < ne; i++) {
				if (mode == AGG_COUNT_OVERLAP ?
				    date_match(&expect[i]->span, lo, hi) !=
				    DATE_MATCH_NONE :
				    expect[i]->span.lo >= lo &&
				    expect[i]->span.lo <= hi)
					want++;
			}
			T_ASSERTF(h.counts[b] == want, "text %s mode %d bucket "
			    "%zu: %llu, expected %llu", q->text, mode, b,
			    (unsigned long long)h.counts[b],
			    (unsigned long long)want);
		}
		agg_hist_free(&h);
	}
	/* A word no event holds: nothing. */
	memset(&h, 0, sizeof h);
	free(q->text);
	q->text = strdup("zzz");
	T_ASSERTF(store_histogram(st, q, &h, &err) == 0, "%s", err.msg);
	T_EQ_U64(h.total, 0);
	agg_hist_free(&h);
}

static void
text_check_queries(struct store *st, struct text_ev *tev, size_t n,
    unsigned *seed)
{
	static const char *const prefixes[] = { "tal", "neg", "пере", "ge",
	    "pea", "t" };
	struct model_ev	**expect = calloc(n + 1, sizeof *expect);
	struct text_mterm terms[3];
	struct found	 f;
	struct query	 q;
	char		 text[512], from[16], to[16];
	size_t		 i, ne;
	int		 qi, nt, k, v, phrase, pa = 0, pb = 0, ok, y;

	for (qi = 0; qi < 150; qi++) {
		text[0] = '\0';
		nt = 1 + rand_r(seed) % 3;
		for (k = 0; k < nt; k++) {
			terms[k].prefix = rand_r(seed) % 4 == 0;
			if (terms[k].prefix) {
				snprintf(terms[k].s, sizeof terms[k].s, "%s",
				    prefixes[rand_r(seed) % 6]);
				strcat(text, terms[k].s);
				strcat(text, "* ");
			} else {
				v = rand_r(seed) % TEXT_NVOCAB;
				snprintf(terms[k].s, sizeof terms[k].s, "%s",
				    text_vocab[v][0]);
				strcat(text, text_vocab[v][rand_r(seed) % 3]);
				strcat(text, " ");
			}
		}
		phrase = rand_r(seed) % 3 == 0;
		if (phrase) {
			/* Two words one event holds in a row, or not. */
			struct text_ev *t = &tev[rand_r(seed) % n];

			pa = t->w[0][0];
			pb = t->nw[0] > 1 ? t->w[0][1] :
			    (int)(rand_r(seed) % TEXT_NVOCAB);
			snprintf(text + strlen(text), sizeof text -
			    strlen(text), "\"%s %s\"", text_vocab[pa][1],
			    text_vocab[pb][2]);
		}
		y = 1989 + rand_r(seed) % 36;
		if (rand_r(seed) % 2) {
			snprintf(from, sizeof from, "%d", y);
			snprintf(to, sizeof to, "%d", y + rand_r(seed) % 8);
			mkquery(&q, from, to, NULL);
		} else
			mkquery(&q, NULL, NULL, NULL);
		q.text = strdup(text);
		/* Short pages resume from cursors; long ones walk on. */
		q.limit = rand_r(seed) % 4 == 0 ? 5000 : 1 + rand_r(seed) % 40;
		q.desc = rand_r(seed) % 2;
		query_all(st, &q, &f);
		for (ne = 0, i = 0; i < n; i++) {
			if (!tev[i].m.live || date_match(&tev[i].m.span, q.qlo,
			    q.qhi) == DATE_MATCH_NONE)
				continue;
			for (ok = 1, k = 0; k < nt && ok; k++)
				ok = text_has_term(&tev[i], &terms[k]);
			if (ok && phrase)
				ok = text_has_phrase(&tev[i], pa, pb);
			if (ok)
				expect[ne++] = &tev[i].m;
		}
		qsort(expect, ne, sizeof *expect, model_cmp);
		T_ASSERTF(f.n == ne, "text %s: got %zu, expected %zu", text,
		    f.n, ne);
		for (i = 0; i < ne; i++)
			T_EQ_U64(f.ids[i], expect[q.desc ? ne - 1 - i : i]->id);
		found_free(&f);
		if (q.from != NULL)
			text_check_hist(st, &q, expect, ne);
		query_clear(&q);
	}
	free(expect);
}

TEST(store_text_words_fold)
{
	struct text_query	tq;
	struct words		w;
	char			msg[128];
	static const char *const cases[][2] = {
		{ "Négociations de PAIX à Genève",
		  "negociations de paix a geneve" },
		{ "Переговоры в Женеве: Ёлка", "переговоры в женеве елка" },
		{ "مُفَاوَضَات السلام في جنيف", "مفاوضات السلام في جنيف" },
		{ "U.S. talks don't stall; 3.5% growth", "u.s talks don't "
		  "stall 3.5 growth" },
		{ "Œuvre ﬁnale, Straße — İstanbul", "oeuvre finale strasse "
		  "istanbul" },
		/* Latin letters that Unicode does not decompose are spelled
		 * in ASCII (Latin-ASCII), as are ligatures and small
		 * capitals, these lowered as a capital NFKD leaves is. */
		{ "Łódź, Ørsted, Đaković, Ħamrun, Þingvellir, Ŧ",
		  "lodz orsted dakovic hamrun thingvellir t" },
		{ "DİYARBAKIR ırmağı Æble ÆRØ œil ᴀʀᴍʏ ℌ", "diyarbakir "
		  "irmagi aeble aero oeil army h" },
		/* Other scripts in a Latin word keep their letters; so does
		 * a Latin letter with no ASCII spelling (ə). */
		{ "łабв Əliyev", "lабв əliyev" },
		/* No spaces between words: ICU's dictionaries split them
		 * (PROTOCOL.md, "Text search"), not one word per character. */
		{ "和平谈判在日内瓦恢复", "和平 谈判 在 日内瓦 恢复" },
		{ "การเจรจา", "การ เจรจา" },
		{ "  ,;! ", "" },
	};
	char	got[256];
	size_t	i, j;

	words_init(&w);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		words_reset(&w);
		T_OK(words_split(&w, cases[i][0], strlen(cases[i][0])));
		got[0] = '\0';
		for (j = 0; j < w.n; j++) {
			if (j > 0)
				strcat(got, " ");
			strcat(got, words_at(&w, j));
		}
		T_EQ_STR(got, cases[i][1]);
	}

	/* Repeats go, the first of each staying, in short and long lists. */
	for (i = 0; i < 2; i++) {
		words_reset(&w);
		for (j = 0; j < (i ? 200 : 12); j++) {
			snprintf(got, sizeof got, "a%zu B%zu", j % 7, j % 5);
			T_OK(words_split(&w, got, strlen(got)));
		}
		words_unique(&w);
		T_EQ_INT((int)w.n, 7 + 5);
		for (j = 0; j < w.n; j++)
			T_ASSERT(j == 0 || strcmp(words_at(&w, j),
			    words_at(&w, j - 1)) != 0);
	}
	words_free(&w);

	T_OK(text_query_parse("negotiat* \"Peace TALKS\" Genève talks", &tq,
	    msg, sizeof msg));
	T_EQ_INT((int)tq.nterms, 4);
	T_EQ_STR(tq.terms[0].word, "negotiat");
	T_EQ_INT(tq.terms[0].prefix, 1);
	T_EQ_STR(tq.terms[1].word, "peace");
	T_EQ_INT(tq.terms[1].prefix, 0);
	T_EQ_STR(tq.terms[3].word, "geneve");
	T_EQ_INT((int)tq.nphrases, 1);
	T_EQ_INT((int)tq.phrases[0].n, 2);
	text_query_free(&tq);
	/* A query folds as the words it looks for. */
	T_OK(text_query_parse("ŁÓDŹ \"Ørsted Đaković\" Ħam*", &tq, msg,
	    sizeof msg));
	T_EQ_INT((int)tq.nterms, 4);
	T_EQ_STR(tq.terms[0].word, "lodz");
	T_EQ_STR(tq.terms[1].word, "orsted");
	T_EQ_STR(tq.terms[2].word, "dakovic");
	T_EQ_STR(tq.terms[3].word, "ham");
	T_EQ_INT(tq.terms[3].prefix, 1);
	text_query_free(&tq);
	T_ASSERT(text_query_parse(" ,; \"\" ", &tq, msg, sizeof msg) == -1);
	T_ASSERT(strstr(msg, "no word") != NULL);
	T_ASSERT(text_query_parse("a b c d e f g h i j k l m n o p q", &tq,
	    msg, sizeof msg) == -1);
}

/* Fold Latin letters in a thread: arg counts the words folded wrong. */
static void *
text_fold_thread(void *arg)
{
	static const char	 text[] = "Łódź Ørsted Đaković Переговоры";
	static const char *const want[] = { "lodz", "orsted", "dakovic",
	    "переговоры" };
	struct words		 w;
	size_t			*bad = arg, j;
	int			 i;

	words_init(&w);
	for (i = 0; i < 2000; i++) {
		words_reset(&w);
		if (words_split(&w, text, strlen(text)) != 0 || w.n != 4) {
			(*bad)++;
			continue;
		}
		for (j = 0; j < 4; j++)
			*bad += strcmp(words_at(&w, j), want[j]) != 0;
	}
	words_free(&w);
	return (NULL);
}

/*
 * Reader threads and the writer fold words at once, each with the
 * transliterator of its own (words.c), closed when it ends.
 */
TEST(store_text_words_fold_in_threads)
{
	pthread_t	th[4];
	size_t		bad[4] = { 0 };
	int		t;

	for (t = 0; t < 4; t++)
		T_OK(pthread_create(&th[t], NULL, text_fold_thread, &bad[t]));
	for (t = 0; t < 4; t++) {
		T_OK(pthread_join(th[t], NULL));
		T_EQ_U64(bad[t], 0);
	}
}

/*
 * ASCII text is split without ICU (words.c): on random ASCII, the same
 * words as ICU gives, which it does when the text holds one non-ASCII
 * character (an "\xc3\xa9 " put before it, split off as the word "e").
 */
TEST(store_text_ascii_words_as_icu)
{
	static const char alpha[] = "aZq09_.',;:- \t\n\r\v\f\"!?()/@#$%&*+<=>[]"
	    "\\^`{|}~\x01\x7f";
	struct words	 fast, icu;
	char		 text[WORDS_MAX_BYTES + 40], both[WORDS_MAX_BYTES + 43];
	unsigned	 seed = t_seed();
	size_t		 i, j, len;
	int		 round;

	words_init(&fast);
	words_init(&icu);
	for (round = 0; round < 100000; round++) {
		len = rand_r(&seed) % 12;
		for (i = 0; i < len; i++)
			text[i] = alpha[rand_r(&seed) % (sizeof alpha - 1)];
		text[len] = '\0';
		snprintf(both, sizeof both, "\xc3\xa9 %s", text);
		words_reset(&fast);
		words_reset(&icu);
		T_OK(words_split(&fast, text, len));
		T_OK(words_split(&icu, both, strlen(both)));
		T_ASSERT(icu.n >= 1 && strcmp(words_at(&icu, 0), "e") == 0);
		T_ASSERTF(fast.n + 1 == icu.n, "\"%s\": %zu words, ICU %zu",
		    text, fast.n, icu.n - 1);
		for (j = 0; j < fast.n; j++)
			T_ASSERTF(strcmp(words_at(&fast, j),
			    words_at(&icu, j + 1)) == 0, "\"%s\": %s, ICU %s",
			    text, words_at(&fast, j), words_at(&icu, j + 1));
	}
	/* A long word is cut to WORDS_MAX_BYTES as ICU's words are. */
	memset(both, 'A', sizeof both);
	memcpy(both, "\xc3\xa9 ", 3);
	memset(text, 'A', sizeof text);
	words_reset(&fast);
	words_reset(&icu);
	T_OK(words_split(&fast, text, sizeof text));
	T_OK(words_split(&icu, both, sizeof both));
	T_EQ_INT((int)fast.n, 1);
	T_EQ_INT((int)icu.n, 2);
	T_EQ_INT((int)strlen(words_at(&fast, 0)), WORDS_MAX_BYTES);
	T_EQ_STR(words_at(&fast, 0), words_at(&icu, 1));
	words_free(&fast);
	words_free(&icu);
}

/*
 * Random puts, updates and deletes, then queries checked against the
 * model, with a stage of stage_text events: a small one makes most
 * queries read the blocks, a large one makes them read many batches.
 * Every release_every changes (0: never), the store gives back its
 * write memory, closing and opening its environment (store_release);
 * every query_every changes (0: never), queries are checked too, so
 * that the postings queries keep from the stage meet every kind of
 * change of it; with puts_only, every change is a put, which only adds
 * batches at the stage's end.  Returns how many queries answered from
 * kept postings before the index was dropped.
 */
static uint64_t
text_against_model(size_t stage_text, int release_every, int query_every,
    int puts_only)
{
	static const char *const dbis[] = { "text", "text_new", "words" };
	struct store	*st = open_store_staged(32 << 20, 0, stage_text);
	struct store_check *check;
	struct text_ev	*tev = calloc(1500, sizeof *tev);
	struct event	 ev;
	struct query	 q;
	struct found	 f;
	struct aerr	 err;
	unsigned	 seed = t_seed();
	uint64_t	 hits;
	size_t		 n = 0, i;
	int		 round, status;

	for (round = 0; round < 1200; round++) {
		int op = puts_only ? 0 : rand_r(&seed) % 10;

		if (release_every > 0 && round % release_every ==
		    release_every - 1) {
			store_release(st);
			store_warm(st);
		}
		if (query_every > 0 && n > 0 && round % query_every ==
		    query_every - 1)
			text_check_queries(st, tev, n, &seed);
		if (op < 7 || n == 0) {
			text_random(&seed, &tev[n], &ev);
			tev[n].m.id = put1(st, &ev, &status);
			tev[n].m.live = 1;
			record_clear(&ev);
			n++;
			continue;
		}
		i = rand_r(&seed) % n;
		if (!tev[i].m.live)
			continue;
		if (op < 9) {
			/* A new title, and maybe a new date. */
			text_random(&seed, &tev[i], &ev);
			ev.id = tev[i].m.id;
			put1(st, &ev, &status);
			T_EQ_INT(status, STORE_UPDATED);
			record_clear(&ev);
		} else {
			T_EQ_INT(del1(st, tev[i].m.id), 1);
			tev[i].m.live = 0;
		}
	}
	text_check_queries(st, tev, n, &seed);
	check = calloc(1, sizeof *check);
	T_OK(store_check(st, check, &err));
	T_ASSERTF(check->nproblems == 0, "%s", check->problems[0]);
	free(check);

	/* A bad query is refused with a reason. */
	mkquery(&q, NULL, NULL, NULL);
	q.text = strdup("\"\"");
	T_ASSERT(store_query(st, &q, NULL, collect, &f, &err) == -1);
	T_ASSERT(strstr(err.msg, "no word") != NULL);
	query_clear(&q);

	/* As a daemon before the word index left the store: rebuilt. */
	hits = store_text_cache_hits(st);
	store_close(st);
	drop_index(dbis, "texted_to");
	st = open_store_staged(32 << 20, 0, stage_text);
	text_check_queries(st, tev, n, &seed);
	store_close(st);
	free(tev);
	return (hits);
}

TEST(store_text_against_model)
{
	text_against_model(2, 0, 0, 0);
}

/* Most of the 1,200 changes still staged, in batches of one. */
TEST(store_text_against_model_with_a_large_stage)
{
	text_against_model(1000, 0, 0, 0);
}

/*
 * Queries between the changes, with a stage that takes them all: the
 * stage's postings a query keeps answer only while the stage is as it
 * was (some queries did answer from them, or nothing was tried).
 */
TEST(store_text_against_model_queried_as_it_changes)
{
	uint64_t	hits = text_against_model(1000, 0, 60, 0);

	T_ASSERTF(hits > 100, "%llu queries answered from kept postings",
	    (unsigned long long)hits);
}

/* The same with a stage swept every 40 events. */
TEST(store_text_against_model_queried_as_it_is_swept)
{
	uint64_t	hits = text_against_model(40, 0, 60, 0);

	T_ASSERTF(hits > 100, "%llu queries answered from kept postings",
	    (unsigned long long)hits);
}

/*
 * Puts only, between the queries: the kept postings are brought up to
 * date from the batches put since, query after query.
 */
TEST(store_text_against_model_queried_as_puts_come)
{
	uint64_t	hits = text_against_model(1000, 0, 60, 1);

	T_ASSERTF(hits > 100, "%llu queries answered from kept postings",
	    (unsigned long long)hits);
}

/*
 * The environment closed and opened again between writes, with events
 * staged: the writer's copy of the stage stays right (each sweep checks
 * it), and so do the answers and the check.
 */
TEST(store_text_against_model_with_releases)
{
	text_against_model(50, 97, 0, 0);
}

/* The check of a store open at the test's path: its problems in c. */
static void
check_store(struct store_check *c)
{
	struct store	*st = open_store(32 << 20);
	struct aerr	 err;

	T_OK(store_check(st, c, &err));
	store_close(st);
}

/* The store at the test's path: the check finds it sound. */
static void
check_sound(void)
{
	struct store_check	*c = calloc(1, sizeof *c);

	check_store(c);
	T_ASSERTF(c->nproblems == 0, "%s", c->problems[0]);
	free(c);
}

/* The ids a query finds: actor (or NULL) over [from, to]. */
static size_t
ids_of(struct store *st, const char *from, const char *to, const char *actor,
    uint64_t *ids, size_t cap)
{
	struct query	q;
	struct found	f;
	size_t		i, n;

	mkquery(&q, from, to, actor);
	query_all(st, &q, &f);
	n = f.n;
	for (i = 0; i < n && i < cap; i++)
		ids[i] = f.ids[i];
	found_free(&f);
	query_clear(&q);
	return (n);
}

/* Make op a put of a new event (or, with id, an update). */
static void
op_put(struct store_op *op, struct event *ev, uint64_t id, const char *start,
    const char *actors, const char *type)
{
	mkev(ev, start, NULL, actors, type, NULL, NULL);
	ev->id = id;
	op->kind = CHANGE_PUT;
	op->ev = ev;
}

/*
 * The writer adds up a transaction's changes of the actor and type
 * counts and writes each name once (store-names.c).  Groups of batches
 * that put, update and delete events sharing names, a name taken away
 * and given back in one group, and (nested) a batch that fails and
 * takes its names with it, leave the counts and class masks a write per
 * event would: the check finds every count equal to its index, and
 * queries find each event through the classes its names were used with.
 */
TEST(store_name_counts_of_a_group_add_up)
{
	struct store		*st = open_store(16 << 20);
	struct store_batch	 b[3];
	struct store_op		 ops[3][3];
	struct event		 ev[3][3];
	struct actor_list	 l;
	struct aerr		 err;
	uint64_t		 e1, e2, e3, ids[8];
	size_t			 i, j;
	int			 nested, more;

	for (nested = 0; nested <= 1; nested++) {
		const char	*p = nested ? "N" : "P";
		char		 y[16], d[4][32], a[5][40];

		snprintf(y, sizeof y, "%d", 2015 + nested);
		for (i = 0; i < 4; i++)
			snprintf(d[i], sizeof d[i], "%s-03-%02zu", y, 2 + i);
		snprintf(a[0], sizeof a[0], "%s1,%s2", p, p);
		snprintf(a[1], sizeof a[1], "%s1,%s3", p, p);
		snprintf(a[2], sizeof a[2], "%s4,%s1", p, p);

		/* P1,P2 on a day; P1,P3 over the year; P4,P1 on a day. */
		memset(b, 0, sizeof b);
		memset(ops, 0, sizeof ops);
		op_put(&ops[0][0], &ev[0][0], 0, d[0], a[0], "036");
		op_put(&ops[0][1], &ev[0][1], 0, y, a[1], "036");
		op_put(&ops[1][0], &ev[1][0], 0, d[1], a[2], "190");
		b[0].ops = ops[0];
		b[0].nops = 2;
		b[1].ops = ops[1];
		b[1].nops = 1;
		T_ASSERTF(store_write(st, b, 2, 1000, &err) == 0, "%s",
		    err.msg);
		T_ASSERT(!b[0].failed && !b[1].failed);
		e1 = ops[0][0].out_id;
		e2 = ops[0][1].out_id;
		e3 = ops[1][0].out_id;
		for (i = 0; i < 3; i++)
			for (j = 0; j < b[i].nops; j++)
				record_clear(&ev[i][j]);

		/*
		 * Delete e1, put e4 (P1 and a new P5) and move e2 to P3
		 * alone; a batch puts P7 twice, and fails when nested; delete
		 * e3 (P4 gone, P1 down to e4) and put e5 (P2 back to 1).
		 */
		memset(b, 0, sizeof b);
		memset(ops, 0, sizeof ops);
		snprintf(a[0], sizeof a[0], "%s1,%s5", p, p);
		snprintf(a[1], sizeof a[1], "%s3", p);
		snprintf(a[2], sizeof a[2], "%s7", p);
		snprintf(a[3], sizeof a[3], "%s2", p);
		ops[0][0].kind = CHANGE_DELETE;
		ops[0][0].id = e1;
		op_put(&ops[0][1], &ev[0][1], 0, d[2], a[0], "051");
		op_put(&ops[0][2], &ev[0][2], e2, y, a[1], "036");
		op_put(&ops[1][0], &ev[1][0], 0, "2017-01-01", a[2], "999");
		op_put(&ops[1][1], &ev[1][1], 0, "2017-01-02", a[2], "999");
		/* A rev for a new event: refused, the batch fails. */
		ops[1][1].check_rev = nested;
		ops[1][1].if_rev = 1;
		ops[2][0].kind = CHANGE_DELETE;
		ops[2][0].id = e3;
		op_put(&ops[2][1], &ev[2][1], 0, d[3], a[3], "190");
		b[0].ops = ops[0];
		b[0].nops = 3;
		b[1].ops = ops[1];
		b[1].nops = 2;
		b[2].ops = ops[2];
		b[2].nops = 2;
		T_ASSERTF(store_write(st, b, 3, 1000, &err) == 0, "%s",
		    err.msg);
		T_ASSERT(!b[0].failed && b[1].failed == nested &&
		    !b[2].failed);
		for (i = 0; i < 3; i++)
			for (j = i == 1 ? 0 : 1; j < b[i].nops; j++)
				record_clear(&ev[i][j]);

		memset(&l, 0, sizeof l);
		T_OK(store_actors(st, p, NULL, 16, actor_one, &l, &more,
		    &err));
		T_EQ_U64(l.n, nested ? 4 : 5);
		for (i = 0; i < l.n; i++) {
			snprintf(a[4], sizeof a[4], "%s%c", p, "12357"[i]);
			T_EQ_STR(l.names[i], a[4]);
			T_EQ_U64(l.counts[i], i == 4 ? 2 : 1);
		}

		/* e2 by the year class of P3, e4 and e5 by the day's. */
		snprintf(a[4], sizeof a[4], "%s-07", y);
		T_EQ_U64(ids_of(st, a[4], NULL, a[1], ids, 8), 1);
		T_EQ_U64(ids[0], e2);
		snprintf(a[4], sizeof a[4], "%s1", p);
		T_EQ_U64(ids_of(st, d[0], d[3], a[4], ids, 8), 1);
		T_EQ_U64(ids[0], ops[0][1].out_id);
		T_EQ_U64(ids_of(st, d[0], d[3], a[3], ids, 8), 1);
		T_EQ_U64(ids[0], ops[2][1].out_id);
	}
	store_close(st);
	check_sound();
}

/* The ids of query text over every date, in order desc. */
static void
text_all(struct store *st, const char *text, int desc, struct found *f)
{
	struct query	q;

	mkquery(&q, NULL, NULL, NULL);
	q.text = strdup(text);
	q.limit = 5000;
	q.desc = desc;
	query_all(st, &q, f);
	query_clear(&q);
}

/* How many events query text finds over every date, in order desc. */
static uint64_t
text_count(struct store *st, const char *text, int desc)
{
	struct found	f;
	uint64_t	n;

	text_all(st, text, desc, &f);
	n = f.n;
	found_free(&f);
	return (n);
}

/*
 * A query of as many words as a query may have (WORDS_QUERY_MAX, 16)
 * finds the event that holds them all, whether it is staged (each
 * staged event marks the terms it holds, one bit each) or swept into
 * the blocks; one more word is refused.
 */
TEST(store_text_sixteen_terms_staged_and_swept)
{
	static const char *const words[] = { "alpha", "bravo", "charlie",
	    "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
	    "kilo", "lima", "mike", "november", "oscar", "papa" };
	struct store	*st;
	struct event	 ev;
	struct query	 q;
	struct found	 f;
	struct aerr	 err;
	char		 all[192], most[192], prefixes[192], title[256];
	size_t		 i;
	int		 round, status;

	all[0] = most[0] = prefixes[0] = '\0';
	for (i = 0; i < 16; i++) {
		strcat(all, words[i]);
		strcat(all, " ");
		if (i < 15) {
			strcat(most, words[i]);
			strcat(most, " ");
		}
		strncat(prefixes, words[i], 3);
		strcat(prefixes, "* ");
	}
	/* First a stage that holds them, then one of two that sweeps. */
	for (round = 0; round < 2; round++) {
		st = open_store_staged(32 << 20, 0, round == 0 ? 1000 : 2);
		mkev(&ev, round == 0 ? "2001-01-05" : "2002-01-05", NULL,
		    "USA", NULL, NULL, NULL);
		free(ev.title);
		ev.title = strdup(all);
		put1(st, &ev, &status);
		T_EQ_INT(status, STORE_ADDED);
		record_clear(&ev);
		/* The first fifteen only. */
		mkev(&ev, "2003-01-05", NULL, "USA", NULL, NULL, NULL);
		free(ev.title);
		snprintf(title, sizeof title, "%s%s", most, round ? "x" : "y");
		ev.title = strdup(title);
		put1(st, &ev, &status);
		T_EQ_INT(status, STORE_ADDED);
		record_clear(&ev);

		T_EQ_U64(text_count(st, all, 0), (uint64_t)round + 1);
		T_EQ_U64(text_count(st, all, 1), (uint64_t)round + 1);
		T_EQ_U64(text_count(st, prefixes, 0), (uint64_t)round + 1);
		T_EQ_U64(text_count(st, most, 1), 2 * (uint64_t)round + 2);

		mkquery(&q, NULL, NULL, NULL);
		snprintf(title, sizeof title, "%szulu", all);
		q.text = strdup(title);
		T_ASSERT(store_query(st, &q, NULL, collect, &f, &err) == -1);
		T_ASSERTF(strstr(err.msg, "16") != NULL, "%s", err.msg);
		query_clear(&q);
		store_close(st);
	}
	check_sound();
}

/*
 * Close st and check that the word index's sealed blocks, of a feed in
 * date order, are full ones, each in an overflow page of its own; then
 * open it again.
 */
static struct store *
sealed_one_page_each(struct store *st)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_stat	 ms;
	MDB_cursor	*cur;
	MDB_val		 k, v;

	store_close(st);
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "text", 0, &dbi));
	T_OK(mdb_stat(txn, dbi, &ms));
	T_ASSERTF(ms.ms_entries >= 1 && ms.ms_overflow_pages ==
	    ms.ms_entries, "%zu blocks sealed, %zu overflow pages",
	    ms.ms_entries, ms.ms_overflow_pages);
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0)
		T_ASSERTF(v.mv_size > 4000 && v.mv_size <= 4080,
		    "a sealed block of %zu bytes", v.mv_size);
	mdb_cursor_close(cur);
	raw_commit(env, txn);
	return (open_store(32 << 20));
}

/*
 * A feed in date order fills the tails of its lists, which are sealed
 * into blocks; late events go into those blocks, and deletes empty the
 * last tail, which takes the last sealed block's postings.  Each query
 * answers the live events in order, both ways.  The events are 200 days
 * apart, so that alpha's 1,500 postings (3 bytes each) fill its tail
 * past a block, which takes an overflow page of its own.
 */
TEST(store_text_tails_seal_and_refill)
{
	struct store	*st = open_store(32 << 20);
	struct event	 ev;
	struct found	 f;
	char		 date[16];
	uint64_t	 ids[1600], want[1600];
	int64_t		 y, days[1600];
	unsigned	 m, d, seed = t_seed();
	int		 live[1600], i, j, desc, w, nw;
	static const char *const words[] = { "alpha", "alpha beta" };

	for (i = 0; i < 1600; i++) {
		if (i == 1500)
			st = sealed_one_page_each(st);
		/* The last 100 come late, at earlier dates. */
		days[i] = 200 * (i < 1500 ? i : rand_r(&seed) % 1500);
		date_civil_from_days(date_days_from_civil(1990, 1, 1) +
		    days[i], &y, &m, &d);
		snprintf(date, sizeof date, "%04lld-%02u-%02u", (long long)y,
		    m, d);
		mkev(&ev, date, NULL, "SYRGOV", NULL, NULL, NULL);
		free(ev.title);
		ev.title = strdup(i % 2 ? "alpha" : "alpha beta");
		ids[i] = put1(st, &ev, NULL);
		live[i] = 1;
		record_clear(&ev);
	}
	/* Every 7th, then the last 200 of the feed: the tails empty. */
	for (i = 0; i < 1600; i++) {
		if (i % 7 == 0 || (i >= 1300 && i < 1500)) {
			T_EQ_INT(del1(st, ids[i]), 1);
			live[i] = 0;
		}
	}
	for (w = 0; w < 2; w++) {
		for (nw = 0, i = 0; i < 1600; i++) {
			if (live[i] && (w == 0 || i % 2 == 0))
				want[nw++] = (uint64_t)i;
		}
		/* By (day, id): insertion sort, ids grow with i. */
		for (i = 1; i < nw; i++) {
			uint64_t x = want[i];

			for (j = i; j > 0 && (days[want[j - 1]] > days[x] ||
			    (days[want[j - 1]] == days[x] &&
			    ids[want[j - 1]] > ids[x])); j--)
				want[j] = want[j - 1];
			want[j] = x;
		}
		for (desc = 0; desc < 2; desc++) {
			memset(&f, 0, sizeof f);
			text_all(st, words[w], desc, &f);
			T_ASSERTF(f.n == (size_t)nw, "%s: %zu of %d", words[w],
			    f.n, nw);
			for (i = 0; i < nw; i++)
				T_EQ_U64(f.ids[i], ids[want[desc ? nw - 1 - i :
				    i]]);
			found_free(&f);
		}
	}
	store_close(st);
	/* Sealed blocks, refilled tails: the check finds them sound. */
	check_sound();
}

/* Civil date of days after 1990-01-01, as a start. */
static void
date_of_day(int64_t day, char *date, size_t len)
{
	int64_t		y;
	unsigned	m, d;

	date_civil_from_days(date_days_from_civil(1990, 1, 1) + day, &y, &m,
	    &d);
	snprintf(date, len, "%04lld-%02u-%02u", (long long)y, m, d);
}

/* Put n events (300 at most) of title in one write, the i-th on dates[i]. */
static void
put_titled(struct store *st, char (*dates)[16], size_t n, const char *title,
    uint64_t *ids)
{
	struct store_op		ops[300];
	struct event		evs[300];
	struct store_batch	b;
	struct aerr		err;
	size_t			i;

	T_ASSERT(n <= 300);
	memset(ops, 0, sizeof ops);
	for (i = 0; i < n; i++) {
		mkev(&evs[i], dates[i], NULL, "SYRGOV", NULL, NULL, NULL);
		free(evs[i].title);
		evs[i].title = strdup(title);
		ops[i].kind = CHANGE_PUT;
		ops[i].ev = &evs[i];
	}
	memset(&b, 0, sizeof b);
	b.ops = ops;
	b.nops = n;
	T_ASSERTF(store_write(st, &b, 1, 3000, &err) == 0, "%s", err.msg);
	T_ASSERTF(!b.failed, "%s", b.err.msg);
	for (i = 0; i < n; i++) {
		ids[i] = ops[i].out_id;
		record_clear(&evs[i]);
	}
}

/*
 * Late postings that come after a list's last sealed block, which is
 * full, and before its tail go into new blocks of their own after it
 * (block_append with nothing of theirs fitting), and the next such
 * postings after those: 2,100 events in ascending order within the 199
 * days between the sealed block's last posting and the tail's first.
 * Every query answers every event in order, both ways, and the check
 * finds the index sound.
 */
TEST(store_text_late_postings_after_a_full_block_make_blocks)
{
	struct store	*st = open_store(32 << 20);
	struct event	 ev;
	struct found	 f;
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	char		 date[16], dates[300][16];
	uint64_t	 ids[1500], first_tail, late[2100];
	int64_t		 gap;
	size_t		 i, j, n, desc;

	for (i = 0; i < 1500; i++) {
		date_of_day(200 * (int64_t)i, date, sizeof date);
		mkev(&ev, date, NULL, "SYRGOV", NULL, NULL, NULL);
		free(ev.title);
		ev.title = strdup("alpha");
		ids[i] = put1(st, &ev, NULL);
		record_clear(&ev);
	}
	st = sealed_one_page_each(st);
	/* The tail's first posting: its id says which event it is. */
	store_close(st);
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "text_tail", 0, &dbi));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	/* Its key is the word, a NUL and the class of day events. */
	k.mv_data = (char []){ "alpha" };
	k.mv_size = 6;
	T_OK(mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE));
	T_ASSERT(k.mv_size == 7 && memcmp(k.mv_data, "alpha", 6) == 0);
	T_ASSERT(v.mv_size > 32);
	first_tail = skey_get_be64((const unsigned char *)v.mv_data + 8);
	mdb_cursor_close(cur);
	raw_commit(env, txn);
	T_ASSERT(first_tail > ids[0] && first_tail <= ids[1499]);
	gap = 200 * (int64_t)(first_tail - ids[0] - 1);
	st = open_store(32 << 20);

	for (n = 0; n < 2100; n += 300) {
		for (j = 0; j < 300; j++)
			date_of_day(gap + 1 + (int64_t)((n + j) * 199 / 2100),
			    dates[j], sizeof dates[j]);
		put_titled(st, dates, 300, "alpha late", late + n);
	}
	for (desc = 0; desc < 2; desc++) {
		text_all(st, "late", (int)desc, &f);
		T_EQ_INT(f.n, 2100);
		for (i = 0; i < 2100; i++)
			T_EQ_U64(f.ids[i], late[desc ? 2099 - i : i]);
		found_free(&f);
		/* alpha: the feed up to the gap, the late, the rest. */
		text_all(st, "alpha", (int)desc, &f);
		T_EQ_INT(f.n, 3600);
		for (i = 0; i < 3600; i++) {
			j = desc ? 3599 - i : i;
			T_EQ_U64(f.ids[i], j < first_tail - ids[0] ? ids[j] :
			    j < first_tail - ids[0] + 2100 ?
			    late[j - (first_tail - ids[0])] : ids[j - 2100]);
		}
		found_free(&f);
	}
	store_close(st);
	check_sound();
}

/* The ids of a word query over the dates from..to, and the hits it added. */
static size_t
text_range_ids(struct store *st, const char *text, const char *from,
    const char *to, uint64_t *ids, size_t cap, uint64_t *hits)
{
	struct query	q;
	struct found	f;
	uint64_t	before = store_text_cache_hits(st);
	size_t		i, n;

	mkquery(&q, from, to, NULL);
	q.text = strdup(text);
	query_all(st, &q, &f);
	query_clear(&q);
	*hits = store_text_cache_hits(st) - before;
	T_ASSERT(f.n <= cap);
	for (i = 0; i < f.n; i++)
		ids[i] = f.ids[i];
	n = f.n;
	found_free(&f);
	return (n);
}

/*
 * A word query that asks for words another asked for at the same stage
 * answers from the postings that query kept, not from the stage; after
 * puts, which only add batches at the stage's end, it reads those and
 * answers from the kept postings brought up to date; a delete, an update
 * of a staged event or a sweep makes the next query read the stage
 * again.  The answers are the stage's.  Ranges narrower than the first
 * query's, prefixes, and a term the cache lacks beside one it holds, all
 * answer as the stage.
 */
TEST(store_text_stage_cache_answers_until_the_stage_changes)
{
	struct store	*st = open_store_staged(32 << 20, 0, 300);
	struct event	 ev;
	char		 date[16], dates[150][16];
	uint64_t	 ids[400], got[400], again[400], hits, alpha[400];
	size_t		 i, n, na;

	for (i = 0; i < 200; i++) {
		snprintf(date, sizeof date, "2001-%02zu-%02zu", 1 + i / 28,
		    1 + i % 28);
		mkev(&ev, date, NULL, "SYRGOV", NULL, NULL, NULL);
		free(ev.title);
		ev.title = strdup(i % 2 ? "alpha gamma" : "alpha beta");
		ids[i] = put1(st, &ev, NULL);
		record_clear(&ev);
	}
	n = text_range_ids(st, "alpha", NULL, NULL, got, 400, &hits);
	T_EQ_INT(n, 200);
	T_EQ_U64(hits, 0);
	for (i = 0; i < 200; i++)
		T_EQ_U64(got[i], ids[i]);
	n = text_range_ids(st, "alpha", NULL, NULL, again, 400, &hits);
	T_EQ_U64(hits, 1);
	T_ASSERT(n == 200 && memcmp(got, again, n * sizeof *got) == 0);
	/* A range inside: March, the 57th to the 84th event. */
	n = text_range_ids(st, "alpha", "2001-03-01", "2001-03-28", got, 400,
	    &hits);
	T_EQ_U64(hits, 1);
	T_EQ_INT(n, 28);
	for (i = 0; i < 28; i++)
		T_EQ_U64(got[i], ids[56 + i]);
	/* A prefix is a term of its own; a term the cache lacks reads. */
	T_EQ_INT(text_range_ids(st, "gam*", NULL, NULL, got, 400, &hits), 100);
	T_EQ_U64(hits, 0);
	T_EQ_INT(text_range_ids(st, "gam*", NULL, NULL, got, 400, &hits), 100);
	T_EQ_U64(hits, 1);
	T_EQ_INT(text_range_ids(st, "alpha beta", NULL, NULL, got, 400,
	    &hits), 100);
	T_EQ_U64(hits, 0);
	for (i = 0; i < 100; i++)
		T_EQ_U64(got[i], ids[2 * i]);

	/* A put: its batch is read, and the kept postings answer. */
	mkev(&ev, "2001-12-01", NULL, "SYRGOV", NULL, NULL, NULL);
	free(ev.title);
	ev.title = strdup("alpha gamma");
	ids[200] = put1(st, &ev, NULL);
	record_clear(&ev);
	n = text_range_ids(st, "alpha", NULL, NULL, got, 400, &hits);
	T_ASSERT(n == 201 && got[200] == ids[200] && hits == 1);
	n = text_range_ids(st, "gam*", NULL, NULL, got, 400, &hits);
	T_ASSERT(n == 101 && got[100] == ids[200] && hits == 1);
	/* A delete and an update of staged events: the stage is read. */
	T_EQ_INT(del1(st, ids[0]), 1);
	n = text_range_ids(st, "alpha", NULL, NULL, got, 400, &hits);
	T_ASSERT(n == 200 && got[0] == ids[1] && hits == 0);
	mkev(&ev, "2001-01-02", NULL, "SYRGOV", NULL, NULL, NULL);
	free(ev.title);
	ev.title = strdup("delta");
	ev.id = ids[1];
	put1(st, &ev, NULL);
	record_clear(&ev);
	n = text_range_ids(st, "alpha", NULL, NULL, got, 400, &hits);
	T_ASSERT(n == 199 && got[0] == ids[2] && hits == 0);
	n = text_range_ids(st, "alpha", NULL, NULL, got, 400, &hits);
	T_ASSERT(n == 199 && hits == 1);
	T_EQ_INT(text_range_ids(st, "delta", NULL, NULL, got, 400, &hits), 1);
	T_EQ_U64(got[0], ids[1]);

	/* 150 more in one write: the stage passes 300 and is swept. */
	for (i = 0; i < 150; i++)
		snprintf(dates[i], sizeof dates[i], "2002-%02zu-%02zu",
		    1 + i / 28, 1 + i % 28);
	put_titled(st, dates, 150, "alpha", ids + 201);
	n = text_range_ids(st, "alpha", NULL, NULL, got, 400, &hits);
	T_EQ_INT(n, 349);
	T_EQ_U64(hits, 0);
	for (na = 0, i = 2; i < 351; i++)
		alpha[na++] = ids[i];
	T_ASSERT(memcmp(got, alpha, na * sizeof *got) == 0);
	n = text_range_ids(st, "alpha", NULL, NULL, again, 400, &hits);
	T_ASSERT(n == 349 && hits == 1 && memcmp(got, again, n *
	    sizeof *got) == 0);
	store_close(st);
	check_sound();
}

/*
 * The check of the word index: clean with events staged and not yet
 * swept into the tails (and one updated, one deleted there); then each
 * damage done behind the store's back is reported: a staged word the
 * event does not hold, a word's count gone, a list's tail gone.
 */
TEST(store_check_word_index)
{
	struct store		*st = open_store(32 << 20);
	struct store_check	*c = calloc(1, sizeof *c);
	struct event		 ev;
	struct aerr		 err;
	char			 date[24];
	uint64_t		 ids[11];
	struct store_op		 ops[3];
	struct store_batch	 b;
	struct event		 evs[2];
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	unsigned char		 val[512];
	int			 i;

	/* A stage of 5 sweeps past 2 events: 11 puts leave 2 staged. */
	for (i = 0; i < 11; i++) {
		snprintf(date, sizeof date, "2001-01-%02d", i + 1);
		mkev(&ev, date, NULL, "SYRGOV", NULL, NULL, NULL);
		free(ev.title);
		ev.title = strdup(i % 2 ? "Alpha beta" : "alpha GAMMA");
		ids[i] = put1(st, &ev, NULL);
		record_clear(&ev);
	}
	T_OK(store_check(st, c, &err));
	T_ASSERTF(c->nproblems == 0, "%s", c->problems[0]);
	/* The last one, staged, takes other words; one swept goes. */
	mkev(&ev, "2001-01-11", NULL, "SYRGOV", NULL, NULL, NULL);
	free(ev.title);
	ev.title = strdup("alpha delta");
	ev.id = ids[10];
	put1(st, &ev, NULL);
	record_clear(&ev);
	T_EQ_INT(del1(st, ids[3]), 1);
	T_OK(store_check(st, c, &err));
	T_ASSERTF(c->nproblems == 0, "%s", c->problems[0]);

	/*
	 * One transaction appends to the stage, deletes from it and puts
	 * into it before its last: the stage stays as the records say.
	 */
	memset(ops, 0, sizeof ops);
	mkev(&evs[0], "2001-03-01", NULL, "SYRGOV", NULL, NULL, NULL);
	ops[0].kind = CHANGE_PUT;
	ops[0].ev = &evs[0];
	ops[1].kind = CHANGE_DELETE;
	ops[1].id = ids[9];
	mkev(&evs[1], "2001-01-05", NULL, "SYRGOV", NULL, NULL, NULL);
	free(evs[1].title);
	evs[1].title = strdup("alpha beta epsilon");
	evs[1].id = ids[10];
	ops[2].kind = CHANGE_PUT;
	ops[2].ev = &evs[1];
	memset(&b, 0, sizeof b);
	b.ops = ops;
	b.nops = 3;
	T_ASSERTF(store_write(st, &b, 1, 3000, &err) == 0, "%s", err.msg);
	T_ASSERTF(!b.failed, "%s", b.err.msg);
	record_clear(&evs[0]);
	record_clear(&evs[1]);
	T_OK(store_check(st, c, &err));
	T_ASSERTF(c->nproblems == 0, "%s", c->problems[0]);
	store_close(st);

	/*
	 * Staged events there were: the last of the last batch is said to
	 * hold "zeta" too, before the NUL that ends its words.
	 */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "text_new", 0, &dbi));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	T_OK(mdb_cursor_get(cur, &k, &v, MDB_LAST));
	T_ASSERT(v.mv_size + 5 <= sizeof val);
	memcpy(val, v.mv_data, v.mv_size - 1);
	memcpy(val + v.mv_size - 1, "zeta\0", 6);
	v.mv_data = val;
	v.mv_size += 5;
	T_OK(mdb_cursor_put(cur, &k, &v, MDB_CURRENT));
	mdb_cursor_close(cur);
	raw_commit(env, txn);
	check_store(c);
	T_ASSERTF(c->nproblems == 1 && check_says(c, "the stage of zeta "
	    "lists event"), "%llu: %s", (unsigned long long)c->nproblems,
	    c->problems[0]);

	/* "beta" loses its count: 2, 6 and 8 are swept (4 is gone). */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "words", 0, &dbi));
	k.mv_data = (void *)"beta";
	k.mv_size = 4;
	T_OK(mdb_del(txn, dbi, &k, NULL));
	raw_commit(env, txn);
	check_store(c);
	T_ASSERTF(c->nproblems == 2 && check_says(c, "beta has 3 postings "
	    "but no count"), "%s / %s", c->problems[0], c->problems[1]);

	/* "gamma" loses its tail: its swept events are missing. */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "text_tail", 0, &dbi));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	k.mv_data = (void *)"gamma";
	k.mv_size = 6;
	T_OK(mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE));
	T_ASSERT(k.mv_size == 7 && memcmp(k.mv_data, "gamma", 6) == 0);
	T_OK(mdb_cursor_del(cur, 0));
	mdb_cursor_close(cur);
	raw_commit(env, txn);
	check_store(c);
	T_ASSERTF(check_says(c, "gamma is counted but has no postings") &&
	    check_says(c, "event 1: missing from the word index under "
	    "gamma"), "%llu: %s", (unsigned long long)c->nproblems,
	    c->problems[2]);
	/* 1, 3, 5, 7, 9 had gamma; 11 was staged. */
	T_EQ_U64(c->nproblems, 2 + 1 + 5);
	free(c);
}

/*
 * A stage from before batches, one entry per event keyed by its (start,
 * id): opened, it is swept into the lists, where queries find its
 * events in order, and the check finds it all in place.
 */
TEST(store_text_stage_of_entries_is_swept_when_opened)
{
	struct store		*st = open_store(32 << 20);
	struct store_check	*c = calloc(1, sizeof *c);
	struct event		 ev;
	struct found		 f;
	struct aerr		 err;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi, meta;
	MDB_cursor		*cur;
	MDB_stat		 ms;
	MDB_val			 k, v, ok, ov;
	uint64_t		 late, early;
	char			 batch[512];
	size_t			 len, off, elen;

	/* Two puts stay staged (a stage of 5 sweeps past 2 events). */
	mkev(&ev, "2001-01-05", NULL, "SYRGOV", NULL, NULL, NULL);
	free(ev.title);
	ev.title = strdup("alpha beta");
	late = put1(st, &ev, NULL);
	record_clear(&ev);
	mkev(&ev, "2001-01-02", NULL, "SYRGOV", NULL, NULL, NULL);
	free(ev.title);
	ev.title = strdup("alpha gamma");
	early = put1(st, &ev, NULL);
	record_clear(&ev);
	store_close(st);

	/* Each batch's entries made entries of their own, as before. */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "text_new", 0, &dbi));
	T_OK(mdb_dbi_open(txn, "meta", 0, &meta));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	for (len = 0; mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0;
	    len += v.mv_size) {
		T_EQ_INT((int)k.mv_size, 8);
		T_ASSERT(len + v.mv_size <= sizeof batch);
		memcpy(batch + len, v.mv_data, v.mv_size);
		T_OK(mdb_cursor_del(cur, 0));
	}
	mdb_cursor_close(cur);
	for (off = 0; off < len; off += elen + 1) {
		/* start id class words, up to the NUL that ends them */
		for (elen = 17; batch[off + elen] != '\0';
		    elen += strlen(batch + off + elen) + 1)
			;
		ok.mv_size = 16;
		ok.mv_data = batch + off;
		ov.mv_size = elen - 16;
		ov.mv_data = batch + off + 16;
		T_OK(mdb_put(txn, dbi, &ok, &ov, 0));
	}
	T_OK(mdb_stat(txn, dbi, &ms));
	T_EQ_INT((int)ms.ms_entries, 2);
	k.mv_data = (void *)"text_staged";
	k.mv_size = strlen("text_staged");
	T_OK(mdb_del(txn, meta, &k, NULL));
	raw_commit(env, txn);

	st = open_store(32 << 20);
	text_all(st, "alpha", 0, &f);
	T_EQ_INT((int)f.n, 2);
	T_EQ_U64(f.ids[0], early);
	T_EQ_U64(f.ids[1], late);
	found_free(&f);
	text_all(st, "gamma", 1, &f);
	T_EQ_INT((int)f.n, 1);
	T_EQ_U64(f.ids[0], early);
	found_free(&f);
	/* Swept, the early one is deleted from the lists. */
	T_EQ_INT(del1(st, early), 1);
	text_all(st, "alpha", 0, &f);
	T_EQ_INT((int)f.n, 1);
	T_EQ_U64(f.ids[0], late);
	found_free(&f);
	T_OK(store_check(st, c, &err));
	T_ASSERTF(c->nproblems == 0, "%s", c->problems[0]);
	store_close(st);

	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "text_new", 0, &dbi));
	T_OK(mdb_stat(txn, dbi, &ms));
	T_EQ_INT((int)ms.ms_entries, 0);
	raw_commit(env, txn);
	free(c);
}

/* A replica's write: ev as the primary stored it, under change seq. */
static void
put_given(struct store *st, struct event *ev, uint64_t id, uint64_t rev,
    uint64_t seq, uint64_t stream_seq)
{
	struct store_op		op;

	ev->id = id;
	ev->rev = rev;
	ev->created = 111;
	ev->updated = 222 + rev;
	memset(&op, 0, sizeof op);
	op.kind = CHANGE_PUT;
	op.ev = ev;
	op.id = id;
	op.seq = seq;
	op.stream_seq = stream_seq;
	write1(st, &op, 5000);
}

static int
change_seq(void *arg, const struct store_change *ch)
{
	uint64_t	*seqs = arg;

	seqs[seqs[0]++ + 1] = ch->seq;
	return (0);
}

TEST(store_given_puts_keep_ids_revs_times_and_seqs)
{
	struct store	*st = open_store(1 << 20);
	struct event	 a, b, a2;
	struct store_check check;
	struct got	 g;
	struct aerr	 err;
	uint64_t	 seqs[8] = { 0 }, next, last;
	int		 more;

	T_EQ_U64(store_last_seq(st), 0);
	T_EQ_U64(store_stream_seq(st), 0);
	mkev(&a, "2018-06-01", NULL, "IRN", NULL, "src", "k");
	put_given(st, &a, 7, 1, 3, 1);
	/*
	 * A compacted feed: b took key k (seq 10) before a's last change,
	 * which gave it up (seq 12), comes in.
	 */
	mkev(&b, "2018-06-02", NULL, "USA", NULL, "src", "k");
	put_given(st, &b, 9, 1, 10, 2);
	mkev(&a2, "2018-06-03", NULL, "IRN", NULL, "src", "k2");
	put_given(st, &a2, 7, 3, 12, 3);
	/* A message delivered again is skipped. */
	put_given(st, &b, 9, 1, 10, 2);

	memset(&g, 0, sizeof g);
	T_OK(store_get_by_key(st, "src", "k", got_one, &g, &err));
	T_ASSERT(g.found);
	T_EQ_U64(g.ev.id, 9);
	record_clear(&g.ev);
	memset(&g, 0, sizeof g);
	T_OK(store_get(st, &a2.id, 1, got_one, &g, &err));
	T_ASSERT(g.found);
	T_EQ_U64(g.ev.rev, 3);
	T_EQ_U64(g.ev.created, 111);
	T_EQ_U64(g.ev.updated, 225);
	record_clear(&g.ev);

	T_EQ_U64(store_last_seq(st), 12);
	T_EQ_U64(store_stream_seq(st), 3);
	T_OK(store_changes(st, 0, 100, change_seq, seqs, &next, &more, &last,
	    &err));
	T_EQ_U64(seqs[0], 2);
	T_EQ_U64(seqs[1], 10);
	T_EQ_U64(seqs[2], 12);
	/* Each record keeps the primary's seq of its change (format 3). */
	T_OK(store_check(st, &check, &err));
	T_ASSERTF(check.nproblems == 0, "%llu problems",
	    (unsigned long long)check.nproblems);
	record_clear(&a);
	record_clear(&b);
	record_clear(&a2);
	store_close(st);

	/* Both are read back from the store when it is opened again. */
	st = open_store(1 << 20);
	T_EQ_U64(store_last_seq(st), 12);
	T_EQ_U64(store_stream_seq(st), 3);
	store_close(st);
}

/*
 * Attribute names by id (store-attrs.c).  The events: the GDELT 1.0 rows
 * of tests/data, attrs the row's columns by name, each with a name of 64
 * bytes (the longest given an id), one of 65 (kept a string) and a map
 * whose own keys stay strings.
 */
#define AT_MAX		1024
#define AT_IDS_MAX	65536		/* ATTR_IDS_MAX, daemon/store-int.h */

struct at_set {
	struct event	 ev[AT_MAX];
	char		*want[AT_MAX + 1];	/* by id: the wire record */
	size_t		 wantlen[AT_MAX + 1];
	char		*got[AT_MAX + 1];
	size_t		 gotlen[AT_MAX + 1];
	size_t		 n;
};

static void
at_pack_str(msgpack_packer *pk, const char *s, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

/* attrs of ev: a map of n names and string values, and three more. */
static void
at_attrs(struct event *ev, char names[][64], char **vals, size_t n)
{
	msgpack_sbuffer	sbuf;
	msgpack_packer	pk;
	char		name[66];
	size_t		i;

	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n + 3);
	for (i = 0; i < n; i++) {
		at_pack_str(&pk, names[i], strlen(names[i]));
		at_pack_str(&pk, vals[i], strlen(vals[i]));
	}
	memset(name, 'n', sizeof name);
	at_pack_str(&pk, name, 64);
	msgpack_pack_int(&pk, 64);
	at_pack_str(&pk, name, 65);
	msgpack_pack_int(&pk, 65);
	at_pack_str(&pk, "nested", 6);
	msgpack_pack_map(&pk, 1);
	at_pack_str(&pk, names[1], strlen(names[1]));
	msgpack_pack_true(&pk);
	ev->attrs_len = sbuf.size;
	ev->attrs = (unsigned char *)msgpack_sbuffer_release(&sbuf);
}

/* The GDELT 1.0 rows of tests/data as events, put. */
static void
at_load(struct store *st, struct at_set *s)
{
	static char	 names[64][64];
	msgpack_sbuffer	 sbuf;
	msgpack_packer	 pk;
	FILE		*f;
	char		 path[512], line[8192], key[16], *vals[64], *p;
	size_t		 nnames = 0, n;

	snprintf(path, sizeof path, "%s/../tests/data/"
	    "sample-gdelt1-columns.txt", t_bindir());
	T_ASSERT((f = fopen(path, "r")) != NULL);
	T_ASSERT(fgets(line, sizeof line, f) != NULL);	/* tableId */
	while (nnames < 64 && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		T_ASSERT(strlen(line) < sizeof names[0]);
		memcpy(names[nnames++], line, strlen(line) + 1);
	}
	fclose(f);
	snprintf(path, sizeof path, "%s/../tests/data/sample-gdelt1.tsv",
	    t_bindir());
	T_ASSERT((f = fopen(path, "r")) != NULL);
	msgpack_sbuffer_init(&sbuf);
	while (s->n < AT_MAX && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		for (n = 0, p = line; n < nnames; n++) {
			vals[n] = p;
			if ((p = strchr(p, '\t')) == NULL) {
				n++;
				break;
			}
			*p++ = '\0';
		}
		snprintf(key, sizeof key, "%zu", s->n);
		mkev(&s->ev[s->n], "2016-07-28", NULL, "USA", "010", "gdelt",
		    key);
		at_attrs(&s->ev[s->n], names, vals, n);
		/* put1 gives it its id, rev and times: its wire form. */
		T_EQ_U64(put1(st, &s->ev[s->n], NULL), s->n + 1);
		msgpack_sbuffer_clear(&sbuf);
		msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
		record_pack(&pk, &s->ev[s->n]);
		s->want[s->n + 1] = malloc(sbuf.size);
		memcpy(s->want[s->n + 1], sbuf.data, sbuf.size);
		s->wantlen[s->n + 1] = sbuf.size;
		s->n++;
	}
	fclose(f);
	msgpack_sbuffer_destroy(&sbuf);
	T_ASSERT(s->n >= 80);
}

static void
at_got(struct at_set *s, uint64_t id, const void *data, size_t len)
{
	T_ASSERT(id >= 1 && id <= s->n && data != NULL);
	free(s->got[id]);
	s->got[id] = malloc(len);
	memcpy(s->got[id], data, len);
	s->gotlen[id] = len;
}

static int
at_get_one(void *arg, size_t i, const void *data, size_t len)
{
	at_got(arg, i + 1, data, len);
	return (0);
}

static int
at_page(void *arg, const struct store_page *page)
{
	size_t	i;

	for (i = 0; i < page->nhits; i++)
		at_got(arg, page->hits[i].id, page->hits[i].data,
		    page->hits[i].len);
	return (0);
}

static int
at_change(void *arg, const struct store_change *ch)
{
	if (ch->op == CHANGE_PUT)
		at_got(arg, ch->id, ch->data, ch->len);
	return (0);
}

/* Each way of reading hands out every record as it was put, byte for byte. */
static void
at_read_all(struct store *st, struct at_set *s)
{
	struct query	q;
	struct aerr	err;
	uint64_t	ids[AT_MAX], next, last;
	size_t		i, id;
	int		way, more;

	for (i = 0; i < s->n; i++)
		ids[i] = i + 1;
	for (way = 0; way < 3; way++) {
		for (id = 1; id <= s->n; id++) {
			free(s->got[id]);
			s->got[id] = NULL;
		}
		if (way == 0)
			T_OK(store_get(st, ids, s->n, at_get_one, s, &err));
		else if (way == 1) {
			mkquery(&q, "2016", "2016", NULL);
			T_OK(store_query(st, &q, NULL, at_page, s, &err));
			query_clear(&q);
		} else
			T_OK(store_changes(st, 0, 1000, at_change, s, &next,
			    &more, &last, &err));
		for (id = 1; id <= s->n; id++)
			T_ASSERTF(s->gotlen[id] == s->wantlen[id] &&
			    memcmp(s->got[id], s->want[id],
			    s->wantlen[id]) == 0, "way %d, event %zu: %zu "
			    "bytes where %zu were put", way, id,
			    s->gotlen[id], s->wantlen[id]);
	}
}

static void
at_free(struct at_set *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		record_clear(&s->ev[i]);
	for (i = 0; i <= AT_MAX; i++) {
		free(s->want[i]);
		free(s->got[i]);
	}
	free(s);
}

static void
at_check_ok(struct store *st)
{
	struct store_check	*check = calloc(1, sizeof *check);
	struct aerr		 err;

	T_OK(store_check(st, check, &err));
	T_ASSERTF(check->nproblems == 0, "%s", check->problems[0]);
	free(check);
}

/* The names of attr_names, in id order, joined by commas. */
static void
at_names(char *out, size_t size, size_t *count)
{
	MDB_env		*env;
	MDB_txn		*txn = raw_begin(&env);
	MDB_cursor	*cur;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	size_t		 len = 0;

	*out = '\0';
	*count = 0;
	T_OK(mdb_dbi_open(txn, "attr_names", 0, &dbi));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		T_EQ_U64(k.mv_size, 2);
		T_EQ_U64((size_t)((unsigned char *)k.mv_data)[0] << 8 |
		    ((unsigned char *)k.mv_data)[1], *count);
		if (len + v.mv_size + 2 < size)
			len += (size_t)snprintf(out + len, size - len, "%s%.*s",
			    len ? "," : "", (int)v.mv_size,
			    (char *)v.mv_data);
		(*count)++;
	}
	mdb_cursor_close(cur);
	raw_commit(env, txn);
}

TEST(store_attrs_by_id_read_back_as_put)
{
	struct store	*st = open_store((size_t)1 << 24);
	struct at_set	*s = calloc(1, sizeof *s);
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	unsigned char	 kbuf[SKEY_REC_LEN];
	char		 names[8192];
	size_t		 i, stored = 0, wire = 0, count;

	at_load(st, s);
	at_read_all(st, s);
	at_check_ok(st);
	store_close(st);

	/* 58 columns, the 64-byte name and "nested": none of the rest. */
	at_names(names, sizeof names, &count);
	T_EQ_U64(count, 60);
	T_ASSERTF(strncmp(names, "GLOBALEVENTID,SQLDATE,", 22) == 0 &&
	    strstr(names, ",nested") != NULL, "%s", names);
	/*
	 * Stored, each record is shorter by most of its names, but the
	 * first: its names were seen for the first time.
	 */
	txn = raw_begin(&env);
	for (i = 2; i <= s->n; i++) {
		raw_rec_key(txn, i, kbuf, &k, &dbi);
		T_OK(mdb_get(txn, dbi, &k, &v));
		T_ASSERT(v.mv_size - 8 < s->wantlen[i]);
		stored += v.mv_size - 8;
		wire += s->wantlen[i];
	}
	raw_commit(env, txn);
	T_ASSERTF(stored * 10 < wire * 8, "%zu bytes stored of %zu", stored,
	    wire);

	/* Opened again, the names come from the store. */
	st = open_store((size_t)1 << 24);
	at_read_all(st, s);
	at_check_ok(st);
	store_close(st);
	at_free(s);
}

/* Fill ev with one attr: a name and an int. */
static void
at_ev(struct event *ev, const char *name, int val)
{
	msgpack_sbuffer	sbuf;
	msgpack_packer	pk;

	mkev(ev, "2016-07-28", NULL, "USA", NULL, NULL, NULL);
	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	at_pack_str(&pk, name, strlen(name));
	msgpack_pack_int(&pk, val);
	ev->attrs_len = sbuf.size;
	ev->attrs = (unsigned char *)msgpack_sbuffer_release(&sbuf);
}

/* Put one event with one attr; returns its id. */
static uint64_t
at_put_once(struct store *st, const char *name, int val)
{
	struct event	ev;
	uint64_t	id;

	at_ev(&ev, name, val);
	id = put1(st, &ev, NULL);
	record_clear(&ev);
	return (id);
}

/*
 * Put two events with one attr, so that its name has an id (a name gets
 * one when seen again); returns the second's id.
 */
static uint64_t
at_put_attr(struct store *st, const char *name, int val)
{
	at_put_once(st, name, val);
	return (at_put_once(st, name, val));
}

/* The one attr's name of event id. */
static void
at_attr_is(struct store *st, uint64_t id, const char *name)
{
	struct got		g;
	struct aerr		err;
	msgpack_unpacked	u;

	memset(&g, 0, sizeof g);
	T_OK(store_get(st, &id, 1, got_one, &g, &err));
	T_ASSERT(g.found && g.ev.attrs != NULL);
	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, (const char *)g.ev.attrs,
	    g.ev.attrs_len, NULL) == MSGPACK_UNPACK_SUCCESS);
	T_ASSERT(u.data.type == MSGPACK_OBJECT_MAP &&
	    u.data.via.map.size == 1);
	T_ASSERTF(u.data.via.map.ptr[0].key.type == MSGPACK_OBJECT_STR &&
	    u.data.via.map.ptr[0].key.via.str.size == strlen(name) &&
	    memcmp(u.data.via.map.ptr[0].key.via.str.ptr, name,
	    strlen(name)) == 0,
	    "event %llu: attr %.*s, not %s", (unsigned long long)id,
	    (int)u.data.via.map.ptr[0].key.via.str.size,
	    u.data.via.map.ptr[0].key.via.str.ptr, name);
	msgpack_unpacked_destroy(&u);
	record_clear(&g.ev);
}

/*
 * A name given an id in a transaction that does not commit is not kept:
 * neither in the store nor in the cache, whose next id is that one again.
 */
TEST(store_attrs_of_failed_writes_are_forgotten)
{
	struct store		*st = open_store((size_t)1 << 22);
	struct store_batch	 b;
	struct store_op		 ops[2];
	struct event		 ev;
	struct aerr		 err;
	uint64_t		 kept, other, lost, after, gone;
	char			 names[256];
	size_t			 count;

	kept = at_put_attr(st, "kept", 1);

	/* A batch whose second put conflicts: the first's name goes too. */
	at_put_once(st, "lost", 0);
	at_ev(&ev, "lost", 2);
	memset(ops, 0, sizeof ops);
	memset(&b, 0, sizeof b);
	ops[0].kind = CHANGE_PUT;
	ops[0].ev = &ev;
	ops[1].kind = CHANGE_PUT;
	ops[1].ev = calloc(1, sizeof *ops[1].ev);
	mkev(ops[1].ev, "2016-07-30", NULL, "USA", NULL, NULL, NULL);
	ops[1].ev->id = kept;
	ops[1].check_rev = 1;
	ops[1].if_rev = 7;
	b.ops = ops;
	b.nops = 2;
	T_OK(store_write(st, &b, 1, 1000, &err));
	T_ASSERTF(b.failed && strstr(b.err.msg, "not 7") != NULL, "%s",
	    b.err.msg);
	record_clear(&ev);
	record_clear(ops[1].ev);
	free(ops[1].ev);

	/* A commit that fails. */
	at_put_once(st, "gone", 0);
	store_inject_commit_error(st, EIO, 1);
	at_ev(&ev, "gone", 3);
	memset(ops, 0, sizeof ops);
	ops[0].kind = CHANGE_PUT;
	ops[0].ev = &ev;
	b.nops = 1;
	T_ASSERT(store_write(st, &b, 1, 1000, &err) == -1);
	record_clear(&ev);

	/* Their ids go to the next names; theirs come after. */
	other = at_put_attr(st, "other", 4);
	after = at_put_attr(st, "after", 5);
	lost = at_put_attr(st, "lost", 6);
	gone = at_put_attr(st, "gone", 7);
	at_attr_is(st, kept, "kept");
	at_attr_is(st, other, "other");
	at_attr_is(st, after, "after");
	at_attr_is(st, lost, "lost");
	at_attr_is(st, gone, "gone");
	at_check_ok(st);
	store_close(st);
	at_names(names, sizeof names, &count);
	T_ASSERTF(strcmp(names, "kept,other,after,lost,gone") == 0, "%s",
	    names);

	st = open_store((size_t)1 << 22);
	at_attr_is(st, lost, "lost");
	at_attr_is(st, gone, "gone");
	store_close(st);
}

/* store_check finds an id no name has, and dictionaries out of step. */
TEST(store_check_finds_attr_dictionary_damage)
{
	struct store		*st = open_store((size_t)1 << 22);
	struct store_check	*check = calloc(1, sizeof *check);
	struct aerr		 err;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	unsigned char		 one[2] = { 0, 1 };
	MDB_val			 k = { 2, one }, v = { 2, (void *)"zz" };
	uint64_t		 id;
	uint64_t		 i;
	int			 missing = 0, names = 0, ids = 0;

	at_put_attr(st, "a1", 1);
	id = at_put_attr(st, "a2", 2);
	store_close(st);

	/* a2's id (1) loses its name. */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "attr_names", 0, &dbi));
	T_OK(mdb_del(txn, dbi, &k, NULL));
	raw_commit(env, txn);
	st = open_store((size_t)1 << 22);
	/* Still a record that decodes, the name standing in. */
	at_attr_is(st, id, "#1");
	T_OK(store_check(st, check, &err));
	for (i = 0; i < check->nproblems && i < STORE_CHECK_KEEP; i++) {
		if (strstr(check->problems[i], "attribute id 1 is not in "
		    "attr_names") != NULL)
			missing++;
		if (strstr(check->problems[i], "attr_ids: a2: attr_names "
		    "does not map") != NULL)
			ids++;
	}
	T_ASSERTF(missing == 1 && ids == 1 && check->nproblems == 2, "%s",
	    check->problems[0]);
	store_close(st);

	/* Given another name, the two no longer mirror each other. */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "attr_names", 0, &dbi));
	T_OK(mdb_put(txn, dbi, &k, &v, 0));
	raw_commit(env, txn);
	st = open_store((size_t)1 << 22);
	at_attr_is(st, id, "zz");
	memset(check, 0, sizeof *check);
	T_OK(store_check(st, check, &err));
	ids = 0;
	for (i = 0; i < check->nproblems && i < STORE_CHECK_KEEP; i++) {
		if (strstr(check->problems[i], "attr_names: id 1: attr_ids "
		    "does not map zz to it") != NULL)
			names++;
		if (strstr(check->problems[i], "attr_ids: a2: attr_names "
		    "does not map") != NULL)
			ids++;
	}
	T_ASSERTF(names == 1 && ids == 1 && check->nproblems == 2, "%s",
	    check->problems[0]);
	free(check);
	store_close(st);
}

/*
 * A record of format 3, its attrs named by strings, reads as it was
 * stored, and putting it again changes nothing; its update names them
 * by id.
 */
TEST(store_attrs_of_format3_records_read_as_stored)
{
	struct store		*st = open_store((size_t)1 << 22);
	struct at_set		*s = calloc(1, sizeof *s);
	msgpack_sbuffer		 sbuf;
	msgpack_packer		 pk;
	struct store_op		 op;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k, v;
	unsigned char		 kbuf[SKEY_REC_LEN], seq[8];
	char			*title;
	size_t			 i;

	at_load(st, s);
	store_close(st);
	/* Each record as format 3 stored it: the wire form, then its seq. */
	txn = raw_begin(&env);
	msgpack_sbuffer_init(&sbuf);
	for (i = 1; i <= s->n; i++) {
		raw_rec_key(txn, i, kbuf, &k, &dbi);
		T_OK(mdb_get(txn, dbi, &k, &v));
		memcpy(seq, (char *)v.mv_data + v.mv_size - 8, 8);
		msgpack_sbuffer_clear(&sbuf);
		msgpack_sbuffer_write(&sbuf, s->want[i], s->wantlen[i]);
		msgpack_sbuffer_write(&sbuf, (const char *)seq, 8);
		v.mv_size = sbuf.size;
		v.mv_data = sbuf.data;
		T_OK(mdb_put(txn, dbi, &k, &v, 0));
	}
	msgpack_sbuffer_destroy(&sbuf);
	raw_commit(env, txn);

	st = open_store((size_t)1 << 22);
	at_read_all(st, s);
	at_check_ok(st);
	/* The same again: unchanged, at the same rev. */
	memset(&op, 0, sizeof op);
	op.kind = CHANGE_PUT;
	op.ev = &s->ev[0];
	op.ev->id = 0;
	write1(st, &op, 5000);
	T_EQ_INT(op.status, STORE_UNCHANGED);
	T_EQ_U64(op.out_rev, 1);
	/* Updated, it is stored by id and reads back as put. */
	title = s->ev[0].title;
	s->ev[0].title = strdup("another title");
	free(title);
	op.ev->id = 0;
	write1(st, &op, 6000);
	T_EQ_INT(op.status, STORE_UPDATED);
	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	record_pack(&pk, &s->ev[0]);
	free(s->want[1]);
	s->want[1] = sbuf.data;
	s->wantlen[1] = sbuf.size;
	at_read_all(st, s);
	at_check_ok(st);
	store_close(st);
	at_free(s);
}

/*
 * Ids run out at AT_IDS_MAX: the names past them stay strings, in the
 * records that met the limit and in later ones, and read back the same.
 * Each record holds ATTR_NEW_PER_RECORD names and is put three times:
 * the first sees them, the second gives them ids, the third gives those
 * the table of seen names forgot when it was emptied during the first.
 */
#define AT_PER_RECORD	256		/* ATTR_NEW_PER_RECORD */

static void
at_names_ev(struct at_set *s, struct store *st, size_t from, size_t n,
    const char *last)
{
	struct event	*ev = &s->ev[s->n];
	msgpack_sbuffer	 sbuf;
	msgpack_packer	 pk;
	char		 name[16];
	size_t		 i;

	T_ASSERT(s->n < AT_MAX);
	mkev(ev, "2016-07-28", NULL, "USA", NULL, NULL, NULL);
	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n + (last != NULL));
	for (i = from; i < from + n; i++) {
		snprintf(name, sizeof name, "a%05zu", i);
		at_pack_str(&pk, name, strlen(name));
		msgpack_pack_nil(&pk);
	}
	if (last != NULL) {
		at_pack_str(&pk, last, strlen(last));
		msgpack_pack_nil(&pk);
	}
	ev->attrs_len = sbuf.size;
	ev->attrs = (unsigned char *)msgpack_sbuffer_release(&sbuf);
	T_EQ_U64(put1(st, ev, NULL), s->n + 1);
	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	record_pack(&pk, ev);
	s->want[s->n + 1] = sbuf.data;
	s->wantlen[s->n + 1] = sbuf.size;
	s->n++;
}

TEST(store_attrs_past_the_last_id_stay_strings)
{
	struct store	*st = open_store((size_t)1 << 26);
	struct at_set	*s = calloc(1, sizeof *s);
	char		 names[64];
	size_t		 from, n = AT_IDS_MAX + 100, count;
	int		 k;

	for (from = 0; from < n; from += AT_PER_RECORD)
		for (k = 0; k < 3; k++)
			at_names_ev(s, st, from, from + AT_PER_RECORD > n ?
			    n - from : AT_PER_RECORD, NULL);
	/* One old name, one new, twice. */
	at_names_ev(s, st, 7, 1, "past");
	at_names_ev(s, st, 7, 1, "past");
	at_read_all(st, s);
	at_check_ok(st);
	store_close(st);
	at_names(names, sizeof names, &count);
	T_EQ_U64(count, AT_IDS_MAX);
	T_ASSERTF(strncmp(names, "a00000,a00001,", 14) == 0, "%s", names);
	st = open_store((size_t)1 << 26);
	at_read_all(st, s);
	store_close(st);
	at_free(s);
}

/*
 * A feed whose keys are unique to each row (here, a date as the key)
 * gives none of them an id, and leaves the ids to names rows share; a
 * record of new names gives at most AT_PER_RECORD of them ids.
 */
TEST(store_attrs_unique_names_get_no_ids)
{
	struct store	*st = open_store((size_t)1 << 26);
	struct at_set	*s = calloc(1, sizeof *s);
	char		 names[4096], name[32];
	size_t		 count, i, len;

	/* 1000 new names in one record, put twice: 256 of them get ids. */
	at_names_ev(s, st, 0, 1000, NULL);
	at_names_ev(s, st, 0, 1000, NULL);
	at_read_all(st, s);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "2015-%02zu-%02zu", i / 28 + 1,
		    i % 28 + 1);
		at_put_once(st, name, (int)i);
		at_put_once(st, "shared", (int)i);
	}
	store_close(st);
	at_names(names, sizeof names, &count);
	T_EQ_U64(count, AT_PER_RECORD + 1);
	len = strlen(names);
	T_ASSERTF(strncmp(names, "a00000,a00001,", 14) == 0 && len > 7 &&
	    strcmp(names + len - 7, ",shared") == 0, "%s", names);
	at_free(s);
}

/*
 * A record keeps the mix of ids and strings its names had when it was
 * written: here "a" by id and "b", seen for the first time, by string.
 * Once "b" has an id, putting the same event again still changes
 * nothing (a sync run again must not make new revs and changes).
 */
TEST(store_attrs_same_event_again_after_a_name_got_its_id)
{
	struct store	*st = open_store((size_t)1 << 22);
	struct store_op	 op;
	struct event	 ev;
	msgpack_sbuffer	 sbuf;
	msgpack_packer	 pk;
	uint64_t	 id, seq;
	int		 status;

	at_put_attr(st, "a", 1);
	mkev(&ev, "2016-07-28", NULL, "USA", NULL, "feed", "row-1");
	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	at_pack_str(&pk, "a", 1);
	msgpack_pack_int(&pk, 1);
	at_pack_str(&pk, "b", 1);
	msgpack_pack_int(&pk, 2);
	ev.attrs_len = sbuf.size;
	ev.attrs = (unsigned char *)msgpack_sbuffer_release(&sbuf);
	id = put1(st, &ev, &status);
	T_EQ_INT(status, STORE_ADDED);
	at_put_once(st, "b", 3);	/* seen again: "b" gets its id */
	seq = store_last_seq(st);

	memset(&op, 0, sizeof op);
	op.kind = CHANGE_PUT;
	op.ev = &ev;
	ev.id = 0;
	write1(st, &op, 9000);
	T_EQ_INT(op.status, STORE_UNCHANGED);
	T_EQ_U64(op.out_id, id);
	T_EQ_U64(op.out_rev, 1);
	T_EQ_U64(store_last_seq(st), seq);
	at_check_ok(st);
	record_clear(&ev);
	store_close(st);
}

/*
 * Review: attr_names with a gap in its ids (a damaged store).  Loading
 * stops at the gap; the ids it did not load, before or after the gap,
 * must still read as their names from the store, or as "#<id>" when the
 * store lacks them, never as an empty slot of the cache (which drops the
 * key and leaves a map short of one).
 */
TEST(store_attrs_gap_in_names_reads_names_past_it)
{
	struct store	*st = open_store((size_t)1 << 22);
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	unsigned char	 one[2] = { 0, 1 };
	MDB_val		 k = { 2, one };
	uint64_t	 id1, id2, id3, id4;

	id1 = at_put_attr(st, "a1", 1);
	id2 = at_put_attr(st, "a2", 2);
	id3 = at_put_attr(st, "a3", 3);
	store_close(st);

	/* a2's id (1) loses its name: attr_names holds 0 and 2. */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "attr_names", 0, &dbi));
	T_OK(mdb_del(txn, dbi, &k, NULL));
	raw_commit(env, txn);

	st = open_store((size_t)1 << 22);
	at_attr_is(st, id1, "a1");
	at_attr_is(st, id2, "#1");
	at_attr_is(st, id3, "a3");
	/* No new ids until checked: a new name stays a string. */
	id4 = at_put_attr(st, "a4", 4);
	at_attr_is(st, id4, "a4");
	at_attr_is(st, id3, "a3");
	store_close(st);
}

/*
 * The last id lost its name but attr_ids still holds the name: giving
 * that id to a new name would rename the attr of every record using it.
 * No new ids until the store is checked.
 */
TEST(store_attrs_lost_last_name_is_not_given_again)
{
	struct store	*st = open_store((size_t)1 << 22);
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	unsigned char	 one[2] = { 0, 1 };
	MDB_val		 k = { 2, one };
	uint64_t	 id1, id2, id3;
	char		 names[64];
	size_t		 count;

	id1 = at_put_attr(st, "a1", 1);
	id2 = at_put_attr(st, "a2", 2);
	store_close(st);

	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "attr_names", 0, &dbi));
	T_OK(mdb_del(txn, dbi, &k, NULL));
	raw_commit(env, txn);

	st = open_store((size_t)1 << 22);
	id3 = at_put_attr(st, "a3", 3);
	at_attr_is(st, id1, "a1");
	at_attr_is(st, id2, "#1");
	at_attr_is(st, id3, "a3");
	store_close(st);
	at_names(names, sizeof names, &count);
	T_EQ_U64(count, 1);
	T_EQ_STR(names, "a1");
}

/*
 * Review: the word index and attr ids when one write transaction holds
 * many ops (the stage's cursor is kept across them): a batch puts events,
 * updates and deletes some of them again, and gives attr names ids; a
 * group of batches where one fails runs them nested.  The check finds
 * the store sound, the text queries answer as the model, and the attrs
 * read back.
 */
static void
many_ops(size_t map)
{
	struct store		*st = open_store(map);
	struct store_stats	 ss;
	char			*hasattr = calloc(4000, 1);
	struct store_check	*check;
	struct text_ev		*tev = calloc(4000, sizeof *tev);
	struct store_batch	 b[3];
	struct store_op		 ops[3][13];
	struct event		 evs[3][13];
	struct aerr		 err;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	char			 name[32];
	unsigned		 seed = t_seed();
	size_t			 n = 0, i, j, nb, nop, base, t;
	size_t			 slot[3][13];
	int			 kind[3][13];	/* 0 new, 1 update, 2 delete */
	int			 round, fail, op;

	for (round = 0; round < 150; round++) {
		nb = 1 + (size_t)rand_r(&seed) % 3;
		fail = rand_r(&seed) % 4 == 0 ? rand_r(&seed) % (int)nb : -1;
		memset(b, 0, sizeof b);
		memset(ops, 0, sizeof ops);
		memset(evs, 0, sizeof evs);
		base = n;
		for (i = 0; i < nb; i++) {
			nop = 0;
			for (j = 0; j < 12; j++) {
				op = rand_r(&seed) % 10;
				if (op < 6 || base == 0) {
					t = n++;
					text_random(&seed, &tev[t], &evs[i][j]);
					snprintf(name, sizeof name, "r%zu",
					    t % 97);
					msgpack_sbuffer_init(&sb);
					msgpack_packer_init(&pk, &sb,
					    msgpack_sbuffer_write);
					msgpack_pack_map(&pk, 1);
					at_pack_str(&pk, name, strlen(name));
					msgpack_pack_int(&pk, (int)t);
					evs[i][j].attrs_len = sb.size;
					evs[i][j].attrs = (unsigned char *)
					    msgpack_sbuffer_release(&sb);
					ops[i][nop].kind = CHANGE_PUT;
					ops[i][nop].ev = &evs[i][j];
					kind[i][nop] = 0;
				} else {
					t = (size_t)rand_r(&seed) % base;
					if (!tev[t].m.live)
						continue;
					if (op < 9) {
						text_random(&seed, &tev[t],
						    &evs[i][j]);
						evs[i][j].id = tev[t].m.id;
						ops[i][nop].kind = CHANGE_PUT;
						ops[i][nop].ev = &evs[i][j];
						kind[i][nop] = 1;
					} else {
						ops[i][nop].kind =
						    CHANGE_DELETE;
						ops[i][nop].id = tev[t].m.id;
						kind[i][nop] = 2;
						tev[t].m.live = 0;
					}
				}
				slot[i][nop++] = t;
			}
			if ((int)i == fail) {
				/* A rev given for a new event: refused. */
				mkev(&evs[i][12], "2016-01-01", NULL, "USA",
				    NULL, NULL, NULL);
				ops[i][nop].kind = CHANGE_PUT;
				ops[i][nop].ev = &evs[i][12];
				ops[i][nop].check_rev = 1;
				ops[i][nop].if_rev = 1;
				kind[i][nop] = 3;
				slot[i][nop++] = SIZE_MAX;
			}
			b[i].ops = ops[i];
			b[i].nops = nop;
		}
		T_ASSERTF(store_write(st, b, nb, 1000 + (uint64_t)round,
		    &err) == 0, "%s", err.msg);
		for (i = 0; i < nb; i++) {
			T_ASSERTF(b[i].failed == ((int)i == fail), "%s",
			    b[i].err.msg);
			for (j = 0; j < b[i].nops; j++) {
				t = slot[i][j];
				if (kind[i][j] == 3)
					continue;
				if (b[i].failed) {
					if (kind[i][j] == 2)
						tev[t].m.live = 1;
					else if (kind[i][j] == 0)
						tev[t].m.live = 0;
					continue;
				}
				if (kind[i][j] == 0) {
					tev[t].m.id = ops[i][j].out_id;
					tev[t].m.live = 1;
					hasattr[t] = 1;
				} else
					hasattr[t] = 0;
			}
		}
		for (i = 0; i < 3; i++)
			for (j = 0; j < 13; j++)
				record_clear(&evs[i][j]);
		if (round % 50 == 49) {
			check = calloc(1, sizeof *check);
			T_OK(store_check(st, check, &err));
			T_ASSERTF(check->nproblems == 0, "round %d: %s",
			    round, check->problems[0]);
			free(check);
		}
	}
	T_OK(store_stats(st, &ss, &err));
	T_ASSERT(map >= (1 << 20) || ss.map_grows > 0);
	for (t = 0; t < n; t++) {
		if (!tev[t].m.live || !hasattr[t])
			continue;
		snprintf(name, sizeof name, "r%zu", t % 97);
		at_attr_is(st, tev[t].m.id, name);
	}
	store_close(st);
	free(tev);
	free(hasattr);
}

TEST(store_text_many_ops_per_transaction)
{
	many_ops(32 << 20);
}

/* The same from a map so small that writes grow it and are replayed. */
TEST(store_text_many_ops_map_full_replays)
{
	many_ops(64 << 10);
}

/*
 * Review: readers on threads of their own read records while the writer
 * gives new names ids (store-attrs.c: readers take the cache below
 * `committed`, the rest from their snapshot).  Events 2k + 1 and 2k + 2
 * have the one attr "n<k>" (its second use gives it an id): every record
 * a reader finds names its own.
 */
#define RA_N	800

struct ra_reader {
	struct store	*st;
	atomic_int	*done;
	size_t		 seen, bad;
	char		 why[300];
};

static int
ra_one(void *arg, size_t i, const void *data, size_t len)
{
	struct ra_reader	*r = arg;
	msgpack_unpacked	 u;
	const msgpack_object	*a;
	char			 want[32];

	(void)i;
	if (data == NULL)
		return (0);
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, data, len, NULL) !=
	    MSGPACK_UNPACK_SUCCESS || u.data.type != MSGPACK_OBJECT_MAP ||
	    (a = mp_get(&u.data, "attrs")) == NULL ||
	    a->type != MSGPACK_OBJECT_MAP || a->via.map.size != 1 ||
	    a->via.map.ptr[0].key.type != MSGPACK_OBJECT_STR ||
	    mp_get(&u.data, "id") == NULL) {
		r->bad++;
		snprintf(r->why, sizeof r->why, "a record does not decode");
	} else {
		snprintf(want, sizeof want, "n%llu", (unsigned long long)
		    (mp_get(&u.data, "id")->via.u64 - 1) / 2);
		if (a->via.map.ptr[0].key.via.str.size != strlen(want) ||
		    memcmp(a->via.map.ptr[0].key.via.str.ptr, want,
		    strlen(want)) != 0) {
			r->bad++;
			snprintf(r->why, sizeof r->why, "%s named %.*s", want,
			    (int)a->via.map.ptr[0].key.via.str.size,
			    a->via.map.ptr[0].key.via.str.ptr);
		}
	}
	r->seen++;
	msgpack_unpacked_destroy(&u);
	return (0);
}

static void *
ra_read(void *arg)
{
	struct ra_reader	*r = arg;
	struct aerr		 err;
	uint64_t		 ids[64];
	size_t			 k;
	unsigned		 seed = (unsigned)(uintptr_t)arg;

	while (!atomic_load(r->done)) {
		for (k = 0; k < 64; k++)
			ids[k] = 1 + (uint64_t)(rand_r(&seed) % (2 * RA_N));
		/* The newest ones too, just committed. */
		ids[0] = store_last_seq(r->st);
		ids[1] = ids[0] + 1;
		gate_enter();
		if (store_get(r->st, ids, 64, ra_one, r, &err) != 0) {
			r->bad++;
			snprintf(r->why, sizeof r->why, "%s", err.msg);
		}
		gate_leave();
	}
	return (NULL);
}

/* This process's resident KiB of the mapping of a file named name. */
static long
mapped_kb(const char *name)
{
	FILE	*f = fopen("/proc/self/smaps", "re");
	char	 line[512];
	long	 kb = 0, n;
	int	 in = 0;

	T_ASSERT(f != NULL);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strchr(line, '-') != NULL && strchr(line, ':') != NULL &&
		    line[0] != ' ' && strncmp(line, "Rss:", 4) != 0 &&
		    strchr(line, '/') != NULL)
			in = strstr(line, name) != NULL;
		else if (in && sscanf(line, "Rss: %ld kB", &n) == 1)
			kb += n;
	}
	fclose(f);
	return (kb);
}

/*
 * A commit says what it wrote (write_memory, which a release zeroes);
 * the environment opened again maps nothing of the file until
 * store_warm() maps what the page cache holds; the store answers after.
 */
TEST(store_release_then_warm)
{
	struct store		*st = open_store(16 << 20);
	struct store_batch	 b;
	struct store_op		*ops;
	struct event		*evs;
	struct store_stats	 s;
	struct aerr		 err;
	long			 before, after;
	int			 i, n = 2000;

	keyed_batch(n, &evs, &ops, &b);
	T_ASSERTF(store_write(st, &b, 1, 7, &err) == 0, "%s", err.msg);
	T_OK(store_stats(st, &s, &err));
	/* 2,000 records and their index entries: some hundreds of KB. */
	T_ASSERTF(s.write_memory > 100000, "write_memory %llu",
	    (unsigned long long)s.write_memory);
	T_EQ_U64(s.releases, 0);
	store_release(st);
	T_OK(store_stats(st, &s, &err));
	T_EQ_U64(s.write_memory, 0);
	T_EQ_U64(s.releases, 1);
	T_EQ_U64(s.events, (uint64_t)n);
	before = mapped_kb("/db/data.mdb");
	store_warm(st);
	after = mapped_kb("/db/data.mdb");
	T_ASSERTF(after > before + 200, "data.mdb mapped %ld KiB before "
	    "store_warm, %ld after", before, after);
	for (i = 0; i < n; i++)
		record_clear(&evs[i]);
	mkev(&evs[0], "2016", NULL, "USA", NULL, NULL, NULL);
	T_EQ_U64(put1(st, &evs[0], NULL), (uint64_t)n + 1);
	record_clear(&evs[0]);
	T_OK(store_stats(st, &s, &err));
	T_EQ_U64(s.events, (uint64_t)n + 1);
	T_ASSERT(s.write_memory > 0);
	free(evs);
	free(ops);
	store_close(st);
}

TEST(store_attrs_readers_beside_the_writer)
{
	struct store		*st = open_store((size_t)1 << 24);
	struct ra_reader	 r[3];
	pthread_t		 th[3];
	atomic_int		 done = 0;
	char			 name[32];
	size_t			 k;
	int			 t;

	for (t = 0; t < 3; t++) {
		memset(&r[t], 0, sizeof r[t]);
		r[t].st = st;
		r[t].done = &done;
		T_OK(pthread_create(&th[t], NULL, ra_read, &r[t]));
	}
	for (k = 0; k < RA_N; k++) {
		snprintf(name, sizeof name, "n%zu", k);
		T_EQ_U64(at_put_attr(st, name, (int)k), 2 * k + 2);
	}
	atomic_store(&done, 1);
	for (t = 0; t < 3; t++) {
		T_OK(pthread_join(th[t], NULL));
		T_ASSERTF(r[t].bad == 0, "%zu bad of %zu: %s", r[t].bad,
		    r[t].seen, r[t].why);
		T_ASSERT(r[t].seen > 0);
	}
	store_close(st);
}

/*
 * Review: attrs at the edges read back byte for byte, by every way of
 * reading, and putting them again changes nothing: names of 31, 32, 63,
 * 64 and 65 bytes (the fixstr and str8 headers, the longest with an id),
 * a multibyte name cut nowhere, duplicate keys, a name like "#0", a
 * nested map with the same names, and more than 15 keys (a map16).
 */
TEST(store_attrs_edge_names_round_trip)
{
	struct store	*st = open_store((size_t)1 << 22);
	struct at_set	*s = calloc(1, sizeof *s);
	msgpack_sbuffer	 sbuf;
	msgpack_packer	 pk;
	struct store_op	 op;
	char		 name[256];
	static const size_t lens[] = { 1, 31, 32, 63, 64, 65, 200 };
	size_t		 i, k, nk;
	int		 round;

	for (k = 0; k < 6; k++) {
		mkev(&s->ev[k], "2016-07-28", NULL, "USA", NULL, NULL, NULL);
		msgpack_sbuffer_init(&sbuf);
		msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
		nk = k == 5 ? 40 : 7 + 4;
		msgpack_pack_map(&pk, nk);
		if (k == 5) {
			for (i = 0; i < nk; i++) {
				snprintf(name, sizeof name, "k%zu", i);
				at_pack_str(&pk, name, strlen(name));
				msgpack_pack_uint64(&pk, i * 1000);
			}
		} else {
			for (i = 0; i < 7; i++) {
				memset(name, 'a' + (int)k, lens[i]);
				at_pack_str(&pk, name, lens[i]);
				msgpack_pack_int(&pk, (int)i);
			}
			/* "é" is 2 bytes: 32 of them, 64 bytes. */
			for (i = 0; i < 64; i += 2)
				memcpy(name + i, "\xc3\xa9", 2);
			at_pack_str(&pk, name, 64);
			msgpack_pack_nil(&pk);
			at_pack_str(&pk, "dup", 3);
			msgpack_pack_int(&pk, 1);
			at_pack_str(&pk, "dup", 3);
			msgpack_pack_int(&pk, 2);
			at_pack_str(&pk, "#0", 2);
			msgpack_pack_map(&pk, 2);
			at_pack_str(&pk, "dup", 3);
			msgpack_pack_true(&pk);
			at_pack_str(&pk, "#0", 2);
			msgpack_pack_array(&pk, 0);
		}
		s->ev[k].attrs_len = sbuf.size;
		s->ev[k].attrs = (unsigned char *)msgpack_sbuffer_release(
		    &sbuf);
		T_EQ_U64(put1(st, &s->ev[k], NULL), k + 1);
		msgpack_sbuffer_init(&sbuf);
		msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
		record_pack(&pk, &s->ev[k]);
		s->want[k + 1] = sbuf.data;
		s->wantlen[k + 1] = sbuf.size;
		s->n++;
	}
	for (round = 0; round < 2; round++) {
		at_read_all(st, s);
		at_check_ok(st);
		for (k = 0; k < 6; k++) {
			memset(&op, 0, sizeof op);
			op.kind = CHANGE_PUT;
			op.ev = &s->ev[k];
			write1(st, &op, 9000);
			T_EQ_INT(op.status, STORE_UNCHANGED);
		}
		store_close(st);
		st = open_store((size_t)1 << 22);
	}
	store_close(st);
	at_free(s);
}

/*
 * Review: the word index built again on opening (text_build) over more
 * than one sweep's 65,536 events, so that the stage's kept cursor
 * outlives a sweep's drop of the stage; the check finds it sound.
 */
TEST(store_text_build_past_one_sweep)
{
	static const char *const dbis[] = { "text", "text_new", "words" };
	static const char *const vocab[] = { "alpha", "beta", "gamma",
	    "delta", "epsilon", "zeta", "eta", "theta" };
	struct store		*st = open_store((size_t)1 << 26);
	struct store_check	*check;
	struct store_batch	 b;
	struct store_op		*ops = calloc(10000, sizeof *ops);
	struct event		*evs = calloc(10000, sizeof *evs);
	struct aerr		 err;
	char			 date[16], title[64];
	size_t			 i, r, n = 0, want = 0;

	for (r = 0; r < 7; r++) {
		for (i = 0; i < 10000; i++, n++) {
			snprintf(date, sizeof date, "%04zu-%02zu-%02zu",
			    1990 + n % 30, 1 + n % 12, 1 + n % 28);
			mkev(&evs[i], date, NULL, "USA", NULL, NULL, NULL);
			free(evs[i].title);
			snprintf(title, sizeof title, "%s %s w%zu",
			    vocab[n % 8], vocab[(n / 8) % 8], n % 1000);
			evs[i].title = strdup(title);
			want += n % 8 == 3 || (n / 8) % 8 == 3;
			memset(&ops[i], 0, sizeof ops[i]);
			ops[i].kind = CHANGE_PUT;
			ops[i].ev = &evs[i];
		}
		memset(&b, 0, sizeof b);
		b.ops = ops;
		b.nops = 10000;
		T_ASSERTF(store_write(st, &b, 1, 5, &err) == 0, "%s",
		    err.msg);
		T_ASSERT(!b.failed);
		for (i = 0; i < 10000; i++)
			record_clear(&evs[i]);
	}
	store_close(st);
	drop_index(dbis, "texted_to");
	st = open_store((size_t)1 << 26);
	check = calloc(1, sizeof *check);
	T_OK(store_check(st, check, &err));
	T_ASSERTF(check->nproblems == 0, "%s", check->problems[0]);
	free(check);
	T_EQ_U64(text_count(st, "delta", 0), want);
	store_close(st);
	free(ops);
	free(evs);
}

/*
 * A store written without the word index (bench-text's) does not claim
 * one: opened with it, its events are indexed.
 */
TEST(store_text_store_written_without_index_is_indexed_when_opened)
{
	struct store		*st = open_store_with(1 << 24, 1);
	struct event		 ev;
	char			 date[32];
	int			 i, status;

	for (i = 0; i < 7; i++) {
		snprintf(date, sizeof date, "2001-01-%02d", i + 1);
		mkev(&ev, date, NULL, "USA", NULL, NULL, NULL);
		free(ev.title);
		ev.title = strdup(i % 2 ? "Peace talks resume" : "Talks");
		put1(st, &ev, &status);
		T_EQ_INT(status, STORE_ADDED);
		record_clear(&ev);
	}
	store_close(st);
	st = open_store(1 << 24);
	T_EQ_U64(text_count(st, "talks", 0), 7);
	T_EQ_U64(text_count(st, "peace", 1), 3);
	store_close(st);
	/* And the check finds the index it built whole. */
	check_sound();
}

/*
 * A word index built when the store opens needs room beside the pages
 * of the one it replaces: a store whose map is full grows it then, as
 * a write would, instead of failing to open.
 */
TEST(store_text_built_when_opened_grows_a_full_map)
{
	struct store		*st = open_store_with(1 << 18, 1);
	struct store_stats	 ss;
	struct event		 ev;
	struct aerr		 err;
	char			 date[32], title[64];
	int			 i, status;

	for (i = 0; i < 400; i++) {
		snprintf(date, sizeof date, "%d-01-%02d", 1990 + i / 28,
		    i % 28 + 1);
		mkev(&ev, date, NULL, "USA", NULL, NULL, NULL);
		free(ev.title);
		snprintf(title, sizeof title, "Talks in round %d of %s", i,
		    i % 3 ? "many" : "peace");
		ev.title = strdup(title);
		put1(st, &ev, &status);
		T_EQ_INT(status, STORE_ADDED);
		record_clear(&ev);
	}
	store_close(st);
	/* A map asked smaller than the data is the data's size: full. */
	st = open_store_staged(4096, 0, 2);
	T_OK(store_stats(st, &ss, &err));
	T_ASSERTF(ss.map_grows > 0, "map %llu bytes, never grown",
	    (unsigned long long)ss.map_bytes);
	T_EQ_U64(text_count(st, "talks", 0), 400);
	T_EQ_U64(text_count(st, "peace", 1), 134);
	store_close(st);
	check_sound();
}

/*
 * Review: groups of batches where one fails run nested, each child
 * flushing its own batch to the stage: store_text_sweep then sees no
 * events of w's own (text_pn 0) and never sweeps, so the stage grows
 * past stage_text (2 here) for as long as writes go nested.
 */
TEST(store_text_nested_writes_sweep_the_stage)
{
	struct store		*st = open_store(32 << 20);
	struct store_batch	 b[2];
	struct store_op		 ops[2];
	struct event		 evs[2];
	struct aerr		 err;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_stat		 ms;
	int			 round;

	for (round = 0; round < 20; round++) {
		memset(b, 0, sizeof b);
		memset(ops, 0, sizeof ops);
		mkev(&evs[0], "2001-01-05", NULL, "SYRGOV", NULL, NULL, NULL);
		mkev(&evs[1], "2001-01-06", NULL, "SYRGOV", NULL, NULL, NULL);
		ops[0].kind = ops[1].kind = CHANGE_PUT;
		ops[0].ev = &evs[0];
		ops[1].ev = &evs[1];
		ops[1].check_rev = 1;	/* a rev for a new event: refused */
		ops[1].if_rev = 1;
		b[0].ops = &ops[0];
		b[0].nops = 1;
		b[1].ops = &ops[1];
		b[1].nops = 1;
		T_ASSERTF(store_write(st, b, 2, 1000, &err) == 0, "%s",
		    err.msg);
		T_ASSERT(!b[0].failed && b[1].failed);
		record_clear(&evs[0]);
		record_clear(&evs[1]);
	}
	store_close(st);
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "text_new", 0, &dbi));
	T_OK(mdb_stat(txn, dbi, &ms));
	T_ASSERTF(ms.ms_entries <= 3, "%zu batches staged",
	    (size_t)ms.ms_entries);
	raw_commit(env, txn);
}

/*
 * Review: a staged batch cut short (a damaged stage) loses its last
 * entry in the sweep; the words of that entry were numbered as lists
 * before the cut was seen, and must not be counted into words with no
 * postings.
 */
TEST(store_text_sweep_of_cut_batch_counts_no_words)
{
	struct store		*st = open_store(32 << 20);
	struct event		 ev;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi, words;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	unsigned char		 val[512];
	int			 i;

	mkev(&ev, "2001-01-05", NULL, "SYRGOV", NULL, NULL, NULL);
	free(ev.title);
	ev.title = strdup("alpha zebra");
	put1(st, &ev, NULL);
	record_clear(&ev);
	store_close(st);

	/* Its batch loses the NUL that ends the entry's words. */
	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "text_new", 0, &dbi));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	T_OK(mdb_cursor_get(cur, &k, &v, MDB_LAST));
	T_ASSERT(v.mv_size <= sizeof val);
	memcpy(val, v.mv_data, v.mv_size);
	v.mv_data = val;
	v.mv_size--;
	T_OK(mdb_cursor_put(cur, &k, &v, MDB_CURRENT));
	mdb_cursor_close(cur);
	raw_commit(env, txn);

	/* The second put goes past the stage of 2: it sweeps it. */
	st = open_store(32 << 20);
	for (i = 0; i < 2; i++) {
		mkev(&ev, "2001-02-05", NULL, "SYRGOV", NULL, NULL, NULL);
		free(ev.title);
		ev.title = strdup("omega");
		put1(st, &ev, NULL);
		record_clear(&ev);
	}
	store_close(st);

	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "text_new", 0, &dbi));
	T_OK(mdb_dbi_open(txn, "words", 0, &words));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	T_ASSERT(mdb_cursor_get(cur, &k, &v, MDB_FIRST) == MDB_NOTFOUND);
	mdb_cursor_close(cur);
	k.mv_data = (void *)"zebra";
	k.mv_size = 5;
	T_ASSERTF(mdb_get(txn, words, &k, &v) == MDB_NOTFOUND,
	    "words holds zebra, count %llu", v.mv_size == 16 ?
	    (unsigned long long)skey_get_be64(v.mv_data) : 0ULL);
	raw_commit(env, txn);
}

/*
 * A damaged count of staged events (meta text_staged) sizes nothing: the
 * next commit sweeps the stage and counts from the truth.
 */
TEST(store_text_sweep_of_a_damaged_count_sizes_nothing)
{
	struct store		*st = open_store(32 << 20);
	struct event		 ev;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 meta, stage;
	MDB_cursor		*cur;
	MDB_val			 k = { 11, (void *)"text_staged" }, v;
	unsigned char		 huge[8];

	mkev(&ev, "2001-01-05", NULL, "SYRGOV", NULL, NULL, NULL);
	put1(st, &ev, NULL);
	record_clear(&ev);
	store_close(st);

	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "meta", 0, &meta));
	skey_be64(huge, (uint64_t)1 << 61);
	v.mv_size = 8;
	v.mv_data = huge;
	T_OK(mdb_put(txn, meta, &k, &v, 0));
	raw_commit(env, txn);

	st = open_store(32 << 20);
	mkev(&ev, "2001-02-05", NULL, "SYRGOV", NULL, NULL, NULL);
	put1(st, &ev, NULL);
	record_clear(&ev);
	store_close(st);

	txn = raw_begin(&env);
	T_OK(mdb_dbi_open(txn, "text_new", 0, &stage));
	T_OK(mdb_dbi_open(txn, "meta", 0, &meta));
	T_OK(mdb_cursor_open(txn, stage, &cur));
	T_ASSERT(mdb_cursor_get(cur, &k, &v, MDB_FIRST) == MDB_NOTFOUND);
	mdb_cursor_close(cur);
	k.mv_size = 11;
	k.mv_data = (void *)"text_staged";
	T_OK(mdb_get(txn, meta, &k, &v));
	T_EQ_U64(skey_get_be64(v.mv_data), 0);
	raw_commit(env, txn);
}

/*
 * Review of #16 (records in time order).  tor_count: how many records of
 * id the databases of records hold, with the store closed; *start is the
 * start of the last, which ids must map id to, and of the class whose
 * database holds it.
 */
static int
tor_count(uint64_t id, int64_t *start)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbis[REC_DBS];
	MDB_cursor	*cur;
	MDB_val		 k, v;
	uint64_t	 kid;
	int64_t		 kstart;
	int		 n = 0, i, class, kclass = 0;

	txn = raw_begin(&env);
	raw_rec_dbs(txn, dbis);
	for (i = 0; i < REC_DBS; i++) {
		T_OK(mdb_cursor_open(txn, dbis[i], &cur));
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
			T_OK(skey_get_rec_key(k.mv_data, k.mv_size, &kstart,
			    &kid));
			if (kid != id)
				continue;
			n++;
			*start = kstart;
			kclass = store_rec_db_class(i);
		}
		mdb_cursor_close(cur);
	}
	if (n > 0) {
		T_OK(raw_id_get(txn, id, &class, &kstart));
		T_EQ_INT(class, kclass);
		T_ASSERT(kstart == *start);
	} else
		T_ASSERT(raw_id_get(txn, id, &class, &kstart) ==
		    MDB_NOTFOUND);
	raw_commit(env, txn);
	return (n);
}

/* The check finds nothing, get reads id at start, a range finds it once. */
static void
tor_sound(struct store *st, uint64_t id, const char *start)
{
	struct store_check	*c = calloc(1, sizeof *c);
	struct found		 f;
	struct query		 q;
	struct got		 g;
	struct aerr		 err;
	size_t			 i, seen = 0;

	T_OK(store_check(st, c, &err));
	T_ASSERTF(c->nproblems == 0, "%s: %s", start, c->problems[0]);
	free(c);
	memset(&g, 0, sizeof g);
	T_OK(store_get(st, &id, 1, got_one, &g, &err));
	T_ASSERT(g.found == (start != NULL));
	if (start != NULL)
		T_EQ_STR(g.ev.start, start);
	record_clear(&g.ev);
	mkquery(&q, NULL, NULL, NULL);
	q.limit = 2;
	query_all(st, &q, &f);
	for (i = 0; i < f.n; i++)
		seen += f.ids[i] == id;
	T_ASSERTF(seen == (start != NULL), "%s: seen %zu", start, seen);
	found_free(&f);
	query_clear(&q);
}

/*
 * An event moved through open, fuzzy, negative and far starts, its end
 * and class changed, put again unchanged, deleted and put again by a
 * primary: one record, under its start, the one ids names.
 */
TEST(store_timeorder_moves_keep_one_record)
{
	static const char *const starts[] = { "2015-01-26", "-0044-03-15",
	    "../2015", "2014~", "2011-03-15/..", "Y-17000",
	    "2016-05-01/2016-06-01", "2015-01-26", NULL };
	struct store	*st = open_store(1 << 20);
	struct event	 ev;
	uint64_t	 id, other, seq;
	int64_t		 at;
	int		 status, i;

	mkev(&ev, "2015-01-27", NULL, "USA", NULL, NULL, NULL);
	other = put1(st, &ev, NULL);
	record_clear(&ev);
	mkev(&ev, starts[0], NULL, "RUS", NULL, NULL, NULL);
	id = put1(st, &ev, &status);
	record_clear(&ev);
	for (i = 1; starts[i] != NULL; i++) {
		mkev(&ev, starts[i], NULL, "RUS", NULL, NULL, NULL);
		ev.id = id;
		T_EQ_U64(put1(st, &ev, &status), id);
		T_EQ_INT(status, STORE_UPDATED);
		record_clear(&ev);
		tor_sound(st, id, starts[i]);
		tor_sound(st, other, "2015-01-27");
	}
	/* The same again: unchanged, no change logged. */
	seq = store_last_seq(st);
	mkev(&ev, "2015-01-26", NULL, "RUS", NULL, NULL, NULL);
	ev.id = id;
	put1(st, &ev, &status);
	T_EQ_INT(status, STORE_UNCHANGED);
	T_EQ_U64(store_last_seq(st), seq);
	record_clear(&ev);
	/* The end alone, then the class alone (the start stays). */
	mkev(&ev, "2015-01-26", "2015-03-01", "RUS", NULL, NULL, NULL);
	ev.id = id;
	put1(st, &ev, &status);
	T_EQ_INT(status, STORE_UPDATED);
	record_clear(&ev);
	tor_sound(st, id, "2015-01-26");
	mkev(&ev, "2015-01-26", "2035-03-01", "RUS", NULL, NULL, NULL);
	ev.id = id;
	put1(st, &ev, &status);
	record_clear(&ev);
	tor_sound(st, id, "2015-01-26");
	store_close(st);
	T_EQ_INT(tor_count(id, &at), 1);
	T_EQ_INT(tor_count(other, &at), 1);

	st = open_store(1 << 20);
	T_EQ_INT(del1(st, id), 1);
	tor_sound(st, id, NULL);
	/* A primary's ids, out of order (the append falls back), moved. */
	mkev(&ev, "../2015", NULL, "RUS", NULL, NULL, NULL);
	put_given(st, &ev, 500, 1, store_last_seq(st) + 1, 0);
	record_clear(&ev);
	mkev(&ev, "1999", NULL, "RUS", NULL, NULL, NULL);
	put_given(st, &ev, 300, 1, store_last_seq(st) + 1, 0);
	record_clear(&ev);
	tor_sound(st, 500, "../2015");
	tor_sound(st, 300, "1999");
	mkev(&ev, "-0044", NULL, "RUS", NULL, NULL, NULL);
	put_given(st, &ev, 300, 2, store_last_seq(st) + 1, 0);
	record_clear(&ev);
	tor_sound(st, 300, "-0044");
	store_close(st);
	T_EQ_INT(tor_count(id, &at), 0);
	T_EQ_INT(tor_count(300, &at), 1);
	T_EQ_INT(tor_count(500, &at), 1);
}

/*
 * A batch that moves a record and then fails, among batches that apply
 * (nested transactions), and a group replayed after the map filled: the
 * record stays under its old key, ids with it.
 */
TEST(store_timeorder_failed_and_replayed_moves)
{
	struct store		*st = open_store(64 << 10);
	struct store_stats	 ss;
	struct store_batch	 b[2];
	struct store_op		 ops[2][40];
	struct event		 evs[2][40];
	struct aerr		 err;
	uint64_t		 id;
	int64_t			 at;
	char			 start[16];
	int			 i, round;

	mkev(&evs[0][0], "2001-01-01", NULL, "USA", NULL, NULL, NULL);
	id = put1(st, &evs[0][0], NULL);
	record_clear(&evs[0][0]);
	for (round = 0; round < 20; round++) {
		memset(b, 0, sizeof b);
		memset(ops, 0, sizeof ops);
		/* Batch 0 moves id, then fails on a rev. */
		snprintf(start, sizeof start, "%d", 1900 + round);
		mkev(&evs[0][0], start, NULL, "USA", NULL, NULL, NULL);
		evs[0][0].id = id;
		ops[0][0].kind = CHANGE_PUT;
		ops[0][0].ev = &evs[0][0];
		mkev(&evs[0][1], "2016", NULL, "USA", NULL, NULL, NULL);
		evs[0][1].id = id;
		ops[0][1].kind = CHANGE_PUT;
		ops[0][1].ev = &evs[0][1];
		ops[0][1].check_rev = 1;
		ops[0][1].if_rev = 999;
		b[0].ops = ops[0];
		b[0].nops = 2;
		/* Batch 1 adds enough to fill a small map now and then. */
		for (i = 0; i < 40; i++) {
			snprintf(start, sizeof start, "%d-%02d", 1950 + i,
			    1 + round % 12);
			mkev(&evs[1][i], start, NULL, "RUS,SYRGOV", "010",
			    NULL, NULL);
			ops[1][i].kind = CHANGE_PUT;
			ops[1][i].ev = &evs[1][i];
		}
		b[1].ops = ops[1];
		b[1].nops = 40;
		T_ASSERTF(store_write(st, b, 2, 100, &err) == 0, "%s",
		    err.msg);
		T_ASSERT(b[0].failed && !b[1].failed);
		record_clear(&evs[0][0]);
		record_clear(&evs[0][1]);
		for (i = 0; i < 40; i++)
			record_clear(&evs[1][i]);
		tor_sound(st, id, "2001-01-01");
	}
	T_OK(store_stats(st, &ss, &err));
	T_ASSERT(ss.map_grows > 0);
	store_close(st);
	T_EQ_INT(tor_count(id, &at), 1);
}

/*
 * Take the store back to format 4 behind its back: each record under its
 * 8-byte id, ids (an entry an id, instead of idblocks) empty; or to
 * format 5: each long event's record under its start and id, ids mapping
 * it there.  Except the records of ids that are multiples of moved (0:
 * none), left as a cut-short upgrade leaves them, ids mapping them.
 */
static void
tor_downgrade(uint64_t moved, int to)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbis[REC_DBS], events, ids, idblocks, meta;
	MDB_cursor	*cur;
	MDB_val		 k, v, *keys = NULL, *vals = NULL;
	unsigned char	 four[8], old[SKEY_REC_LEN], *long_key;
	uint64_t	 id;
	int64_t		 start;
	size_t		 n = 0, cap = 0, i;
	int		 db;

	txn = raw_begin(&env);
	raw_rec_dbs(txn, dbis);
	events = dbis[0];
	T_OK(mdb_dbi_open(txn, "ids", MDB_CREATE, &ids));
	T_OK(mdb_dbi_open(txn, "idblocks", 0, &idblocks));
	T_OK(mdb_dbi_open(txn, "meta", 0, &meta));
	/* Each key as format 11 kept it: a long one's class first. */
	for (db = 0; db < REC_DBS; db++) {
		T_OK(mdb_cursor_open(txn, dbis[db], &cur));
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				keys = realloc(keys, cap * sizeof *keys);
				vals = realloc(vals, cap * sizeof *vals);
			}
			keys[n].mv_size = k.mv_size + (db > 0);
			keys[n].mv_data = long_key = malloc(keys[n].mv_size);
			if (db > 0)
				*long_key++ = (unsigned char)
				    store_rec_db_class(db);
			memcpy(long_key, k.mv_data, k.mv_size);
			vals[n].mv_size = v.mv_size;
			vals[n].mv_data = malloc(v.mv_size);
			memcpy(vals[n].mv_data, v.mv_data, v.mv_size);
			n++;
		}
		mdb_cursor_close(cur);
		T_OK(mdb_drop(txn, dbis[db], 0));
	}
	for (i = 0; i < n; i++) {
		memcpy(old, (unsigned char *)keys[i].mv_data +
		    keys[i].mv_size - SKEY_REC_LEN, SKEY_REC_LEN);
		T_OK(skey_get_rec_key(old, SKEY_REC_LEN, &start, &id));
		k.mv_size = 8;
		k.mv_data = old + 8;
		if (moved != 0 && id % moved == 0) {
			T_OK(mdb_put(txn, events, &keys[i], &vals[i], 0));
			/* ids has the key less the id, as it was kept. */
			v.mv_size = keys[i].mv_size - 8;
			v.mv_data = keys[i].mv_data;
			T_OK(mdb_put(txn, ids, &k, &v, 0));
		} else if (to == 4)
			T_OK(mdb_put(txn, events, &k, &vals[i], 0));
		else {
			v.mv_size = 8;
			v.mv_data = old;
			T_OK(mdb_put(txn, ids, &k, &v, 0));
			k.mv_size = SKEY_REC_LEN;
			k.mv_data = old;
			T_OK(mdb_put(txn, events, &k, &vals[i], 0));
		}
		free(keys[i].mv_data);
		free(vals[i].mv_data);
	}
	free(keys);
	free(vals);
	T_OK(mdb_drop(txn, idblocks, 1));
	skey_be64(four, (uint64_t)to);
	k.mv_size = 6;
	k.mv_data = (void *)"format";
	v.mv_size = 8;
	v.mv_data = four;
	T_OK(mdb_put(txn, meta, &k, &v, 0));
	raw_commit(env, txn);
}

/* Every id's record read back, as wire bytes, into a[id]. */
struct tor_recs {
	char	**a;
	size_t	 *len;
};

static int
tor_rec(void *arg, size_t i, const void *data, size_t len)
{
	struct tor_recs	*r = arg;

	if (data != NULL) {
		r->a[i] = malloc(len);
		memcpy(r->a[i], data, len);
		r->len[i] = len;
	}
	return (0);
}

static void
tor_read_all(struct store *st, uint64_t n, struct tor_recs *r)
{
	struct aerr	 err;
	uint64_t	*ids = calloc(n, sizeof *ids), i;

	r->a = calloc(n, sizeof *r->a);
	r->len = calloc(n, sizeof *r->len);
	for (i = 0; i < n; i++)
		ids[i] = i;
	T_OK(store_get(st, ids, n, tor_rec, r, &err));
	free(ids);
}

/*
 * Stores of format 4 whose records are keyed by id, and of format 5
 * whose long events' records are keyed by start and id (all of them, or
 * a cut-short upgrade's rest), with open starts (keys that begin with 8
 * zero bytes), negative years, days and deleted events, over more
 * records than an upgrade batch: the open moves every one, reads answer
 * as before, and the check finds nothing.
 */
TEST(store_timeorder_upgrade_from_formats_4_and_5)
{
	static const uint64_t	 moved[] = { 0, 3, 1 };
	static const int	 to[] = { 4, 5 };
	struct store		*st;
	struct store_batch	 b;
	struct store_op		*ops;
	struct event		*evs;
	struct store_check	*c = calloc(1, sizeof *c);
	struct tor_recs		 before, after;
	struct found		 f0, f1;
	struct query		 q;
	struct aerr		 err;
	char			 start[32];
	size_t			 n = 24000, per = 2000, i, j, m;
	int64_t			 at;

	st = open_store(64 << 20);
	evs = calloc(per, sizeof *evs);
	ops = calloc(per, sizeof *ops);
	for (i = 0; i < n; i += per) {
		for (j = 0; j < per; j++) {
			m = i + j;
			if (m % 97 == 0)
				snprintf(start, sizeof start, "../%zu",
				    1900 + m % 100);
			else if (m % 13 == 0)
				snprintf(start, sizeof start, "-%04zu",
				    1 + m % 3000);
			else if (m % 3 == 0)
				snprintf(start, sizeof start, "%zu-%02zu-%02zu",
				    1800 + m % 250, 1 + m % 12, 1 + m % 28);
			else
				snprintf(start, sizeof start, "%zu-%02zu",
				    1800 + m % 250, 1 + m % 12);
			mkev(&evs[j], start, NULL, "USA", NULL, NULL, NULL);
			memset(&ops[j], 0, sizeof ops[j]);
			ops[j].kind = CHANGE_PUT;
			ops[j].ev = &evs[j];
		}
		memset(&b, 0, sizeof b);
		b.ops = ops;
		b.nops = per;
		T_ASSERTF(store_write(st, &b, 1, 7, &err) == 0, "%s",
		    err.msg);
		for (j = 0; j < per; j++)
			record_clear(&evs[j]);
	}
	for (i = 5; i <= n; i += 11)
		del1(st, i);
	tor_read_all(st, n + 2, &before);
	mkquery(&q, NULL, NULL, NULL);
	query_all(st, &q, &f0);
	store_close(st);

	for (m = 0; m < 2 * sizeof moved / sizeof moved[0]; m++) {
		tor_downgrade(moved[m / 2], to[m % 2]);
		st = open_store(64 << 20);
		T_OK(store_check(st, c, &err));
		T_ASSERTF(c->nproblems == 0, "format %d, moved %llu: %s",
		    to[m % 2], (unsigned long long)moved[m / 2],
		    c->problems[0]);
		tor_read_all(st, n + 2, &after);
		for (i = 0; i < n + 2; i++) {
			T_EQ_U64(after.len[i], before.len[i]);
			T_ASSERT(after.len[i] == 0 || memcmp(after.a[i],
			    before.a[i], after.len[i]) == 0);
			free(after.a[i]);
		}
		free(after.a);
		free(after.len);
		query_all(st, &q, &f1);
		T_EQ_U64(f1.n, f0.n);
		T_ASSERT(memcmp(f1.ids, f0.ids, f0.n * sizeof *f0.ids) == 0);
		found_free(&f1);
		store_close(st);
		T_EQ_INT(tor_count(98, &at), 1);	/* ../1997 */
		T_ASSERT(at == DATE_NEG_INF);
	}
	for (i = 0; i < n + 2; i++)
		free(before.a[i]);
	free(before.a);
	free(before.len);
	found_free(&f0);
	query_clear(&q);
	free(evs);
	free(ops);
	free(c);
}

/* Whether the check's problems include one holding s. */
static int
tor_has_problem(const struct store_check *c, const char *s)
{
	int	i;

	for (i = 0; i < (int)c->nproblems && i < STORE_CHECK_KEEP; i++) {
		if (strstr(c->problems[i], s) != NULL)
			return (1);
	}
	return (0);
}

/*
 * The check finds a record under another start than its own, with ids
 * agreeing (range queries would miss it), and a stale second record of
 * an id under its old key.
 */
TEST(store_timeorder_check_finds_misplaced_records)
{
	struct store		*st = open_store(4 << 20);
	struct store_check	*c = calloc(1, sizeof *c);
	struct event		 ev;
	struct aerr		 err;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 events;
	MDB_val			 k, v, nk;
	unsigned char		 key[SKEY_REC_LEN], nkey[SKEY_REC_LEN];
	char			*rec;

	mkev(&ev, "2015-01-26", NULL, "USA", NULL, NULL, NULL);
	put1(st, &ev, NULL);
	record_clear(&ev);
	mkev(&ev, "2016-01-26", NULL, "USA", NULL, NULL, NULL);
	put1(st, &ev, NULL);
	record_clear(&ev);
	store_close(st);

	/* 1 moves to start 0 (1970), ids following; 2 gets a copy there. */
	txn = raw_begin(&env);
	raw_rec_key(txn, 1, key, &k, &events);
	T_OK(mdb_get(txn, events, &k, &v));
	rec = malloc(v.mv_size);
	memcpy(rec, v.mv_data, v.mv_size);
	v.mv_data = rec;
	T_OK(mdb_del(txn, events, &k, NULL));
	skey_rec_key(nkey, 0, 1);
	nk.mv_size = SKEY_REC_LEN;
	nk.mv_data = nkey;
	T_OK(mdb_put(txn, events, &nk, &v, 0));
	raw_id_set(txn, 1, 0, 0);
	free(rec);
	raw_rec_key(txn, 2, key, &k, &events);
	T_OK(mdb_get(txn, events, &k, &v));
	rec = malloc(v.mv_size);
	memcpy(rec, v.mv_data, v.mv_size);
	v.mv_data = rec;
	skey_rec_key(nkey, 0, 2);
	T_OK(mdb_put(txn, events, &nk, &v, 0));
	free(rec);
	raw_commit(env, txn);

	st = open_store(4 << 20);
	T_OK(store_check(st, c, &err));
	T_ASSERTF(tor_has_problem(c, "event 1: kept under start 0"), "%s",
	    c->problems[0]);
	T_ASSERTF(tor_has_problem(c, "event 2: ids does not map it"), "%s",
	    c->problems[0]);
	store_close(st);
	free(c);
}

struct tor_reader {
	struct store	*st;
	uint64_t	 id;
	atomic_int	 stop;
	atomic_int	 reads;
	int		 bad;
};

/* Read id by id and by a range while the writer moves it. */
static void *
tor_read(void *arg)
{
	struct tor_reader	*r = arg;
	struct found		 f;
	struct query		 q;
	struct got		 g;
	struct aerr		 err;
	size_t			 i, seen;

	while (!atomic_load(&r->stop)) {
		gate_enter();
		memset(&g, 0, sizeof g);
		if (store_get(r->st, &r->id, 1, got_one, &g, &err) != 0 ||
		    !g.found)
			r->bad++;
		record_clear(&g.ev);
		/* One page: one read transaction. */
		mkquery(&q, NULL, NULL, NULL);
		q.limit = 50;
		query_all(r->st, &q, &f);
		gate_leave();
		for (i = 0, seen = 0; i < f.n; i++)
			seen += f.ids[i] == r->id;
		if (seen != 1 || f.n != 11)
			r->bad += 1000;
		found_free(&f);
		query_clear(&q);
		r->reads++;
	}
	return (NULL);
}

/* Readers on another thread never miss a record being moved, nor see two. */
TEST(store_timeorder_readers_beside_moves)
{
	struct store		*st = open_store(4 << 20);
	struct tor_reader	 r;
	struct event		 ev;
	pthread_t		 t;
	char			 start[16];
	int			 i, status;

	memset(&r, 0, sizeof r);
	r.st = st;
	for (i = 0; i < 10; i++) {
		snprintf(start, sizeof start, "%d", 1990 + i);
		mkev(&ev, start, NULL, "USA", NULL, NULL, NULL);
		put1(st, &ev, NULL);
		record_clear(&ev);
	}
	mkev(&ev, "2000", NULL, "USA", NULL, NULL, NULL);
	r.id = put1(st, &ev, NULL);
	record_clear(&ev);
	T_ASSERT(pthread_create(&t, NULL, tor_read, &r) == 0);
	for (i = 0; i < 300 || atomic_load(&r.reads) < 20; i++) {
		snprintf(start, sizeof start, "%d", 1985 + (i * 7) % 20);
		mkev(&ev, start, NULL, "USA", NULL, NULL, NULL);
		ev.id = r.id;
		put1(st, &ev, &status);
		record_clear(&ev);
	}
	atomic_store(&r.stop, 1);
	T_ASSERT(pthread_join(t, NULL) == 0);
	T_ASSERTF(r.bad == 0, "%d of %d reads missed or doubled it", r.bad,
	    atomic_load(&r.reads));
	tor_sound(st, r.id, start);
	store_close(st);
}

/* meta's number under name, read behind the store's back. */
static uint64_t
raw_meta(MDB_txn *txn, const char *name)
{
	MDB_dbi	dbi;
	MDB_val	k = { strlen(name), (void *)name }, v;

	T_OK(mdb_dbi_open(txn, "meta", 0, &dbi));
	if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size != 8)
		return (UINT64_MAX);
	return (skey_get_be64(v.mv_data));
}

/* Set (or with v UINT64_MAX, delete) meta's number under name. */
static void
raw_meta_set(MDB_txn *txn, const char *name, uint64_t v)
{
	MDB_dbi		dbi;
	unsigned char	buf[8];
	MDB_val		k = { strlen(name), (void *)name }, d = { 8, buf };

	T_OK(mdb_dbi_open(txn, "meta", 0, &dbi));
	skey_be64(buf, v);
	if (v == UINT64_MAX)
		T_OK(mdb_del(txn, dbi, &k, NULL));
	else
		T_OK(mdb_put(txn, dbi, &k, &d, 0));
}

/*
 * The classes meta gives an overlap histogram: those holding events
 * fuzzy before their start, and those holding spans of other than whole
 * days.  Writes add to them; a store without them (written before) gets
 * them from its time index on opening; store_check finds them short.
 */
TEST(store_span_classes_follow_writes_and_are_rebuilt)
{
	static const char *const starts[] = {
		"2017-04-01", "2017-04-02", "2017-03-31T12:00Z/2017-04-01T12:00Z",
		"2017-04-01~", "2017-04-01/2017-04-03",
	};
	struct store		*st = open_store(4 << 20);
	struct store_check	*c = calloc(1, sizeof *c);
	struct date_span	 span;
	struct event		 ev;
	struct aerr		 err;
	uint64_t		 before = 0, unaligned = 0;
	char			 key[16];
	MDB_env			*env;
	MDB_txn			*txn;
	size_t			 i;
	int			 class;

	T_ASSERT(c != NULL);
	for (i = 0; i < sizeof starts / sizeof starts[0]; i++) {
		T_OK(date_event_span(starts[i], NULL, &span, &err));
		class = skey_class(&span);
		if (skey_span_kind(&span) & SKEY_SPAN_BEFORE)
			before |= UINT64_C(1) << class;
		if (skey_span_kind(&span) & SKEY_SPAN_UNALIGNED)
			unaligned |= UINT64_C(1) << class;
		snprintf(key, sizeof key, "k%zu", i);
		mkev(&ev, starts[i], NULL, "RUS", "036", "t", key);
		put1(st, &ev, NULL);
		record_clear(&ev);
	}
	/* Whole days: none; the day from noon: its class; ~: both. */
	T_EQ_INT(skey_span_kind(&(struct date_span){ .lo = 86400,
	    .flo = 86400, .hi = 2 * 86400 - 1, .fhi = 2 * 86400 - 1 }), 0);
	T_ASSERT(before != 0 && unaligned != 0 && (before & ~unaligned) == 0);
	store_close(st);

	txn = raw_begin(&env);
	T_EQ_U64(raw_meta(txn, "classes_before"), before);
	T_EQ_U64(raw_meta(txn, "classes_unaligned"), unaligned);
	T_EQ_U64(raw_meta(txn, "spanned_to"), raw_meta(txn, "next_seq"));
	/* As a store written before: no word of them. */
	raw_meta_set(txn, "classes_before", UINT64_MAX);
	raw_meta_set(txn, "classes_unaligned", UINT64_MAX);
	raw_meta_set(txn, "spanned_to", UINT64_MAX);
	raw_commit(env, txn);

	st = open_store(4 << 20);
	store_close(st);
	txn = raw_begin(&env);
	T_EQ_U64(raw_meta(txn, "classes_before"), before);
	T_EQ_U64(raw_meta(txn, "classes_unaligned"), unaligned);
	T_EQ_U64(raw_meta(txn, "spanned_to"), raw_meta(txn, "next_seq"));
	/* Short of a class: the histogram would miss its crossers. */
	raw_meta_set(txn, "classes_unaligned", 0);
	raw_commit(env, txn);

	st = open_store(4 << 20);
	T_OK(store_check(st, c, &err));
	T_ASSERTF(c->nproblems == 1 && strstr(c->problems[0],
	    "classes_unaligned 0x0 lacks") != NULL, "%llu: %s",
	    (unsigned long long)c->nproblems, c->problems[0]);
	store_close(st);
	free(c);
}

/* The entries of the raw database name under prefix, and their bytes. */
static size_t
raw_count(const char *name, const char *prefix, size_t plen, size_t *bytes)
{
	MDB_env		*env;
	MDB_txn		*txn = raw_begin(&env);
	MDB_dbi		 dbi;
	MDB_cursor	*cur;
	MDB_val		 k = { plen, (void *)prefix }, v;
	size_t		 n = 0;
	int		 rc;

	*bytes = 0;
	T_OK(mdb_dbi_open(txn, name, 0, &dbi));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 &&
	    k.mv_size >= plen && memcmp(k.mv_data, prefix, plen) == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		n++;
		*bytes += v.mv_size;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return (n);
}

/*
 * Events of one actor and type put day after day, as a feed sends them,
 * fill the blocks of postings of both indexes, a few bytes a posting
 * and dozens to a block.  They read back in order, whole, after deletes
 * too, and the check finds nothing wrong.
 */
TEST(store_postings_of_a_feed_fill_their_blocks)
{
	struct store		*st = open_store(16 << 20);
	struct store_check	*check = calloc(1, sizeof *check);
	struct event		 ev;
	struct query		 q;
	struct found		 f;
	struct aerr		 err;
	char			 date[16];
	size_t			 blocks, bytes, i, n = 3000;
	int64_t			 y;
	unsigned		 mo, d;

	for (i = 0; i < n; i++) {
		date_civil_from_days(date_days_from_civil(2000, 1, 1) +
		    (int64_t)(i / 3), &y, &mo, &d);
		snprintf(date, sizeof date, "%04lld-%02u-%02u", (long long)y,
		    mo, d);
		mkev(&ev, date, NULL, "RUS", "036", NULL, NULL);
		T_EQ_U64(put1(st, &ev, NULL), i + 1);
		record_clear(&ev);
	}
	store_close(st);
	/* The stage keeps a few: the 3000 postings are in 3000 / 40 blocks. */
	blocks = raw_count("actor", "RUS", 4, &bytes);
	T_ASSERTF(blocks > 1 && blocks * 40 <= n, "%zu blocks", blocks);
	T_ASSERTF(bytes / n <= 12, "%zu bytes a posting", bytes / n);
	blocks = raw_count("type", "036", 4, &bytes);
	T_ASSERTF(blocks > 1 && blocks * 40 <= n, "%zu blocks", blocks);

	st = open_store(16 << 20);
	mkquery(&q, NULL, NULL, "RUS");
	q.limit = 77;
	query_all(st, &q, &f);
	T_EQ_U64(f.n, n);
	for (i = 0; i < n; i++)
		T_EQ_U64(f.ids[i], i + 1);
	found_free(&f);
	/* Every third goes, the first of many blocks among them. */
	for (i = 1; i <= n; i += 3)
		T_EQ_INT(del1(st, i), 1);
	q.desc = 1;
	query_all(st, &q, &f);
	T_EQ_U64(f.n, n - n / 3);
	for (i = 0; i < f.n; i++)
		T_ASSERT(f.ids[i] % 3 != 1 && (i == 0 || f.ids[i] <
		    f.ids[i - 1]));
	found_free(&f);
	query_clear(&q);
	T_OK(store_check(st, check, &err));
	T_ASSERTF(check->nproblems == 0, "%s", check->problems[0]);
	free(check);
	store_close(st);
}
