/*
 * The query planner: a range or actor query becomes scans of the time,
 * actor or type index and of their stages, merged in (start, id) order;
 * the filters the indexes cannot answer are checked on the record by one
 * predicate, which the aggregations (store-agg.c) use too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "annalsd.h"
#include "store-int.h"

/* A query's first room for expanded records: 128 of 512 bytes. */
#define WIRE_RECORDS		128
#define WIRE_RECORD_BYTES	512

/*
 * Call fn with each name in names that is name (or with prefix, starts
 * with it: every name for "") and the mask of classes it is used with,
 * until fn returns other than 0, which is returned.
 */
int
store_names_each(MDB_txn *txn, MDB_dbi names, const char *name, int prefix,
    store_name_fn fn, void *arg, struct aerr *err)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	uint64_t	 mask;
	size_t		 len = strlen(name);
	int		 rc, ret = 0;

	if ((rc = mdb_cursor_open(txn, names, &cur)) != 0)
		return (store_error(err, rc, "mdb_cursor_open"));
	k.mv_size = len;
	k.mv_data = (void *)name;
	/* LMDB takes no empty key to seek to. */
	rc = mdb_cursor_get(cur, &k, &v, len == 0 && prefix ? MDB_FIRST :
	    prefix ? MDB_SET_RANGE : MDB_SET_KEY);
	for (; rc == 0 && ret == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < len || memcmp(k.mv_data, name, len) != 0)
			break;
		mask = v.mv_size == 16 ?
		    skey_get_be64((const unsigned char *)v.mv_data + 8) : 0;
		ret = fn(arg, k.mv_data, k.mv_size, mask);
		if (!prefix)
			break;
	}
	mdb_cursor_close(cur);
	return (ret);
}

/* One index range merged into a query: a cursor between two keys. */
struct scan {
	MDB_dbi		 dbi;		/* an index or its stage */
	struct ixcur	 cur;
	unsigned char	 lo[ACTOR_KEY_MAX];
	unsigned char	 hi[ACTOR_KEY_MAX];
	size_t		 klen;		/* prefix + start + id */
	MDB_val		 k, v;
};

struct plan {
	struct scan	*scans;
	size_t		 n, cap;
	struct scan	**heap;
	size_t		 nheap;
	int		 desc;
	unsigned char	 key[ACTOR_KEY_MAX];	/* plan_next's entry */
};

static int64_t
sat_add(int64_t a, int64_t b)
{
	if (a == DATE_POS_INF || b == DATE_POS_INF || a > INT64_MAX - b)
		return (DATE_POS_INF);
	return (a + b);
}

static int64_t
sat_sub(int64_t a, int64_t b)
{
	if (a == DATE_NEG_INF || b == DATE_POS_INF || a < INT64_MIN + b)
		return (DATE_NEG_INF);
	return (a - b);
}

/*
 * The first and last key of the time index (name NULL) or of one name's
 * part of the actor or type index under which an event of the class can
 * reach [qlo, qhi]: the starts from qlo less the class's reach to qhi
 * plus it (see store-key.c).  Returns the length of both.
 */
size_t
store_scan_bounds(const char *name, size_t nlen, int class, int64_t qlo,
    int64_t qhi, unsigned char *lo, unsigned char *hi)
{
	int64_t	reach = skey_class_reach(class);
	int64_t	a = sat_sub(qlo, reach), b = sat_add(qhi, reach);

	if (class == SKEY_CLASS_INF) {
		a = DATE_NEG_INF;
		b = DATE_POS_INF;
	}
	if (name != NULL) {
		skey_actor_key(hi, name, nlen, class, b, UINT64_MAX);
		return (skey_actor_key(lo, name, nlen, class, a, 0));
	}
	skey_time_key(hi, class, b, UINT64_MAX);
	return (skey_time_key(lo, class, a, 0));
}

/* Add the scan of one (prefix, class) for events reaching [qlo, qhi]. */
static int
plan_add(struct plan *p, MDB_dbi dbi, const char *name, size_t nlen,
    int class, const struct query *q, struct aerr *err)
{
	struct scan	*s;

	if (p->n == STORE_MAX_SCANS) {
		aerr_set(err, AERR_LIMIT, "query needs more than %d index "
		    "scans; use a longer actor prefix", STORE_MAX_SCANS);
		return (-1);
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->scans = xreallocarray(p->scans, p->cap, sizeof *p->scans);
	}
	s = &p->scans[p->n++];
	memset(s, 0, sizeof *s);
	s->dbi = dbi;
	s->klen = store_scan_bounds(name, nlen, class, q->qlo, q->qhi, s->lo,
	    s->hi);
	return (0);
}

