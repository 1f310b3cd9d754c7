/*
 * The dictionary of attribute names (issue #16): a GDELT row carries some
 * sixty attrs, and every record repeated their names, a third of its
 * bytes.  A stored record names each top-level attr by a small id
 * instead, and the names live once per store:
 *
 *	attr_ids   name -> id (2 bytes, big-endian)
 *	attr_names id (2 bytes, big-endian) -> name
 *
 * both written in the write transaction of a record that uses a name
 * the second time the writer sees it (struct attr_dict's seen), and at
 * most ATTR_NEW_PER_RECORD new names per record: a feed whose keys are
 * unique to each row (dates, uuids as keys) would otherwise spend the
 * store's ids, which are never freed, on names no other record shares.  An id is a msgpack positive integer key of the attrs map (fixint
 * below 128, uint8, uint16): a client's attrs keys are always strings
 * (record_attrs checks them), so an integer key can only be an id, and a
 * record holding string keys, as every record did before format 4, reads
 * as it always did.  Names of 1 to ATTR_NAME_MAX bytes get ids, at most
 * ATTR_IDS_MAX of them per store; other names, names packed in a longer
 * header than msgpack's shortest (their bytes must come back the same),
 * and every name once the ids are all given, stay strings.  Ids are never
 * freed: a name no record uses any more keeps its id, as keeping a count
 * of users would cost a write to the dictionary on every put.  Nested
 * maps keep their string keys; their names are rarely repeated.
 *
 * The names are cached in memory, loaded when the store opens.  Only the
 * writer thread adds to the cache (store_attrs_pack); readers take the
 * ids below `committed`, which the writer raises after its transaction
 * commits (store_attrs_commit) and which it never takes back, so what a
 * reader reads is never freed under it.  An id a reader finds at or past
 * it (its snapshot began between the commit and the raise) is read from
 * attr_names in its own transaction.  A transaction, or a nested one,
 * that aborts drops the ids it gave (store_attrs_rollback), so the next
 * one gives them again and the cache never holds an id LMDB has not.
 *
 * The names are kept packed (msgpack header and bytes), so expanding a
 * record copies bytes and allocates nothing per key.
 */
#include <sys/types.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"
#include "store-int.h"

/*
 * Room a packed name takes in a slot, and what the copies of
 * attrs_expand_at() may write past the bytes they add.
 */
#define ATTR_SLACK	(2 + ATTR_NAME_MAX)

#define ATTR_SEEN	8192		/* names remembered as seen, at most */
#define ATTR_NEW_PER_RECORD 256		/* ids one record may be given */

/* A name as readers take it: packed (str header, bytes), by id. */
struct attr_slot {
	uint8_t			 plen;
	unsigned char		 packed[ATTR_SLACK];
};

/* A name in the writer's table of names; its bytes are in its slot. */
struct attr_name {
	struct attr_name	*next;		/* in its hash bucket */
	uint32_t		 hash;
	uint32_t		 id;
};

/*
 * The slots are one array, ATTR_IDS_MAX long, so that a name is a fixed
 * offset away from the next and the names of a record share a few cache
 * lines; its pages are touched only as ids are given.
 */
struct attr_dict {
	struct attr_slot	 *slots;
	_Atomic uint32_t	  committed;	/* ids readers take */
	uint32_t		  n;		/* ids given, the writer's */
	int			  stuck;	/* out of step: no new ids */
	struct attr_name	**buckets;	/* name -> id, the writer's */
	uint32_t		  nbuckets;	/* a power of 2 */
	/*
	 * Hashes of the names seen without ids, the writer's: an open
	 * table, emptied when three quarters full.  Two names of one hash
	 * count as one, which at worst gives an id a sighting early.
	 */
	uint32_t		  seen[ATTR_SEEN];
	uint32_t		  nseen;
};

/* FNV-1a: names are short and the table is rebuilt rarely. */
static uint32_t
attr_hash(const unsigned char *p, size_t len)
{
	uint32_t	h = 2166136261u;

	while (len-- > 0)
		h = (h ^ *p++) * 16777619u;
	return (h);
}

