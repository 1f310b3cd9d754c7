/*
 * The integrity checker: walks every database in one read transaction and
 * verifies that the indexes and the records say the same thing.
 *
 *	each record is in the time index, in the actor index once per
 *	distinct actor, in the type index when it has a type, in the
 *	(source, key) index, and in the change log;
 *	each index entry points to a record that says the same (class,
 *	start, span, actor, type, source and key);
 *	actor and type counts equal their indexes; (source, key) -> id is
 *	a bijection with the records that have a source;
 *	the change log holds one entry per id, puts for live events and
 *	deletes for gone ones, all below next_seq; ids below next_id;
 *	the attribute names by id and by name mirror each other, and
 *	every id a record's attrs hold is one of them;
 *	the word index lists each event under each of its words once,
 *	in a sealed block, a tail or the stage, and nothing else, in
 *	order, and words counts its lists (store_text_check_end).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"
#include "store-int.h"

/* An index of names (actors, types): its counts and what a record says. */
struct names_index {
	const char	*what;		/* "actor", "type" */
	MDB_dbi		 index, stage, counts;
	int		 (*has)(const struct event *, const void *, size_t);
};

struct check {
	struct store_check	*out;
	MDB_txn			*txn;
	struct store		*st;
	struct text_check	*text;		/* NULL: no word index */
	int64_t			*days;		/* of each record's start */
	size_t			 ndays, capdays;
	uint64_t		 id;		/* of the record checked */
};

/* Note a problem in out; the first STORE_CHECK_KEEP are described. */
void
store_check_problem(struct store_check *out, const char *fmt, ...)
{
	va_list	ap;

	if (out->nproblems < STORE_CHECK_KEEP) {
		va_start(ap, fmt);
		vsnprintf(out->problems[out->nproblems],
		    sizeof out->problems[0], fmt, ap);
		va_end(ap);
	}
	out->nproblems++;
}

#define problem(c, ...)	store_check_problem((c)->out, __VA_ARGS__)

static int
span_equal(const struct date_span *a, const struct date_span *b)
{
	return (a->lo == b->lo && a->hi == b->hi && a->flo == b->flo &&
	    a->fhi == b->fhi && a->ilo == b->ilo && a->ihi == b->ihi &&
	    a->prec == b->prec);
}

/* Whether key k with value v is in dbi, with the same value. */
static int
has_entry(struct check *c, MDB_dbi dbi, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	MDB_val	key = { klen, (void *)k }, val;

	if (store_ix_get(c->st, c->txn, dbi, &key, &val) != 0)
		return (0);
	return (v == NULL || (val.mv_size == vlen &&
	    memcmp(val.mv_data, v, vlen) == 0));
}

/* An index entry is in the index or in its stage, not in both. */
static int
has_indexed(struct check *c, MDB_dbi index, MDB_dbi stage, const void *k,
    size_t klen, const void *v, size_t vlen)
{
	return (has_entry(c, index, k, klen, v, vlen) +
	    has_entry(c, stage, k, klen, v, vlen) == 1);
}

static int
get_event(struct check *c, uint64_t id, struct event *ev)
{
	MDB_val	v;

	if (store_rec_get(c->txn, c->st, id, &v) != 0)
		return (-1);
	store_rec_split(&v);
	memset(ev, 0, sizeof *ev);
	return (store_unpack(c->st, c->txn, v.mv_data, v.mv_size, ev));
}

static int
has_actor(const struct event *ev, const void *name, size_t len)
{
	return (record_has_actor(ev, name, len, NULL));
}

static int
has_type(const struct event *ev, const void *name, size_t len)
{
	return (ev->type != NULL && strlen(ev->type) == len &&
	    memcmp(ev->type, name, len) == 0);
}

/* An attr id of record c->id is in the dictionary. */
static int
check_attr_id(void *arg, uint32_t id)
{
	struct check	*c = arg;
	unsigned char	 ib[2] = { (unsigned char)(id >> 8),
			     (unsigned char)id };

	if (id >= ATTR_IDS_MAX || !has_entry(c, c->st->attr_names, ib, 2,
	    NULL, 0))
		problem(c, "event %llu: attribute id %u is not in attr_names",
		    (unsigned long long)c->id, id);
	return (0);
}