static int
scan_cmp(const struct scan *a, const struct scan *b)
{
	return (memcmp((const unsigned char *)a->k.mv_data + a->k.mv_size - 16,
	    (const unsigned char *)b->k.mv_data + b->k.mv_size - 16, 16));
}

/* Whether heap entry a comes out before b in the query's order. */
static int
heap_before(const struct plan *p, const struct scan *a, const struct scan *b)
{
	int	c = scan_cmp(a, b);

	return (p->desc ? c > 0 : c < 0);
}

static void
heap_down(struct plan *p, size_t i)
{
	struct scan	*t;
	size_t		 l, best;

	for (;;) {
		best = i;
		l = 2 * i + 1;
		if (l < p->nheap && heap_before(p, p->heap[l], p->heap[best]))
			best = l;
		if (l + 1 < p->nheap &&
		    heap_before(p, p->heap[l + 1], p->heap[best]))
			best = l + 1;
		if (best == i)
			return;
		t = p->heap[i];
		p->heap[i] = p->heap[best];
		p->heap[best] = t;
		i = best;
	}
}

/* Whether the scan's cursor stands inside its range. */
static int
scan_inside(const struct scan *s)
{
	if (s->k.mv_size != s->klen)
		return (0);
	return (memcmp(s->k.mv_data, s->lo, s->klen) >= 0 &&
	    memcmp(s->k.mv_data, s->hi, s->klen) <= 0);
}

static int
scan_step(struct scan *s, int desc)
{
	if (store_ixcur_get(&s->cur, &s->k, &s->v,
	    desc ? MDB_PREV : MDB_NEXT) != 0)
		return (0);
	return (scan_inside(s));
}

/*
 * Place a scan on its first entry in the query's order, after the resume
 * point when there is one.  Returns 1 when it has an entry.
 */
static int
scan_start(struct scan *s, const struct query *q)
{
	unsigned char	seek[ACTOR_KEY_MAX], resume[ACTOR_KEY_MAX];
	size_t		plen = s->klen - 16;
	int		rc;

	memcpy(seek, q->desc ? s->hi : s->lo, s->klen);
	if (q->has_cursor) {
		memcpy(resume, s->lo, plen);
		skey_time(resume + plen, q->cur_start);
		skey_be64(resume + plen + 8, q->cur_id);
		if (q->desc ? memcmp(resume, seek, s->klen) < 0 :
		    memcmp(resume, seek, s->klen) > 0)
			memcpy(seek, resume, s->klen);
	}
	s->k.mv_data = seek;
	s->k.mv_size = s->klen;
	rc = q->desc ? store_ixcur_seek_last(&s->cur, &s->k, &s->v) :
	    store_ixcur_get(&s->cur, &s->k, &s->v, MDB_SET_RANGE);
	if (rc != 0 || !scan_inside(s))
		return (0);
	/* The resume point itself was on the previous page. */
	if (q->has_cursor && s->k.mv_size == s->klen &&
	    memcmp(s->k.mv_data, resume, s->klen) == 0)
		return (scan_step(s, q->desc));
	return (1);
}

static void
plan_free(struct plan *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		store_ixcur_close(&p->scans[i].cur);
	free(p->scans);
	free(p->heap);
}

/* Where plan_name puts the scans of a name. */
struct plan_dest {
	struct plan		*p;
	MDB_dbi			 index, stage;
	const struct query	*q;
	struct aerr		*err;
};

/* Plan the scans of one actor or type: each class it is used with. */
static int
plan_name(void *arg, const void *name, size_t len, uint64_t mask)
{
	struct plan_dest	*d = arg;
	int			 class, ret = 0;

	for (class = 0; class <= SKEY_CLASS_INF && ret == 0; class++) {
		if ((mask & (UINT64_C(1) << class)) == 0)
			continue;
		ret = plan_add(d->p, d->index, name, len, class, d->q, d->err);
		if (ret == 0)
			ret = plan_add(d->p, d->stage, name, len, class, d->q,
			    d->err);
	}
	return (ret);
}

/*
 * Plan the scans: each class of the time index, of the actor's part of
 * the actor index (or of each actor with its prefix, or of each code of
 * its alias), or with by_type of
 * each type with the query's type prefix in the type index.
 */
