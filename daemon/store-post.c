/*
 * The actor and type indexes as blocks of postings.  An event is listed
 * under each of its actors and under its type, with its class: a
 * posting, (start, id) and the event's span, in the list "name NUL
 * class", in (start, id) order.  Kept as an LMDB entry each, a posting
 * cost a 25-odd byte key and an 8-byte node header for a few bytes of
 * information, and the sweeps that put new postings after the others of
 * their list split pages in the middle (another list's keys follow on
 * the page), which left the pages half full: 240 bytes an event of the
 * two indexes at 1M events loaded in date order.  So a list's postings
 * are kept in blocks.  A block's key is its first posting's entry key
 * (name NUL class start id), and its value holds that posting's span,
 * then each following posting as its distance from the one before and
 * its span, in at most POST_BLOCK_BYTES:
 *
 *	span_len span { start_delta id_delta span_len span }...
 *
 * A start delta is a varint of twice the days when it is whole days, as
 * most are, else 1 and a varint of the seconds; an id delta is a varint
 * of the distance less one after the same start, else of the distance
 * zigzagged.
 *
 * Writers put and delete postings (store_post_run_put, from the
 * stages' sweeps, and store_post_del): the block that holds their place
 * is decoded, changed and written back, and split when it outgrows
 * POST_BLOCK_BYTES: as full as they go when the new postings came last,
 * as in a feed, so that the blocks before stay full, else in halves.  Readers walk the postings with an index cursor (struct
 * ixcur), which gives each as the entry it used to be (key name NUL
 * class start id, value its span), so that the stages, which keep an
 * entry per posting, and the time index read the same way.
 *
 * The indexes are in blocks once meta "postings" says so; a store of
 * format 6 or before has them built again from the records on opening
 * (store_post_open).
 *
 * The time index is kept in blocks too, as timeblocks: a posting of
 * each event in the list of its class, whose prefix is the class byte
 * alone (the key class start id of the time index's entries).  A store
 * of format 10 or before kept an entry an event in time, 64 bytes an
 * event of a 1M load: store_time_to_blocks moves them on opening.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"
#include "store-int.h"

#define DAY	86400

/* What "postings" in meta says of a store whose indexes are blocks. */
#define POST_LAYOUT	1

/* Whether dbi is kept in blocks of postings. */
int
store_ix_blocks(const struct store *st, MDB_dbi dbi)
{
	return (dbi == st->actor || dbi == st->type || dbi == st->timeblocks);
}

/* LMDB's order of keys (store_cmp's): bytes, then the shorter first. */
static int
key_cmp(const MDB_val *a, const MDB_val *b)
{
	size_t	n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
	int	c = memcmp(a->mv_data, b->mv_data, n);

	if (c != 0 || a->mv_size == b->mv_size)
		return (c);
	return (a->mv_size < b->mv_size ? -1 : 1);
}

static int
post_cmp(const struct post *a, const struct post *b)
{
	if (a->start != b->start)
		return (a->start < b->start ? -1 : 1);
	if (a->id != b->id)
		return (a->id < b->id ? -1 : 1);
	return (0);
}

static size_t
span_put(unsigned char *p, const struct post *a)
{
	p[0] = (unsigned char)a->slen;
	memcpy(p + 1, a->span, a->slen);
	return (1 + a->slen);
}

static int
span_get(const unsigned char **pp, const unsigned char *end, struct post *a)
{
	const unsigned char	*p = *pp;

	if (p == end || *p == 0 || *p > SKEY_SPAN_MAX || end - p - 1 < *p)
		return (-1);
	a->slen = *p;
	a->span = p + 1;
	*pp = p + 1 + a->slen;
	return (0);
}