/*
 * The dictionary of attribute names: attr_names holds the ids from 0
 * without gaps, each a name of 1 to ATTR_NAME_MAX bytes, and attr_ids
 * is its mirror image.
 */
static void
check_attrs(struct check *c)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	uint32_t	 n = 0, id;

	if (mdb_cursor_open(c->txn, c->st->attr_names, &cur) != 0)
		return;
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		if (k.mv_size != 2) {
			problem(c, "attr_names: key of %zu bytes", k.mv_size);
			continue;
		}
		id = (uint32_t)((unsigned char *)k.mv_data)[0] << 8 |
		    ((unsigned char *)k.mv_data)[1];
		if (id != n)
			problem(c, "attr_names: id %u where %u was due", id, n);
		n = id + 1;
		if (v.mv_size == 0 || v.mv_size > ATTR_NAME_MAX)
			problem(c, "attr_names: id %u names %zu bytes", id,
			    v.mv_size);
		if (!has_entry(c, c->st->attr_ids, v.mv_data, v.mv_size,
		    k.mv_data, 2))
			problem(c, "attr_names: id %u: attr_ids does not map "
			    "%.*s to it", id, (int)(v.mv_size > 64 ? 64 :
			    v.mv_size), (const char *)v.mv_data);
	}
	mdb_cursor_close(cur);
	if (mdb_cursor_open(c->txn, c->st->attr_ids, &cur) != 0)
		return;
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		if (v.mv_size != 2 || !has_entry(c, c->st->attr_names,
		    v.mv_data, 2, k.mv_data, k.mv_size))
			problem(c, "attr_ids: %.*s: attr_names does not "
			    "map its id to it", (int)(k.mv_size > 64 ? 64 :
			    k.mv_size), (const char *)k.mv_data);
	}
	mdb_cursor_close(cur);
}

