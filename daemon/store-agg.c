/*
 * Aggregations over the store: histograms of events per calendar bucket,
 * the actors with most events, and the actors seen with one actor.
 *
 * Counting needs no order, so unlike store_query() the index scans are
 * walked one after the other, not merged.  Each time or actor index
 * entry carries the event's span, so a histogram without record filters
 * reads only the index and never decodes a record: the cost is one
 * cursor step per event in the range.  A type filter walks the type
 * index instead of the time index (store-type.c), or with an actor
 * looks each of the actor's events up in it.  Filters on tag, source or
 * role fetch the record and look at those fields in its msgpack form,
 * unpacked into one reused zone, without building a struct event.  A
 * histogram of starts without filters between whole days needs no walk:
 * the store counts starts per day as it writes, and those are added up.
 *
 * The counts are defined by range queries, so that any of them can be
 * checked with one: in "overlap" mode the count of a bucket is the
 * number of events a range query over that bucket (clipped to the
 * query's interval) with the same filters returns; in "start" mode an
 * event counts once, in the bucket that holds its strict start.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "annalsd.h"
#include "agg.h"
#include "store-int.h"

#define AGG_DAY		86400

/* The walk of one index: what to call for each entry in range. */
typedef int (*agg_entry_cb)(void *, uint64_t, const struct date_span *);

/* A set of event ids, to count an event met under two names once. */
struct agg_ids {
	uint64_t	*slots;		/* 0: empty; ids are never 0 */
	size_t		 cap, n;
};

/* Actor name -> count, open addressing. */
struct agg_map {
	struct agg_count *slots;	/* name NULL: empty */
	size_t		 cap, n;
};

static int64_t
agg_floor_div(int64_t a, int64_t b)
{
	int64_t	q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return (q);
}

/*
 * The absolute number of the bucket holding t: days and weeks count from
 * the epoch (weeks from Monday 1969-12-29), months are year * 12 + month
 * - 1, years are years.
 */
int64_t
agg_bucket_of(int by, int64_t t)
{
	int64_t		days = agg_floor_div(t, AGG_DAY), y;
	unsigned	m, d;

	switch (by) {
	case DATE_BY_DAY:
		return (days);
	case DATE_BY_WEEK:
		return (agg_floor_div(days + 3, 7));
	default:
		date_civil_from_days(days, &y, &m, &d);
		return (by == DATE_BY_YEAR ? y : y * 12 + (int64_t)m - 1);
	}
}

/* The first second of bucket b. */
int64_t
agg_bucket_start(int by, int64_t b)
{
	int64_t	y;

	switch (by) {
	case DATE_BY_DAY:
		return (b * AGG_DAY);
	case DATE_BY_WEEK:
		return ((b * 7 - 3) * AGG_DAY);
	case DATE_BY_MONTH:
		y = agg_floor_div(b, 12);
		return (date_days_from_civil(y, (unsigned)(b - y * 12 + 1), 1) *
		    AGG_DAY);
	default:
		return (date_days_from_civil(b, 1, 1) * AGG_DAY);
	}
}

/* The name of bucket b: 2015, 2015-01, 2015-W05 or 2015-01-26. */
void
agg_bucket_label(int by, int64_t b, char *buf, size_t size)
{
	int64_t		 days, y, thu;
	unsigned	 m, d;
	const char	*sign;

	days = agg_floor_div(agg_bucket_start(by, b), AGG_DAY);
	if (by == DATE_BY_WEEK) {
		/* An ISO week belongs to the year of its Thursday. */
		thu = days + 3;
		date_civil_from_days(thu, &y, &m, &d);
		sign = y < 0 ? "-" : "";
		snprintf(buf, size, "%s%04lld-W%02lld", sign,
		    (long long)(y < 0 ? -y : y),
		    (long long)((thu - date_days_from_civil(y, 1, 1)) / 7 + 1));
		return;
	}
	date_civil_from_days(days, &y, &m, &d);
	sign = y < 0 ? "-" : "";
	if (by == DATE_BY_YEAR)
		snprintf(buf, size, "%s%04lld", sign,
		    (long long)(y < 0 ? -y : y));
	else if (by == DATE_BY_MONTH)
		snprintf(buf, size, "%s%04lld-%02u", sign,
		    (long long)(y < 0 ? -y : y), m);
	else
		snprintf(buf, size, "%s%04lld-%02u-%02u", sign,
		    (long long)(y < 0 ? -y : y), m, d);
}

static size_t
agg_hash(const void *p, size_t len)
{
	const unsigned char	*b = p;
	uint64_t		 h = 0xcbf29ce484222325ULL;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return ((size_t)(h ^ (h >> 29)));
}

/* Add id to the set; returns 1 when it was already there. */
static int
agg_ids_add(struct agg_ids *s, uint64_t id)
{
	uint64_t	*old;
	size_t		 i, oldcap;

	if (s->n * 2 >= s->cap) {
		old = s->slots;
		oldcap = s->cap;
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->slots = xcalloc(s->cap, sizeof *s->slots);
		s->n = 0;
		for (i = 0; i < oldcap; i++) {
			if (old[i] != 0)
				agg_ids_add(s, old[i]);
		}
		free(old);
	}
	i = agg_hash(&id, sizeof id) & (s->cap - 1);
	while (s->slots[i] != 0) {
		if (s->slots[i] == id)
			return (1);
		i = (i + 1) & (s->cap - 1);
	}
	s->slots[i] = id;
	s->n++;
	return (0);
}