/* The shortest msgpack str header for len (at most 255) bytes. */
static size_t
attr_str_head(unsigned char *out, size_t len)
{
	if (len < 32) {
		out[0] = (unsigned char)(0xa0 | len);
		return (1);
	}
	out[0] = 0xd9;
	out[1] = (unsigned char)len;
	return (2);
}

static void
attr_bucket_add(struct attr_dict *d, struct attr_name *e)
{
	struct attr_name	**b = &d->buckets[e->hash & (d->nbuckets - 1)];

	e->next = *b;
	*b = e;
}

/* Double the buckets when they hold more names than there are of them. */
static void
attr_grow(struct attr_dict *d)
{
	struct attr_name	**old = d->buckets, *e, *next;
	uint32_t		  i, n = d->nbuckets;

	if (d->n < n)
		return;
	d->nbuckets = n * 2;
	d->buckets = xcalloc(d->nbuckets, sizeof *d->buckets);
	for (i = 0; i < n; i++) {
		for (e = old[i]; e != NULL; e = next) {
			next = e->next;
			attr_bucket_add(d, e);
		}
	}
	free(old);
}

/* The name of slot sl and its length. */
static const unsigned char *
attr_slot_name(const struct attr_slot *sl, size_t *len)
{
	size_t	h = sl->packed[0] == 0xd9 ? 2 : 1;

	*len = sl->plen - h;
	return (sl->packed + h);
}

/* Put name (len bytes) into the cache under id, which is d->n. */
static void
attr_add(struct attr_dict *d, const void *name, size_t len, uint32_t id)
{
	struct attr_name	*e = xcalloc(1, sizeof *e);
	struct attr_slot	*sl = &d->slots[id];
	size_t			 h;

	h = attr_str_head(sl->packed, len);
	memcpy(sl->packed + h, name, len);
	sl->plen = (uint8_t)(h + len);
	e->id = id;
	e->hash = attr_hash(name, len);
	d->n = id + 1;
	attr_grow(d);
	attr_bucket_add(d, e);
}

static struct attr_name *
attr_find(const struct attr_dict *d, const unsigned char *name, size_t len)
{
	struct attr_name	*e;
	const unsigned char	*p;
	uint32_t		 h = attr_hash(name, len);
	size_t			 n;

	for (e = d->buckets[h & (d->nbuckets - 1)]; e != NULL; e = e->next) {
		if (e->hash != h)
			continue;
		p = attr_slot_name(&d->slots[e->id], &n);
		if (n == len && memcmp(p, name, len) == 0)
			return (e);
	}
	return (NULL);
}

/*
 * The length of each msgpack object its first byte says all of: fixint,
 * fixstr, nil, booleans, floats and sized ints; 0 for the rest.  Filled
 * by store_mp_init() before the store opens.
 */
static uint8_t	mp_fixed[256];

static void
mp_len_init(void)
{
	unsigned	b;

	for (b = 0; b < 256; b++) {
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 ||
		    b == 0xc3)
			mp_fixed[b] = 1;
		else if (b >= 0xa0 && b <= 0xbf)
			mp_fixed[b] = (uint8_t)(1 + (b & 0x1f));
		else if (b == 0xcc || b == 0xd0)
			mp_fixed[b] = 2;
		else if (b == 0xcd || b == 0xd1)
			mp_fixed[b] = 3;
		else if (b == 0xca || b == 0xce || b == 0xd2)
			mp_fixed[b] = 5;
		else if (b == 0xcb || b == 0xcf || b == 0xd3)
			mp_fixed[b] = 9;
	}
}

/*
 * mp_len() of the objects whose first byte does not say their length.
 * A record's actors, place, urls and tags are small arrays and maps of
 * such objects, walked here to a depth of 2; anything else by
 * frame_object_at(), within the record's map and what this walked: a
 * damaged record may nest deeper than its map could in a frame.
 */
static size_t
mp_len_walk(const unsigned char *p, size_t n, int depth)
{
	struct aerr	err;
	size_t		len, k, items;
	unsigned char	b = p[0];

	if (b == 0xd9)
		len = n >= 2 ? 2 + (size_t)p[1] : n + 1;
	else if ((b & 0xe0) == 0x80 && depth < 2) {
		items = (size_t)(b & 0x0f) << ((b & 0x10) == 0);
		for (len = 1; items > 0 && len < n; items--, len += k) {
			if ((k = mp_fixed[p[len]]) == 0 &&
			    (k = mp_len_walk(p + len, n - len, depth + 1)) == 0)
				return (0);
		}
		if (items > 0)
			return (0);
	} else if (frame_object_at(p, n, 1 + depth, &len, &err) != 0)
		return (0);
	return (len <= n ? len : 0);
}