/* The record v under key k of the database of kclass. */
static void
check_record(struct check *c, int kclass, const MDB_val *k, MDB_val *v,
    uint64_t next_id, uint64_t next_seq)
{
	unsigned char	 key[ACTOR_KEY_MAX], span[SKEY_SPAN_MAX], idbuf[8];
	unsigned char	 skey[SOURCE_KEY_MAX];
	struct event	 ev;
	struct log_entry le;
	uint64_t	 id, seq;
	int64_t		 start, mapped;
	size_t		 slen;
	uint32_t	 i;
	int		 class, mclass;

	c->out->events++;
	if (skey_get_rec_key(k->mv_data, k->mv_size, &start, &id) != 0) {
		problem(c, "%s: key of %zu bytes", kclass == 0 ? "events" :
		    c->st->long_names[kclass - SKEY_REC_SHORT - 1],
		    k->mv_size);
		return;
	}
	if (store_rec_start(c->txn, c->st, id, &mclass, &mapped) != 0 ||
	    mapped != start || mclass != kclass)
		problem(c, "event %llu: ids does not map it to its "
		    "record's key", (unsigned long long)id);
	memset(&ev, 0, sizeof ev);
	seq = store_rec_split(v);
	c->id = id;
	if (store_attrs_each_id(v->mv_data, v->mv_size, check_attr_id,
	    c) != 0)
		problem(c, "event %llu: attrs do not decode",
		    (unsigned long long)id);
	if (store_unpack(c->st, c->txn, v->mv_data, v->mv_size,
	    &ev) != 0) {
		problem(c, "event %llu: record does not decode",
		    (unsigned long long)id);
		return;
	}
	if (ev.id != id)
		problem(c, "event %llu: record says id %llu",
		    (unsigned long long)id,
		    (unsigned long long)ev.id);
	if (id >= next_id)
		problem(c, "event %llu: id not below next_id %llu",
		    (unsigned long long)id,
		    (unsigned long long)next_id);
	if (ev.span.lo != start)
		problem(c, "event %llu: kept under start %lld, not "
		    "its own %lld", (unsigned long long)id,
		    (long long)start, (long long)ev.span.lo);
	if (c->ndays == c->capdays) {
		c->capdays = c->capdays ? c->capdays * 2 : 1024;
		c->days = xreallocarray(c->days, c->capdays,
		    sizeof *c->days);
	}
	c->days[c->ndays++] = store_day(ev.span.lo);
	class = skey_class(&ev.span);
	if ((class > SKEY_REC_SHORT ? class : 0) != kclass)
		problem(c, "event %llu: kept under class %d, not its "
		    "own %d", (unsigned long long)id, kclass, class);
	slen = skey_span(span, &ev.span);
	skey_time_key(key, class, ev.span.lo, id);
	if (!has_indexed(c, c->st->timeblocks, c->st->time_new, key,
	    SKEY_TIME_LEN, span, slen))
		problem(c, "event %llu: missing from the time index",
		    (unsigned long long)id);
	for (i = 0; i < ev.nactors; i++) {
		if (store_actor_seen(&ev, i))
			continue;
		if (!has_indexed(c, c->st->actor, c->st->actor_new,
		    key, skey_actor_key(key, ev.actors[i].name,
		    strlen(ev.actors[i].name), class, ev.span.lo, id),
		    span, slen))
			problem(c, "event %llu: missing from the "
			    "actor index under %.64s",
			    (unsigned long long)id, ev.actors[i].name);
	}
	if (ev.type != NULL && *ev.type != '\0' &&
	    !has_indexed(c, c->st->type,
	    c->st->type_new, key, skey_actor_key(key, ev.type,
	    strlen(ev.type), class, ev.span.lo, id), span, slen))
		problem(c, "event %llu: missing from the type index "
		    "under %.64s", (unsigned long long)id, ev.type);
	skey_be64(idbuf, id);
	if (ev.source != NULL && !has_entry(c, c->st->keys, skey,
	    skey_source_key(skey, ev.source, ev.key), idbuf, 8))
		problem(c, "event %llu: (source, key) does not map to "
		    "it", (unsigned long long)id);
	if (seq == 0)
		problem(c, "event %llu: not in the change log",
		    (unsigned long long)id);
	else {
		if (store_log_get(c->txn, c->st, seq, &le) != 0 ||
		    le.op != CHANGE_PUT || le.id != id)
			problem(c, "event %llu: change %llu is not its "
			    "put", (unsigned long long)id,
			    (unsigned long long)seq);
		if (seq >= next_seq)
			problem(c, "event %llu: change %llu not below "
			    "next_seq", (unsigned long long)id,
			    (unsigned long long)seq);
	}
	store_text_check_event(c->text, &ev);
	record_clear(&ev);
}

/* Every record, and what the indexes must hold for it. */
static void
check_records(struct check *c, uint64_t next_id, uint64_t next_seq)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 db, kclass;

	for (db = 0; db < REC_DBS; db++) {
		if (mdb_cursor_open(c->txn, store_rec_db(c->st, db), &cur) != 0)
			return;
		kclass = store_rec_db_class(db);
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0)
			check_record(c, kclass, &k, &v, next_id, next_seq);
		mdb_cursor_close(cur);
	}
}


/* Each id of idblocks leads to a record (check_records: and back). */
static void
check_ids(struct check *c)
{
	struct id_block	 b;
	MDB_cursor	*cur;
	MDB_val		 k, v, rv;
	uint64_t	 base, left, id;
	int		 i;

	if (mdb_cursor_open(c->txn, c->st->idblocks, &cur) != 0)
		return;
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		if (k.mv_size != 8) {
			problem(c, "ids: key of %zu bytes", k.mv_size);
			continue;
		}
		base = skey_get_be64(k.mv_data);
		if (store_idb_decode(v.mv_data, v.mv_size, &b) != 0) {
			problem(c, "ids: the block of ids from %llu does not "
			    "decode", (unsigned long long)(base <<
			    ID_BLOCK_SHIFT));
			continue;
		}
		for (left = b.present; left != 0; left &= left - 1) {
			i = __builtin_ctzll(left);
			id = base << ID_BLOCK_SHIFT | (uint64_t)i;
			if (store_rec_at(c->txn, c->st, b.class[i],
			    b.start[i], id, &rv) != 0)
				problem(c, "ids: event %llu has no record at "
				    "class %d start %lld",
				    (unsigned long long)id, b.class[i],
				    (long long)b.start[i]);
		}
	}
	mdb_cursor_close(cur);
}