/* Encode b, which follows a in its list; at most POST_ENC_MAX bytes. */
#define POST_ENC_MAX	(1 + 10 + 10 + 1 + SKEY_SPAN_MAX)
static size_t
post_put(unsigned char *p, const struct post *a, const struct post *b)
{
	uint64_t	d = (uint64_t)b->start - (uint64_t)a->start;
	uint64_t	di = b->id - a->id;
	size_t		n;

	if (d % DAY == 0)
		n = store_varint_put(p, d / DAY * 2);
	else {
		p[0] = 1;
		n = 1 + store_varint_put(p + 1, d);
	}
	if (d == 0)
		n += store_varint_put(p + n, di - 1);
	else
		n += store_varint_put(p + n, store_zigzag(di));
	return (n + span_put(p + n, b));
}

/*
 * Decode the block of key k (a list's prefix of plen bytes, start, id)
 * and value v into p, which has room for POST_BLOCK_MAX; the spans
 * point into v.  Returns how many it holds, 0 if it is malformed.
 */
static size_t
block_decode(const MDB_val *k, const MDB_val *v, size_t plen,
    struct post *p)
{
	const unsigned char	*b = v->mv_data, *end = b + v->mv_size;
	const unsigned char	*kp = k->mv_data;
	uint64_t		 d, x;
	size_t			 n;

	if (k->mv_size != plen + 16)
		return (0);
	p[0].start = skey_get_time(kp + plen);
	p[0].id = skey_get_be64(kp + plen + 8);
	if (span_get(&b, end, &p[0]) != 0)
		return (0);
	for (n = 1; b < end; n++) {
		if (n == POST_BLOCK_MAX || store_varint_get(&b, end, &d) != 0)
			return (0);
		if (d == 1) {
			if (store_varint_get(&b, end, &d) != 0 || d % DAY == 0)
				return (0);
		} else if (d & 1)
			return (0);
		else
			d = d / 2 * DAY;
		if (store_varint_get(&b, end, &x) != 0)
			return (0);
		/* In order: a later start, or a larger id after the same. */
		p[n].start = (int64_t)((uint64_t)p[n - 1].start + d);
		if (d == 0) {
			p[n].id = p[n - 1].id + x + 1;
			if (p[n].id <= p[n - 1].id)
				return (0);
		} else {
			p[n].id = p[n - 1].id + store_unzigzag(x);
			if (p[n].start <= p[n - 1].start)
				return (0);
		}
		if (span_get(&b, end, &p[n]) != 0)
			return (0);
	}
	return (n);
}

/*
 * Encode as many of p[0..n) as fit in one block into out, which has room
 * for POST_BLOCK_BYTES; *taken says how many (at least one).
 */
static size_t
block_encode(const struct post *p, size_t n, unsigned char *out,
    size_t *taken)
{
	unsigned char	one[POST_ENC_MAX];
	size_t		len, m, i;

	len = span_put(out, &p[0]);
	for (i = 1; i < n && i < POST_BLOCK_MAX; i++) {
		m = post_put(one, &p[i - 1], &p[i]);
		if (len + m > POST_BLOCK_BYTES)
			break;
		memcpy(out + len, one, m);
		len += m;
	}
	*taken = i;
	return (len);
}

/* Whether the block key bk belongs to the list of k (plen bytes). */
static int
in_list(const MDB_val *bk, const MDB_val *k, size_t plen)
{
	return (bk->mv_size == plen + 16 &&
	    memcmp(bk->mv_data, k->mv_data, plen) == 0);
}

/*
 * Place cur on the block of k's list that holds k's place: the last
 * whose key is at most k, else the list's first.  0 with the block in
 * bk and bv, MDB_NOTFOUND when the list has none, or an LMDB error.
 */
static int
block_find(MDB_cursor *cur, const MDB_val *k, size_t plen, MDB_val *bk,
    MDB_val *bv)
{
	int	rc, before;

	*bk = *k;
	rc = mdb_cursor_get(cur, bk, bv, MDB_SET_RANGE);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if (rc == 0 && key_cmp(bk, k) == 0)
		return (0);
	before = mdb_cursor_get(cur, bk, bv, rc == 0 ? MDB_PREV : MDB_LAST);
	if (before == 0 && in_list(bk, k, plen))
		return (0);
	if (before != 0 && before != MDB_NOTFOUND)
		return (before);
	if (rc == MDB_NOTFOUND)
		return (MDB_NOTFOUND);
	*bk = *k;
	if ((rc = mdb_cursor_get(cur, bk, bv, MDB_SET_RANGE)) != 0)
		return (rc);
	return (in_list(bk, k, plen) ? 0 : MDB_NOTFOUND);
}