static int
plan_build(struct store *st, MDB_txn *txn, const struct query *q,
    int by_type, struct plan *p, struct aerr *err)
{
	struct plan_dest d = { p, st->actor, st->actor_new, q, err };
	uint64_t	 mask;
	uint32_t	 i;
	int		 class;

	for (i = 0; i < q->ncodes; i++) {
		if (store_names_each(txn, st->actors, q->codes[i], 0,
		    plan_name, &d, err) != 0)
			return (-1);
	}
	if (q->ncodes > 0)
		return (0);
	if (q->actor != NULL)
		return (store_names_each(txn, st->actors, q->actor,
		    q->actor_prefix, plan_name, &d, err));
	if (by_type) {
		d.index = st->type;
		d.stage = st->type_new;
		return (store_names_each(txn, st->types, q->type, 1, plan_name,
		    &d, err));
	}
	mask = store_meta_get(txn, st->meta, "classes", 0);
	for (class = 0; class <= SKEY_CLASS_INF; class++) {
		if ((mask & (UINT64_C(1) << class)) &&
		    (plan_add(p, st->timeblocks, NULL, 0, class, q, err) ||
		    plan_add(p, st->time_new, NULL, 0, class, q, err)))
			return (-1);
	}
	return (0);
}

/*
 * How a type filter is met: by walking the type index (1) when no actor
 * drives the query and the types hold at most a quarter of the events,
 * since beyond that the time index finds a page's events sooner (and
 * are not so many that their scans would pass STORE_MAX_SCANS); by
 * looking each event up in it (2, tn filled) when there are few types;
 * or by the record (0).
 */
static int
plan_type(struct store *st, MDB_txn *txn, const struct query *q,
    struct type_names *tn, struct aerr *err)
{
	uint64_t	events;
	int		rc;

	memset(tn, 0, sizeof *tn);
	if (q->type == NULL)
		return (0);
	if (store_type_names(st, txn, q->type, TYPE_PROBE_MAX, tn, err) != 0)
		return (-1);
	if (q->actor == NULL && q->text == NULL) {
		if ((rc = store_rec_count(txn, st, store_meta_get(txn,
		    st->meta, "classes", 0), &events)) != 0) {
			store_type_names_free(tn);
			return (store_error(err, rc, "mdb_stat"));
		}
		if (tn->events <= events / 4 &&
		    tn->n <= TYPE_WALK_MAX) {
			store_type_names_free(tn);
			return (1);
		}
	}
	if (tn->n <= TYPE_PROBE_MAX)
		return (2);
	store_type_names_free(tn);
	return (0);
}

/*
 * Whether an index entry's span passes the query's date filters (and an
 * alias's interval); *match is then DATE_MATCH_CERTAIN or
 * DATE_MATCH_POSSIBLE.
 */
int
store_span_passes(const struct query *q, const struct date_span *span,
    int *match)
{
	int	m;

	m = query_alias_match(q, span, date_match(span, q->qlo, q->qhi));
	if (m == DATE_MATCH_NONE ||
	    (q->certain && m != DATE_MATCH_CERTAIN) ||
	    (q->within && !date_within(span, q->qlo, q->qhi)) ||
	    span->prec < q->min_prec)
		return (0);
	*match = m;
	return (1);
}

/*
 * Whether the query asks about more than the index entries say, once
 * the scan (or the type index) has met the type filter when type_known:
 * the actor of an actor scan is in its entry, but not its role.  The
 * word index (text, once begun) drives a text query, so its actor is
 * checked on the record, as are its phrases; before the words are read
 * (text NULL) a text query needs the record.
 */
int
store_needs_record(const struct query *q, int type_known,
    const struct text_iter *text)
{
	return (q->role != NULL || (q->type != NULL && !type_known) ||
	    q->tag != NULL || q->source != NULL || (q->text != NULL &&
	    (text == NULL || q->actor != NULL ||
	    store_text_needs_record(text))));
}

/* Whether o is the str s (len bytes). */
int
store_str_is(const msgpack_object *o, const char *s, size_t len)
{
	return (o != NULL && o->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size == len && memcmp(o->via.str.ptr, s, len) == 0);
}

/* An actor entry's name (and role): a map as stored, or a plain str. */
int
store_rec_actor(const msgpack_object *a, const msgpack_object **name,
    const msgpack_object **role)
{
	*role = NULL;
	if (a->type == MSGPACK_OBJECT_STR) {
		*name = a;
		return (0);
	}
	if (a->type != MSGPACK_OBJECT_MAP ||
	    (*name = mp_get(a, "name")) == NULL ||
	    (*name)->type != MSGPACK_OBJECT_STR)
		return (-1);
	*role = mp_get(a, "role");
	return (0);
}