/*
 * The length of the msgpack object at p, of at most n bytes; 0 when it
 * does not fit, or nests deeper than a value of a record's map may for
 * the map to pass the frame check (PROTO_MAX_DEPTH - 1).
 */
static inline size_t
mp_len(const unsigned char *p, size_t n)
{
	size_t	len;

	if (n == 0)
		return (0);
	if ((len = mp_fixed[p[0]]) == 0)
		return (mp_len_walk(p, n, 0));
	return (len <= n ? len : 0);
}

size_t
store_mp_len(const unsigned char *p, size_t n)
{
	return (mp_len(p, n));
}

/*
 * Make the tables every walk of a stored record reads, once: the store
 * does when it opens, and the fuzz harness of store-pos.c, which has no
 * store, before its first walk.
 */
void
store_mp_init(void)
{
	if (mp_fixed[0] == 0) {
		mp_len_init();
		store_pos_init();
	}
}

/*
 * Load the names of the store's attr_names (opened by store_open).  The
 * ids run from 0 without gaps, so they fill byid in key order.
 */
int
store_attrs_load(struct store *st, MDB_txn *txn)
{
	struct attr_dict	*d;
	MDB_cursor		*cur;
	MDB_stat		 ms;
	MDB_val			 k, v;
	uint32_t		 id;
	int			 rc;

	store_mp_init();
	d = xcalloc(1, sizeof *d);
	d->slots = xcalloc(ATTR_IDS_MAX, sizeof *d->slots);
	d->nbuckets = 256;
	d->buckets = xcalloc(d->nbuckets, sizeof *d->buckets);
	st->attrs = d;
	if ((rc = mdb_cursor_open(txn, st->attr_names, &cur)) != 0)
		return (rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		id = k.mv_size != 2 ? UINT32_MAX :
		    (uint32_t)((const unsigned char *)k.mv_data)[0] << 8 |
		    ((const unsigned char *)k.mv_data)[1];
		/*
		 * Out of step: store_check's to report; no more ids.  The
		 * ids past the ones loaded are read from attr_names, as
		 * readers read those past `committed`: the cache's slots
		 * for them are empty.
		 */
		if (id != d->n || v.mv_size == 0 ||
		    v.mv_size > ATTR_NAME_MAX) {
			log_err("attr_names: entry %u out of step; no new "
			    "attribute ids until the store is checked", d->n);
			d->stuck = 1;
			break;
		}
		attr_add(d, v.mv_data, v.mv_size, id);
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	/*
	 * A name in attr_ids whose id attr_names lost would be given a
	 * second id, or its id given to another name: no new ids either.
	 */
	if (!d->stuck && ((rc = mdb_stat(txn, st->attr_ids, &ms)) != 0 ||
	    ms.ms_entries != d->n)) {
		if (rc != 0)
			return (rc);
		log_err("attr_ids: %zu names for %u ids; no new attribute "
		    "ids until the store is checked", ms.ms_entries, d->n);
		d->stuck = 1;
	}
	atomic_store_explicit(&d->committed, d->n, memory_order_release);
	return (0);
}

void
store_attrs_close(struct store *st)
{
	struct attr_dict	*d = st->attrs;
	struct attr_name	*e, *next;
	uint32_t		 i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nbuckets; i++) {
		for (e = d->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(d->slots);
	free(d->buckets);
	free(d);
	st->attrs = NULL;
}

/* The ids given so far, for store_attrs_rollback(). */
uint32_t
store_attrs_mark(const struct store *st)
{
	return (st->attrs->n);
}

/* Drop the ids given since mark: their transaction did not commit. */
void
store_attrs_rollback(struct store *st, uint32_t mark)
{
	struct attr_dict	*d = st->attrs;
	struct attr_name	*e, **p;
	const unsigned char	*name;
	size_t			 len;

	while (d->n > mark && d->n > atomic_load_explicit(&d->committed,
	    memory_order_relaxed)) {
		d->n--;
		name = attr_slot_name(&d->slots[d->n], &len);
		for (p = &d->buckets[attr_hash(name, len) &
		    (d->nbuckets - 1)]; (*p)->id != d->n; p = &(*p)->next)
			;
		e = *p;
		*p = e->next;
		free(e);
		memset(&d->slots[d->n], 0, sizeof d->slots[d->n]);
	}
}

/* The write transaction committed: its ids are for readers too. */
void
store_attrs_commit(struct store *st)
{
	atomic_store_explicit(&st->attrs->committed, st->attrs->n,
	    memory_order_release);
}

/* Whether a name of hash h was seen before; remembered from now if not. */
static int
attr_seen(struct attr_dict *d, uint32_t h)
{
	uint32_t	i;

	if (h == 0)
		h = 1;		/* 0 is an empty slot */
	for (i = h & (ATTR_SEEN - 1); d->seen[i] != 0;
	    i = (i + 1) & (ATTR_SEEN - 1))
		if (d->seen[i] == h)
			return (1);
	if (d->nseen >= ATTR_SEEN / 4 * 3) {
		memset(d->seen, 0, sizeof d->seen);
		d->nseen = 0;
		i = h & (ATTR_SEEN - 1);
	}
	d->seen[i] = h;
	d->nseen++;
	return (0);
}

/*
 * The id of name for w; -1 when it has none (*rc says why when LMDB
 * failed).  A name without one is given one now when *give (the ids
 * this record may still be given) is above 0 and the name was seen
 * before.
 */
static int
attr_id(struct wctx *w, const unsigned char *name, size_t len,
    uint32_t *give, uint32_t *id, int *rc)
{
	struct attr_dict	*d = w->st->attrs;
	struct attr_name	*e;
	unsigned char		 ib[2];
	MDB_val			 k = { len, (void *)name }, v = { 2, ib };

	if ((e = attr_find(d, name, len)) != NULL) {
		*id = e->id;
		return (0);
	}
	if (*give == 0 || d->stuck || d->n >= ATTR_IDS_MAX)
		return (-1);
	if (!attr_seen(d, attr_hash(name, len)))
		return (-1);
	ib[0] = (unsigned char)(d->n >> 8);
	ib[1] = (unsigned char)d->n;
	/* Stored but not cached: out of step (store_check); a string. */
	if ((*rc = mdb_put(w->txn, w->st->attr_ids, &k, &v,
	    MDB_NOOVERWRITE)) == MDB_KEYEXIST) {
		*rc = 0;
		return (-1);
	}
	if (*rc != 0)
		return (-1);
	k.mv_size = 2;
	k.mv_data = ib;
	v.mv_size = len;
	v.mv_data = (void *)name;
	if ((*rc = mdb_put(w->txn, w->st->attr_names, &k, &v,
	    MDB_APPEND)) != 0)
		return (-1);
	*id = d->n;
	attr_add(d, name, len, d->n);
	(*give)--;
	return (0);
}

/* A map header at p: its count and length; -1 when p is no map. */
int
store_mp_map(const unsigned char *p, size_t n, uint32_t *count, size_t *head)
{
	if (n >= 1 && (p[0] & 0xf0) == 0x80) {
		*count = p[0] & 0x0f;
		*head = 1;
	} else if (n >= 3 && p[0] == 0xde) {
		*count = (uint32_t)p[1] << 8 | p[2];
		*head = 3;
	} else if (n >= 5 && p[0] == 0xdf) {
		*count = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		    (uint32_t)p[3] << 8 | p[4];
		*head = 5;
	} else
		return (-1);
	return (0);
}

/* An id key at p: its id and length; 0 when p is no id. */
static size_t
mp_id(const unsigned char *p, size_t n, uint32_t *id)
{
	if (p[0] <= 0x7f) {
		*id = p[0];
		return (1);
	}
	if (p[0] == 0xcc && n >= 2) {
		*id = p[1];
		return (2);
	}
	if (p[0] == 0xcd && n >= 3) {
		*id = (uint32_t)p[1] << 8 | p[2];
		return (3);
	}
	return (0);
}

/*
 * Where the attrs map of a stored record starts: its offset in rec, or
 * 0 when it has none (a record's map header comes first, so 0 is never
 * one); -1 when rec is not a well-formed map.
 */
static ssize_t
attrs_find(const unsigned char *rec, size_t len)
{
	static const unsigned char	 key[] = { 0xa5, 'a', 't', 't', 'r',
					     's' };
	uint32_t			 count, i;
	size_t				 off, n;

	if (store_pos_is(rec, len))
		return (store_pos_attrs(rec, len));
	if (store_mp_map(rec, len, &count, &off) != 0)
		return (-1);
	for (i = 0; i < count; i++) {
		if ((n = mp_len(rec + off, len - off)) == 0)
			return (-1);
		if (n == sizeof key && memcmp(rec + off, key, n) == 0)
			return ((ssize_t)(off + n));
		off += n;
		if ((n = mp_len(rec + off, len - off)) == 0)
			return (-1);
		off += n;
	}
	return (0);
}

/*
 * Pack attrs, a packed map as record_pack() appends it, onto w->sbuf with
 * the names of its keys by id.  Without give, a name that has no id yet
 * stays a string and nothing is written to the store, nor remembered as
 * seen: what the record would be, to compare with a stored one whose
 * bytes an update would move.  Returns 0 or an LMDB error.
 */
int
store_attrs_pack(struct wctx *w, const unsigned char *attrs, size_t len,
    int give)
{
	msgpack_sbuffer	*out = &w->sbuf;
	unsigned char	 ib[3];
	uint32_t	 count, i, id, budget;
	size_t		 off, from = 0, klen, h, n;
	int		 rc = 0;

	budget = give ? ATTR_NEW_PER_RECORD : 0;

	if (store_mp_map(attrs, len, &count, &off) != 0) {
		msgpack_sbuffer_write(out, (const char *)attrs, len);
		return (0);
	}
	for (i = 0; i < count && off < len; i++) {
		if ((klen = mp_len(attrs + off, len - off)) == 0)
			break;
		n = klen - 1 - (attrs[off] == 0xd9);
		h = attr_str_head(ib, n);
		/* Canonical str keys of 1..ATTR_NAME_MAX bytes only. */
		if (n >= 1 && n <= ATTR_NAME_MAX && h + n == klen &&
		    memcmp(ib, attrs + off, h) == 0 &&
		    attr_id(w, attrs + off + h, n, &budget, &id, &rc) == 0) {
			msgpack_sbuffer_write(out, (const char *)attrs + from,
			    off - from);
			if (id < 0x80) {
				ib[0] = (unsigned char)id;
				n = 1;
			} else if (id < 0x100) {
				ib[0] = 0xcc;
				ib[1] = (unsigned char)id;
				n = 2;
			} else {
				ib[0] = 0xcd;
				ib[1] = (unsigned char)(id >> 8);
				ib[2] = (unsigned char)id;
				n = 3;
			}
			msgpack_sbuffer_write(out, (const char *)ib, n);
			from = off + klen;
		} else if (rc != 0)
			return (rc);
		off += klen;
		if ((n = mp_len(attrs + off, len - off)) == 0)
			break;
		off += n;
	}
	msgpack_sbuffer_write(out, (const char *)attrs + from, len - from);
	return (0);
}

/*
 * Room for need more bytes at the end of out, and ATTR_SLACK beyond: the
 * copies below move whole words and may write past what they add.
 */
static void
attr_grow_out(msgpack_sbuffer *out, size_t need)
{
	size_t	size = out->alloc ? out->alloc : 4096;

	while (size - out->size < need + ATTR_SLACK)
		size *= 2;
	out->data = xreallocarray(out->data, size, 1);
	out->alloc = size;
}

static inline unsigned char *
attr_room(msgpack_sbuffer *out, size_t need)
{
	if (out->alloc - out->size < need + ATTR_SLACK)
		attr_grow_out(out, need);
	return ((unsigned char *)out->data + out->size);
}

/*
 * Copy n bytes from p to o, which has ATTR_SLACK bytes of room past them;
 * p must be readable for 32 bytes when n is at most 32 and pend says so.
 * Most runs are a short value and most names short: a copy of a constant
 * size is a few moves where memcpy of n would be a call.
 */
static inline void
attr_copy(unsigned char *o, const unsigned char *p, size_t n, int readable)
{
	if (n <= 32 && readable)
		memcpy(o, p, 32);
	else
		memcpy(o, p, n);
}

/*
 * Copy a packed name of plen bytes from p (ATTR_SLACK bytes long) to o,
 * in constant sizes: one of variable size became a slow rep movs.
 */
static inline void
attr_copy_name(unsigned char *o, const unsigned char *p, size_t plen)
{
	memcpy(o, p, 32);
	if (plen > 32) {
		memcpy(o + 32, p + 32, 32);
		memcpy(o + 64, p + 64, ATTR_SLACK - 64);
	}
}

/*
 * The packed name of an id past what the cache holds for readers (a
 * snapshot newer than the cache, or the writer's own), read from txn
 * into buf; "#<id>" when the dictionary lacks it, so that the record
 * still decodes.
 */
static const unsigned char *
attr_name_of(struct store *st, MDB_txn *txn, uint32_t id, unsigned char *buf,
    size_t *plen)
{
	unsigned char		 ib[2];
	MDB_val			 k = { 2, ib }, v;
	size_t			 h;

	ib[0] = (unsigned char)(id >> 8);
	ib[1] = (unsigned char)id;
	if (id >= ATTR_IDS_MAX || mdb_get(txn, st->attr_names, &k, &v) != 0 ||
	    v.mv_size == 0 || v.mv_size > ATTR_NAME_MAX) {
		/* "#<id>", so that the record still decodes. */
		h = (size_t)snprintf((char *)buf + 1, 2 + ATTR_NAME_MAX - 1,
		    "#%u", id);
		buf[0] = (unsigned char)(0xa0 | h);
		*plen = h + 1;
		return (buf);
	}
	h = attr_str_head(buf, v.mv_size);
	memcpy(buf + h, v.mv_data, v.mv_size);
	*plen = h + v.mv_size;
	return (buf);
}

/*
 * Whether no record txn sees names an attr by id: no id was ever given
 * in its snapshot.  A walk of such a store hands its records out as they
 * are, without looking for their attrs.
 */
int
store_attrs_none(struct store *st, MDB_txn *txn)
{
	MDB_stat	ms;

	if (atomic_load_explicit(&st->attrs->committed,
	    memory_order_acquire) > 0)
		return (0);
	return (mdb_stat(txn, st->attr_names, &ms) == 0 &&
	    ms.ms_entries == 0);
}

/*
 * Append rec, len bytes holding the attrs map at at, to out with the
 * names of the attrs it names by id, and return 1; return 0, appending
 * nothing, when it names none.  An id the dictionary lacks (a damaged
 * store, which store_check reports) comes out as the name "#<id>", so
 * that the record still decodes.  This runs for every record a query
 * hands out: bytes are copied in runs, between the id keys, and names
 * from their packed copies in the cache.
 */
static int
attrs_expand_at(struct store *st, MDB_txn *txn, const unsigned char *rec,
    size_t len, size_t at, msgpack_sbuffer *out)
{
	const struct attr_slot	*slots = st->attrs->slots;
	const unsigned char	*name;
	unsigned char		*o, *base = (unsigned char *)out->data;
	unsigned char		 buf[ATTR_SLACK];
	uint32_t		 count, i, id, committed;
	size_t			 off, from = 0, n, k, plen, size = out->size;
	size_t			 alloc = out->alloc;

	if (store_mp_map(rec + at, len - at, &count, &off) != 0)
		return (0);
	committed = atomic_load_explicit(&st->attrs->committed,
	    memory_order_acquire);
	/* Locals, not out's fields, which the copies might alias. */
	for (off += at, i = 0; i < count && off < len; i++) {
		if ((k = mp_id(rec + off, len - off, &id)) != 0) {
			if (id < committed) {
				name = slots[id].packed;
				plen = slots[id].plen;
			} else
				name = attr_name_of(st, txn, id, buf, &plen);
			n = off - from;
			if (alloc - size < n + plen + ATTR_SLACK) {
				out->size = size;
				attr_grow_out(out, n + plen);
				base = (unsigned char *)out->data;
				alloc = out->alloc;
			}
			o = base + size;
			attr_copy(o, rec + from, n, from + 32 <= len);
			attr_copy_name(o + n, name, plen);
			size += n + plen;
			from = off + k;
		} else if ((k = mp_len(rec + off, len - off)) == 0)
			break;
		off += k;
		if ((n = mp_len(rec + off, len - off)) == 0)
			break;
		off += n;
	}
	if (from == 0)
		return (0);
	out->size = size;
	n = len - from;
	o = attr_room(out, n);
	memcpy(o, rec + from, n);
	out->size += n;
	return (1);
}

/*
 * Append the wire form of the stored record rec (its seq cut off) to out
 * when it is not its own, and return 1: a record stored by position
 * (store-pos.c), or a map naming attrs by id.  Return 0, appending
 * nothing, for a record that is its own wire form, and -1 for a record
 * that does not decode: stored by position, or a map whose walk to its
 * attrs fails (a damaged one goes no further than here).
 */
int
store_rec_expand(struct store *st, MDB_txn *txn, const void *data,
    size_t len, msgpack_sbuffer *out)
{
	ssize_t	at;

	if (store_pos_is(data, len))
		return (store_pos_expand(st, txn, data, len, out, 1,
		    RECORD_FIELDS_ALL) == 0 ? 1 : -1);
	if ((at = attrs_find(data, len)) < 0)
		return (-1);
	if (at == 0)
		return (0);
	return (attrs_expand_at(st, txn, data, len, (size_t)at, out));
}

/*
 * Where the attrs of a stored record (its seq cut off) begin: their
 * offset, 0 when it has none, -1 when the record does not decode.
 */
ssize_t
store_rec_attrs(const void *rec, size_t len)
{
	return (attrs_find(rec, len));
}

/* Append the attrs map of len bytes at p to out, its names by id named. */
void
store_attrs_expand_map(struct store *st, MDB_txn *txn, const void *p,
    size_t len, msgpack_sbuffer *out)
{
	if (attrs_expand_at(st, txn, p, len, 0, out) == 1)
		return;
	memcpy(store_sbuf_room(out, len), p, len);
	out->size += len;
}

/* Room for need more bytes at the end of out: where they go. */
void *
store_sbuf_room(msgpack_sbuffer *out, size_t need)
{
	return (attr_room(out, need));
}

/*
 * Make *v, a stored record with its seq cut off, its wire form: expanded
 * into buf (cleared first) when it is stored by position or names attrs
 * by id.  v stays valid until buf is next used.  Returns 0, or -1 for a
 * record that does not decode (store_check reports it).
 */
int
store_rec_wire(struct store *st, MDB_txn *txn, MDB_val *v,
    msgpack_sbuffer *buf)
{
	int	rc;

	msgpack_sbuffer_clear(buf);
	if ((rc = store_rec_expand(st, txn, v->mv_data, v->mv_size,
	    buf)) == 1) {
		v->mv_data = buf->data;
		v->mv_size = buf->size;
	}
	return (rc < 0 ? -1 : 0);
}

/*
 * Hand fn each attr id of the stored record rec; the first non-zero
 * return of fn ends the walk and is returned.  -1 when rec is damaged.
 */
int
store_attrs_each_id(const void *data, size_t len,
    int (*fn)(void *, uint32_t), void *arg)
{
	const unsigned char	*rec = data;
	uint32_t		 count, i, id;
	size_t			 off, k;
	ssize_t			 at;
	int			 rc;

	if ((at = attrs_find(rec, len)) < 0)
		return (-1);
	if (at == 0)
		return (0);
	if (store_mp_map(rec + at, len - (size_t)at, &count, &off) != 0)
		return (-1);
	for (off += (size_t)at, i = 0; i < count; i++) {
		if (off >= len)
			return (-1);
		if ((k = mp_id(rec + off, len - off, &id)) != 0) {
			if ((rc = fn(arg, id)) != 0)
				return (rc);
		} else if ((k = mp_len(rec + off, len - off)) == 0)
			return (-1);
		off += k;
		if ((k = mp_len(rec + off, len - off)) == 0)
			return (-1);
		off += k;
	}
	return (0);
}