/*
 * Each entry of the time index (ni NULL) or of an index of names points
 * to a record that agrees, and a staged one is not also in other, the
 * index of the stage.
 */
static void
check_index(struct check *c, MDB_dbi dbi, const MDB_dbi *other,
    const struct names_index *ni)
{
	struct date_span	 span;
	struct event		 ev;
	struct ixcur		 cur;
	MDB_val			 k, v;
	const unsigned char	*p;
	const char		*what = ni != NULL ? ni->what : "time";
	char			 last[EVENT_MAX_ACTOR + 1] = "";
	size_t			 nlen = 0;
	uint64_t		 id;
	int			 class, rc;

	if (store_ixcur_open(c->st, c->txn, dbi, &cur) != 0)
		return;
	while ((rc = store_ixcur_get(&cur, &k, &v, MDB_NEXT)) == 0) {
		c->out->index_entries++;
		p = k.mv_data;
		if (ni != NULL) {
			nlen = strnlen((const char *)p, k.mv_size);
			p += nlen + 1;
		}
		if (k.mv_size != (ni != NULL ? nlen + 1 : 0) + SKEY_TIME_LEN) {
			problem(c, "%s index: key of %zu bytes", what,
			    k.mv_size);
			continue;
		}
		if (skey_get_span(v.mv_data, v.mv_size, skey_get_time(p + 1),
		    &span) != 0) {
			problem(c, "%s index: span of %zu bytes does not "
			    "decode", what, v.mv_size);
			continue;
		}
		class = p[0];
		id = skey_get_be64(p + 9);
		if (other != NULL &&
		    has_entry(c, *other, k.mv_data, k.mv_size, NULL, 0))
			problem(c, "%s index: event %llu is staged and indexed "
			    "at once", what, (unsigned long long)id);
		/* Each name in the index has its count, checked once. */
		if (ni != NULL && nlen <= EVENT_MAX_ACTOR &&
		    (strlen(last) != nlen || memcmp(last, k.mv_data, nlen))) {
			memcpy(last, k.mv_data, nlen);
			last[nlen] = '\0';
			if (!has_entry(c, ni->counts, last, nlen, NULL, 0))
				problem(c, "%s %.64s: in the %s but not "
				    "counted", what, last, other != NULL ?
				    "stage" : "index");
		}
		if (get_event(c, id, &ev) != 0) {
			problem(c, "%s index: entry for missing event %llu",
			    what, (unsigned long long)id);
			continue;
		}
		if (!span_equal(&span, &ev.span) ||
		    skey_get_time(p + 1) != ev.span.lo ||
		    class != skey_class(&ev.span))
			problem(c, "%s index: entry for event %llu disagrees "
			    "with its dates", what, (unsigned long long)id);
		if (ni != NULL && !ni->has(&ev, k.mv_data, nlen))
			problem(c, "%s index: event %llu has no %s %.64s",
			    what, (unsigned long long)id, what,
			    (const char *)k.mv_data);
		record_clear(&ev);
	}
	if (rc != MDB_NOTFOUND)
		problem(c, "%s index: walk stopped: %s", what,
		    mdb_strerror(rc));
	store_ixcur_close(&cur);
}