static struct agg_count *
agg_map_slot(struct agg_map *m, const char *name, size_t len)
{
	size_t	i = agg_hash(name, len) & (m->cap - 1);

	while (m->slots[i].name != NULL) {
		if (strlen(m->slots[i].name) == len &&
		    memcmp(m->slots[i].name, name, len) == 0)
			break;
		i = (i + 1) & (m->cap - 1);
	}
	return (&m->slots[i]);
}

static void
agg_map_add(struct agg_map *m, const char *name, size_t len, uint64_t n)
{
	struct agg_count	*old, *c;
	size_t			 i, oldcap;

	if (m->n * 2 >= m->cap) {
		old = m->slots;
		oldcap = m->cap;
		m->cap = m->cap ? m->cap * 2 : 256;
		m->slots = xcalloc(m->cap, sizeof *m->slots);
		for (i = 0; i < oldcap; i++) {
			if (old[i].name != NULL)
				*agg_map_slot(m, old[i].name,
				    strlen(old[i].name)) = old[i];
		}
		free(old);
	}
	c = agg_map_slot(m, name, len);
	if (c->name == NULL) {
		c->name = xmalloc(len + 1);
		memcpy(c->name, name, len);
		c->name[len] = '\0';
		m->n++;
	}
	c->count += n;
}