/* Whether the record holds the phrases of a text query. */
static int
text_matches(struct text_iter *text, const msgpack_object *rec)
{
	const msgpack_object	*t = mp_get(rec, "title"), *x;

	x = mp_get(rec, "text");
	if (t != NULL && t->type != MSGPACK_OBJECT_STR)
		t = NULL;
	if (x != NULL && x->type != MSGPACK_OBJECT_STR)
		x = NULL;
	return (store_text_match(text, t ? t->via.str.ptr : NULL,
	    t ? t->via.str.size : 0, x ? x->via.str.ptr : NULL,
	    x ? x->via.str.size : 0));
}

/*
 * The filters of query_matches() that need the record, on its msgpack
 * form: type prefix, tag, source, the actor (or prefix, or one of an
 * alias's codes) in a role, and
 * the phrases of q->text (text, the query's words, or NULL).  Range and
 * actor queries and every aggregation filter with this one.
 */
int
store_record_matches(const struct query *q, const msgpack_object *rec,
    struct text_iter *text)
{
	const msgpack_object	*o, *name, *role;
	size_t			 len;
	uint32_t		 i;
	int			 found;

	if (text != NULL && !text_matches(text, rec))
		return (0);

	if (q->type != NULL) {
		len = strlen(q->type);
		o = mp_get(rec, "type");
		if (o == NULL || o->type != MSGPACK_OBJECT_STR ||
		    o->via.str.size < len ||
		    memcmp(o->via.str.ptr, q->type, len) != 0)
			return (0);
	}
	if (q->source != NULL && !store_str_is(mp_get(rec, "source"), q->source,
	    strlen(q->source)))
		return (0);
	if (q->tag != NULL) {
		o = mp_get(rec, "tags");
		found = 0;
		for (i = 0; o != NULL && o->type == MSGPACK_OBJECT_ARRAY &&
		    i < o->via.array.size && !found; i++)
			found = store_str_is(&o->via.array.ptr[i], q->tag,
			    strlen(q->tag));
		if (!found)
			return (0);
	}
	if (q->ncodes > 0) {
		if (query_alias_code(q, mp_get(rec, "actors")) == NULL)
			return (0);
	} else if (q->actor != NULL) {
		o = mp_get(rec, "actors");
		len = strlen(q->actor);
		found = 0;
		for (i = 0; o != NULL && o->type == MSGPACK_OBJECT_ARRAY &&
		    i < o->via.array.size && !found; i++) {
			if (store_rec_actor(&o->via.array.ptr[i], &name, &role) != 0)
				continue;
			if (q->actor_prefix ? name->via.str.size < len ||
			    memcmp(name->via.str.ptr, q->actor, len) != 0 :
			    !store_str_is(name, q->actor, len))
				continue;
			found = q->role == NULL || store_str_is(role, q->role,
			    strlen(q->role));
		}
		if (!found)
			return (0);
	}
	return (1);
}

/* The next index entry of a query: from the scans, or the word index. */
static int
plan_next(struct plan *p, struct text_iter *text, int desc, MDB_val *k,
    MDB_val *v, struct aerr *err)
{
	struct scan	*s;

	if (text != NULL)
		return (store_text_next(text, k, v, err));
	if (p->nheap == 0)
		return (0);
	s = p->heap[0];
	/* A cursor on blocks makes its keys in place: step on a copy. */
	memcpy(p->key, s->k.mv_data, s->k.mv_size);
	k->mv_data = p->key;
	k->mv_size = s->k.mv_size;
	*v = s->v;
	if (!scan_step(s, desc))
		p->heap[0] = p->heap[--p->nheap];
	heap_down(p, 0);
	return (1);
}

/*
 * Answer a range or actor query: merge the planned scans in (start, id)
 * order (or take the events holding the words of q->text), drop what the
 * filters reject, and hand at most q->limit hits to cb while the read
 * transaction is still open.  With out, the hits' records are appended
 * to it, cut to q->fields, one after the other in the page's order, and
 * the page points there; without, whole, into the store or a buffer of
 * the query's own.
 */