/* The number of entries under name NUL in an actor or type index. */
static uint64_t
count_entries(struct check *c, MDB_dbi dbi, const void *name, size_t len)
{
	struct ixcur	 cur;
	MDB_val		 k, v;
	unsigned char	 seek[ACTOR_KEY_MAX];
	uint64_t	 n = 0;
	int		 rc;

	if (len > EVENT_MAX_ACTOR ||
	    store_ixcur_open(c->st, c->txn, dbi, &cur) != 0)
		return (0);
	memcpy(seek, name, len);
	seek[len] = '\0';
	k.mv_size = len + 1;
	k.mv_data = seek;
	for (rc = store_ixcur_get(&cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = store_ixcur_get(&cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= len || memcmp(k.mv_data, seek, len + 1) != 0)
			break;
		n++;
	}
	store_ixcur_close(&cur);
	return (n);
}

static int
day_cmp(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

/* The per-day start counts add up the records' starts, day by day. */
static void
check_days(struct check *c)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 i = 0, j;
	int64_t		 day;
	uint64_t	 have;
	int		 rc;

	/* An empty store has no days, and qsort(NULL, 0) is undefined. */
	if (c->ndays > 0)
		qsort(c->days, c->ndays, sizeof *c->days, day_cmp);
	if (mdb_cursor_open(c->txn, c->st->days, &cur) != 0)
		return;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || v.mv_size != 8) {
			problem(c, "days: entry of %zu bytes", k.mv_size);
			continue;
		}
		day = skey_get_time(k.mv_data);
		for (; i < c->ndays && c->days[i] < day; i = j) {
			for (j = i; j < c->ndays && c->days[j] == c->days[i];)
				j++;
			problem(c, "days: day %lld has %zu starts but no count",
			    (long long)c->days[i], j - i);
		}
		for (j = i; j < c->ndays && c->days[j] == day;)
			j++;
		have = skey_get_be64(v.mv_data);
		if (have != j - i)
			problem(c, "days: day %lld counts %llu starts, records "
			    "have %zu", (long long)day,
			    (unsigned long long)have, j - i);
		i = j;
	}
	mdb_cursor_close(cur);
	for (; i < c->ndays; i = j) {
		for (j = i; j < c->ndays && c->days[j] == c->days[i];)
			j++;
		problem(c, "days: day %lld has %zu starts but no count",
		    (long long)c->days[i], j - i);
	}
}

/* The counts of an index of names equal its entries per name. */
static void
check_counts(struct check *c, const struct names_index *ni)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	uint64_t	 want, have;

	if (mdb_cursor_open(c->txn, ni->counts, &cur) != 0)
		return;
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		want = v.mv_size == 16 ? skey_get_be64(v.mv_data) : 0;
		have = count_entries(c, ni->index, k.mv_data, k.mv_size) +
		    count_entries(c, ni->stage, k.mv_data, k.mv_size);
		if (have != want)
			problem(c, "%s %.*s: count %llu, but %llu index "
			    "entries", ni->what, (int)(k.mv_size < 64 ?
			    k.mv_size : 64), (const char *)k.mv_data,
			    (unsigned long long)want,
			    (unsigned long long)have);
	}
	mdb_cursor_close(cur);
}

/* (source, key) entries point to records with that source and key. */
static void
check_keys(struct check *c)
{
	struct event	 ev;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 slen;
	uint64_t	 id;

	if (mdb_cursor_open(c->txn, c->st->keys, &cur) != 0)
		return;
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		c->out->index_entries++;
		if (v.mv_size != 8) {
			problem(c, "keys: value of %zu bytes", v.mv_size);
			continue;
		}
		id = skey_get_be64(v.mv_data);
		if (get_event(c, id, &ev) != 0) {
			problem(c, "keys: entry for missing event %llu",
			    (unsigned long long)id);
			continue;
		}
		slen = strnlen(k.mv_data, k.mv_size);
		if (ev.source == NULL || strlen(ev.source) != slen ||
		    memcmp(ev.source, k.mv_data, slen) != 0 ||
		    strlen(ev.key) != k.mv_size - slen - 1 ||
		    memcmp(ev.key, (char *)k.mv_data + slen + 1,
		    k.mv_size - slen - 1) != 0)
			problem(c, "keys: entry for event %llu names another "
			    "source or key", (unsigned long long)id);
		record_clear(&ev);
	}
	mdb_cursor_close(cur);
}