/* Most first, then by name, bytewise. */
static int
agg_count_cmp(const void *a, const void *b)
{
	const struct agg_count	*x = a, *y = b;

	if (x->count != y->count)
		return (x->count > y->count ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/* Move the limit largest counts of m into out, freeing the rest. */
static void
agg_map_top(struct agg_map *m, uint32_t limit, struct agg_list *out)
{
	size_t	i, n = 0;

	out->items = xcalloc(m->n ? m->n : 1, sizeof *out->items);
	for (i = 0; i < m->cap; i++) {
		if (m->slots[i].name != NULL)
			out->items[n++] = m->slots[i];
	}
	free(m->slots);
	memset(m, 0, sizeof *m);
	qsort(out->items, n, sizeof *out->items, agg_count_cmp);
	for (i = limit; i < n; i++)
		free(out->items[i].name);
	out->n = n < limit ? n : limit;
}

void
agg_list_free(struct agg_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->items[i].name);
	free(l->items);
	memset(l, 0, sizeof *l);
}

void
agg_hist_free(struct agg_hist *h)
{
	free(h->counts);
	h->counts = NULL;
}

/*
 * Call fn for every entry of the time index (name NULL) or of one
 * actor's part of the actor index whose event can reach [qlo, qhi], for
 * each class in mask (store_scan_bounds), through cur, an open index
 * cursor.  fn returns 0 to go on.
 */
static int
agg_walk_cur(struct ixcur *cur, const char *name, size_t nlen,
    uint64_t mask, int64_t qlo, int64_t qhi, agg_entry_cb fn, void *arg,
    struct aerr *err)
{
	unsigned char		 lo[ACTOR_KEY_MAX], hi[ACTOR_KEY_MAX];
	struct date_span	 span;
	MDB_val			 k, v;
	size_t			 klen;
	int			 class, rc, ret = 0, cmp;

	for (class = 0; class <= SKEY_CLASS_INF && ret == 0; class++) {
		if ((mask & (UINT64_C(1) << class)) == 0)
			continue;
		klen = store_scan_bounds(name, nlen, class, qlo, qhi, lo, hi);
		k.mv_size = klen;
		k.mv_data = lo;
		rc = store_ixcur_get(cur, &k, &v, MDB_SET_RANGE);
		for (; rc == 0 && ret == 0;
		    rc = store_ixcur_get(cur, &k, &v, MDB_NEXT)) {
			cmp = memcmp(k.mv_data, hi, k.mv_size < klen ?
			    k.mv_size : klen);
			if (cmp > 0 || (cmp == 0 && k.mv_size > klen))
				break;
			if (k.mv_size != klen || skey_get_span(v.mv_data,
			    v.mv_size, skey_get_time((const unsigned char *)
			    k.mv_data + klen - 16), &span) != 0)
				continue;
			ret = fn(arg, skey_get_be64((const unsigned char *)
			    k.mv_data + klen - 8), &span);
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			return (store_error(err, rc, "mdb_cursor_get"));
	}
	return (ret);
}

/* Cursors on an index and on its stage (see store_sweep), both walked. */
struct agg_curs {
	struct ixcur	index, stage;
};

static int
agg_curs_open(struct store *st, MDB_txn *txn, MDB_dbi index, MDB_dbi stage,
    struct agg_curs *c, struct aerr *err)
{
	int	rc;

	if ((rc = store_ixcur_open(st, txn, index, &c->index)) != 0)
		return (store_error(err, rc, "mdb_cursor_open"));
	if ((rc = store_ixcur_open(st, txn, stage, &c->stage)) != 0) {
		store_ixcur_close(&c->index);
		return (store_error(err, rc, "mdb_cursor_open"));
	}
	return (0);
}

static void
agg_curs_close(struct agg_curs *c)
{
	store_ixcur_close(&c->index);
	store_ixcur_close(&c->stage);
}

static int
agg_walk_curs(struct agg_curs *c, const char *name, size_t nlen,
    uint64_t mask, int64_t qlo, int64_t qhi, agg_entry_cb fn, void *arg,
    struct aerr *err)
{
	int	ret;

	ret = agg_walk_cur(&c->index, name, nlen, mask, qlo, qhi, fn, arg,
	    err);
	if (ret == 0)
		ret = agg_walk_cur(&c->stage, name, nlen, mask, qlo, qhi, fn,
		    arg, err);
	return (ret);
}

/* The same in an index and in its stage, with cursors of their own. */
static int
agg_walk(struct store *st, MDB_txn *txn, MDB_dbi index, MDB_dbi stage,
    const char *name, size_t nlen, uint64_t mask, int64_t qlo, int64_t qhi,
    agg_entry_cb fn, void *arg, struct aerr *err)
{
	struct agg_curs	c;
	int		ret;

	if (agg_curs_open(st, txn, index, stage, &c, err) != 0)
		return (-1);
	ret = agg_walk_curs(&c, name, nlen, mask, qlo, qhi, fn, arg, err);
	agg_curs_close(&c);
	return (ret);
}

/* What agg_walk_name walks for each name. */
struct agg_names {
	struct store		*st;
	MDB_txn			*txn;
	MDB_dbi			 index, stage;
	const struct query	*q;
	agg_entry_cb		 fn;
	void			*arg;
	struct aerr		*err;
};

/* Walk one actor's or type's part of its index and of its stage. */
static int
agg_walk_name(void *arg, const void *name, size_t len, uint64_t mask)
{
	struct agg_names	*an = arg;

	return (agg_walk(an->st, an->txn, an->index, an->stage, name, len,
	    mask, an->q->qlo, an->q->qhi, an->fn, an->arg, an->err));
}

/* What every aggregation's entry callback needs. */
struct agg_ctx {
	struct store		*st;
	MDB_txn			*txn;
	MDB_cursor		*recs[REC_DBS];	/* on records, or NULL */
	const struct query	*q;
	struct agg_ids		 seen;		/* prefix and alias queries */
	msgpack_zone		 zone;		/* for rec, reused */
	msgpack_sbuffer		 full;		/* rec's bytes, expanded */
	int			 have_zone;
	msgpack_object		 rec;		/* the record, when fetched */
	int			 type_known;	/* the walk meets q's type */
	int			 probe;		/* look events up in tn */
	struct type_names	 tn;
	struct text_iter	*text;		/* q->text's words */
	struct aerr		*err;
};

/* Call fn for each event holding the words of a text query. */
static int
agg_walk_text(struct agg_ctx *a, agg_entry_cb fn, void *arg,
    struct aerr *err)
{
	struct date_span	span;
	MDB_val			k, v;
	int			rc, ret = 0;

	if (store_text_begin(a->st, a->txn, a->q, &a->text, err) != 0)
		return (-1);
	while (ret == 0 && (rc = store_text_next(a->text, &k, &v, err)) == 1) {
		if (skey_get_span(v.mv_data, v.mv_size,
		    skey_get_time(k.mv_data), &span) != 0)
			continue;
		ret = fn(arg, skey_get_be64((const unsigned char *)k.mv_data +
		    8), &span);
	}
	return (ret != 0 ? ret : rc == -1 ? -1 : 0);
}

/*
 * Walk every index entry a query's events can be found under: the time
 * index, the actor index of its actor, of each name with its prefix or
 * of each code of its alias, or the type index of each type with its type prefix.  A type filter
 * that the walk does not meet is checked in the type index when it has
 * few types (a->probe), and by the record otherwise.  A text query walks
 * the events holding its words.
 */
static int
agg_walk_query(struct agg_ctx *a, agg_entry_cb fn, void *arg,
    struct aerr *err)
{
	struct store		*st = a->st;
	const struct query	*q = a->q;
	struct agg_names	 an = { st, a->txn, st->type, st->type_new, q,
				    fn, arg, err };
	uint64_t		 mask;
	uint32_t		 i;
	int			 rc;

	if (q->text != NULL)
		return (agg_walk_text(a, fn, arg, err));
	if (q->actor == NULL && q->type != NULL) {
		a->type_known = 1;
		return (store_names_each(a->txn, st->types, q->type, 1,
		    agg_walk_name, &an, err));
	}
	if (q->type != NULL) {
		if (store_type_names(st, a->txn, q->type, TYPE_PROBE_MAX,
		    &a->tn, err) != 0)
			return (-1);
		a->probe = a->type_known = a->tn.n <= TYPE_PROBE_MAX;
	}
	if (q->actor != NULL) {
		an.index = st->actor;
		an.stage = st->actor_new;
		for (i = 0; i < q->ncodes; i++) {
			if ((rc = store_names_each(a->txn, st->actors,
			    q->codes[i], 0, agg_walk_name, &an, err)) != 0)
				return (rc);
		}
		if (q->ncodes > 0)
			return (0);
		return (store_names_each(a->txn, st->actors, q->actor,
		    q->actor_prefix, agg_walk_name, &an, err));
	}
	mask = store_meta_get(a->txn, st->meta, "classes", 0);
	return (agg_walk(st, a->txn, st->timeblocks, st->time_new, NULL, 0,
	    mask, q->qlo, q->qhi, fn, arg, err));
}

/*
 * Whether the event of an index entry passes the query: its span, then
 * (once per event) its record when the filters need it, which is left in
 * a->rec.  Returns 1 when it passes.
 */
static int
agg_pass(struct agg_ctx *a, uint64_t id, const struct date_span *span,
    int need_record)
{
	const struct query	*q = a->q;
	MDB_val			 v;
	size_t			 off = 0, slot;
	int			 m, class;

	if (!store_span_passes(q, span, &m))
		return (0);
	if ((q->actor_prefix || q->ncodes > 1) && agg_ids_add(&a->seen, id))
		return (0);
	if (a->probe && !store_type_has(a->st, a->txn, &a->tn, span, id))
		return (0);
	if (!need_record)
		return (1);
	class = skey_class(span);
	slot = class > SKEY_REC_SHORT ? (size_t)(class - SKEY_REC_SHORT) : 0;
	if (a->recs[slot] == NULL && mdb_cursor_open(a->txn,
	    store_rec_dbi(a->st, class), &a->recs[slot]) != 0)
		return (0);
	if (store_rec_seek(a->recs[slot], span->lo, id, &v) != 0)
		return (0);
	store_rec_split(&v);
	if (!a->have_zone) {
		msgpack_zone_init(&a->zone, 8192);
		msgpack_sbuffer_init(&a->full);
		a->have_zone = 1;
	} else
		msgpack_zone_clear(&a->zone);
	/* The filters read no attrs: their names are not wanted. */
	if (store_pos_is(v.mv_data, v.mv_size)) {
		msgpack_sbuffer_clear(&a->full);
		if (store_pos_expand(a->st, a->txn, v.mv_data, v.mv_size,
		    &a->full, 0, RECORD_FIELDS_ALL) != 0)
			return (0);
		v.mv_data = a->full.data;
		v.mv_size = a->full.size;
	}
	if (msgpack_unpack(v.mv_data, v.mv_size, &off, &a->zone,
	    &a->rec) != MSGPACK_UNPACK_SUCCESS ||
	    a->rec.type != MSGPACK_OBJECT_MAP)
		return (0);
	return (store_record_matches(q, &a->rec, a->text));
}

static void
agg_ctx_done(struct agg_ctx *a)
{
	int	i;

	if (a->have_zone) {
		msgpack_zone_destroy(&a->zone);
		msgpack_sbuffer_destroy(&a->full);
	}
	a->have_zone = 0;
	for (i = 0; i < REC_DBS; i++) {
		if (a->recs[i] != NULL)
			mdb_cursor_close(a->recs[i]);
		a->recs[i] = NULL;
	}
	free(a->seen.slots);
	memset(&a->seen, 0, sizeof a->seen);
	store_type_names_free(&a->tn);
	store_text_end(a->text);
	a->text = NULL;
}

struct hist_ctx {
	struct agg_ctx	 a;
	struct agg_hist	*h;
	int64_t		*diff;		/* n + 1 deltas */
	int64_t		 lo, hi;	/* the range asked (q->olo, q->ohi) */
	int64_t		*starts;	/* n + 1 first seconds of buckets */
	int64_t		 last_lo, last_hi, last_b; /* hist_bucket's last */
};

/*
 * agg_bucket_of(), for a histogram's walk: the bucket found last again,
 * else a binary search of the buckets' first seconds.  Events come in
 * time order, so most find the last one; converting each day to a month
 * was half the time of an overlap histogram by months.
 */
static int64_t
hist_bucket(struct hist_ctx *hc, int64_t t)
{
	const int64_t	*s = hc->starts;
	size_t		 lo = 0, hi = hc->h->n, mid;

	if (t >= hc->last_lo && t < hc->last_hi)
		return (hc->last_b);
	if (t < s[0] || t >= s[hi])
		return (agg_bucket_of(hc->h->by, t));
	/* The last bucket that starts at or before t. */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (s[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	hc->last_lo = s[lo];
	hc->last_hi = s[lo + 1];
	hc->last_b = hc->h->first + (int64_t)lo;
	return (hc->last_b);
}

/*
 * The bucket of t, which is in the range and no earlier than bucket b:
 * b or one after it.  A crosser's span ends a bucket or two after it
 * begins, and its start lies between; stepping there is cheaper than
 * hist_bucket()'s search, whose last bucket its two ends would undo.
 */
static int64_t
hist_bucket_from(const struct hist_ctx *hc, int64_t b, int64_t t)
{
	size_t	i = (size_t)(b - hc->h->first);

	while (i + 1 < hc->h->n && hc->starts[i + 1] <= t)
		i++;
	return (hc->h->first + (int64_t)i);
}

/* Count buckets i0..i1 (absolute numbers) once more. */
static void
hist_add(struct hist_ctx *hc, int64_t b0, int64_t b1)
{
	int64_t	first = hc->h->first;

	hc->diff[b0 - first]++;
	hc->diff[b1 - first + 1]--;
}

/*
 * Whether s is a certain match of bucket b clipped to [clo, chi]: inside
 * it, or its inner range meets it.
 */
static int
hist_certain_in(const struct hist_ctx *hc, const struct date_span *s,
    int64_t b, int64_t clo, int64_t chi)
{
	int64_t	lo = agg_bucket_start(hc->h->by, b);
	int64_t	hi = agg_bucket_start(hc->h->by, b + 1) - 1;

	return (date_match(s, lo > clo ? lo : clo, hi < chi ? hi : chi) ==
	    DATE_MATCH_CERTAIN);
}

static int
hist_entry(void *arg, uint64_t id, const struct date_span *s)
{
	struct hist_ctx		*hc = arg;
	const struct query	*q = hc->a.q;
	int			 one;
	int64_t			 a, b, blo, bhi, clo, chi;

	if (!agg_pass(&hc->a, id, s, store_needs_record(hc->a.q,
	    hc->a.type_known, hc->a.text)))
		return (0);
	if (hc->h->mode == AGG_COUNT_START) {
		if (s->lo < hc->lo || s->lo > hc->hi)
			return (0);
		blo = hist_bucket(hc, s->lo);
		hist_add(hc, blo, blo);
		hc->h->total++;
		return (0);
	}
	hc->h->total++;
	/*
	 * Certain where the range is sure: for an alias, the part of it
	 * the alias surely covers (PROTOCOL.md, "Aliases in queries").
	 */
	clo = q->ncodes > 0 ? q->alo : q->qlo;
	chi = q->ncodes > 0 ? q->ahi : q->qhi;
	blo = hist_bucket(hc, s->lo);
	one = blo == hist_bucket(hc, s->hi);
	if (q->within) {
		/* Wholly inside one (clipped) bucket. */
		if (s->lo >= q->qlo && s->hi <= q->qhi && one &&
		    (!q->certain || hist_certain_in(hc, s, blo, clo, chi)))
			hist_add(hc, blo, blo);
		return (0);
	}
	if (q->certain) {
		if (s->lo >= clo && s->hi <= chi && one) {
			hist_add(hc, blo, blo);
			return (0);
		}
		/* Certain in every bucket its inner range meets. */
		if (s->ilo > s->ihi)
			return (0);
		a = s->ilo > clo ? s->ilo : clo;
		b = s->ihi < chi ? s->ihi : chi;
		if (a <= b)
			hist_add(hc, hist_bucket(hc, a), hist_bucket(hc, b));
		return (0);
	}
	/* Possible in every bucket its fuzzy range meets. */
	a = s->flo > q->qlo ? s->flo : q->qlo;
	b = s->fhi < q->qhi ? s->fhi : q->qhi;
	if (a <= b) {
		blo = hist_bucket(hc, a);
		bhi = hist_bucket(hc, b);
		hist_add(hc, blo, bhi);
	}
	return (0);
}

/*
 * Whether the histogram can start from the per-day start counts: it
 * counts every event, between whole days.  In start mode an event counts
 * exactly when its start's day is inside, in that day's bucket; in
 * overlap mode, hist_crossers() then moves the few that count elsewhere.
 */
static int
hist_by_days(const struct query *q)
{
	return (q->actor == NULL &&
	    !store_needs_record(q, 0, NULL) && !q->certain && !q->within &&
	    q->min_prec == DATE_PREC_NONE &&
	    q->qlo == store_day(q->qlo) * AGG_DAY &&
	    q->qhi == store_day(q->qhi) * AGG_DAY + AGG_DAY - 1);
}

static int
hist_days(struct store *st, MDB_txn *txn, const struct query *q,
    struct hist_ctx *hc, struct aerr *err)
{
	unsigned char	 kbuf[8], hibuf[8];
	MDB_cursor	*cur;
	MDB_val		 k = { 8, kbuf }, v;
	uint64_t	 n;
	int64_t		 b;
	int		 rc;

	if ((rc = mdb_cursor_open(txn, st->days, &cur)) != 0)
		return (store_error(err, rc, "mdb_cursor_open"));
	skey_time(kbuf, store_day(q->qlo));
	skey_time(hibuf, store_day(q->qhi));
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || memcmp(k.mv_data, hibuf, 8) > 0)
			break;
		if (v.mv_size != 8)
			continue;
		n = skey_get_be64(v.mv_data);
		b = hist_bucket(hc,
		    skey_get_time(k.mv_data) * AGG_DAY);
		hc->diff[b - hc->h->first] += (int64_t)n;
		hc->diff[b - hc->h->first + 1] -= (int64_t)n;
		hc->h->total += n;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (store_error(err, rc, "mdb_cursor_get"));
	return (0);
}

/*
 * An event the day counts put in the bucket of its start (when that is
 * inside): count it where its fuzzy span really meets the range instead.
 */
static int
hist_crosser(void *arg, uint64_t id, const struct date_span *s)
{
	struct hist_ctx		*hc = arg;
	const struct query	*q = hc->a.q;
	int64_t			 a, b, blo, bhi, bs, first = hc->h->first;

	(void)id;
	a = s->flo > q->qlo ? s->flo : q->qlo;
	b = s->fhi < q->qhi ? s->fhi : q->qhi;
	if (a > b)
		return (0);
	blo = hist_bucket(hc, a);
	bhi = hist_bucket_from(hc, blo, b);
	if (s->lo >= q->qlo && s->lo <= q->qhi) {
		/* a <= lo <= b: flo <= lo <= fhi, and lo is inside. */
		bs = hist_bucket_from(hc, blo, s->lo);
		if (blo == bs && bhi == bs)
			return (0);
		hc->diff[bs - first]--;
		hc->diff[bs - first + 1]++;
	} else
		hc->h->total++;
	hist_add(hc, blo, bhi);
	return (0);
}

/* Add to *before and *unaligned the classes of dbi's entries' kinds. */
static int
spans_walk(struct store *st, MDB_txn *txn, MDB_dbi dbi, uint64_t *before,
    uint64_t *unaligned)
{
	struct date_span	 span;
	struct ixcur		 cur;
	MDB_val			 k, v;
	const unsigned char	*p;
	int			 rc, kind;

	if ((rc = store_ixcur_open(st, txn, dbi, &cur)) != 0)
		return (rc);
	for (rc = store_ixcur_get(&cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = store_ixcur_get(&cur, &k, &v, MDB_NEXT)) {
		p = k.mv_data;
		if (k.mv_size != SKEY_TIME_LEN || p[0] > SKEY_CLASS_INF ||
		    skey_get_span(v.mv_data, v.mv_size, skey_get_time(p + 1),
		    &span) != 0) {
			/* store_check's to report: assume the worst. */
			*before = *unaligned = UINT64_MAX;
			continue;
		}
		kind = skey_span_kind(&span);
		if (kind & SKEY_SPAN_BEFORE)
			*before |= UINT64_C(1) << p[0];
		if (kind & SKEY_SPAN_UNALIGNED)
			*unaligned |= UINT64_C(1) << p[0];
	}
	store_ixcur_close(&cur);
	return (rc == MDB_NOTFOUND ? 0 : rc);
}

/*
 * The classes of the time index that hold events with a fuzzy start
 * (*before) or a span of other than whole days (*unaligned), as the
 * store's meta should say them to hist_crossers().  0 or an LMDB error.
 */
int
store_spans_scan(struct store *st, MDB_txn *txn, uint64_t *before,
    uint64_t *unaligned)
{
	int	rc;

	*before = *unaligned = 0;
	if ((rc = spans_walk(st, txn, st->timeblocks, before, unaligned)) != 0)
		return (rc);
	return (spans_walk(st, txn, st->time_new, before, unaligned));
}

static int
spans_build(struct store *st, MDB_txn *txn)
{
	uint64_t	before, unaligned;
	int		rc;

	if ((rc = store_spans_scan(st, txn, &before, &unaligned)) != 0 ||
	    (rc = store_meta_put(txn, st->meta, "classes_before",
	    before)) != 0)
		return (rc);
	return (store_meta_put(txn, st->meta, "classes_unaligned",
	    unaligned));
}

/*
 * Write those classes to the meta of a store written before it kept
 * them; returns 1 when it did, 0 when the meta was up to date, or an
 * LMDB error.
 */
int
store_spans_open(struct store *st, MDB_txn *txn)
{
	return (store_index_open(st, txn, "spanned_to", spans_build));
}

/*
 * Correct an overlap histogram made of day counts.  An event counts
 * elsewhere than in its start's bucket only when its fuzzy span holds
 * the first instant of a bucket after the first, or reaches the range
 * from outside: a boundary t with flo < t <= fhi.  Its start is then
 * within its class's reach of t, so each class is walked only near the
 * boundaries; windows closer than two reaches are walked as one, which
 * visits every entry once.  Ten years by month walk a tenth of the
 * one-day events instead of all of them.
 *
 * Where the store says (store_spans_open) that a class holds no event
 * fuzzy before its start, none can come from after t, and its windows
 * end at t.  Where a class is too short for a span of whole days to hold
 * a second midnight and it has no other spans, it holds no crosser at
 * all: boundaries are midnights.  That is most of a feed's events.
 */
static int
hist_crossers(struct store *st, MDB_txn *txn, const struct query *q,
    struct hist_ctx *hc, struct aerr *err)
{
	const struct agg_hist	*h = hc->h;
	struct agg_curs		 c;
	uint64_t		 mask, bit, before, unaligned;
	int64_t			 reach, gap, t, prev, lo, last;
	size_t			 i;
	int			 class, rc = 0;

	mask = store_meta_get(txn, st->meta, "classes", 0);
	before = unaligned = UINT64_MAX;
	if (store_meta_get(txn, st->meta, "spanned_to", 0) ==
	    store_meta_get(txn, st->meta, "next_seq", 1)) {
		before = store_meta_get(txn, st->meta, "classes_before",
		    UINT64_MAX);
		unaligned = store_meta_get(txn, st->meta,
		    "classes_unaligned", UINT64_MAX);
	}
	/* One pair of cursors for every window: a ten-year month walks 120. */
	if (agg_curs_open(st, txn, st->timeblocks, st->time_new, &c,
	    err) != 0)
		return (-1);
	for (class = 0; class <= SKEY_CLASS_INF && rc == 0; class++) {
		bit = UINT64_C(1) << class;
		if ((mask & bit) == 0)
			continue;
		/* Open ends reach everything: agg_walk takes the class whole. */
		if (class == SKEY_CLASS_INF) {
			rc = agg_walk_curs(&c, NULL, 0, bit, q->qlo, q->qhi,
			    hist_crosser, hc, err);
			continue;
		}
		reach = skey_class_reach(class);
		if ((unaligned & bit) == 0 && reach < 2 * AGG_DAY)
			continue;
		/*
		 * A window takes the starts within reach of its boundaries
		 * on both sides, or before them only.  agg_walk walks from
		 * its first boundary less reach to its last plus reach: for
		 * the latter, last is one second before the boundary less
		 * reach.
		 */
		gap = (before & bit) ? 2 * reach : reach;
		lo = prev = q->qlo;
		for (i = 1; i <= h->n && rc == 0; i++) {
			t = i < h->n ? agg_bucket_start(h->by,
			    h->first + (int64_t)i) : q->qhi + 1;
			if ((uint64_t)(t - prev) > (uint64_t)gap) {
				last = (before & bit) ? prev : prev - 1 - reach;
				rc = agg_walk_curs(&c, NULL, 0, bit, lo, last,
				    hist_crosser, hc, err);
				lo = t;
			}
			prev = t;
		}
		last = (before & bit) ? prev : prev - 1 - reach;
		if (rc == 0)
			rc = agg_walk_curs(&c, NULL, 0, bit, lo, last,
			    hist_crosser, hc, err);
	}
	agg_curs_close(&c);
	return (rc);
}

/*
 * Count q's events per bucket of h->by over [q->qlo, q->qhi] in mode
 * h->mode; both bounds must be given.  On success h->counts holds h->n
 * counts, freed with agg_hist_free().
 */
int
store_histogram(struct store *st, const struct query *q, struct agg_hist *h,
    struct aerr *err)
{
	struct hist_ctx	hc;
	MDB_txn		*txn;
	int64_t		 lo, hi, last, run;
	size_t		 i;
	int		 rc;

	h->counts = NULL;
	h->total = 0;
	/* An alias narrowed q's range; the buckets are those asked for. */
	lo = q->ncodes > 0 ? q->olo : q->qlo;
	hi = q->ncodes > 0 ? q->ohi : q->qhi;
	if (lo == DATE_NEG_INF || hi == DATE_POS_INF) {
		aerr_set(err, AERR_INVALID, "%s: required for a histogram",
		    lo == DATE_NEG_INF ? "from" : "to");
		return (-1);
	}
	h->first = agg_bucket_of(h->by, lo);
	last = agg_bucket_of(h->by, hi);
	if (last - h->first >= AGG_MAX_BUCKETS) {
		aerr_set(err, AERR_LIMIT, "histogram: %lld %s buckets exceed "
		    "limit %d", (long long)(last - h->first + 1),
		    date_by_name(h->by), AGG_MAX_BUCKETS);
		return (-1);
	}
	h->n = (size_t)(last - h->first + 1);
	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	memset(&hc, 0, sizeof hc);
	hc.a.st = st;
	hc.a.txn = txn;
	hc.a.q = q;
	hc.a.err = err;
	hc.h = h;
	hc.lo = lo;
	hc.hi = hi;
	hc.diff = xcalloc(h->n + 1, sizeof *hc.diff);
	hc.starts = xreallocarray(NULL, h->n + 1, sizeof *hc.starts);
	for (i = 0; i <= h->n; i++)
		hc.starts[i] = agg_bucket_start(h->by, h->first + (int64_t)i);
	if (hist_by_days(q)) {
		rc = hist_days(st, txn, q, &hc, err);
		if (rc == 0 && h->mode == AGG_COUNT_OVERLAP)
			rc = hist_crossers(st, txn, q, &hc, err);
	} else
		rc = agg_walk_query(&hc.a, hist_entry, &hc, err);
	agg_ctx_done(&hc.a);
	mdb_txn_abort(txn);
	free(hc.starts);
	if (rc != 0) {
		free(hc.diff);
		return (-1);
	}
	h->counts = xcalloc(h->n, sizeof *h->counts);
	for (i = 0, run = 0; i < h->n; i++) {
		run += hc.diff[i];
		h->counts[i] = (uint64_t)run;
	}
	free(hc.diff);
	return (0);
}

struct actors_ctx {
	struct agg_ctx	 a;
	struct agg_map	 map;
	const char	*prefix;	/* top_actors: only these names */
	const char	*self;		/* co_actors: the actor asked about */
	uint64_t	 count;		/* one actor's events, or events */
};

static int
actors_one(void *arg, uint64_t id, const struct date_span *s)
{
	struct actors_ctx	*ac = arg;

	if (agg_pass(&ac->a, id, s, 0))
		ac->count++;
	return (0);
}

/* Count the events of one actor of the actors index that pass. */
static int
actors_name(void *arg, const void *name, size_t len, uint64_t mask)
{
	struct actors_ctx	*ac = arg;
	const struct query	*q = ac->a.q;
	int			 ret;

	ac->count = 0;
	ret = agg_walk(ac->a.st, ac->a.txn, ac->a.st->actor,
	    ac->a.st->actor_new, name, len, mask, q->qlo, q->qhi, actors_one,
	    ac, ac->a.err);
	if (ret == 0 && ac->count > 0)
		agg_map_add(&ac->map, name, len, ac->count);
	return (ret);
}

/*
 * Whether name is the actor (or has the prefix, or is one of the alias's
 * codes) co_actors asks about.
 */
static int
actors_is_self(const struct query *q, const msgpack_object *name)
{
	size_t		len = strlen(q->actor);
	uint32_t	i;

	for (i = 0; i < q->ncodes; i++) {
		if (store_str_is(name, q->codes[i], strlen(q->codes[i])))
			return (1);
	}
	if (q->ncodes > 0)
		return (0);
	if (q->actor_prefix)
		return (name->via.str.size >= len &&
		    memcmp(name->via.str.ptr, q->actor, len) == 0);
	return (store_str_is(name, q->actor, len));
}

/* Count each distinct actor of a fetched event that passes. */
static int
actors_decoded(void *arg, uint64_t id, const struct date_span *s)
{
	struct actors_ctx	*ac = arg;
	const msgpack_object	*list, *name, *role, *other;
	size_t			 plen;
	uint32_t		 i, j;

	if (!agg_pass(&ac->a, id, s, 1))
		return (0);
	ac->count++;
	if ((list = mp_get(&ac->a.rec, "actors")) == NULL ||
	    list->type != MSGPACK_OBJECT_ARRAY)
		return (0);
	plen = ac->prefix != NULL ? strlen(ac->prefix) : 0;
	for (i = 0; i < list->via.array.size; i++) {
		if (store_rec_actor(&list->via.array.ptr[i], &name, &role) != 0)
			continue;
		for (j = 0; j < i; j++) {
			if (store_rec_actor(&list->via.array.ptr[j], &other,
			    &role) == 0 && store_str_is(other, name->via.str.ptr,
			    name->via.str.size))
				break;
		}
		if (j < i)
			continue;
		if (ac->self != NULL && actors_is_self(ac->a.q, name))
			continue;
		if (plen > 0 && (name->via.str.size < plen ||
		    memcmp(name->via.str.ptr, ac->prefix, plen) != 0))
			continue;
		agg_map_add(&ac->map, name->via.str.ptr, name->via.str.size,
		    1);
	}
	return (0);
}

/*
 * The limit actors with most of q's events (q has no actor), only those
 * starting with prefix when it is not NULL.  Without record filters each
 * actor's part of the actor index is counted by its spans alone.
 */
int
store_top_actors(struct store *st, const struct query *q, const char *prefix,
    uint32_t limit, struct agg_list *out, struct aerr *err)
{
	struct actors_ctx	 ac;
	MDB_txn			*txn;
	int			 ret;

	memset(out, 0, sizeof *out);
	memset(&ac, 0, sizeof ac);
	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	ac.a.st = st;
	ac.a.txn = txn;
	ac.a.q = q;
	ac.a.err = err;
	ac.prefix = prefix;
	if (store_needs_record(q, 0, NULL))
		ret = agg_walk_query(&ac.a, actors_decoded, &ac, err);
	else
		ret = store_names_each(txn, st->actors, prefix != NULL ?
		    prefix : "", 1, actors_name, &ac, err);
	agg_ctx_done(&ac.a);
	mdb_txn_abort(txn);
	agg_map_top(&ac.map, ret == 0 ? limit : 0, out);
	/* A failed count hands out nothing to free. */
	if (ret != 0)
		agg_list_free(out);
	return (ret);
}

/*
 * The limit actors that share most of q's events with q's actor (or any
 * actor with its prefix, or any code of its alias), which are left out; out->events is how many
 * events of the actor passed the query.
 */
int
store_co_actors(struct store *st, const struct query *q, uint32_t limit,
    struct agg_list *out, struct aerr *err)
{
	struct actors_ctx	 ac;
	MDB_txn			*txn;
	int			 ret;

	memset(out, 0, sizeof *out);
	if (q->actor == NULL) {
		aerr_set(err, AERR_INVALID, "actor: required");
		return (-1);
	}
	memset(&ac, 0, sizeof ac);
	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	ac.a.st = st;
	ac.a.txn = txn;
	ac.a.q = q;
	ac.a.err = err;
	ac.self = q->actor;
	ret = agg_walk_query(&ac.a, actors_decoded, &ac, err);
	agg_ctx_done(&ac.a);
	mdb_txn_abort(txn);
	agg_map_top(&ac.map, ret == 0 ? limit : 0, out);
	if (ret != 0)
		agg_list_free(out);
	out->events = ac.count;
	return (ret);
}