/*
 * The postings being put into one block, gathered: a sweep moves each
 * list's new postings in order, mostly after the others, so that their
 * block is read once and written once for all of them.  The block is
 * read copied, since the puts that write it back may move what LMDB's
 * pages hold, and the postings put keep their spans in spans.
 */
#define POST_RUN_MAX	(2 * POST_BLOCK_MAX)
struct post_run {
	MDB_cursor	*cur;		/* on dbi, kept between blocks */
	MDB_dbi		dbi;
	int		open;
	int		at_end;		/* each posting put went last */
	unsigned char	key[ACTOR_KEY_MAX];	/* the block's, or klen 0 */
	size_t		klen;
	size_t		plen;			/* of its list's prefix */
	unsigned char	next[ACTOR_KEY_MAX];	/* the list's next block */
	size_t		nlen;			/* or 0: none */
	unsigned char	val[POST_BLOCK_BYTES];
	struct post	p[POST_RUN_MAX];
	size_t		n;
	unsigned char	spans[POST_RUN_MAX][SKEY_SPAN_MAX];
	size_t		nspans;
};

struct post_run *
store_post_run_new(void)
{
	struct post_run	*r = xmalloc(sizeof *r);

	r->cur = NULL;
	r->open = 0;
	return (r);
}

void
store_post_run_free(struct post_run *r)
{
	if (r->cur != NULL)
		mdb_cursor_close(r->cur);
	free(r);
}

/*
 * Open r on the block of k's list in dbi that holds k's place, and on
 * the list's next block.  A list without blocks gives an empty run.  0
 * or an LMDB error.
 */