/* One log entry per id; puts of live events, deletes of gone ones. */
static void
check_changes(struct check *c, uint64_t next_seq)
{
	struct log_walk	 walk;
	struct log_entry le;
	MDB_val		 ev;
	uint64_t	 seq;
	int		 rc, live;

	if (store_log_walk_open(c->txn, c->st, 0, &walk) != 0)
		return;
	while ((rc = store_log_walk_next(&walk, &seq, &le)) != MDB_NOTFOUND) {
		if (rc != 0) {
			problem(c, "changes: the block of seq %llu does not "
			    "decode", (unsigned long long)seq);
			if (rc != MDB_CORRUPTED)
				break;
			continue;
		}
		c->out->changes++;
		if (seq >= next_seq)
			problem(c, "changes: seq %llu not below next_seq",
			    (unsigned long long)seq);
		if (le.op == CHANGE_DICT_PUT || le.op == CHANGE_DICT_DELETE) {
			if (store_dict_check_change(c->st, c->txn, seq,
			    &le) != 0)
				problem(c, "changes: seq %llu is not the latest "
				    "change of its dictionary entry",
				    (unsigned long long)seq);
			continue;
		}
		live = store_rec_get(c->txn, c->st, le.id, &ev) == 0;
		if ((le.op == CHANGE_PUT) != live)
			problem(c, "changes: seq %llu %s event %llu, which is "
			    "%s", (unsigned long long)seq, le.op == CHANGE_PUT ?
			    "puts" : "deletes", (unsigned long long)le.id,
			    live ? "stored" : "gone");
		else if (live && store_rec_split(&ev) != seq)
			problem(c, "changes: seq %llu is not event %llu's "
			    "latest", (unsigned long long)seq,
			    (unsigned long long)le.id);
	}
	store_log_walk_close(&walk);
}

/*
 * The classes the meta gives as holding fuzzy starts or spans of other
 * than whole days must hold every such event: an overlap histogram skips
 * the walks the others need (hist_crossers) and would miss it.
 */
static void
check_spans(struct check *c, uint64_t next_seq)
{
	uint64_t	before, unaligned, mb, mu;
	int		rc;

	if (store_meta_get(c->txn, c->st->meta, "spanned_to", 0) != next_seq)
		return;
	if ((rc = store_spans_scan(c->st, c->txn, &before, &unaligned)) !=
	    0) {
		problem(c, "time index: %s", mdb_strerror(rc));
		return;
	}
	mb = store_meta_get(c->txn, c->st->meta, "classes_before", 0);
	mu = store_meta_get(c->txn, c->st->meta, "classes_unaligned", 0);
	if (before & ~mb)
		problem(c, "meta: classes_before 0x%llx lacks 0x%llx, classes "
		    "of events fuzzy before their start",
		    (unsigned long long)mb, (unsigned long long)(before & ~mb));
	if (unaligned & ~mu)
		problem(c, "meta: classes_unaligned 0x%llx lacks 0x%llx, "
		    "classes of events not of whole days",
		    (unsigned long long)mu,
		    (unsigned long long)(unaligned & ~mu));
}

/*
 * Check the whole store; out says what was walked and what is wrong.
 * Returns 0 when it could be walked (whatever it found), -1 otherwise.
 */
int
store_check(struct store *st, struct store_check *out, struct aerr *err)
{
	struct check		c;
	struct names_index	actors = { "actor", st->actor, st->actor_new,
				    st->actors, has_actor };
	struct names_index	types = { "type", st->type, st->type_new,
				    st->types, has_type };
	uint64_t		next_id, next_seq;

	memset(out, 0, sizeof *out);
	memset(&c, 0, sizeof c);
	c.out = out;
	c.st = st;
	if (store_read_begin(st, &c.txn, err) != 0)
		return (-1);
	next_id = store_meta_get(c.txn, st->meta, "next_id", 1);
	next_seq = store_meta_get(c.txn, st->meta, "next_seq", 1);
	check_attrs(&c);
	c.text = store_text_check_begin(st, c.txn, out);
	check_records(&c, next_id, next_seq);
	check_ids(&c);
	store_text_check_end(c.text, st);
	check_days(&c);
	free(c.days);
	check_index(&c, st->timeblocks, NULL, NULL);
	check_index(&c, st->time_new, &st->timeblocks, NULL);
	check_index(&c, st->actor, NULL, &actors);
	check_index(&c, st->actor_new, &st->actor, &actors);
	check_counts(&c, &actors);
	check_index(&c, st->type, NULL, &types);
	check_index(&c, st->type_new, &st->type, &types);
	check_counts(&c, &types);
	check_keys(&c);
	check_changes(&c, next_seq);
	check_spans(&c, next_seq);
	mdb_txn_abort(c.txn);
	return (0);
}