int
store_query(struct store *st, const struct query *q, msgpack_sbuffer *out,
    store_page_cb cb, void *arg, struct aerr *err)
{
	struct plan		 p;
	struct store_page	 page;
	struct type_names	 tn;
	struct date_span	 span;
	struct scan		*s;
	msgpack_zone		 zone;
	msgpack_object		 rec;
	struct text_iter	*text = NULL;
	MDB_txn			*txn;
	MDB_cursor		*recs[SKEY_CLASS_INF + 1];
	MDB_val			 k, v;
	unsigned char		 last[16], placed[SKEY_CLASS_INF + 1];
	msgpack_sbuffer		 own, *wire;
	size_t			 i, off, end, slot, wire_at;
	int			 rc, m, have_last = 0, ret = -1, by, class;
	msgpack_sbuffer		*whole;
	int			 need_record, by_time, as_stored, pos, in_wire;
	int			 cut, direct, later;

	memset(&p, 0, sizeof p);
	memset(&page, 0, sizeof page);
	memset(&tn, 0, sizeof tn);
	memset(recs, 0, sizeof recs);
	memset(placed, 0, sizeof placed);
	p.desc = q->desc;
	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	/*
	 * Records stored by position are expanded into wire: out, where the
	 * caller wants the page, or a buffer of the query's own.  Room for
	 * a page of them at once spares growing it by doubling, which copied
	 * as many bytes as the expansions wrote.
	 */
	msgpack_sbuffer_init(&own);
	wire = out != NULL ? out : &own;
	store_sbuf_room(wire, (q->limit < WIRE_RECORDS ? q->limit :
	    WIRE_RECORDS) * WIRE_RECORD_BYTES);
	msgpack_zone_init(&zone, 8192);
	if ((by = plan_type(st, txn, q, &tn, err)) == -1)
		goto out;
	if (q->text != NULL ? store_text_begin(st, txn, q, &text, err) != 0 :
	    plan_build(st, txn, q, by == 1, &p, err) != 0)
		goto out;
	need_record = store_needs_record(q, by != 0, text);
	/* Names for attrs that fields_write() would drop are not wanted. */
	as_stored = store_attrs_none(st, txn) || (q->fields != 0 &&
	    !(q->fields & RECORD_FIELD_ATTRS));
	/*
	 * With out, the hits are cut to q->fields here; a record stored by
	 * position is cut as it is expanded, unless a filter or an alias's
	 * via reads the whole of it first.
	 */
	cut = out != NULL && q->fields != RECORD_FIELDS_ALL;
	direct = cut && !need_record && q->ncodes == 0;
	/*
	 * The time index's walk meets, of each class, events that are hits
	 * or the few a filter drops, whose records follow each other: the
	 * short ones' in time order, a long class's in its own database
	 * (store_rec_dbi).  Each kind keeps a cursor on the records, which
	 * steps to the next (store_rec_step).  An actor's, a type's or a
	 * word's hits are scattered among the others.
	 */
	by_time = q->actor == NULL && q->ncodes == 0 && text == NULL &&
	    by != 1;
	p.heap = xcalloc(p.n, sizeof *p.heap);
	for (i = 0; i < p.n; i++) {
		s = &p.scans[i];
		if ((rc = store_ixcur_open(st, txn, s->dbi, &s->cur)) != 0) {
			store_error(err, rc, "mdb_cursor_open");
			goto out;
		}
		if (scan_start(s, q))
			p.heap[p.nheap++] = s;
	}
	for (i = p.nheap; i-- > 0;)
		heap_down(&p, i);

	page.hits = xcalloc(q->limit + 1, sizeof *page.hits);
	while ((rc = plan_next(&p, text, q->desc, &k, &v, err)) == 1) {

		/* A prefix or alias query meets an event once per actor. */
		if (have_last && memcmp(last, (unsigned char *)k.mv_data +
		    k.mv_size - 16, 16) == 0)
			continue;
		memcpy(last, (unsigned char *)k.mv_data + k.mv_size - 16, 16);
		have_last = 1;

		if (skey_get_span(v.mv_data, v.mv_size, skey_get_time(last),
		    &span) != 0)
			continue;
		if (!store_span_passes(q, &span, &m))
			continue;

		if (by == 2 && !store_type_has(st, txn, &tn, &span,
		    skey_get_be64(last + 8)))
			continue;
		/* The entry's class, start and id are the record's key. */
		class = skey_class(&span);
		slot = class > SKEY_REC_SHORT ? (size_t)class : 0;
		if (recs[slot] == NULL && (rc = mdb_cursor_open(txn,
		    store_rec_dbi(st, class), &recs[slot])) != 0) {
			store_error(err, rc, "mdb_cursor_open");
			rc = -1;
			break;
		}
		rc = placed[slot] ?
		    store_rec_step(recs[slot], skey_get_time(last),
		    skey_get_be64(last + 8), q->desc, &v) :
		    store_rec_seek(recs[slot], skey_get_time(last),
		    skey_get_be64(last + 8), &v);
		placed[slot] = rc == 0 && by_time;
		if (rc != 0) {
			log_err("index entry for missing event %llu",
			    (unsigned long long)skey_get_be64(last + 8));
			continue;
		}
		store_rec_split(&v);
		/*
		 * A record stored by position, or naming attrs by id, is
		 * expanded at the end of wire, its offset kept in len
		 * meanwhile (wire moves).  With out, every hit goes there,
		 * cut to q->fields: as it is expanded, when nothing reads
		 * it whole before, else from a whole copy in own.
		 */
		wire_at = wire->size;
		pos = store_pos_is(v.mv_data, v.mv_size);
		/* With out, own is free to hold a whole record. */
		later = cut && !(pos && direct);
		whole = later ? &own : wire;
		if (later)
			msgpack_sbuffer_clear(&own);
		off = whole->size;
		if (pos && store_pos_expand(st, txn, v.mv_data, v.mv_size,
		    whole, !as_stored, cut && direct ? q->fields :
		    RECORD_FIELDS_ALL) == 0) {
			v.mv_data = whole->data + off;
			v.mv_size = whole->size - off;
		} else if (pos || store_rec_attrs(v.mv_data, v.mv_size) < 0) {
			/* A map is walked too: it may go out as it is. */
			log_err("event %llu does not decode",
			    (unsigned long long)skey_get_be64(last + 8));
			continue;
		}
		if (need_record) {
			msgpack_zone_clear(&zone);
			off = 0;
			if (msgpack_unpack(v.mv_data, v.mv_size, &off, &zone,
			    &rec) != MSGPACK_UNPACK_SUCCESS ||
			    rec.type != MSGPACK_OBJECT_MAP ||
			    !store_record_matches(q, &rec, text)) {
				wire->size = wire_at;
				continue;
			}
		}
		if (page.nhits == q->limit) {
			wire->size = wire_at;
			page.more = 1;
			break;
		}
		page.hits[page.nhits].via = q->ncodes > 0 ?
		    query_via_code(q, v.mv_data, v.mv_size) : NULL;
		if (later) {
			if (!pos && !as_stored && store_rec_expand(st, txn,
			    v.mv_data, v.mv_size, &own) == 1) {
				v.mv_data = own.data;
				v.mv_size = own.size;
			}
			fields_write(out, v.mv_data, v.mv_size, q->fields);
			in_wire = 1;
		} else {
			in_wire = pos || (!as_stored && store_rec_expand(st,
			    txn, v.mv_data, v.mv_size, wire) == 1);
			if (!in_wire && out != NULL) {
				msgpack_sbuffer_write(out, v.mv_data,
				    v.mv_size);
				in_wire = 1;
			}
		}
		if (in_wire) {
			page.hits[page.nhits].data = NULL;
			page.hits[page.nhits].len = wire_at;
		} else {
			page.hits[page.nhits].data = v.mv_data;
			page.hits[page.nhits].len = v.mv_size;
		}
		page.hits[page.nhits].match = m;
		page.hits[page.nhits].start = skey_get_time(last);
		page.hits[page.nhits].id = skey_get_be64(last + 8);
		page.next_start = page.hits[page.nhits].start;
		page.next_id = page.hits[page.nhits].id;
		page.nhits++;
	}
	for (i = page.nhits, end = wire->size; i-- > 0;) {
		if (page.hits[i].data != NULL)
			continue;
		off = page.hits[i].len;
		page.hits[i].data = wire->data + off;
		page.hits[i].len = end - off;
		end = off;
	}
	if (rc != -1)
		ret = cb(arg, &page);
out:
	for (i = 0; i <= SKEY_CLASS_INF; i++)
		if (recs[i] != NULL)
			mdb_cursor_close(recs[i]);
	msgpack_sbuffer_destroy(&own);
	store_text_end(text);
	msgpack_zone_destroy(&zone);
	free(page.hits);
	plan_free(&p);
	store_type_names_free(&tn);
	mdb_txn_abort(txn);
	return (ret);
}