static int
run_read(MDB_txn *txn, struct post_run *r, MDB_dbi dbi, const MDB_val *k)
{
	MDB_val		 bk, bv, ck, cv;
	int		 rc;

	/*
	 * One cursor for every block: LMDB looks for a key on the leaf the
	 * cursor stands on before it descends from the root.
	 */
	if (r->cur != NULL && r->dbi != dbi) {
		mdb_cursor_close(r->cur);
		r->cur = NULL;
	}
	if (r->cur == NULL && (rc = mdb_cursor_open(txn, dbi, &r->cur)) != 0) {
		r->cur = NULL;
		return (rc);
	}
	r->dbi = dbi;
	r->plen = k->mv_size - 16;
	r->klen = r->nlen = r->n = r->nspans = 0;
	r->at_end = 1;
	rc = block_find(r->cur, k, r->plen, &bk, &bv);
	if (rc == 0 && (bk.mv_size > sizeof r->key ||
	    bv.mv_size > sizeof r->val))
		rc = MDB_CORRUPTED;
	if (rc == 0) {
		memcpy(r->key, bk.mv_data, bk.mv_size);
		memcpy(r->val, bv.mv_data, bv.mv_size);
		r->klen = bk.mv_size;
		ck.mv_size = bk.mv_size;
		ck.mv_data = r->key;
		cv.mv_size = bv.mv_size;
		cv.mv_data = r->val;
		if ((r->n = block_decode(&ck, &cv, r->plen, r->p)) == 0)
			rc = MDB_CORRUPTED;
		else if ((rc = mdb_cursor_get(r->cur, &bk, &bv, MDB_NEXT)) ==
		    0 && in_list(&bk, k, r->plen)) {
			memcpy(r->next, bk.mv_data, bk.mv_size);
			r->nlen = bk.mv_size;
		}
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	r->open = 1;
	return (0);
}

/* Put p[0..n) as blocks of the list prefix, each as full as it goes. */
static int
blocks_put(MDB_cursor *cur, const unsigned char *prefix, size_t plen,
    const struct post *p, size_t n)
{
	unsigned char	key[ACTOR_KEY_MAX], val[POST_BLOCK_BYTES];
	MDB_val		k = { plen + 16, key }, v = { 0, val };
	size_t		i, taken;
	int		rc;

	memcpy(key, prefix, plen);
	for (i = 0; i < n; i += taken) {
		v.mv_size = block_encode(p + i, n - i, val, &taken);
		skey_time(key + plen, p[i].start);
		skey_be64(key + plen + 8, p[i].id);
		if ((rc = mdb_cursor_put(cur, &k, &v, 0)) != 0)
			return (rc);
	}
	return (0);
}

/*
 * Write r's postings back in place of the block read, under the key of
 * their first, and close it: split, when they do not fit, as full as
 * they go if every posting put went last (a feed), else in halves.
 */
static int
run_write(MDB_txn *txn, struct post_run *r)
{
	unsigned char	first[16], val[POST_BLOCK_BYTES];
	MDB_val		k = { r->klen, r->key };
	size_t		taken, half;
	int		rc;

	r->open = 0;
	skey_time(first, r->n > 0 ? r->p[0].start : 0);
	skey_be64(first + 8, r->n > 0 ? r->p[0].id : 0);
	if (r->klen != 0 && (r->n == 0 ||
	    memcmp(r->key + r->plen, first, 16) != 0) &&
	    (rc = mdb_del(txn, r->dbi, &k, NULL)) != 0)
		return (rc);
	if (r->n == 0)
		return (0);
	(void)block_encode(r->p, r->n, val, &taken);
	if (taken == r->n || r->at_end)
		return (blocks_put(r->cur, r->key, r->plen, r->p, r->n));
	half = r->n / 2;
	if ((rc = blocks_put(r->cur, r->key, r->plen, r->p, half)) != 0)
		return (rc);
	return (blocks_put(r->cur, r->key, r->plen, r->p + half,
	    r->n - half));
}

/* The posting of entry key k (a list's prefix, start, id) and span v. */
static int
post_of(const MDB_val *k, const MDB_val *v, struct post *p)
{
	const unsigned char	*kp = k->mv_data;

	if (k->mv_size < 17 || k->mv_size > ACTOR_KEY_MAX ||
	    v->mv_size == 0 || v->mv_size > SKEY_SPAN_MAX)
		return (-1);
	p->start = skey_get_time(kp + k->mv_size - 16);
	p->id = skey_get_be64(kp + k->mv_size - 8);
	p->span = v->mv_data;
	p->slen = v->mv_size;
	return (0);
}

/*
 * Whether the posting of entry key k goes into r's open block: one of
 * its list, not before its first, before the list's next block, with
 * room left.
 */
static int
run_holds(const struct post_run *r, MDB_dbi dbi, const MDB_val *k,
    const struct post *np)
{
	MDB_val	next = { r->nlen, (void *)r->next };

	return (r->open && r->dbi == dbi && k->mv_size == r->plen + 16 &&
	    r->n + 1 < POST_RUN_MAX && r->nspans < POST_RUN_MAX &&
	    memcmp(k->mv_data, r->key, r->plen) == 0 &&
	    (r->n == 0 || post_cmp(np, &r->p[0]) >= 0) &&
	    (r->nlen == 0 || key_cmp(k, &next) < 0));
}

/*
 * Put the posting of entry key k with span v into the blocks of dbi
 * (replacing its span if it is there), through r: it is written by the
 * put that opens another block, or by store_post_run_end.  0 or an LMDB
 * error.
 */
int
store_post_run_put(struct wctx *w, struct post_run *r, MDB_dbi dbi,
    const MDB_val *k, const MDB_val *v)
{
	struct post	np;
	size_t		i;
	int		rc, c = 1;

	if (post_of(k, v, &np) != 0)
		return (EINVAL);
	if (!run_holds(r, dbi, k, &np)) {
		if ((r->open && (rc = run_write(w->txn, r)) != 0) ||
		    (rc = run_read(w->txn, r, dbi, k)) != 0)
			return (rc);
		/* A list without blocks: its prefix is k's. */
		memcpy(r->key, k->mv_data, r->plen);
	}
	memcpy(r->spans[r->nspans], v->mv_data, v->mv_size);
	np.span = r->spans[r->nspans++];
	for (i = r->n; i > 0 && (c = post_cmp(&r->p[i - 1], &np)) > 0; i--)
		;
	if (i > 0 && c == 0) {
		r->p[i - 1] = np;
		r->at_end = r->at_end && i == r->n;
		return (0);
	}
	memmove(&r->p[i + 1], &r->p[i], (r->n - i) * sizeof r->p[0]);
	r->p[i] = np;
	r->n++;
	r->at_end = r->at_end && i == r->n - 1;
	return (0);
}

/* Write what r holds, if anything.  0 or an LMDB error. */
int
store_post_run_end(struct wctx *w, struct post_run *r)
{
	return (r->open ? run_write(w->txn, r) : 0);
}

/*
 * Remove the posting of entry key k from the blocks of dbi: 0,
 * MDB_NOTFOUND when it is not there, or an LMDB error.
 */
int
store_post_del(struct wctx *w, MDB_dbi dbi, const MDB_val *k)
{
	struct post_run	*r = store_post_run_new();
	struct post	 p;
	MDB_val		 none = { 1, (void *)"" };
	size_t		 i;
	int		 rc;

	if (post_of(k, &none, &p) != 0)
		rc = EINVAL;
	else if ((rc = run_read(w->txn, r, dbi, k)) == 0) {
		for (i = 0; i < r->n && post_cmp(&r->p[i], &p) != 0; i++)
			;
		if (i == r->n)
			rc = MDB_NOTFOUND;
		else {
			memmove(&r->p[i], &r->p[i + 1],
			    (r->n - i - 1) * sizeof r->p[0]);
			r->n--;
			r->at_end = 0;
			rc = run_write(w->txn, r);
		}
	}
	store_post_run_free(r);
	return (rc);
}

/*
 * The value of entry key k in dbi: for an index in blocks, the span of
 * the posting k names.  0, MDB_NOTFOUND or an LMDB error.
 */
int
store_ix_get(struct store *st, MDB_txn *txn, MDB_dbi dbi, const MDB_val *k,
    MDB_val *v)
{
	struct post	 p[POST_BLOCK_MAX], want;
	MDB_cursor	*cur;
	MDB_val		 bk, bv, none = { 1, (void *)"" };
	size_t		 n, i;
	int		 rc;

	if (!store_ix_blocks(st, dbi))
		return (mdb_get(txn, dbi, (MDB_val *)k, v));
	if (post_of(k, &none, &want) != 0)
		return (MDB_NOTFOUND);
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return (rc);
	rc = block_find(cur, k, k->mv_size - 16, &bk, &bv);
	mdb_cursor_close(cur);
	if (rc != 0)
		return (rc);
	if ((n = block_decode(&bk, &bv, k->mv_size - 16, p)) == 0)
		return (MDB_CORRUPTED);
	for (i = 0; i < n; i++) {
		if (post_cmp(&p[i], &want) == 0) {
			v->mv_data = (void *)p[i].span;
			v->mv_size = p[i].slen;
			return (0);
		}
	}
	return (MDB_NOTFOUND);
}

/* Index cursors: an LMDB cursor, which for blocks walks their postings. */
int
store_ixcur_open(struct store *st, MDB_txn *txn, MDB_dbi dbi,
    struct ixcur *c)
{
	int	rc;

	memset(c, 0, sizeof *c);
	if ((rc = mdb_cursor_open(txn, dbi, &c->cur)) != 0) {
		c->cur = NULL;
		return (rc);
	}
	if (store_ix_blocks(st, dbi))
		c->p = xmalloc(POST_BLOCK_MAX * sizeof *c->p);
	return (0);
}

void
store_ixcur_close(struct ixcur *c)
{
	if (c->cur != NULL)
		mdb_cursor_close(c->cur);
	free(c->p);
	memset(c, 0, sizeof *c);
}

static int
ixcur_load(struct ixcur *c, const MDB_val *bk, const MDB_val *bv)
{
	c->n = c->i = 0;
	if (bk->mv_size < 17 || bk->mv_size > sizeof c->key)
		return (MDB_CORRUPTED);
	c->plen = bk->mv_size - 16;
	if ((c->n = block_decode(bk, bv, c->plen, c->p)) == 0)
		return (MDB_CORRUPTED);
	memcpy(c->key, bk->mv_data, c->plen);
	return (0);
}

/* The entry of the posting the cursor stands on. */
static void
ixcur_entry(struct ixcur *c, MDB_val *k, MDB_val *v)
{
	skey_time(c->key + c->plen, c->p[c->i].start);
	skey_be64(c->key + c->plen + 8, c->p[c->i].id);
	k->mv_data = c->key;
	k->mv_size = c->plen + 16;
	v->mv_data = (void *)c->p[c->i].span;
	v->mv_size = c->p[c->i].slen;
}

/*
 * Move to the block op says and stand on its first or last posting.  A
 * cursor that could not move has no block loaded (ixcur_holds).
 */
static int
ixcur_block(struct ixcur *c, MDB_cursor_op op, int last)
{
	MDB_val	bk, bv;
	int	rc;

	if ((rc = mdb_cursor_get(c->cur, &bk, &bv, op)) != 0 ||
	    (rc = ixcur_load(c, &bk, &bv)) != 0) {
		c->n = c->i = 0;
		return (rc);
	}
	c->i = last ? c->n - 1 : 0;
	return (0);
}

/*
 * In the block loaded, the first posting whose entry is at least k (n
 * when none is); its entries are in order.
 */
static size_t
ixcur_search(struct ixcur *c, const MDB_val *k)
{
	MDB_val	ek, ev;
	size_t	lo = 0, hi = c->n;

	while (lo < hi) {
		c->i = lo + (hi - lo) / 2;
		ixcur_entry(c, &ek, &ev);
		if (key_cmp(&ek, k) < 0)
			lo = c->i + 1;
		else
			hi = c->i;
	}
	return (lo);
}

/*
 * Whether k lies within the block loaded, from its first posting's
 * entry to its last's: a walk that seeks again and again near where it
 * was (the windows of an overlap histogram) reads the block once.
 */
static int
ixcur_holds(struct ixcur *c, const MDB_val *k)
{
	MDB_val	ek, ev;

	if (c->n == 0 || k->mv_size != c->plen + 16 ||
	    memcmp(k->mv_data, c->key, c->plen) != 0)
		return (0);
	c->i = 0;
	ixcur_entry(c, &ek, &ev);
	if (key_cmp(&ek, k) > 0)
		return (0);
	c->i = c->n - 1;
	ixcur_entry(c, &ek, &ev);
	return (key_cmp(k, &ek) <= 0);
}

/* Stand on the first posting whose entry is at least k. */
static int
ixcur_set_range(struct ixcur *c, const MDB_val *k)
{
	MDB_val	bk = *k, bv;
	int	rc, before;

	if (ixcur_holds(c, k)) {
		c->i = ixcur_search(c, k);
		return (0);
	}
	rc = mdb_cursor_get(c->cur, &bk, &bv, MDB_SET_RANGE);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if (rc == 0 && key_cmp(&bk, k) == 0)
		return (ixcur_load(c, &bk, &bv));
	/* The block before may hold postings past k. */
	before = ixcur_block(c, rc == 0 ? MDB_PREV : MDB_LAST, 0);
	if (before == 0) {
		if ((c->i = ixcur_search(c, k)) < c->n)
			return (0);
		c->i = c->n - 1;
		return (rc == 0 ? ixcur_block(c, MDB_NEXT, 0) : MDB_NOTFOUND);
	}
	if (before != MDB_NOTFOUND || rc == MDB_NOTFOUND)
		return (before);
	/* k is before the first block. */
	return (ixcur_block(c, MDB_FIRST, 0));
}

/*
 * Stand on the last entry at most k (a walk backwards starts there): 0
 * with it in k and v, MDB_NOTFOUND when none is, or an LMDB error.  In
 * blocks, that is in the last block whose key is at most k, read once.
 */
int
store_ixcur_seek_last(struct ixcur *c, MDB_val *k, MDB_val *v)
{
	MDB_val	seek = *k, bk = *k, bv;
	int	rc;

	if (c->p == NULL) {
		rc = mdb_cursor_get(c->cur, k, v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND)
			return (mdb_cursor_get(c->cur, k, v, MDB_LAST));
		if (rc == 0 && key_cmp(k, &seek) > 0)
			return (mdb_cursor_get(c->cur, k, v, MDB_PREV));
		return (rc);
	}
	rc = mdb_cursor_get(c->cur, &bk, &bv, MDB_SET_RANGE);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if (rc != 0 || key_cmp(&bk, &seek) != 0)
		rc = ixcur_block(c, rc == 0 ? MDB_PREV : MDB_LAST, 0);
	else
		rc = ixcur_load(c, &bk, &bv);
	if (rc != 0)
		return (rc);
	/* The block's first entry is at most k, and k's place is past it. */
	c->i = ixcur_search(c, &seek);
	if (c->i < c->n) {
		ixcur_entry(c, k, v);
		if (key_cmp(k, &seek) == 0)
			return (0);
	}
	c->i--;
	ixcur_entry(c, k, v);
	return (0);
}

/*
 * As mdb_cursor_get for the ops the index walks use: MDB_FIRST,
 * MDB_LAST, MDB_NEXT, MDB_PREV, MDB_SET_RANGE, MDB_GET_CURRENT.  For
 * an index in blocks, k and v are the posting's entry, which stay valid
 * until the cursor moves.
 */
int
store_ixcur_get(struct ixcur *c, MDB_val *k, MDB_val *v, MDB_cursor_op op)
{
	int	rc;

	if (c->p == NULL)
		return (mdb_cursor_get(c->cur, k, v, op));
	switch (op) {
	case MDB_FIRST:
		rc = ixcur_block(c, MDB_FIRST, 0);
		break;
	case MDB_LAST:
		rc = ixcur_block(c, MDB_LAST, 1);
		break;
	case MDB_NEXT:
		if (c->n > 0 && c->i + 1 < c->n) {
			c->i++;
			rc = 0;
		} else
			rc = ixcur_block(c, MDB_NEXT, 0);
		break;
	case MDB_PREV:
		if (c->n > 0 && c->i > 0) {
			c->i--;
			rc = 0;
		} else
			rc = ixcur_block(c, MDB_PREV, 1);
		break;
	case MDB_SET_RANGE:
		rc = ixcur_set_range(c, k);
		break;
	case MDB_GET_CURRENT:
		rc = c->n > 0 ? 0 : EINVAL;
		break;
	default:
		return (EINVAL);
	}
	if (rc == 0)
		ixcur_entry(c, k, v);
	return (rc);
}

/*
 * Put the postings of ev under its actors (actors set) or its type
 * through r, and count them, as a build does: straight into the blocks.
 */
int
store_post_build_put(struct wctx *w, struct post_run *r,
    const struct event *ev, int actors)
{
	struct store	*st = w->st;
	unsigned char	 key[ACTOR_KEY_MAX], span[SKEY_SPAN_MAX];
	MDB_val		 k = { 0, key }, v = { 0, span };
	uint32_t	 i;
	int		 class = skey_class(&ev->span), rc;

	v.mv_size = skey_span(span, &ev->span);
	for (i = 0; actors && i < ev->nactors; i++) {
		if (store_actor_seen(ev, i))
			continue;
		k.mv_size = skey_actor_key(key, ev->actors[i].name,
		    strlen(ev->actors[i].name), class, ev->span.lo, ev->id);
		if ((rc = store_post_run_put(w, r, st->actor, &k, &v)) != 0 ||
		    (rc = store_name_add(w, st->actors, ev->actors[i].name, 1,
		    class)) != 0)
			return (rc);
	}
	if (actors || ev->type == NULL || *ev->type == '\0')
		return (0);
	k.mv_size = skey_actor_key(key, ev->type, strlen(ev->type), class,
	    ev->span.lo, ev->id);
	if ((rc = store_post_run_put(w, r, st->type, &k, &v)) != 0)
		return (rc);
	return (store_name_add(w, st->types, ev->type, 1, class));
}

/* What the build's walk needs: the write context, a run an index. */
struct post_build {
	struct wctx	 w;
	struct post_run	*actor, *type;
	size_t		 n;
};

static int
post_build_one(void *arg, const struct event *ev)
{
	struct post_build	*b = arg;
	int			 rc;

	b->n++;
	if ((rc = store_post_build_put(&b->w, b->actor, ev, 1)) != 0)
		return (rc);
	return (store_post_build_put(&b->w, b->type, ev, 0));
}

/*
 * Index the actors and types of every record into emptied indexes (and
 * their stages and counts): the one-time build for a store whose indexes
 * are not in blocks.  The postings go straight to the blocks, in the
 * records' order of start, so that each list grows at its end.
 */
static int
post_build(struct store *st, MDB_txn *txn)
{
	struct post_build	b;
	const MDB_dbi		drop[] = { st->actor, st->actor_new,
				    st->actors, st->type, st->type_new,
				    st->types };
	size_t			i;
	int			rc;

	for (i = 0; i < sizeof drop / sizeof drop[0]; i++)
		if ((rc = mdb_drop(txn, drop[i], 0)) != 0)
			return (rc);
	memset(&b, 0, sizeof b);
	b.w.st = st;
	b.w.txn = txn;
	b.actor = store_post_run_new();
	b.type = store_post_run_new();
	if ((rc = store_records_each(st, txn, post_build_one, &b)) == 0 &&
	    (rc = store_post_run_end(&b.w, b.actor)) == 0)
		rc = store_post_run_end(&b.w, b.type);
	store_post_run_free(b.actor);
	store_post_run_free(b.type);
	if (rc != 0)
		return (rc);
	if (b.n > 0)
		log_notice("indexed the actors and types of %zu stored events",
		    b.n);
	return (store_meta_put(txn, st->meta, "postings", POST_LAYOUT));
}

/*
 * On opening: build the actor and type indexes in blocks unless they
 * are.  Returns 1 when it built them (the type index is then complete
 * up to the store's last change), 0 when they were, or an LMDB error.
 */
int
store_post_open(struct store *st, MDB_txn *txn)
{
	int	rc;

	if (store_meta_get(txn, st->meta, "postings", 0) == POST_LAYOUT)
		return (0);
	if ((rc = post_build(st, txn)) != 0)
		return (rc);
	return (1);
}

/*
 * Move the entries of time, one an event (format 10 and before), into
 * timeblocks, in txn, and drop time: *n says how many.  time is read in
 * key order, so each class's list grows at its end and its blocks are
 * as full as they go.  0 or an LMDB error (MDB_MAP_FULL: grow and call
 * again).
 */
int
store_time_to_blocks(MDB_txn *txn, struct store *st, size_t *n)
{
	struct post_run	*r;
	struct wctx	 w;
	MDB_cursor	*cur;
	MDB_dbi		 time;
	MDB_val		 k, v;
	int		 rc, end;

	*n = 0;
	if ((rc = mdb_dbi_open(txn, "time", 0, &time)) != 0)
		return (rc == MDB_NOTFOUND ? 0 : rc);
	if ((rc = mdb_cursor_open(txn, time, &cur)) != 0)
		return (rc);
	memset(&w, 0, sizeof w);
	w.st = st;
	w.txn = txn;
	r = store_post_run_new();
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != SKEY_TIME_LEN) {
			rc = MDB_CORRUPTED;
			break;
		}
		if ((rc = store_post_run_put(&w, r, st->timeblocks, &k,
		    &v)) != 0)
			break;
		(*n)++;
	}
	mdb_cursor_close(cur);
	end = store_post_run_end(&w, r);
	store_post_run_free(r);
	if (rc != MDB_NOTFOUND)
		return (rc == EINVAL ? MDB_CORRUPTED : rc);
	if (end != 0)
		return (end);
	return (mdb_drop(txn, time, 1));
}
