/*
 * The word index: the events whose title or text hold a word, for the
 * `text` filter (words.c splits and folds; proto/PROTOCOL.md, "Text
 * search", has the rules).
 *
 *	text	  word NUL class start id -> block	(sealed)
 *	text_tail word NUL class -> the list's last block, still growing
 *	text_new  batch -> entries: start id class words	(the stage)
 *	words	  word -> postings in text, mask of classes used
 *
 * A posting is an event's (start, id) in the list of one word and class,
 * in the order queries return events.  Storing each posting as an LMDB
 * entry of its own costs a key of 20-odd bytes and a node header for a
 * few bytes of information, and puts a title's ten words at ten random
 * places of a large tree.  So the postings are kept in blocks: one value
 * holds the postings of one word and class that follow the first, which
 * is in the key, as varints of their distance from the one before (days
 * when the distance is whole days, as most are), up to TEXT_BLOCK_BYTES.
 * A block that overflows splits in two halves.  New postings after the
 * others of their list (a feed in date order) go to its tail, kept in a
 * small database of its own: a sweep rewrites the tails there, a few to
 * a page, and puts a block into the large text only when a tail fills
 * and is sealed, instead of rewriting a page of text for every list.
 *
 * A new event is staged as an entry holding its words, and the entries
 * of one commit go into the stage as one value (a batch), one put at
 * the end.  When the stage holds more than stage_text events, a commit
 * moves all of them (text_sweep_all): their postings, grouped by word,
 * are merged into each list's blocks at once, so that a word's last
 * block is written once per sweep rather than once per commit.  A query
 * reads the whole stage into memory beside the blocks, which is why the
 * stage stays small.  The writer keeps the stage in memory too, its
 * words numbered by list as they were staged (struct text_mirror), so
 * that a sweep need not read and number them again.
 *
 * Deletes and updates remove the event's postings: its entry in the
 * stage, or from the block that holds each, so the index never offers
 * an event that no longer holds the word: a query needs no record to
 * check its words, and only reads the record for a phrase (positions are not
 * indexed) or for filters the indexes cannot answer.
 *
 * A query takes each word's postings over the classes (from the start
 * minus the class's reach, as the time index) and the stage in (start,
 * id) order, and intersects the words starting from the one with the
 * fewest postings: every other word seeks to its candidate, and where
 * one is past it the candidate moves there.  A prefix ("negotiat*") is
 * the union of the words it begins.
 *
 * Each commit that changes the stage advances meta "stage_serial", so
 * that the stage's postings of the words queries asked for can be kept
 * between queries while it stays the same (struct stage_cache).
 *
 * The index is complete up to the change sequence number in meta
 * "texted_to"; a store without it, without meta "text_tails" (an index
 * from before the tails), or whose meta "text_fold" is not this
 * annalsd's folding rules (WORDS_FOLD), is indexed when opened.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"
#include "store-int.h"
#include "words.h"

/*
 * A block's encoded postings (after its first) stay under this.  A value
 * over LMDB's node maximum (about 2 KB with 4 KB pages) goes to overflow
 * pages of its own, in whole pages, and a page of 4096 bytes holds 4080
 * after its header: so a full block, or a full tail with its TAIL_HEAD
 * bytes (32), takes one overflow page nearly whole, and the leaves of
 * text hold only keys and page numbers.
 */
#define TEXT_BLOCK_BYTES	(4096 - 16 - 32)
/* Words a prefix may stand for. */
#define TEXT_PREFIX_WORDS	256
#define TEXT_KEY_MAX		(WORDS_MAX_BYTES + 1 + SKEY_TIME_LEN)
#define DAY			86400

struct posting {
	int64_t		start;
	uint64_t	id;
};

static int
posting_cmp(const struct posting *a, const struct posting *b)
{
	if (a->start != b->start)
		return (a->start < b->start ? -1 : 1);
	if (a->id != b->id)
		return (a->id < b->id ? -1 : 1);
	return (0);
}

/*
 * Encode posting b after a: the start's distance d as 2 * d / DAY when
 * whole days, else 2 * d + 1 (1 then the plain distance when that would
 * overflow); the id as its distance less one after the same start, else
 * zigzagged.  At most 21 bytes.
 */
static inline size_t
posting_put(unsigned char *p, const struct posting *a,
    const struct posting *b)
{
	uint64_t	d = (uint64_t)b->start - (uint64_t)a->start, x;
	size_t		n;

	/* The same start and a near id, as a feed's events mostly are. */
	if (d == 0 && b->id - a->id - 1 < 0x80) {
		p[0] = 0;
		p[1] = (unsigned char)(b->id - a->id - 1);
		return (2);
	}
	if (d % DAY == 0)
		n = store_varint_put(p, d / DAY << 1);
	else if (d < UINT64_C(1) << 62)
		n = store_varint_put(p, d << 1 | 1);
	else {
		n = store_varint_put(p, 1);
		n += store_varint_put(p + n, d);
	}
	if (d == 0)
		return (n + store_varint_put(p + n, b->id - a->id - 1));
	x = b->id - a->id;
	return (n + store_varint_put(p + n, store_zigzag(x)));
}

/* Decode the postings of a block whose first is p[0] into p[1..]. */
static int
block_decode(const unsigned char *v, size_t len, struct posting **p,
    size_t *cap, size_t *n)
{
	const unsigned char	*end = v + len;
	uint64_t		 d, x;

	*n = 1;
	while (v < end) {
		if (store_varint_get(&v, end, &d) != 0)
			return (-1);
		if (d == 1) {
			if (store_varint_get(&v, end, &d) != 0)
				return (-1);
		} else
			d = d & 1 ? d >> 1 : (d >> 1) * DAY;
		if (store_varint_get(&v, end, &x) != 0)
			return (-1);
		if (*n == *cap) {
			*cap *= 2;
			*p = xreallocarray(*p, *cap, sizeof **p);
		}
		(*p)[*n].start = (int64_t)((uint64_t)(*p)[*n - 1].start + d);
		(*p)[*n].id = d == 0 ? (*p)[*n - 1].id + x + 1 :
		    (*p)[*n - 1].id + store_unzigzag(x);
		(*n)++;
	}
	return (0);
}

/* posting_cmp for qsort. */
static int
posting_qcmp(const void *a, const void *b)
{
	return (posting_cmp(a, b));
}

/* A posting as 16 bytes in key order: start, id. */
static void
posting_enc(unsigned char *e, const struct posting *p)
{
	skey_time(e, p->start);
	skey_be64(e + 8, p->id);
}

static void
posting_dec(const unsigned char *e, struct posting *p)
{
	p->start = skey_get_time(e);
	p->id = skey_get_be64(e + 8);
}

/* The key of posting p of a word and class (prefix: word NUL class). */
static size_t
text_key(unsigned char *key, const unsigned char *prefix, size_t plen,
    const struct posting *p)
{
	memcpy(key, prefix, plen);
	posting_enc(key + plen, p);
	return (plen + 16);
}

static void
key_posting(const MDB_val *k, struct posting *p)
{
	posting_dec((const unsigned char *)k->mv_data + k->mv_size - 16, p);
}

/* Whether k is a key of the list prefix (plen bytes). */
static int
key_in(const MDB_val *k, const unsigned char *prefix, size_t plen)
{
	return (k->mv_size == plen + 16 &&
	    memcmp(k->mv_data, prefix, plen) == 0);
}

/*
 * Write postings p[0..n) of a list as blocks: full ones when append,
 * else halves of what does not fit in one.
 */
static int
blocks_put(struct wctx *w, const unsigned char *prefix, size_t plen,
    const struct posting *p, size_t n, int append)
{
	unsigned char	 key[TEXT_KEY_MAX], *buf;
	MDB_val		 k, v;
	size_t		 i, first, len, total = 0, target;
	int		 rc = 0;

	buf = xmalloc(TEXT_BLOCK_BYTES + 32);
	target = TEXT_BLOCK_BYTES;
	if (!append) {
		for (i = 1; i < n; i++)
			total += posting_put(buf, &p[i - 1], &p[i]);
		if (total > TEXT_BLOCK_BYTES)
			target = total / ((total + TEXT_BLOCK_BYTES - 1) /
			    TEXT_BLOCK_BYTES) + 24;
		if (target > TEXT_BLOCK_BYTES)
			target = TEXT_BLOCK_BYTES;
	}
	for (first = 0; first < n && rc == 0; first = i) {
		len = 0;
		for (i = first + 1; i < n; i++) {
			if (len + 21 > target)
				break;
			len += posting_put(buf + len, &p[i - 1], &p[i]);
		}
		k.mv_data = key;
		k.mv_size = text_key(key, prefix, plen, &p[first]);
		v.mv_data = buf;
		v.mv_size = len;
		rc = mdb_put(w->txn, w->st->text, &k, &v, 0);
	}
	free(buf);
	return (rc);
}

/*
 * Position cur on the block of a list that would hold posting at: the
 * last whose first posting is not after it, else the list's first.
 * Returns 0 with k, v set, MDB_NOTFOUND when the list is empty.
 */
static int
block_find(MDB_cursor *cur, const unsigned char *prefix, size_t plen,
    const struct posting *at, MDB_val *k, MDB_val *v)
{
	unsigned char	key[TEXT_KEY_MAX];
	int		rc, rc2;

	k->mv_data = key;
	k->mv_size = text_key(key, prefix, plen, at);
	rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc == 0 && k->mv_size == plen + 16 &&
	    memcmp(k->mv_data, key, plen + 16) == 0)
		return (0);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	rc2 = mdb_cursor_get(cur, k, v, rc == 0 ? MDB_PREV : MDB_LAST);
	if (rc2 == 0 && key_in(k, prefix, plen))
		return (0);
	if (rc2 != 0 && rc2 != MDB_NOTFOUND)
		return (rc2);
	if (rc != 0)
		return (MDB_NOTFOUND);
	/* None before it: the list's first block, if it has one. */
	k->mv_data = key;
	k->mv_size = text_key(key, prefix, plen, at);
	rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc == 0 && !key_in(k, prefix, plen))
		rc = MDB_NOTFOUND;
	return (rc);
}

/* Postings of one block being rewritten. */
struct block_buf {
	struct posting	*p;
	size_t		 n, cap;
};

/* Read the block cur stands on (k, v) into b; a copy, as puts follow. */
static int
block_read(const MDB_val *k, const MDB_val *v, struct block_buf *b)
{
	if (b->cap == 0) {
		b->cap = 256;
		b->p = xreallocarray(NULL, b->cap, sizeof *b->p);
	}
	key_posting(k, &b->p[0]);
	return (block_decode(v->mv_data, v->mv_size, &b->p, &b->cap, &b->n));
}

/*
 * Postings p[0..n) that come after the last of the block cur stands on
 * (k, v; decoded in b), as a feed's do: their encoding goes after its
 * bytes, up to a block's size, and the rest that come before the list's
 * next block into full blocks, so the postings already there are neither
 * decoded again nor rewritten one by one.  *used says how many went.
 */
static int
block_append(struct wctx *w, MDB_cursor *cur, const unsigned char *prefix,
    size_t plen, const struct block_buf *b, const MDB_val *v,
    const struct posting *p, size_t n, size_t *used)
{
	unsigned char	 buf[TEXT_BLOCK_BYTES + 32], key[TEXT_KEY_MAX];
	const struct posting *prev = &b->p[b->n - 1];
	struct posting	 next;
	MDB_val		 nk, nv;
	size_t		 len = v->mv_size, c = 0, j = n;
	int		 rc;

	if (len + 21 <= TEXT_BLOCK_BYTES)
		memcpy(buf, v->mv_data, len);
	rc = mdb_cursor_get(cur, &nk, &nv, MDB_NEXT);
	if (rc == 0 && key_in(&nk, prefix, plen)) {
		key_posting(&nk, &next);
		for (j = 0; j < n && posting_cmp(&p[j], &next) < 0; j++)
			;
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if (j == 0)
		return (MDB_CORRUPTED);		/* block_find chose wrong */
	for (; c < j && len + 21 <= TEXT_BLOCK_BYTES; prev = &p[c++])
		len += posting_put(buf + len, prev, &p[c]);
	rc = 0;
	if (c > 0) {
		nk.mv_data = key;
		nk.mv_size = text_key(key, prefix, plen, &b->p[0]);
		nv.mv_data = buf;
		nv.mv_size = len;
		rc = mdb_put(w->txn, w->st->text, &nk, &nv, 0);
	}
	if (rc == 0 && c < j)
		rc = blocks_put(w, prefix, plen, p + c, j - c, 1);
	*used = j;
	return (rc);
}

/*
 * Merge the sorted postings a[0..na) and b[0..nb) into *m (of *mcap,
 * grown to fit), each once; returns how many there are.
 */
static size_t
postings_merge(const struct posting *a, size_t na, const struct posting *b,
    size_t nb, struct posting **m, size_t *mcap)
{
	size_t	i = 0, j = 0, n = 0;

	if (na + nb > *mcap) {
		*mcap = na + nb;
		*m = xreallocarray(*m, *mcap, sizeof **m);
	}
	while (i < na || j < nb) {
		if (j == nb || (i < na && posting_cmp(&a[i], &b[j]) < 0))
			(*m)[n++] = a[i++];
		else if (i < na && posting_cmp(&a[i], &b[j]) == 0)
			j++;	/* there already */
		else
			(*m)[n++] = b[j++];
	}
	return (n);
}

/*
 * Merge the sorted postings p[0..n) of one list into its blocks: each
 * goes to the block that would hold it (block_find), which is rewritten
 * once with all of them that fall before the next block.
 */
static int
merge_run(struct wctx *w, const unsigned char *prefix, size_t plen,
    const struct posting *p, size_t n)
{
	struct block_buf	 b = { NULL, 0, 0 };
	struct posting		*m = NULL, next;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	size_t			 i = 0, j = 0, mcap = 0, nm;
	int			 rc, has_next, append;

	if ((rc = mdb_cursor_open(w->txn, w->st->text, &cur)) != 0)
		return (rc);
	while (i < n && rc == 0) {
		rc = block_find(cur, prefix, plen, &p[i], &k, &v);
		b.n = 0;
		if (rc == 0 && (rc = block_read(&k, &v, &b)) != 0)
			rc = MDB_CORRUPTED;
		if (rc == MDB_NOTFOUND)
			rc = 0;
		if (rc != 0)
			break;
		if (b.n > 0 && posting_cmp(&p[i], &b.p[b.n - 1]) > 0) {
			rc = block_append(w, cur, prefix, plen, &b, &v, p + i,
			    n - i, &j);
			i += j;
			continue;
		}
		has_next = 0;
		if (b.n > 0) {
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				break;
			/* After a delete the cursor stands on the next. */
			rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
			if (rc == 0 && key_in(&k, prefix, plen)) {
				key_posting(&k, &next);
				has_next = 1;
			}
			rc = 0;
		}
		for (j = i; j < n && (!has_next ||
		    posting_cmp(&p[j], &next) < 0); j++)
			;
		append = b.n == 0;
		nm = postings_merge(b.p, b.n, p + i, j - i, &m, &mcap);
		rc = blocks_put(w, prefix, plen, m, nm, append);
		i = j;
	}
	mdb_cursor_close(cur);
	free(b.p);
	free(m);
	return (rc);
}

/*
 * The tail of a list, in text_tail: the block its new postings go to,
 * which stays there until it fills and is sealed into text.  Its value
 * is its first and last postings (16 bytes each, as in keys), then those
 * after the first encoded as in a block, so that postings after the last
 * are appended without decoding it.  Every posting of a tail comes after
 * every posting of the list's sealed blocks, and a list with postings
 * has a tail.
 */
#define TAIL_HEAD	32
_Static_assert(TAIL_HEAD + TEXT_BLOCK_BYTES <= 4096 - 16,
    "a full tail takes more than one overflow page");

struct tail_buf {
	struct posting	first, last;
	size_t		len;		/* of the encoded postings */
	int		has;		/* 0: empty */
	unsigned char	buf[TAIL_HEAD + TEXT_BLOCK_BYTES + 32];
};

/* Read the tail of list k into tb: 0, MDB_NOTFOUND or an error. */
static int
tail_get(struct wctx *w, MDB_val *k, struct tail_buf *tb)
{
	MDB_val	v;
	int	rc;

	tb->has = 0;
	tb->len = 0;
	if ((rc = mdb_get(w->txn, w->st->text_tail, k, &v)) != 0)
		return (rc);
	if (v.mv_size < TAIL_HEAD || v.mv_size > sizeof tb->buf)
		return (MDB_CORRUPTED);
	memcpy(tb->buf, v.mv_data, v.mv_size);
	posting_dec(tb->buf, &tb->first);
	posting_dec(tb->buf + 16, &tb->last);
	tb->len = v.mv_size - TAIL_HEAD;
	tb->has = 1;
	return (0);
}

/* The postings of tail tb into b. */
static int
tail_decode(const struct tail_buf *tb, struct block_buf *b)
{
	if (b->cap == 0) {
		b->cap = 256;
		b->p = xreallocarray(NULL, b->cap, sizeof *b->p);
	}
	b->p[0] = tb->first;
	if (block_decode(tb->buf + TAIL_HEAD, tb->len, &b->p, &b->cap,
	    &b->n) != 0)
		return (MDB_CORRUPTED);
	return (0);
}

/*
 * Add the sorted postings p[0..n), all after the last of tail tb, to it;
 * each time it fills, its postings go to text as a sealed block, put
 * once, and the tail starts again.
 */
static int
tail_fill(struct wctx *w, const unsigned char *prefix, size_t plen,
    struct tail_buf *tb, const struct posting *p, size_t n)
{
	unsigned char	 key[TEXT_KEY_MAX], *buf = tb->buf + TAIL_HEAD;
	struct posting	 last;
	MDB_val		 k, v;
	size_t		 i = 0, len;
	int		 rc;

	if (n == 0)
		return (0);
	if (!tb->has) {
		tb->first = tb->last = p[i++];
		tb->len = 0;
		tb->has = 1;
	}
	/* In locals: a sweep appends most of its postings here. */
	last = tb->last;
	for (len = tb->len; i < n; last = p[i++]) {
		if (len + 21 <= TEXT_BLOCK_BYTES) {
			len += posting_put(buf + len, &last, &p[i]);
			continue;
		}
		k.mv_data = key;
		k.mv_size = text_key(key, prefix, plen, &tb->first);
		v.mv_data = buf;
		v.mv_size = len;
		if ((rc = mdb_put(w->txn, w->st->text, &k, &v, 0)) != 0)
			return (rc);
		tb->first = p[i];
		len = 0;
	}
	tb->len = len;
	tb->last = last;
	return (0);
}

/* Store tail tb of list k, or delete it when empty. */
static int
tail_put(struct wctx *w, MDB_val *k, struct tail_buf *tb)
{
	MDB_val	v;
	int	rc;

	if (!tb->has) {
		rc = mdb_del(w->txn, w->st->text_tail, k, NULL);
		return (rc == MDB_NOTFOUND ? 0 : rc);
	}
	posting_enc(tb->buf, &tb->first);
	posting_enc(tb->buf + 16, &tb->last);
	v.mv_data = tb->buf;
	v.mv_size = TAIL_HEAD + tb->len;
	return (mdb_put(w->txn, w->st->text_tail, k, &v, 0));
}

/*
 * Merge the sorted postings p[0..n) of one list: those before its tail
 * into the sealed blocks (merge_run), the others into the tail.  A sweep
 * so rewrites a list's tail, in the small text_tail, and puts the blocks
 * it sealed, instead of rewriting a page of the large text per list.
 */
static int
list_merge(struct wctx *w, const unsigned char *prefix, size_t plen,
    const struct posting *p, size_t n)
{
	struct tail_buf		 tb;
	struct block_buf	 b = { NULL, 0, 0 };
	struct posting		*m = NULL;
	MDB_val			 k = { plen, (void *)prefix };
	size_t			 before = 0, mcap = 0, nm;
	int			 rc;

	rc = tail_get(w, &k, &tb);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	while (tb.has && before < n && posting_cmp(&p[before], &tb.first) < 0)
		before++;
	if (before > 0 && (rc = merge_run(w, prefix, plen, p, before)) != 0)
		return (rc);
	p += before;
	n -= before;
	if (n == 0)
		return (0);
	if (!tb.has || posting_cmp(&p[0], &tb.last) > 0)
		rc = tail_fill(w, prefix, plen, &tb, p, n);
	else if ((rc = tail_decode(&tb, &b)) == 0) {
		/* Some fall inside it: the tail is filled again. */
		nm = postings_merge(b.p, b.n, p, n, &m, &mcap);
		tb.has = 0;
		tb.len = 0;
		rc = tail_fill(w, prefix, plen, &tb, m, nm);
	}
	if (rc == 0)
		rc = tail_put(w, &k, &tb);
	free(b.p);
	free(m);
	return (rc);
}

/*
 * The lists of a sweep: each word and class met in the stage gets a
 * number, by open addressing on a hash of both.  A sweep meets many
 * postings of few lists (a vocabulary), so the table starts small and
 * doubles at half full.
 */
struct sweep_list {
	uint64_t	hash;
	size_t		off;		/* of the word in the sweep's copy */
	unsigned char	len, class;
	uint32_t	mark;		/* text_mirror: the last event met */
};

struct sweep_lists {
	uint32_t		*slot;	/* number + 1; 0: free */
	size_t			 mask;
	struct sweep_list	*l;
	uint32_t		 n, cap;
};

/* One staged posting on its way to the blocks: its list's number. */
struct staged {
	struct posting	p;
	uint32_t	list;
};

/*
 * A hash of the word of len bytes at s (which has 8 bytes readable from
 * its start) and of its class: its first and last eight bytes.
 */
static inline uint64_t
sweep_hash(const char *s, size_t len, int class)
{
	uint64_t	a, b = 0, h;

	memcpy(&a, s, 8);
	if (len < 8)
		a &= (UINT64_C(1) << (len * 8)) - 1;
	else if (len > 8)
		memcpy(&b, s + len - 8, 8);
	h = (a ^ (b * UINT64_C(0x9e3779b97f4a7c15)) ^ (len | (uint64_t)class <<
	    8)) * UINT64_C(0xff51afd7ed558ccd);
	return (h ^ h >> 29);
}

static void
sweep_lists_grow(struct sweep_lists *sl)
{
	uint32_t	i;
	size_t		j;

	free(sl->slot);
	sl->mask = sl->mask ? sl->mask * 2 + 1 : 1023;
	sl->slot = xcalloc(sl->mask + 1, sizeof *sl->slot);
	for (i = 0; i < sl->n; i++) {
		for (j = sl->l[i].hash & sl->mask; sl->slot[j] != 0;
		    j = (j + 1) & sl->mask)
			;
		sl->slot[j] = i + 1;
	}
}

/*
 * Whether the words of len bytes at a and b are the same; both have 8
 * bytes readable from their start, and most words are shorter.
 */
static inline int
sweep_word_eq(const char *a, const char *b, size_t len)
{
	uint64_t	x, y;

	if (len > 8)
		return (memcmp(a, b, len) == 0);
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	x ^= y;
	return ((len == 8 ? x : x & ((UINT64_C(1) << (len * 8)) - 1)) == 0);
}

/*
 * The number of the list of the word s (len bytes) and class, the lists'
 * words being in copy; else UINT32_MAX, and *slot is where it would go.
 */
static inline uint32_t
sweep_list_find(const struct sweep_lists *sl, const char *copy,
    const char *s, size_t len, int class, uint64_t h, size_t *slot)
{
	const struct sweep_list	*l;
	size_t			 i;

	for (i = h & sl->mask; sl->slot[i] != 0; i = (i + 1) & sl->mask) {
		l = &sl->l[sl->slot[i] - 1];
		if (l->hash == h && l->len == len && l->class == class &&
		    sweep_word_eq(copy + l->off, s, len))
			return (sl->slot[i] - 1);
	}
	*slot = i;
	return (UINT32_MAX);
}

/* Number a new list, of the word at off of the copy, in slot i. */
static uint32_t
sweep_list_add(struct sweep_lists *sl, uint64_t h, size_t i, size_t off,
    size_t len, int class)
{
	struct sweep_list	*l;

	if (sl->n == sl->cap) {
		sl->cap = sl->cap ? sl->cap * 2 : 1024;
		sl->l = xreallocarray(sl->l, sl->cap, sizeof *sl->l);
	}
	l = &sl->l[sl->n];
	l->hash = h;
	l->off = off;
	l->len = (unsigned char)len;
	l->class = (unsigned char)class;
	l->mark = 0;
	sl->slot[i] = sl->n + 1;
	if (2 * (size_t)++sl->n >= sl->mask)
		sweep_lists_grow(sl);
	return (sl->n - 1);
}

/* The number of the list of the word at off (len bytes) and class. */
static uint32_t
sweep_list_num(struct sweep_lists *sl, const char *copy, size_t off,
    size_t len, int class)
{
	uint64_t	h = sweep_hash(copy + off, len, class);
	uint32_t	num;
	size_t		i;

	if ((num = sweep_list_find(sl, copy, copy + off, len, class, h,
	    &i)) != UINT32_MAX)
		return (num);
	return (sweep_list_add(sl, h, i, off, len, class));
}

/*
 * The stage holds, under the 8-byte big-endian key of a batch, the
 * entries of the events one write transaction (or one nested batch of
 * it) indexed, one after the other:
 *
 *	start id (16 bytes, as in a block's key)  class  word NUL ... NUL
 *
 * each word ending in NUL and the last followed by one more.  One value
 * per commit, instead of an entry per event, spares each event a node,
 * a key and a descent of text_new, and fills its pages.  A batch's key
 * is the smallest seq of the changes of its events' records, which
 * store_text_index uses to skip the stage when it deletes an event
 * swept long ago.  Meta "text_staged" counts the staged events.
 * Stores from before batches kept one entry per event (key start id,
 * value class and words): text_stage_upgrade sweeps them when opened.
 */
#define STAGE_HEAD	17

/* The length of the entry at e, before end, or 0 if it is cut short. */
static size_t
stage_entry(const char *e, const char *end)
{
	const char	*p = e + STAGE_HEAD;
	size_t		 len;

	if (end - e < STAGE_HEAD + 1)
		return (0);
	while (*p != '\0') {
		len = strnlen(p, (size_t)(end - p));
		if (len == (size_t)(end - p) || p + len + 1 == end)
			return (0);
		p += len + 1;
	}
	return ((size_t)(p + 1 - e));
}

/* The entry of the posting enc (16 bytes) in buf, its length in *elen. */
static char *
stage_find(char *buf, size_t len, const unsigned char *enc, size_t *elen)
{
	char	*e, *end = buf + len;

	for (e = buf; e < end; e += *elen) {
		if ((*elen = stage_entry(e, end)) == 0)
			return (NULL);
		if (memcmp(e, enc, 16) == 0)
			return (e);
	}
	return (NULL);
}

static int
stage_count(struct wctx *w, int64_t by)
{
	uint64_t	n = store_meta_get(w->txn, w->st->meta, "text_staged", 0);

	if (by < 0 && n < (uint64_t)-by)
		n = 0;
	else
		n += (uint64_t)by;
	w->text_restaged = 1;
	return (store_meta_put(w->txn, w->st->meta, "text_staged", n));
}

/*
 * What a sweep reads: the stage's entries, copied (the writes of the
 * sweep may move the pages they are in), and a posting of each of their
 * words, numbered by list.
 */
struct sweep_in {
	char			*copy;
	size_t			 clen, ccap;
	struct staged		*sp;
	size_t			 n, cap;
	struct sweep_lists	 sl;
};

/*
 * Append len bytes of entries at v to the copy and take the postings of
 * their words, up to an entry cut short.  Two NULs after the copy stop
 * strlen in one, and 8 bytes are readable past it for sweep_hash.
 */
static void
sweep_take(struct sweep_in *in, const void *v, size_t len)
{
	struct posting	 at;
	char		*e, *p, *end;
	size_t		 n0, wlen;
	int		 class;

	if (in->clen + len + 10 > in->ccap) {
		in->ccap = (in->clen + len + 10) * 2;
		in->copy = xreallocarray(in->copy, in->ccap, 1);
	}
	memcpy(in->copy + in->clen, v, len);
	end = in->copy + in->clen + len;
	end[0] = end[1] = '\0';
	for (e = in->copy + in->clen; end - e >= STAGE_HEAD + 1; e = p + 1) {
		posting_dec((const unsigned char *)e, &at);
		class = (unsigned char)e[16];
		n0 = in->n;
		for (p = e + STAGE_HEAD; *p != '\0'; p += wlen + 1) {
			wlen = strlen(p);
			if (wlen > WORDS_MAX_BYTES)
				continue;	/* store-check's business */
			if (in->n == in->cap) {
				in->cap = in->cap ? in->cap * 2 : 4096;
				in->sp = xreallocarray(in->sp, in->cap,
				    sizeof *in->sp);
			}
			in->sp[in->n].p = at;
			in->sp[in->n++].list = sweep_list_num(&in->sl,
			    in->copy, (size_t)(p - in->copy), wlen, class);
		}
		if (p >= end) {
			in->n = n0;	/* cut short: store-check's too */
			break;
		}
	}
	in->clen = (size_t)(e - in->copy);
}

/*
 * Read the stage (and the events of w not yet put there) into in.  An
 * entry of a stage from before batches is made one of a batch.
 */
static int
sweep_read(struct wctx *w, struct sweep_in *in)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	char		*old;
	int		 rc;

	if ((rc = mdb_cursor_open(w->txn, w->st->text_new, &cur)) != 0)
		return (rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size == 8)
			sweep_take(in, v.mv_data, v.mv_size);
		else if (k.mv_size == 16 && v.mv_size >= 1 &&
		    ((const char *)v.mv_data)[v.mv_size - 1] == '\0') {
			old = xmalloc(16 + v.mv_size + 1);
			memcpy(old, k.mv_data, 16);
			memcpy(old + 16, v.mv_data, v.mv_size);
			old[16 + v.mv_size] = '\0';
			sweep_take(in, old, 16 + v.mv_size + 1);
			free(old);
		}
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return (rc);
	if (w->text_plen > 0)
		sweep_take(in, w->text_pend, w->text_plen);
	return (0);
}

/*
 * The stage in memory: what sweep_read makes of the stage, kept by the
 * writer from one write transaction to the next.  A new event's words
 * are numbered by list as it is staged, which also drops its repeated
 * words (each list keeps the last event that met it), so that a sweep
 * neither reads, copies and numbers the stage again nor sorts an
 * event's words to find repeats.  The stage in text_new stays what
 * queries read and what a crash leaves.
 *
 * The copy is right only while every write transaction that changed
 * the stage kept it: txnid is the last such transaction, set before it
 * commits, and 0 while one runs, so that a transaction that aborts or
 * fails to commit leaves it behind, as does any other writer (whose
 * transaction takes the next id).  A transaction that finds it behind,
 * or that takes an event out of the stage, or that runs nested, stages
 * without it; the next sweep then reads the stage, after which the
 * copy, empty as the stage, is right again.
 */
struct text_mirror {
	struct sweep_in	 in;	/* copy: the lists' words */
	uint64_t	 events;
	uint32_t	 serial;	/* of the last event staged */
	size_t		 txnid;
};

#define TEXT_MIRROR_OFF		0	/* not used: text_build, nested */
#define TEXT_MIRROR_ON		1	/* the copy is the stage */
#define TEXT_MIRROR_BEHIND	2	/* until the next sweep */

/* Empty the copy; a large one gives its memory back. */
static void
mirror_reset(struct text_mirror *m)
{
	struct sweep_in	*in = &m->in;

	if (in->cap > (1 << 20) || in->ccap > (16 << 20) ||
	    in->sl.mask > (1 << 16)) {
		free(in->copy);
		free(in->sp);
		free(in->sl.slot);
		free(in->sl.l);
		memset(in, 0, sizeof *in);
	}
	if (in->sl.slot == NULL)
		sweep_lists_grow(&in->sl);
	else
		memset(in->sl.slot, 0, (in->sl.mask + 1) * sizeof *in->sl.slot);
	in->sl.n = 0;
	in->n = 0;
	in->clen = 0;
	m->events = 0;
	m->serial = 0;
}

/*
 * At the start of a write transaction (w's): whether it stages with
 * the copy.  Until it commits in step with it, the copy is behind.
 */
void
store_text_write_begin(struct wctx *w)
{
	struct store		*st = w->st;
	struct text_mirror	*m = st->text_mirror;

	w->text_mirror = TEXT_MIRROR_OFF;
	if (st->no_text)
		return;
	if (m == NULL) {
		m = st->text_mirror = xcalloc(1, sizeof *m);
		mirror_reset(m);
	}
	if (!w->nested && m->txnid != 0 && m->txnid + 1 == mdb_txn_id(w->txn))
		w->text_mirror = TEXT_MIRROR_ON;
	else if (!w->nested) {
		mirror_reset(m);
		w->text_mirror = TEXT_MIRROR_BEHIND;
	}
	m->txnid = 0;
}

/* Just before w commits: the copy is right if w kept it. */
void
store_text_write_end(struct wctx *w)
{
	if (w->text_mirror == TEXT_MIRROR_ON)
		w->st->text_mirror->txnid = mdb_txn_id(w->txn);
}

/*
 * A transaction that changed the stage gives it a new serial, which is
 * also its base unless the stage only took new batches at its end.
 */
int
store_text_serial(struct wctx *w)
{
	uint64_t	serial;
	int		rc;

	if (!w->text_restaged)
		return (0);
	serial = store_meta_get(w->txn, w->st->meta, "stage_serial", 0) + 1;
	if ((rc = store_meta_put(w->txn, w->st->meta, "stage_serial",
	    serial)) != 0 || !w->text_rebased)
		return (rc);
	return (store_meta_put(w->txn, w->st->meta, "stage_base", serial));
}

static struct stage_cache *stage_cache_new(void);
static void	stage_cache_free(struct stage_cache *);

void
store_text_close(struct store *st)
{
	struct text_mirror	*m = st->text_mirror;

	stage_cache_free(st->stage_cache);
	st->stage_cache = NULL;
	if (m == NULL)
		return;
	free(m->in.copy);
	free(m->in.sp);
	free(m->in.sl.slot);
	free(m->in.sl.l);
	free(m);
	st->text_mirror = NULL;
}

/*
 * The list of the word s (len bytes, 8 readable) and class in the copy,
 * numbered if new: 1, or 0 when the event being staged met it already.
 */
static int
mirror_word(struct text_mirror *m, const char *s, size_t len, int class,
    uint32_t *num)
{
	struct sweep_in	*in = &m->in;
	uint64_t	 h = sweep_hash(s, len, class);
	size_t		 i;

	if ((*num = sweep_list_find(&in->sl, in->copy, s, len, class, h,
	    &i)) == UINT32_MAX) {
		/* The word, its NUL, and 8 bytes readable for sweep_hash. */
		if (in->clen + len + 1 + 8 > in->ccap) {
			in->ccap = (in->clen + len + 1 + 8) * 2 + 4096;
			in->copy = xreallocarray(in->copy, in->ccap, 1);
		}
		memcpy(in->copy + in->clen, s, len);
		in->copy[in->clen + len] = '\0';
		*num = sweep_list_add(&in->sl, h, i, in->clen, len, class);
		in->clen += len + 1;
	} else if (in->sl.l[*num].mark == m->serial)
		return (0);
	in->sl.l[*num].mark = m->serial;
	return (1);
}

/*
 * Stage a new event with the copy in step: its words, each once, into
 * w's batch, and their postings into the copy.  As store_text_index.
 */
static int
mirror_stage(struct wctx *w, const struct event *ev, int class,
    uint64_t seq)
{
	struct text_mirror *m = w->st->text_mirror;
	struct sweep_in	*in = &m->in;
	struct words	*ws = words_scratch();
	struct posting	 p = { ev->span.lo, ev->id };
	const char	*s;
	char		*o;
	size_t		 i, len, need;
	uint32_t	 num;

	if ((ev->title != NULL &&
	    words_split(ws, ev->title, strlen(ev->title)) != 0) ||
	    (ev->text != NULL &&
	    words_split(ws, ev->text, strlen(ev->text)) != 0) || ws->n == 0)
		return (0);	/* not UTF-8, or no words: nothing indexed */
	/*
	 * 16 bytes readable from each word's start, and writable from
	 * where it goes in the batch: most are copied as 16.
	 */
	if (ws->len + 16 > ws->cap) {
		ws->cap = ws->len + 16;
		ws->buf = xreallocarray(ws->buf, ws->cap, 1);
	}
	need = STAGE_HEAD + ws->len + 16;
	if (w->text_plen + need > w->text_pcap) {
		w->text_pcap = (w->text_plen + need) * 2 + 4096;
		w->text_pend = xreallocarray(w->text_pend, w->text_pcap, 1);
	}
	if (in->n + ws->n > in->cap) {
		in->cap = (in->n + ws->n) * 2 + 4096;
		in->sp = xreallocarray(in->sp, in->cap, sizeof *in->sp);
	}
	if (++m->serial == 0) {
		/* Marks of 2^32 events ago would pass for this one's. */
		for (i = 0; i < in->sl.n; i++)
			in->sl.l[i].mark = 0;
		m->serial = 1;
	}
	o = w->text_pend + w->text_plen;
	posting_enc((unsigned char *)o, &p);
	o[16] = (char)class;
	o += STAGE_HEAD;
	for (i = 0; i < ws->n; i++) {
		s = ws->buf + ws->off[i];
		len = (i + 1 < ws->n ? ws->off[i + 1] : ws->len) -
		    ws->off[i] - 1;
		if (!mirror_word(m, s, len, class, &num))
			continue;
		if (len < 16)
			memcpy(o, s, 16);
		else
			memcpy(o, s, len + 1);
		o += len + 1;
		in->sp[in->n].p = p;
		in->sp[in->n++].list = num;
	}
	*o++ = '\0';
	w->text_plen = (size_t)(o - w->text_pend);
	if (w->text_pn++ == 0 || seq < w->text_pmin)
		w->text_pmin = seq;
	m->events++;
	return (0);
}

/* A staged posting and its list's word, for mirror_check. */
struct mirror_posting {
	const char	*word;
	int		 class;
	struct posting	 p;
};

static int
mirror_posting_cmp(const void *a, const void *b)
{
	const struct mirror_posting *x = a, *y = b;
	int	c = strcmp(x->word, y->word);

	if (c != 0)
		return (c);
	if (x->class != y->class)
		return (x->class < y->class ? -1 : 1);
	return (posting_cmp(&x->p, &y->p));
}

static struct mirror_posting *
mirror_postings(const struct sweep_in *in)
{
	struct mirror_posting	*mp;
	const struct sweep_list	*l;
	size_t			 i;

	mp = xreallocarray(NULL, in->n + 1, sizeof *mp);
	for (i = 0; i < in->n; i++) {
		l = &in->sl.l[in->sp[i].list];
		mp[i].word = in->copy + l->off;
		mp[i].class = l->class;
		mp[i].p = in->sp[i].p;
	}
	qsort(mp, in->n, sizeof *mp, mirror_posting_cmp);
	return (mp);
}

/*
 * For tests (store_config.text_mirror_check): the copy holds what the
 * stage does, or the process ends saying so.
 */
static int
mirror_check(struct wctx *w, const struct sweep_in *mine)
{
	struct sweep_in		 in;
	struct mirror_posting	*a, *b;
	size_t			 i;
	int			 rc;

	memset(&in, 0, sizeof in);
	sweep_lists_grow(&in.sl);
	if ((rc = sweep_read(w, &in)) == 0) {
		if (in.n != mine->n)
			fatalx("word index: %zu postings staged, %zu in memory",
			    in.n, mine->n);
		a = mirror_postings(&in);
		b = mirror_postings(mine);
		for (i = 0; i < in.n; i++) {
			if (mirror_posting_cmp(&a[i], &b[i]) != 0)
				fatalx("word index: the stage in memory "
				    "differs from text_new at posting %zu "
				    "(%s, %s)", i, b[i].word, a[i].word);
		}
		free(a);
		free(b);
	}
	free(in.copy);
	free(in.sp);
	free(in.sl.slot);
	free(in.sl.l);
	return (rc);
}

/*
 * Move every staged event's postings into the blocks: read the stage,
 * number its lists (word and class), unless the copy in memory holds
 * them, put each list's postings together
 * in the stage's order (a counting sort), which is theirs for a feed
 * (else the list's run is sorted), merge each list's run in one go
 * (list_merge) and empty the stage.  Done when the stage holds more
 * than stage_text events, so that the blocks of a word are written once
 * for many events, not once per commit.
 */
static int
text_sweep_all(struct wctx *w, size_t events)
{
	struct store		*st = w->st;
	struct text_mirror	*m = st->text_mirror;
	struct posting		*run = NULL;
	struct sweep_list	*l;
	struct sweep_in		 own, *in = &own;
	unsigned char		 prefix[WORDS_MAX_BYTES + 2];
	size_t			 i, j, off;
	size_t			*start = NULL;
	int			 rc;

	memset(&own, 0, sizeof own);
	if (w->text_mirror == TEXT_MIRROR_ON && m->events == events) {
		in = &m->in;
		if (st->text_mirror_check && (rc = mirror_check(w, in)) != 0)
			goto out;
	} else {
		if (w->text_mirror == TEXT_MIRROR_ON)
			log_err("word index: %llu events staged, %llu in "
			    "memory; reading the stage",
			    (unsigned long long)events,
			    (unsigned long long)m->events);
		/*
		 * Room for titles of ten-odd words, grown if need be;
		 * events is a hint (a damaged text_staged must not size
		 * the allocation).
		 */
		if (events > 65536)
			events = 65536;
		own.ccap = events * 112 + 1024;
		own.copy = xreallocarray(NULL, own.ccap, 1);
		own.cap = events * 12 + 64;
		own.sp = xreallocarray(NULL, own.cap, sizeof *own.sp);
		sweep_lists_grow(&own.sl);
		if ((rc = sweep_read(w, &own)) != 0)
			goto out;
	}
	/* Each list's postings from start[list] on, in the stage's order. */
	start = xcalloc((size_t)in->sl.n + 1, sizeof *start);
	run = xreallocarray(NULL, in->n ? in->n : 1, sizeof *run);
	for (i = 0; i < in->n; i++)
		start[in->sp[i].list + 1]++;
	for (i = 1; i <= in->sl.n; i++)
		start[i] += start[i - 1];
	for (i = 0; i < in->n; i++)
		run[start[in->sp[i].list]++] = in->sp[i].p;
	/* start[i] is now where list i ends, and list i + 1 begins. */
	for (i = 0, rc = 0; i < in->sl.n && rc == 0; i++) {
		l = &in->sl.l[i];
		off = i ? start[i - 1] : 0;
		/*
		 * None: the list was numbered by an entry cut short, whose
		 * bytes the next batch's may have overwritten in the copy.
		 */
		if (start[i] == off)
			continue;
		for (j = off + 1; j < start[i] &&
		    posting_cmp(&run[j - 1], &run[j]) < 0; j++)
			;
		if (j < start[i])
			qsort(run + off, start[i] - off, sizeof *run,
			    posting_qcmp);
		memcpy(prefix, in->copy + l->off, l->len + 1);
		prefix[l->len + 1] = l->class;
		if ((rc = list_merge(w, prefix, l->len + 2, run + off,
		    start[i] - off)) == 0)
			rc = store_name_count(w, st->words, in->copy + l->off,
			    (int)(start[i] - off), l->class);
	}
	if (rc == 0 && (rc = mdb_drop(w->txn, st->text_new, 0)) == 0 &&
	    store_meta_get(w->txn, st->meta, "text_staged", 0) != 0)
		rc = store_meta_put(w->txn, st->meta, "text_staged", 0);
	w->text_restaged = w->text_rebased = 1;
	w->text_plen = w->text_pn = 0;
out:
	/* Both empty now (or the transaction aborts, leaving m behind). */
	if (w->text_mirror != TEXT_MIRROR_OFF) {
		mirror_reset(m);
		w->text_mirror = TEXT_MIRROR_ON;
	}
	free(own.sl.slot);
	free(own.sl.l);
	free(start);
	free(own.sp);
	free(run);
	free(own.copy);
	return (rc);
}

/*
 * Put the events staged by w into text_new as one batch.  Its key, the
 * smallest seq of theirs, is past the stage's last but for a replica
 * given older changes: then it joins a batch of that key, if any.
 */
int
store_text_flush(struct wctx *w)
{
	unsigned char	 kb[8];
	MDB_val		 k = { 8, kb }, v = { w->text_plen, w->text_pend }, o;
	char		*both;
	int		 rc;

	if (w->text_pn == 0) {
		w->text_plen = 0;
		return (0);
	}
	skey_be64(kb, w->text_pmin);
	rc = mdb_put(w->txn, w->st->text_new, &k, &v, MDB_APPEND);
	if (rc == MDB_KEYEXIST) {
		/* Not after the stage's last batch: not an append. */
		w->text_rebased = 1;
		rc = mdb_get(w->txn, w->st->text_new, &k, &o);
		if (rc == 0) {
			both = xmalloc(o.mv_size + v.mv_size);
			memcpy(both, o.mv_data, o.mv_size);
			memcpy(both + o.mv_size, v.mv_data, v.mv_size);
			o.mv_data = both;
			o.mv_size += v.mv_size;
			rc = mdb_put(w->txn, w->st->text_new, &k, &o, 0);
			free(both);
		} else if (rc == MDB_NOTFOUND)
			rc = mdb_put(w->txn, w->st->text_new, &k, &v, 0);
	}
	if (rc == 0)
		rc = stage_count(w, (int64_t)w->text_pn);
	w->text_plen = w->text_pn = 0;
	return (rc);
}

/* Forget the events staged by w and not yet put into text_new. */
void
store_text_discard(struct wctx *w)
{
	free(w->text_pend);
	w->text_pend = NULL;
	w->text_plen = w->text_pcap = w->text_pn = 0;
}

/*
 * At the end of a write transaction: its staged events go to the stage
 * as one batch, or, if the stage then holds more than stage_text
 * events, all are swept into the lists.
 */
int
store_text_sweep(struct wctx *w)
{
	uint64_t	staged;
	int		rc = 0;

	/*
	 * Also with no events of w's own: nested batches flushed theirs,
	 * and a stage past stage_text is swept whoever filled it.
	 */
	staged = store_meta_get(w->txn, w->st->meta, "text_staged", 0) +
	    w->text_pn;
	if (staged > w->st->stage_text)
		rc = text_sweep_all(w, staged);
	else if (w->text_pn > 0)
		rc = store_text_flush(w);
	store_text_discard(w);
	return (rc);
}

/*
 * The words of an event's title and text, each once, one after the
 * other in ws->buf (words_unique).
 */
static int
event_words(const struct event *ev, struct words *ws)
{
	if ((ev->title != NULL &&
	    words_split(ws, ev->title, strlen(ev->title)) != 0) ||
	    (ev->text != NULL &&
	    words_split(ws, ev->text, strlen(ev->text)) != 0))
		return (-1);
	words_unique(ws);
	return (0);
}

/* Remove posting p from b, which holds it at i: whether b is empty. */
static int
block_buf_cut(struct block_buf *b, size_t i)
{
	memmove(b->p + i, b->p + i + 1, (b->n - i - 1) * sizeof *b->p);
	return (--b->n == 0);
}

/* Where p is in b, or b->n. */
static size_t
block_buf_find(const struct block_buf *b, const struct posting *p)
{
	size_t	i;

	for (i = 0; i < b->n && posting_cmp(&b->p[i], p) != 0; i++)
		;
	return (i);
}

/*
 * Remove posting p from the tail tb of list k, which would hold it.  A
 * tail left empty takes the last sealed block's postings, so that a list
 * with postings keeps a tail.  Sets *found.
 */
static int
tail_del(struct wctx *w, MDB_cursor *cur, MDB_val *k, struct tail_buf *tb,
    const struct posting *p, int *found)
{
	const unsigned char *prefix = k->mv_data;
	struct block_buf b = { NULL, 0, 0 };
	struct posting	 first = tb->first;
	MDB_val		 bk, bv;
	size_t		 i;
	int		 rc;

	if ((rc = tail_decode(tb, &b)) != 0 ||
	    (i = block_buf_find(&b, p)) == b.n)
		goto out;
	*found = 1;
	tb->has = 0;
	tb->len = 0;
	if (block_buf_cut(&b, i)) {
		rc = block_find(cur, prefix, k->mv_size, &first, &bk, &bv);
		if (rc == 0 && block_read(&bk, &bv, &b) != 0)
			rc = MDB_CORRUPTED;
		if (rc == 0)
			rc = mdb_cursor_del(cur, 0);
		if (rc == MDB_NOTFOUND)
			rc = 0;		/* the list's last posting */
	}
	if (rc == 0)
		rc = tail_fill(w, prefix, k->mv_size, tb, b.p, b.n);
	if (rc == 0)
		rc = tail_put(w, k, tb);
out:
	free(b.p);
	return (rc);
}

/* Remove one posting from the block holding it. */
static int
posting_del(struct wctx *w, const unsigned char *prefix, size_t plen,
    const struct posting *p)
{
	struct block_buf b = { NULL, 0, 0 };
	struct tail_buf	 tb;
	char		 word[WORDS_MAX_BYTES + 1];
	MDB_cursor	*cur;
	MDB_val		 k, v, tk = { plen, (void *)prefix };
	size_t		 i;
	int		 rc, found = 0;

	if ((rc = mdb_cursor_open(w->txn, w->st->text, &cur)) != 0)
		return (rc);
	rc = tail_get(w, &tk, &tb);
	if (rc == 0 && posting_cmp(p, &tb.first) >= 0)
		rc = tail_del(w, cur, &tk, &tb, p, &found);
	else if (rc == 0 || rc == MDB_NOTFOUND) {
		rc = block_find(cur, prefix, plen, p, &k, &v);
		if (rc == 0 && block_read(&k, &v, &b) != 0)
			rc = MDB_CORRUPTED;
		if (rc == 0 && (i = block_buf_find(&b, p)) < b.n) {
			found = 1;
			block_buf_cut(&b, i);
			rc = mdb_cursor_del(cur, 0);
			if (rc == 0 && b.n > 0)
				rc = blocks_put(w, prefix, plen, b.p, b.n, 0);
		}
	}
	if (rc == 0 && found) {
		memcpy(word, prefix, plen - 2);
		word[plen - 2] = '\0';
		rc = store_name_count(w, w->st->words, word, -1,
		    prefix[plen - 1]);
	} else if (rc == 0 || rc == MDB_NOTFOUND) {
		log_err("word index: no posting of event %llu",
		    (unsigned long long)p->id);
		rc = 0;
	}
	mdb_cursor_close(cur);
	free(b.p);
	return (rc);
}

/*
 * Take the staged entry of the posting enc, whose record's change is
 * seq, out of text_new, or return MDB_NOTFOUND.  A batch's key is the
 * smallest seq of its events' records, and a staged event's record
 * keeps its seq until it is updated or deleted, which takes the entry
 * out here: so only the batches keyed at or below seq may hold it, and
 * a delete of an event swept before the stage's first batch reads one
 * key.  This costs a delete of a recent event a read of part of the
 * stage (as a query reads it all), where a tombstone in the batch would
 * have every query and the sweep apply it against the blocks as well.
 */
static int
stage_del(struct wctx *w, const unsigned char *enc, uint64_t seq)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	unsigned char	 kb[8];
	char		*e = NULL, *buf;
	size_t		 elen = 0, off;
	int		 rc;

	if ((rc = mdb_cursor_open(w->txn, w->st->text_new, &cur)) != 0)
		return (rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || skey_get_be64(k.mv_data) > seq) {
			rc = MDB_NOTFOUND;
			break;
		}
		if ((e = stage_find(v.mv_data, v.mv_size, enc, &elen)) != NULL)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0)
		return (rc);
	memcpy(kb, k.mv_data, 8);
	k.mv_data = kb;
	if (elen == v.mv_size)
		rc = mdb_del(w->txn, w->st->text_new, &k, NULL);
	else {
		/* Copied: the put may reuse the pages v points into. */
		off = (size_t)(e - (char *)v.mv_data);
		buf = xmalloc(v.mv_size - elen);
		memcpy(buf, v.mv_data, off);
		memcpy(buf + off, e + elen, v.mv_size - off - elen);
		v.mv_data = buf;
		v.mv_size -= elen;
		rc = mdb_put(w->txn, w->st->text_new, &k, &v, 0);
		free(buf);
	}
	w->text_rebased = 1;
	return (rc != 0 ? rc : stage_count(w, -1));
}

/*
 * Add (del 0) or remove (del 1) the postings of an event's words; class
 * is its span's (skey_class), seq that of its record's change.  A new
 * event's entry is appended to
 * w's batch (store_text_flush puts it); a removed one is taken from the
 * batch or the stage if there, else from the blocks.
 */
int
store_text_index(struct wctx *w, const struct event *ev, int class,
    int del, uint64_t seq)
{
	struct words	*ws;
	struct posting	 p = { ev->span.lo, ev->id };
	unsigned char	 enc[16], prefix[WORDS_MAX_BYTES + 2];
	char		*e;
	size_t		 i, len, need;
	int		 rc = 0;

	if ((ev->title == NULL && ev->text == NULL) || w->st->no_text)
		return (0);
	if (!del && w->text_mirror == TEXT_MIRROR_ON)
		return (mirror_stage(w, ev, class, seq));
	ws = words_scratch();
	if (event_words(ev, ws) != 0 || ws->n == 0)
		return (0);	/* not UTF-8, or no words: nothing indexed */
	posting_enc(enc, &p);
	if (!del) {
		need = STAGE_HEAD + ws->len + 1;
		if (w->text_plen + need > w->text_pcap) {
			w->text_pcap = (w->text_plen + need) * 2 + 4096;
			w->text_pend = xreallocarray(w->text_pend,
			    w->text_pcap, 1);
		}
		e = w->text_pend + w->text_plen;
		memcpy(e, enc, 16);
		e[16] = (char)class;
		memcpy(e + STAGE_HEAD, ws->buf, ws->len);
		e[STAGE_HEAD + ws->len] = '\0';
		w->text_plen += need;
		if (w->text_pn++ == 0 || seq < w->text_pmin)
			w->text_pmin = seq;
		return (0);
	}
	if ((e = stage_find(w->text_pend, w->text_plen, enc, &len)) != NULL) {
		memmove(e, e + len, w->text_plen - (size_t)(e -
		    w->text_pend) - len);
		w->text_plen -= len;
		w->text_pn--;
		/* Its postings stay in the copy: read the stage instead. */
		if (w->text_mirror == TEXT_MIRROR_ON)
			w->text_mirror = TEXT_MIRROR_BEHIND;
		return (0);
	}
	if ((rc = stage_del(w, enc, seq)) != MDB_NOTFOUND) {
		if (w->text_mirror == TEXT_MIRROR_ON)
			w->text_mirror = TEXT_MIRROR_BEHIND;
		return (rc);
	}
	rc = 0;
	for (i = 0; i < ws->n && rc == 0; i++) {
		len = strlen(words_at(ws, i));
		memcpy(prefix, words_at(ws, i), len + 1);
		prefix[len + 1] = (unsigned char)class;
		rc = posting_del(w, prefix, len + 2, &p);
	}
	return (rc);
}

/* What text_build's walk needs. */
struct text_build {
	struct wctx	w;
	size_t		n;
};

static int
text_build_one(void *arg, const struct event *ev)
{
	struct text_build	*b = arg;
	int			 rc;

	if (ev->title == NULL && ev->text == NULL)
		return (0);
	if ((rc = store_text_index(&b->w, ev,
	    skey_class(&ev->span), 0, 0)) == 0 &&
	    ++b->n % 65536 == 0)
		rc = text_sweep_all(&b->w, 65536);
	return (rc);
}

/*
 * Index every stored record into an emptied index (see type_build):
 * through the stage, swept whole every so many events.
 */
static int
text_build(struct store *st, MDB_txn *txn)
{
	struct text_build	b;
	int			rc;

	if ((rc = mdb_drop(txn, st->text, 0)) != 0 ||
	    (rc = mdb_drop(txn, st->text_tail, 0)) != 0 ||
	    (rc = mdb_drop(txn, st->text_new, 0)) != 0 ||
	    (rc = mdb_drop(txn, st->words, 0)) != 0)
		return (rc);
	memset(&b, 0, sizeof b);
	b.w.st = st;
	b.w.txn = txn;
	rc = store_records_each(st, txn, text_build_one, &b);
	if (rc == 0)
		rc = text_sweep_all(&b.w, b.n % 65536);
	store_text_discard(&b.w);
	if (rc != 0 ||
	    (rc = store_meta_put(txn, st->meta, "text_tails", 1)) != 0 ||
	    (rc = store_meta_put(txn, st->meta, "text_fold", WORDS_FOLD)) != 0)
		return (rc);
	if (b.n > 0)
		log_notice("indexed the words of %zu stored events", b.n);
	return (0);
}

/*
 * Sweep a stage from before batches, one entry per event, keyed by its
 * 16-byte (start, id): the writes append batches, and the rest read
 * only those.
 */
static int
text_stage_upgrade(struct store *st, MDB_txn *txn)
{
	struct wctx	 w;
	MDB_cursor	*cur;
	MDB_stat	 ms;
	MDB_val		 k, v;
	int		 rc;

	if ((rc = mdb_cursor_open(txn, st->text_new, &cur)) != 0)
		return (rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND || (rc == 0 && k.mv_size != 16))
		return (0);
	if (rc != 0 || (rc = mdb_stat(txn, st->text_new, &ms)) != 0)
		return (rc);
	memset(&w, 0, sizeof w);
	w.st = st;
	w.txn = txn;
	if ((rc = text_sweep_all(&w, ms.ms_entries)) == 0)
		log_notice("swept %zu events staged one entry each",
		    ms.ms_entries);
	return (rc);
}

/*
 * As store_type_open, for the word index and meta "texted_to".  An index
 * from before the tails (meta "text_tails") is built again: its lists
 * end in blocks of text that the sweep would not append to.  So is one
 * whose words were folded by other rules (meta "text_fold", 1 when
 * missing: it came with version 2): queries, folded by this annalsd's,
 * would miss them.  A store opened without the index (no_text_index)
 * leaves it as it is, and its writes leave "texted_to" behind, so that
 * it is built when the store is next opened with it.
 */
int
store_text_open(struct store *st, MDB_txn *txn)
{
	uint64_t	fold;
	int		rc;

	if (st->stage_cache == NULL)
		st->stage_cache = stage_cache_new();
	if (st->no_text)
		return (0);

	if (store_meta_get(txn, st->meta, "text_tails", 0) != 1)
		return ((rc = text_build(st, txn)) != 0 ? rc : 1);
	if ((fold = store_meta_get(txn, st->meta, "text_fold", 1)) !=
	    WORDS_FOLD) {
		log_notice("the word index holds words folded by rules %llu, "
		    "this annalsd folds by rules %d: indexing them again",
		    (unsigned long long)fold, WORDS_FOLD);
		return ((rc = text_build(st, txn)) != 0 ? rc : 1);
	}
	if ((rc = store_index_open(st, txn, "texted_to", text_build)) != 0)
		return (rc);
	return (text_stage_upgrade(st, txn));
}

/*
 * Queries.  A source is one list (a word's postings of one class) in
 * the blocks, or the staged postings of a term and class, read into
 * memory when the query starts; a term is the union of its sources (one
 * word over its classes, or every word of a prefix), in the query's
 * order.
 */
struct text_src {
	MDB_cursor	*cur;		/* NULL: staged, all in p */
	int		 staged;
	unsigned char	 prefix[WORDS_MAX_BYTES + 2];
	size_t		 plen;
	struct posting	 lo, hi;	/* the postings in range */
	MDB_val		 tail;		/* the list's; mv_size 0: none */
	struct posting	 tail_first;
	int		 in_tail;	/* the current block is the tail */
	struct posting	*p;		/* the current block */
	size_t		 n, cap, i;
	int		 done;
};

struct text_termit {
	struct text_src	*src;
	size_t		 nsrc, cap;
	uint64_t	 count;		/* postings in blocks: the cost */
	struct text_src	*at;		/* the source of the current */
	int		 done;
};

struct text_iter {
	struct store		*st;
	MDB_txn			*txn;
	const struct query	*q;
	struct text_query	 tq;
	struct text_termit	*terms;
	size_t			 nterms;
	uint64_t		 classes;	/* of the stage */
	int			 started;
	unsigned char		 span[SKEY_SPAN_MAX];
	unsigned char		 last[16];
	struct words		 hay;		/* phrase checks */
	struct ixcur		 time;		/* text_span's, once opened */
	int			 time_open;
	uint64_t		 stage_last;	/* the stage's last batch read */
};

/* Whether a comes before b in order desc. */
static int
before(const struct posting *a, const struct posting *b, int desc)
{
	int	c = posting_cmp(a, b);

	return (desc ? c > 0 : c < 0);
}

/* Make the block of first posting first, then len bytes at v, current. */
static int
src_block(struct text_src *s, const struct posting *first, const void *v,
    size_t len, int desc)
{
	if (s->cap == 0) {
		s->cap = 256;
		s->p = xreallocarray(NULL, s->cap, sizeof *s->p);
	}
	s->p[0] = *first;
	s->n = 1;
	if (block_decode(v, len, &s->p, &s->cap, &s->n) != 0)
		return (MDB_CORRUPTED);
	s->i = desc ? s->n - 1 : 0;
	return (0);
}

/* Make the sealed block at k, v current, if it is of the list of s. */
static int
src_load(struct text_src *s, const MDB_val *k, const MDB_val *v, int desc)
{
	struct posting	first;

	if (!key_in(k, s->prefix, s->plen))
		return (MDB_NOTFOUND);
	key_posting(k, &first);
	s->in_tail = 0;
	return (src_block(s, &first, v->mv_data, v->mv_size, desc));
}

/* Make the tail of the list of s current. */
static int
src_load_tail(struct text_src *s, int desc)
{
	if (s->tail.mv_size == 0)
		return (MDB_NOTFOUND);
	s->in_tail = 1;
	return (src_block(s, &s->tail_first,
	    (const unsigned char *)s->tail.mv_data + TAIL_HEAD,
	    s->tail.mv_size - TAIL_HEAD, desc));
}

/* Mark s done when its posting left the range. */
static int
src_check(struct text_src *s, int rc, int desc)
{
	if (rc == MDB_NOTFOUND || (rc == 0 && (desc ?
	    posting_cmp(&s->p[s->i], &s->lo) < 0 :
	    posting_cmp(&s->p[s->i], &s->hi) > 0))) {
		s->done = 1;
		return (0);
	}
	return (rc);
}

static int
src_step(struct text_src *s, int desc)
{
	MDB_val	k, v;
	int	rc;

	if (desc ? s->i > 0 : s->i + 1 < s->n) {
		s->i += desc ? -1 : 1;
		return (src_check(s, 0, desc));
	}
	if (s->staged || (s->in_tail && !desc))
		return (src_check(s, MDB_NOTFOUND, desc));
	if (s->in_tail)		/* before it: the last sealed block */
		rc = block_find(s->cur, s->prefix, s->plen, &s->tail_first,
		    &k, &v);
	else
		rc = mdb_cursor_get(s->cur, &k, &v, desc ? MDB_PREV :
		    MDB_NEXT);
	if (rc == 0)
		rc = src_load(s, &k, &v, desc);
	if (rc == MDB_NOTFOUND && !desc && !s->in_tail)
		rc = src_load_tail(s, desc);
	return (src_check(s, rc, desc));
}

/*
 * With a block of s loaded that block_find chose for t, place s on its
 * first posting at or after t in the order (desc: at or before it).
 */
static int
src_place(struct text_src *s, const struct posting *t, int desc)
{
	size_t	lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (desc ? posting_cmp(&s->p[mid], t) <= 0 :
		    posting_cmp(&s->p[mid], t) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (desc) {
		/* All after t: block_find found no block before it. */
		if (lo == 0) {
			s->done = 1;
			return (0);
		}
		s->i = lo - 1;
		return (src_check(s, 0, desc));
	}
	if (lo == s->n) {
		s->i = s->n - 1;
		return (src_step(s, desc));
	}
	s->i = lo;
	return (src_check(s, 0, desc));
}

/*
 * Load the block of s that would hold t (the tail from its first on,
 * else a sealed one, else the tail again), and place s there.
 */
static int
src_jump(struct text_src *s, const struct posting *t, int desc)
{
	MDB_val	k, v;
	int	rc = MDB_NOTFOUND;

	if (s->tail.mv_size == 0 || posting_cmp(t, &s->tail_first) < 0) {
		rc = block_find(s->cur, s->prefix, s->plen, t, &k, &v);
		if (rc == 0)
			rc = src_load(s, &k, &v, desc);
	}
	if (rc == MDB_NOTFOUND)
		rc = src_load_tail(s, desc);
	if (rc != 0)
		return (src_check(s, rc, desc));
	return (src_place(s, t, desc));
}

/* Move s on to t (see src_place), in its block when t falls in it. */
static int
src_seek(struct text_src *s, const struct posting *t, int desc)
{

	if (s->done || !before(&s->p[s->i], t, desc))
		return (0);
	if (desc ? posting_cmp(t, &s->p[0]) < 0 :
	    posting_cmp(t, &s->p[s->n - 1]) > 0)
		return (s->staged ? src_check(s, MDB_NOTFOUND, desc) :
		    src_jump(s, t, desc));
	return (src_place(s, t, desc));
}

/* Start s at the first posting in range in the order. */
static int
src_start(struct text_src *s, int desc)
{
	const struct posting	*t = desc ? &s->hi : &s->lo;

	if (s->staged)
		return (s->n == 0 ? src_check(s, MDB_NOTFOUND, desc) :
		    src_place(s, t, desc));
	return (src_jump(s, t, desc));
}

static int64_t
sat(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return (INT64_MAX);
	if (b < 0 && a < INT64_MIN - b)
		return (INT64_MIN);
	return (a + b);
}

/* Add the source of one word and class to a term. */
static int
term_add(struct text_iter *it, struct text_termit *t, const char *word,
    size_t len, int class, int staged, struct aerr *err)
{
	const struct query	*q = it->q;
	struct text_src		*s;
	MDB_val			 k;
	int64_t			 reach = skey_class_reach(class), lo, hi;
	int			 rc;

	if (t->nsrc == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->src = xreallocarray(t->src, t->cap, sizeof *t->src);
	}
	s = &t->src[t->nsrc++];
	memset(s, 0, sizeof *s);
	s->staged = staged;
	memcpy(s->prefix, word, len);
	s->prefix[len] = '\0';
	s->prefix[len + 1] = (unsigned char)class;
	s->plen = len + 2;
	lo = class == SKEY_CLASS_INF ? INT64_MIN : sat(q->qlo, -reach);
	hi = class == SKEY_CLASS_INF ? INT64_MAX : sat(q->qhi, reach);
	s->lo.start = lo;
	s->lo.id = 0;
	s->hi.start = hi;
	s->hi.id = UINT64_MAX;
	if (q->has_cursor) {
		/* Resume after the cursor's event. */
		struct posting c = { q->cur_start, q->cur_id };

		if (q->desc) {
			if (c.id-- == 0) {
				c.start--;
				c.id = UINT64_MAX;
			}
			if (posting_cmp(&c, &s->hi) < 0)
				s->hi = c;
		} else {
			if (c.id++ == UINT64_MAX) {
				c.start++;
				c.id = 0;
			}
			if (posting_cmp(&c, &s->lo) > 0)
				s->lo = c;
		}
	}
	if (posting_cmp(&s->lo, &s->hi) > 0)
		s->done = 1;
	if (s->done || staged)
		return (0);
	k.mv_size = s->plen;
	k.mv_data = s->prefix;
	rc = mdb_get(it->txn, it->st->text_tail, &k, &s->tail);
	if (rc == 0 && s->tail.mv_size < TAIL_HEAD)
		rc = MDB_CORRUPTED;
	if (rc == 0)
		posting_dec(s->tail.mv_data, &s->tail_first);
	else if (rc == MDB_NOTFOUND)
		s->tail.mv_size = 0;
	else {
		t->nsrc--;
		return (store_error(err, rc, "text_tail"));
	}
	rc = mdb_cursor_open(it->txn, it->st->text, &s->cur);
	if (rc != 0) {
		t->nsrc--;
		return (store_error(err, rc, "mdb_cursor_open"));
	}
	return (0);
}

/* What term_word needs to add a word's sources to a term. */
struct term_dest {
	struct text_iter	*it;
	struct text_termit	*t;
	struct aerr		*err;
	size_t			 nwords;
};

/* store_name_fn: a word in the blocks, with its classes. */
static int
term_word(void *arg, const void *word, size_t len, uint64_t mask)
{
	struct term_dest	*d = arg;
	MDB_val			 k = { len, (void *)word }, v;
	int			 class;

	/* The cost of the term: the postings of its words. */
	if (mdb_get(d->it->txn, d->it->st->words, &k, &v) == 0 &&
	    v.mv_size == 16)
		d->t->count += skey_get_be64(v.mv_data);
	if (++d->nwords > TEXT_PREFIX_WORDS) {
		aerr_set(d->err, AERR_LIMIT, "text: a prefix stands for more "
		    "than %d words; make it longer", TEXT_PREFIX_WORDS);
		return (-1);
	}
	for (class = 0; class <= SKEY_CLASS_INF; class++) {
		if ((mask & (UINT64_C(1) << class)) &&
		    term_add(d->it, d->t, word, len, class, 0, d->err) != 0)
			return (-1);
	}
	return (0);
}

/* Add a staged posting to the term's source of its class. */
static int
term_stage_add(struct text_iter *it, struct text_termit *t,
    const char *word, int class, const struct posting *p, struct aerr *err)
{
	struct text_src	*s = NULL;
	size_t		 i;

	for (i = 0; i < t->nsrc; i++) {
		if (t->src[i].staged && t->src[i].prefix[t->src[i].plen - 1] ==
		    (unsigned char)class) {
			s = &t->src[i];
			break;
		}
	}
	if (s == NULL) {
		if (term_add(it, t, word, strlen(word), class, 1, err) != 0)
			return (-1);
		s = &t->src[t->nsrc - 1];
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->p = xreallocarray(s->p, s->cap, sizeof *s->p);
	}
	s->p[s->n++] = *p;
	return (0);
}

static int
postings_sorted(const struct posting *p, size_t n)
{
	size_t	i;

	for (i = 1; i < n; i++)
		if (posting_cmp(&p[i - 1], &p[i]) >= 0)
			return (0);
	return (1);
}

/*
 * The NUL that ends the word at w, or end.  Words are short, so a call
 * to strnlen costs more than the word; eight bytes at a time where the
 * lowest NUL's place can be read off the bit trick's mask.
 */
static inline const char *
word_end(const char *w, const char *end)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t	ones = UINT64_C(0x0101010101010101);
	uint64_t	x, m;

	for (; end - w >= 8; w += 8) {
		memcpy(&x, w, 8);
		/* Exact in its lowest set bit, the first NUL's. */
		if ((m = (x - ones) & ~x & ones << 7) != 0)
			return (w + (__builtin_ctzll(m) >> 3));
	}
#endif
	while (w < end && *w != '\0')
		w++;
	return (w);
}

/* Terms the stage's postings are kept for, and their bytes, at most. */
#define STAGE_CACHE_TERMS	64
#define STAGE_CACHE_BYTES	((size_t)8 << 20)

/* A staged posting of the term numbered term, for stage_scan's caller. */
typedef int (*stage_fn)(void *, size_t, int, const struct posting *,
    struct aerr *);

/*
 * Read the stage's batches after the one keyed after (all of them when
 * after is NULL): each staged event goes to fn once for each of the
 * nterms terms (64 at most) whose words it holds.  Each word is measured
 * once and compared with the terms by length first: the stage's events
 * cost about as much as their bytes.  *last is the key of the last batch
 * read, or stays as it was.
 */
static int
stage_scan(MDB_txn *txn, struct store *st, const uint64_t *after,
    const struct text_term *terms, size_t nterms, stage_fn fn, void *arg,
    uint64_t *last, struct aerr *err)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	struct posting	 p;
	const char	*e, *w, *z, *end;
	unsigned char	 from[8];
	size_t		 i, len, tlen[STAGE_CACHE_TERMS];
	uint64_t	 hit;
	int		 rc;

	for (i = 0; i < nterms; i++)
		tlen[i] = strlen(terms[i].word);
	if ((rc = mdb_cursor_open(txn, st->text_new, &cur)) != 0)
		return (store_error(err, rc, "mdb_cursor_open"));
	if (after == NULL)
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	else {
		skey_be64(from, *after);
		k.mv_data = from;
		k.mv_size = 8;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && k.mv_size == 8 && memcmp(k.mv_data, from, 8) ==
		    0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8)
			continue;
		*last = skey_get_be64(k.mv_data);
		end = (const char *)v.mv_data + v.mv_size;
		/* An entry: posting, class, words each NUL-ended, a NUL. */
		for (e = v.mv_data; end - e > STAGE_HEAD; e = w + 1) {
			hit = 0;
			for (w = e + STAGE_HEAD; w < end && *w != '\0';
			    w = z + 1) {
				if ((z = word_end(w, end)) == end) {
					w = end;
					break;
				}
				len = (size_t)(z - w);
				for (i = 0; i < nterms; i++) {
					if (w[0] != terms[i].word[0] ||
					    (len != tlen[i] &&
					    (len < tlen[i] || !terms[i].prefix)))
						continue;
					if (memcmp(w, terms[i].word, tlen[i]) ==
					    0)
						hit |= UINT64_C(1) << i;
				}
			}
			if (w >= end)
				break;		/* cut short */
			if (hit == 0)
				continue;
			posting_dec((const unsigned char *)e, &p);
			for (i = 0; i < nterms; i++) {
				if ((hit & UINT64_C(1) << i) != 0 &&
				    fn(arg, i, (unsigned char)e[16], &p,
				    err) != 0) {
					mdb_cursor_close(cur);
					return (-1);
				}
			}
		}
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return (store_error(err, rc, "mdb_cursor_get"));
	return (0);
}

static int
read_stage_add(void *arg, size_t term, int class, const struct posting *p,
    struct aerr *err)
{
	struct text_iter	*it = arg;

	return (term_stage_add(it, &it->terms[term], it->tq.terms[term].word,
	    class, p, err));
}

/*
 * Read the whole stage for the query's terms; then each staged source is
 * put in (start, id) order, which a feed's batches mostly have already.
 */
static int
text_read_stage(struct text_iter *it, struct aerr *err)
{
	struct text_src	*s;
	size_t		 i, j;

	if (stage_scan(it->txn, it->st, NULL, it->tq.terms, it->nterms,
	    read_stage_add, it, &it->stage_last, err) != 0)
		return (-1);
	for (i = 0; i < it->nterms; i++) {
		for (j = 0; j < it->terms[i].nsrc; j++) {
			s = &it->terms[i].src[j];
			if (s->staged && !postings_sorted(s->p, s->n))
				qsort(s->p, s->n, sizeof *s->p, posting_qcmp);
		}
	}
	return (0);
}

/*
 * The stage's postings of the words queries asked for, at one stage
 * serial: a query reads the whole stage for its words (some 20M
 * instructions with 16,000 events staged), and dashboards ask the same
 * words again and again between commits.  Only a query of the newest
 * serial fills it.  A newer serial empties it, unless the stage only
 * took new batches since (meta stage_base, the serial of its last other
 * change, is the same): then a query reads those batches for every term
 * kept and brings the kept postings up to its serial.  Postings are
 * copied in and out under the lock, so that no two readers share a
 * buffer.
 */

struct stage_group {
	int		 class;
	struct posting	*p;
	size_t		 n, cap;
};

struct stage_term {
	char			 word[WORDS_MAX_BYTES + 1];	/* "": free */
	int			 prefix;
	struct stage_group	*g;
	size_t			 ng, bytes;
};

struct stage_cache {
	pthread_mutex_t		 lock;
	uint64_t		 serial;
	uint64_t		 base;		/* meta stage_base at serial */
	uint64_t		 last;		/* the stage's last batch then */
	struct stage_term	 t[STAGE_CACHE_TERMS];
	size_t			 next, bytes;	/* next: the one to evict */
	uint64_t		 hits;
};

static struct stage_cache *
stage_cache_new(void)
{
	struct stage_cache	*c = xcalloc(1, sizeof *c);

	if ((errno = pthread_mutex_init(&c->lock, NULL)) != 0)
		fatal("pthread_mutex_init");
	return (c);
}

static void
stage_term_clear(struct stage_cache *c, struct stage_term *t)
{
	size_t	i;

	for (i = 0; i < t->ng; i++)
		free(t->g[i].p);
	free(t->g);
	c->bytes -= t->bytes;
	memset(t, 0, sizeof *t);
}

static void
stage_cache_free(struct stage_cache *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < STAGE_CACHE_TERMS; i++)
		stage_term_clear(c, &c->t[i]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static struct stage_term *
stage_cache_find(struct stage_cache *c, const struct text_term *q)
{
	size_t	i;

	for (i = 0; i < STAGE_CACHE_TERMS; i++) {
		if (c->t[i].word[0] != '\0' && c->t[i].prefix == q->prefix &&
		    strcmp(c->t[i].word, q->word) == 0)
			return (&c->t[i]);
	}
	return (NULL);
}

/* What stage_cache_advance gives stage_scan: the terms' entries. */
struct stage_advance {
	struct stage_cache	*c;
	struct stage_term	*t[STAGE_CACHE_TERMS];
};

static int
stage_advance_add(void *arg, size_t term, int class, const struct posting *p,
    struct aerr *err)
{
	struct stage_advance	*a = arg;
	struct stage_term	*t = a->t[term];
	struct stage_group	*g = NULL;
	size_t			 i;

	(void)err;
	for (i = 0; i < t->ng && g == NULL; i++) {
		if (t->g[i].class == class)
			g = &t->g[i];
	}
	if (g == NULL) {
		t->g = xreallocarray(t->g, t->ng + 1, sizeof *t->g);
		g = &t->g[t->ng++];
		memset(g, 0, sizeof *g);
		g->class = class;
	}
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->p = xreallocarray(g->p, g->cap, sizeof *g->p);
	}
	g->p[g->n++] = *p;
	t->bytes += sizeof *p;
	a->c->bytes += sizeof *p;
	return (0);
}

/*
 * Bring the kept postings from c's serial to serial, whose stage holds
 * c's batches and those after c->last: read those for every kept term.
 * Under the lock.  Returns 0, or -1 with err (the cache emptied).
 */
static int
stage_cache_advance(struct stage_cache *c, struct text_iter *it,
    uint64_t serial, struct aerr *err)
{
	struct stage_advance	 a;
	struct text_term	*terms;
	struct stage_term	*t;
	size_t			 i, j, n = 0;

	terms = xcalloc(STAGE_CACHE_TERMS, sizeof *terms);
	a.c = c;
	for (i = 0; i < STAGE_CACHE_TERMS; i++) {
		if (c->t[i].word[0] == '\0')
			continue;
		memcpy(terms[n].word, c->t[i].word, sizeof terms[n].word);
		terms[n].prefix = c->t[i].prefix;
		a.t[n++] = &c->t[i];
	}
	if (stage_scan(it->txn, it->st, &c->last, terms, n,
	    stage_advance_add, &a, &c->last, err) != 0) {
		for (i = 0; i < STAGE_CACHE_TERMS; i++)
			stage_term_clear(c, &c->t[i]);
		free(terms);
		return (-1);
	}
	free(terms);
	for (i = 0; i < n; i++) {
		t = a.t[i];
		for (j = 0; j < t->ng; j++) {
			if (!postings_sorted(t->g[j].p, t->g[j].n))
				qsort(t->g[j].p, t->g[j].n, sizeof *t->g[j].p,
				    posting_qcmp);
		}
		if (t->bytes > STAGE_CACHE_BYTES / 4)
			stage_term_clear(c, t);
	}
	while (c->bytes > STAGE_CACHE_BYTES) {
		stage_term_clear(c, &c->t[c->next]);
		c->next = (c->next + 1) % STAGE_CACHE_TERMS;
	}
	c->serial = serial;
	return (0);
}

/*
 * Give each term its staged sources from the cache, if it holds every
 * term at serial (brought there if the stage only took batches since):
 * 1, 0 when it does not (nothing given), -1 with err.
 */
static int
stage_cache_take(struct text_iter *it, uint64_t serial, uint64_t base,
    struct aerr *err)
{
	struct stage_cache	*c = it->st->stage_cache;
	struct stage_term	*ct[WORDS_QUERY_MAX];
	struct stage_group	*g;
	struct text_src		*s;
	const char		*word;
	size_t			 i, j;
	int			 rc;

	pthread_mutex_lock(&c->lock);
	if (serial > c->serial && base == c->base && c->bytes > 0 &&
	    stage_cache_advance(c, it, serial, err) != 0) {
		pthread_mutex_unlock(&c->lock);
		return (-1);
	}
	rc = c->serial == serial;
	for (i = 0; i < it->nterms && rc == 1; i++) {
		if ((ct[i] = stage_cache_find(c, &it->tq.terms[i])) == NULL)
			rc = 0;
	}
	for (i = 0; i < it->nterms && rc == 1; i++) {
		word = it->tq.terms[i].word;
		for (j = 0; j < ct[i]->ng && rc == 1; j++) {
			g = &ct[i]->g[j];
			if (term_add(it, &it->terms[i], word, strlen(word),
			    g->class, 1, err) != 0) {
				rc = -1;
				break;
			}
			s = &it->terms[i].src[it->terms[i].nsrc - 1];
			s->p = xreallocarray(NULL, g->n, sizeof *s->p);
			memcpy(s->p, g->p, g->n * sizeof *s->p);
			s->n = s->cap = g->n;
		}
	}
	if (rc == 1)
		c->hits++;
	pthread_mutex_unlock(&c->lock);
	return (rc);
}

/*
 * A query read the whole stage at serial (of base): keep its terms'
 * staged postings.
 */
static void
stage_cache_keep(struct text_iter *it, uint64_t serial, uint64_t base)
{
	struct stage_cache	*c = it->st->stage_cache;
	struct stage_term	*t;
	struct text_termit	*q;
	size_t			 i, j, k, bytes;

	pthread_mutex_lock(&c->lock);
	if (serial > c->serial) {
		for (i = 0; i < STAGE_CACHE_TERMS; i++)
			stage_term_clear(c, &c->t[i]);
		c->serial = serial;
		c->base = base;
		c->last = it->stage_last;
	}
	for (i = 0; i < it->nterms && serial == c->serial; i++) {
		if (stage_cache_find(c, &it->tq.terms[i]) != NULL)
			continue;
		q = &it->terms[i];
		for (bytes = 0, j = 0; j < q->nsrc; j++) {
			if (q->src[j].staged)
				bytes += q->src[j].n * sizeof *q->src[j].p;
		}
		if (bytes > STAGE_CACHE_BYTES / 4)
			continue;
		/* Room: a free entry, and the bytes. */
		for (t = NULL, k = 0; k < STAGE_CACHE_TERMS && t == NULL; k++) {
			if (c->t[k].word[0] == '\0')
				t = &c->t[k];
		}
		while (t == NULL || c->bytes + bytes > STAGE_CACHE_BYTES) {
			t = &c->t[c->next];
			c->next = (c->next + 1) % STAGE_CACHE_TERMS;
			stage_term_clear(c, t);
		}
		snprintf(t->word, sizeof t->word, "%s", it->tq.terms[i].word);
		t->prefix = it->tq.terms[i].prefix;
		t->g = xcalloc(q->nsrc, sizeof *t->g);
		for (j = 0; j < q->nsrc; j++) {
			if (!q->src[j].staged)
				continue;
			t->g[t->ng].class = q->src[j].prefix[q->src[j].plen - 1];
			t->g[t->ng].n = q->src[j].n;
			t->g[t->ng].cap = q->src[j].n ? q->src[j].n : 1;
			t->g[t->ng].p = xreallocarray(NULL, t->g[t->ng].cap,
			    sizeof *q->src[j].p);
			memcpy(t->g[t->ng].p, q->src[j].p, q->src[j].n *
			    sizeof *q->src[j].p);
			t->ng++;
		}
		t->bytes = bytes;
		c->bytes += bytes;
	}
	pthread_mutex_unlock(&c->lock);
}

/* Forget the postings kept: the next query of each word reads the stage. */
void
store_text_cache_clear(struct store *st)
{
	struct stage_cache	*c = st->stage_cache;
	size_t			 i;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < STAGE_CACHE_TERMS; i++)
		stage_term_clear(c, &c->t[i]);
	pthread_mutex_unlock(&c->lock);
}

/* The queries the cache answered without reading the stage. */
uint64_t
store_text_cache_hits(struct store *st)
{
	uint64_t	n;

	if (st->stage_cache == NULL)
		return (0);
	pthread_mutex_lock(&st->stage_cache->lock);
	n = st->stage_cache->hits;
	pthread_mutex_unlock(&st->stage_cache->lock);
	return (n);
}

/* The current posting of a term: the first of its sources'. */
static void
term_pick(struct text_termit *t, int desc)
{
	size_t	i;

	t->at = NULL;
	for (i = 0; i < t->nsrc; i++) {
		if (t->src[i].done)
			continue;
		if (t->at == NULL || before(&t->src[i].p[t->src[i].i],
		    &t->at->p[t->at->i], desc))
			t->at = &t->src[i];
	}
	t->done = t->at == NULL;
}

static const struct posting *
term_cur(const struct text_termit *t)
{
	return (&t->at->p[t->at->i]);
}

static int
term_seek(struct text_termit *t, const struct posting *p, int desc)
{
	size_t	i;
	int	rc;

	for (i = 0; i < t->nsrc; i++) {
		if ((rc = src_seek(&t->src[i], p, desc)) != 0)
			return (rc);
	}
	term_pick(t, desc);
	return (0);
}

/* Step past the current posting (in every source that has it). */
static int
term_step(struct text_termit *t, int desc)
{
	struct posting	cur = *term_cur(t);
	size_t		i;
	int		rc;

	for (i = 0; i < t->nsrc; i++) {
		if (!t->src[i].done &&
		    posting_cmp(&t->src[i].p[t->src[i].i], &cur) == 0 &&
		    (rc = src_step(&t->src[i], desc)) != 0)
			return (rc);
	}
	term_pick(t, desc);
	return (0);
}

static int
termit_cmp(const void *a, const void *b)
{
	const struct text_termit *x = a, *y = b;

	return (x->count < y->count ? -1 : x->count > y->count);
}


void
store_text_end(struct text_iter *it)
{
	size_t	i, j;

	if (it == NULL)
		return;
	for (i = 0; i < it->nterms; i++) {
		for (j = 0; j < it->terms[i].nsrc; j++) {
			if (it->terms[i].src[j].cur != NULL)
				mdb_cursor_close(it->terms[i].src[j].cur);
			free(it->terms[i].src[j].p);
		}
		free(it->terms[i].src);
	}
	free(it->terms);
	if (it->time_open)
		store_ixcur_close(&it->time);
	text_query_free(&it->tq);
	words_free(&it->hay);
	free(it);
}

/*
 * Parse q->text and open the sources of its words.  Returns 0 with *out
 * set, or -1 with err.
 */
int
store_text_begin(struct store *st, MDB_txn *txn, const struct query *q,
    struct text_iter **out, struct aerr *err)
{
	struct text_iter	*it;
	struct text_termit	*t;
	struct term_dest	 d;
	char			 msg[128];
	uint64_t		 serial, base;
	size_t			 i;
	int			 rc;

	it = xcalloc(1, sizeof *it);
	it->st = st;
	it->txn = txn;
	it->q = q;
	if (text_query_parse(q->text, &it->tq, msg, sizeof msg) != 0) {
		aerr_set(err, AERR_INVALID, "%s", msg);
		free(it);
		return (-1);
	}
	it->classes = store_meta_get(txn, st->meta, "classes", 0);
	it->terms = xcalloc(it->tq.nterms, sizeof *it->terms);
	for (i = 0; i < it->tq.nterms; i++) {
		t = &it->terms[it->nterms++];
		d.it = it;
		d.t = t;
		d.err = err;
		d.nwords = 0;
		if (store_names_each(txn, st->words, it->tq.terms[i].word,
		    it->tq.terms[i].prefix, term_word, &d, err) != 0)
			goto fail;
	}
	serial = store_meta_get(txn, st->meta, "stage_serial", 0);
	base = store_meta_get(txn, st->meta, "stage_base", 0);
	if ((rc = stage_cache_take(it, serial, base, err)) == -1)
		goto fail;
	if (rc == 0) {
		if (text_read_stage(it, err) != 0)
			goto fail;
		stage_cache_keep(it, serial, base);
	}
	qsort(it->terms, it->nterms, sizeof *it->terms, termit_cmp);
	*out = it;
	return (0);
fail:
	store_text_end(it);
	return (-1);
}

/* Look the span of an event up in the time index's stage, or in it. */
static int
text_span(struct text_iter *it, int class, const struct posting *p,
    MDB_val *v, struct aerr *err)
{
	unsigned char	key[SKEY_TIME_LEN];
	MDB_val		k = { 0, key }, found;
	int		rc;

	k.mv_size = skey_time_key(key, class, p->start, p->id);
	rc = mdb_get(it->txn, it->st->time_new, &k, v);
	if (rc == MDB_NOTFOUND && !it->time_open &&
	    (rc = store_ixcur_open(it->st, it->txn, it->st->timeblocks,
	    &it->time)) == 0) {
		it->time_open = 1;
		rc = MDB_NOTFOUND;
	}
	/*
	 * Through one cursor: hits come in order, and the block it holds
	 * mostly holds the next one's too (ixcur_holds).
	 */
	if (rc == MDB_NOTFOUND) {
		found = k;
		rc = store_ixcur_get(&it->time, &found, v, MDB_SET_RANGE);
		if (rc == 0 && (found.mv_size != k.mv_size ||
		    memcmp(found.mv_data, key, k.mv_size) != 0))
			rc = MDB_NOTFOUND;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (store_error(err, rc, "mdb_get"));
	return (rc);
}

/*
 * The next event holding every word, in the query's order: its (start,
 * id) as the 16 bytes of k, its span as v.  Returns 1, 0 at the end, or
 * -1 with err.
 */
int
store_text_next(struct text_iter *it, MDB_val *k, MDB_val *v,
    struct aerr *err)
{
	struct text_termit	*drive = &it->terms[0];
	struct posting		 c;
	size_t			 i, j;
	int			 desc = it->q->desc, rc, moved;

	if (!it->started) {
		it->started = 1;
		for (i = 0; i < it->nterms; i++) {
			for (j = 0; j < it->terms[i].nsrc; j++) {
				if (!it->terms[i].src[j].done &&
				    (rc = src_start(&it->terms[i].src[j],
				    desc)) != 0)
					return (store_error(err, rc, "text"));
			}
			term_pick(&it->terms[i], desc);
		}
	} else if (!drive->done && (rc = term_step(drive, desc)) != 0)
		return (store_error(err, rc, "text"));
	for (;;) {
		if (drive->done)
			return (0);
		c = *term_cur(drive);
		moved = 0;
		for (i = 1; i < it->nterms && !moved; i++) {
			if ((rc = term_seek(&it->terms[i], &c, desc)) != 0)
				return (store_error(err, rc, "text"));
			if (it->terms[i].done)
				return (0);
			if (posting_cmp(term_cur(&it->terms[i]), &c) != 0) {
				c = *term_cur(&it->terms[i]);
				moved = 1;
			}
		}
		if (moved) {
			if ((rc = term_seek(drive, &c, desc)) != 0)
				return (store_error(err, rc, "text"));
			continue;
		}
		rc = text_span(it, drive->at->prefix[drive->at->plen - 1], &c,
		    v, err);
		if (rc == -1)
			return (-1);
		if (rc == 0)
			break;
		log_err("word index: event %llu is not in the time index",
		    (unsigned long long)c.id);
		if ((rc = term_step(drive, desc)) != 0)
			return (store_error(err, rc, "text"));
	}
	skey_time(it->last, c.start);
	skey_be64(it->last + 8, c.id);
	k->mv_data = it->last;
	k->mv_size = 16;
	return (1);
}

/* Whether the record must be read: for phrases, which are not indexed. */
int
store_text_needs_record(const struct text_iter *it)
{
	return (it->tq.nphrases > 0);
}

/* Whether a title and text hold the query's phrases. */
int
store_text_match(struct text_iter *it, const char *title, size_t tlen,
    const char *text, size_t xlen)
{
	struct words	*all = &it->tq.all;
	size_t		 i, f;
	int		 ok;

	for (i = 0; i < it->tq.nphrases; i++) {
		ok = 0;
		for (f = 0; f < 2 && !ok; f++) {
			words_reset(&it->hay);
			if (f == 0 ? title == NULL : text == NULL)
				continue;
			if (words_split(&it->hay, f == 0 ? title : text,
			    f == 0 ? tlen : xlen) != 0)
				continue;
			ok = words_has_seq(&it->hay, all,
			    it->tq.phrases[i].first, it->tq.phrases[i].n);
		}
		if (!ok)
			return (0);
	}
	return (1);
}

/* The bytes of the records and of the word index, for stats. */
int
store_text_sizes(struct store *st, MDB_txn *txn, uint64_t *records,
    uint64_t *index)
{
	const MDB_dbi	dbis[] = { st->text, st->text_tail, st->text_new,
			    st->words };
	MDB_stat	ms;
	size_t		i;

	*records = *index = 0;
	for (i = 0; i < REC_DBS; i++) {
		if (mdb_stat(txn, store_rec_db(st, i), &ms) != 0)
			return (-1);
		*records += (uint64_t)(ms.ms_branch_pages + ms.ms_leaf_pages +
		    ms.ms_overflow_pages) * ms.ms_psize;
	}
	for (i = 0; i < sizeof dbis / sizeof dbis[0]; i++) {
		if (mdb_stat(txn, dbis[i], &ms) != 0)
			return (-1);
		*index += (uint64_t)(ms.ms_branch_pages + ms.ms_leaf_pages +
		    ms.ms_overflow_pages) * ms.ms_psize;
	}
	return (0);
}

/*
 * The check of the word index (store_check), in one read transaction.
 * The records are walked first (store_text_check_event): each keeps its
 * (start, id), class and a hash of each of its words, the top bit of
 * which marks the word found.  Then every posting of the sealed blocks,
 * of the tails and of the stage must find its event, at its start and
 * class, holding its word, and mark it once; a word left unmarked is
 * missing from the index.  The lists' postings, counted on the way, must
 * equal the counts of words.  This holds 8 bytes a word and 32 an event
 * (about 110 MB at a million titles of ten words).
 */
struct tcheck_ev {
	uint64_t	id;
	int64_t		start;
	uint32_t	first;		/* its hashes in text_check.hash */
	uint32_t	n;
	unsigned char	class;
};

/* The postings of one list (a word and class), for the count of words. */
struct tcheck_list {
	char		word[WORDS_MAX_BYTES + 1];
	int		class;
	uint64_t	n;
};

struct text_check {
	struct store_check *out;
	MDB_txn		 *txn;
	struct tcheck_ev *ev;
	size_t		  nev, capev;
	uint64_t	 *hash;
	size_t		  nhash, caphash;
	struct tcheck_list *list;
	size_t		  nlist, caplist;
	struct block_buf  b;
};

#define TCHECK_SEEN	(UINT64_C(1) << 63)

/* A word's hash, without the seen bit. */
static uint64_t
tcheck_hash(const void *word, size_t len)
{
	const unsigned char	*p = word;
	uint64_t		 h = UINT64_C(0xcbf29ce484222325);
	size_t			 i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return ((h ^ h >> 31) & ~TCHECK_SEEN);
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Begin the check of the word index; NULL when the store keeps none. */
struct text_check *
store_text_check_begin(struct store *st, MDB_txn *txn,
    struct store_check *out)
{
	struct text_check	*tc;

	if (st->no_text)
		return (NULL);
	tc = xcalloc(1, sizeof *tc);
	tc->out = out;
	tc->txn = txn;
	return (tc);
}

/* Note a record's words (store_text_check_end sorts them by id). */
void
store_text_check_event(struct text_check *tc, const struct event *ev)
{
	struct words	*ws;
	struct tcheck_ev *e;
	size_t		 i;

	if (tc == NULL || (ev->title == NULL && ev->text == NULL))
		return;
	ws = words_scratch();
	if (event_words(ev, ws) != 0 || ws->n == 0)
		return;
	if (tc->nev == tc->capev) {
		tc->capev = tc->capev ? tc->capev * 2 : 1024;
		tc->ev = xreallocarray(tc->ev, tc->capev, sizeof *tc->ev);
	}
	if (tc->nhash + ws->n > tc->caphash) {
		tc->caphash = (tc->nhash + ws->n) * 2;
		tc->hash = xreallocarray(tc->hash, tc->caphash,
		    sizeof *tc->hash);
	}
	e = &tc->ev[tc->nev++];
	e->id = ev->id;
	e->start = ev->span.lo;
	e->class = (unsigned char)skey_class(&ev->span);
	e->first = (uint32_t)tc->nhash;
	e->n = (uint32_t)ws->n;
	for (i = 0; i < e->n; i++)
		tc->hash[tc->nhash + i] = tcheck_hash(words_at(ws, i),
		    strlen(words_at(ws, i)));
	qsort(tc->hash + tc->nhash, e->n, sizeof *tc->hash, u64_cmp);
	tc->nhash += e->n;
}

static int
tcheck_ev_cmp(const void *a, const void *b)
{
	const struct tcheck_ev	*x = a, *y = b;

	return (x->id < y->id ? -1 : x->id > y->id);
}

static struct tcheck_ev *
tcheck_find(struct text_check *tc, uint64_t id)
{
	size_t	lo = 0, hi = tc->nev, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (tc->ev[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < tc->nev && tc->ev[lo].id == id ? &tc->ev[lo] : NULL);
}

/* A posting of word (len bytes) and class: its event holds the word. */
static void
tcheck_posting(struct text_check *tc, const char *where, const char *word,
    size_t len, int class, const struct posting *p)
{
	struct tcheck_ev *e = tcheck_find(tc, p->id);
	uint64_t	  h = tcheck_hash(word, len), *hp;
	size_t		  lo, hi, mid;

	if (e == NULL) {
		store_check_problem(tc->out, "word index: %s of %.*s lists "
		    "missing event %llu", where, (int)len, word,
		    (unsigned long long)p->id);
		return;
	}
	if (e->start != p->start || e->class != class) {
		store_check_problem(tc->out, "word index: %s of %.*s lists "
		    "event %llu at another start or class", where, (int)len,
		    word, (unsigned long long)p->id);
		return;
	}
	hp = tc->hash + e->first;
	for (lo = 0, hi = e->n; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if ((hp[mid] & ~TCHECK_SEEN) < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == e->n || (hp[lo] & ~TCHECK_SEEN) != h)
		store_check_problem(tc->out, "word index: %s of %.*s lists "
		    "event %llu, which has no such word", where, (int)len,
		    word, (unsigned long long)p->id);
	else if (hp[lo] & TCHECK_SEEN)
		store_check_problem(tc->out, "word index: event %llu is "
		    "under %.*s twice (%s)", (unsigned long long)p->id,
		    (int)len, word, where);
	else
		hp[lo] |= TCHECK_SEEN;
}

/*
 * The word and class of a key of text (extra 16) or text_tail (what
 * says which): the word's length, or 0 when the key is not one, which
 * is noted.
 */
static size_t
tcheck_key(struct text_check *tc, const MDB_val *k, size_t extra,
    const char *what)
{
	size_t	len = strnlen(k->mv_data, k->mv_size);

	if (len == 0 || len > WORDS_MAX_BYTES ||
	    k->mv_size != len + 2 + extra) {
		store_check_problem(tc->out, "word index: %s key of %zu bytes",
		    what, k->mv_size);
		return (0);
	}
	return (len);
}

/* Count n postings for the list prefix (word NUL class). */
static void
tcheck_count(struct text_check *tc, const unsigned char *prefix,
    size_t len, uint64_t n)
{
	struct tcheck_list	*l = tc->nlist ? &tc->list[tc->nlist - 1] :
				    NULL;

	if (l != NULL && l->class == prefix[len + 1] &&
	    strcmp(l->word, (const char *)prefix) == 0) {
		l->n += n;
		return;
	}
	if (tc->nlist == tc->caplist) {
		tc->caplist = tc->caplist ? tc->caplist * 2 : 256;
		tc->list = xreallocarray(tc->list, tc->caplist,
		    sizeof *tc->list);
	}
	l = &tc->list[tc->nlist++];
	memcpy(l->word, prefix, len + 1);
	l->class = prefix[len + 1];
	l->n = n;
}

/*
 * Postings b->p[0..n) of a block or tail of list prefix, after last
 * (when *has): in order, each on its event.
 */
static void
tcheck_postings(struct text_check *tc, const char *where,
    const unsigned char *prefix, size_t len, struct posting *last, int *has)
{
	struct block_buf	*b = &tc->b;
	size_t			 i;

	for (i = 0; i < b->n; i++) {
		if (*has && posting_cmp(&b->p[i], last) <= 0)
			store_check_problem(tc->out, "word index: %s of %.*s "
			    "out of order at event %llu", where, (int)len,
			    (const char *)prefix,
			    (unsigned long long)b->p[i].id);
		tcheck_posting(tc, where, (const char *)prefix, len,
		    prefix[len + 1], &b->p[i]);
		*last = b->p[i];
		*has = 1;
	}
	tcheck_count(tc, prefix, len, b->n);
}

/* A list whose sealed blocks end at last has a tail after it. */
static void
tcheck_list_end(struct text_check *tc, struct store *st,
    const unsigned char *prefix, size_t len, const struct posting *last)
{
	MDB_val	k = { len + 2, (void *)prefix }, v;

	if (mdb_get(tc->txn, st->text_tail, &k, &v) != 0 ||
	    v.mv_size < TAIL_HEAD) {
		store_check_problem(tc->out, "word index: %.*s has sealed "
		    "blocks but no tail", (int)len, (const char *)prefix);
		return;
	}
	{
		struct posting	first;

		posting_dec(v.mv_data, &first);
		if (posting_cmp(&first, last) <= 0)
			store_check_problem(tc->out, "word index: the tail of "
			    "%.*s does not follow its blocks", (int)len,
			    (const char *)prefix);
	}
}

/* The sealed blocks, list by list. */
static void
tcheck_blocks(struct text_check *tc, struct store *st)
{
	unsigned char	 prefix[WORDS_MAX_BYTES + 2];
	struct posting	 last;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 len, plen = 0;
	int		 has = 0;

	if (mdb_cursor_open(tc->txn, st->text, &cur) != 0)
		return;
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		tc->out->index_entries++;
		if ((len = tcheck_key(tc, &k, 16, "block")) == 0)
			continue;
		if (plen != len + 2 || memcmp(prefix, k.mv_data, plen) != 0) {
			if (plen > 0)
				tcheck_list_end(tc, st, prefix, plen - 2,
				    &last);
			plen = len + 2;
			memcpy(prefix, k.mv_data, plen);
			has = 0;
		}
		tc->b.n = 0;
		if (v.mv_size > TEXT_BLOCK_BYTES ||
		    block_read(&k, &v, &tc->b) != 0) {
			store_check_problem(tc->out, "word index: a block of "
			    "%.*s (%zu bytes) does not decode", (int)len,
			    (const char *)prefix, v.mv_size);
			continue;
		}
		tcheck_postings(tc, "a block", prefix, len, &last, &has);
	}
	if (plen > 0)
		tcheck_list_end(tc, st, prefix, plen - 2, &last);
	mdb_cursor_close(cur);
}

/* The tails: each decodes, ends at its last, holds its postings. */
static void
tcheck_tails(struct text_check *tc, struct store *st)
{
	struct tail_buf	 tb;
	struct posting	 last;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 len;
	int		 has;

	if (mdb_cursor_open(tc->txn, st->text_tail, &cur) != 0)
		return;
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		tc->out->index_entries++;
		if ((len = tcheck_key(tc, &k, 0, "tail")) == 0)
			continue;
		tc->b.n = 0;
		if (v.mv_size < TAIL_HEAD ||
		    v.mv_size > TAIL_HEAD + TEXT_BLOCK_BYTES) {
			store_check_problem(tc->out, "word index: the tail of "
			    "%.*s has %zu bytes", (int)len,
			    (const char *)k.mv_data, v.mv_size);
			continue;
		}
		memcpy(tb.buf, v.mv_data, v.mv_size);
		posting_dec(tb.buf, &tb.first);
		posting_dec(tb.buf + 16, &tb.last);
		tb.len = v.mv_size - TAIL_HEAD;
		if (tail_decode(&tb, &tc->b) != 0) {
			store_check_problem(tc->out, "word index: the tail of "
			    "%.*s does not decode", (int)len,
			    (const char *)k.mv_data);
			continue;
		}
		if (posting_cmp(&tc->b.p[tc->b.n - 1], &tb.last) != 0)
			store_check_problem(tc->out, "word index: the tail of "
			    "%.*s does not end at its last", (int)len,
			    (const char *)k.mv_data);
		has = 0;
		tcheck_postings(tc, "the tail", k.mv_data, len, &last, &has);
	}
	mdb_cursor_close(cur);
}

/*
 * The stage: each staged event's words, at its start and class, and as
 * many events as meta "text_staged" says.
 */
static void
tcheck_stage(struct text_check *tc, struct store *st)
{
	struct posting	 p;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	const char	*e, *w, *end;
	size_t		 len, elen;
	uint64_t	 n = 0, said;

	if (mdb_cursor_open(tc->txn, st->text_new, &cur) != 0)
		return;
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		if (k.mv_size != 8) {
			store_check_problem(tc->out, "word index: staged entry "
			    "of %zu and %zu bytes", k.mv_size, v.mv_size);
			continue;
		}
		end = (const char *)v.mv_data + v.mv_size;
		for (e = v.mv_data; e < end; e += elen) {
			if ((elen = stage_entry(e, end)) == 0) {
				store_check_problem(tc->out, "word index: "
				    "staged batch %llu is cut short after "
				    "%zu bytes", (unsigned long long)
				    skey_get_be64(k.mv_data), (size_t)(e -
				    (const char *)v.mv_data));
				break;
			}
			tc->out->index_entries++;
			n++;
			posting_dec((const unsigned char *)e, &p);
			for (w = e + STAGE_HEAD; *w != '\0'; w += len + 1) {
				len = strlen(w);
				tcheck_posting(tc, "the stage", w, len,
				    (unsigned char)e[16], &p);
			}
		}
	}
	mdb_cursor_close(cur);
	said = store_meta_get(tc->txn, st->meta, "text_staged", 0);
	if (n != said)
		store_check_problem(tc->out, "word index: %llu events staged, "
		    "meta text_staged says %llu", (unsigned long long)n,
		    (unsigned long long)said);
}

static int
tcheck_list_cmp(const void *a, const void *b)
{
	const struct tcheck_list *x = a, *y = b;

	return (strcmp(x->word, y->word));
}

/*
 * The counts of words against the lists' postings, word by word: both
 * in the order of the words' bytes.
 */
static void
tcheck_words(struct text_check *tc, struct store *st)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	uint64_t	 count, mask, have, classes;
	size_t		 i = 0, j, len;
	const char	*word;
	int		 rc, c;

	/* The blocks' lists then the tails': one word's are apart. */
	if (tc->nlist > 0)
		qsort(tc->list, tc->nlist, sizeof *tc->list, tcheck_list_cmp);
	if (mdb_cursor_open(tc->txn, st->words, &cur) != 0)
		return;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0 || i < tc->nlist) {
		word = i < tc->nlist ? tc->list[i].word : NULL;
		len = word != NULL ? strlen(word) : 0;
		c = rc != 0 ? 1 : word == NULL ? -1 : memcmp(k.mv_data, word,
		    k.mv_size < len ? k.mv_size : len);
		if (c == 0 && k.mv_size != len)
			c = k.mv_size < len ? -1 : 1;
		if (c < 0) {
			store_check_problem(tc->out, "word index: %.*s is "
			    "counted but has no postings", (int)(k.mv_size <
			    64 ? k.mv_size : 64), (const char *)k.mv_data);
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			continue;
		}
		for (have = 0, classes = 0, j = i; j < tc->nlist &&
		    strcmp(tc->list[j].word, word) == 0; j++) {
			have += tc->list[j].n;
			classes |= UINT64_C(1) << (tc->list[j].class & 63);
		}
		i = j;
		if (c > 0) {
			store_check_problem(tc->out, "word index: %.64s has "
			    "%llu postings but no count", word,
			    (unsigned long long)have);
			continue;
		}
		count = v.mv_size == 16 ? skey_get_be64(v.mv_data) : 0;
		mask = v.mv_size == 16 ? skey_get_be64((const unsigned char *)
		    v.mv_data + 8) : 0;
		if (count != have)
			store_check_problem(tc->out, "word index: %.64s counts "
			    "%llu postings, its lists hold %llu", word,
			    (unsigned long long)count,
			    (unsigned long long)have);
		if ((classes & ~mask) != 0)
			store_check_problem(tc->out, "word index: %.64s has "
			    "postings of classes its count's mask lacks",
			    word);
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
}

/* Name the words of event e missing from the index (rereads it). */
static void
tcheck_missing(struct text_check *tc, struct store *st,
    const struct tcheck_ev *e)
{
	struct event	 ev;
	struct words	*ws;
	MDB_val		 v;
	uint64_t	 h, *hp = tc->hash + e->first;
	size_t		 i, j;

	memset(&ev, 0, sizeof ev);
	if (store_rec_get(tc->txn, st, e->id, &v) != 0)
		return;
	store_rec_split(&v);
	if (store_unpack(st, tc->txn, v.mv_data, v.mv_size, &ev) != 0)
		return;
	ws = words_scratch();
	if (event_words(&ev, ws) == 0) {
		for (i = 0; i < ws->n; i++) {
			h = tcheck_hash(words_at(ws, i),
			    strlen(words_at(ws, i)));
			for (j = 0; j < e->n && (hp[j] & ~TCHECK_SEEN) != h;)
				j++;
			if (j < e->n && !(hp[j] & TCHECK_SEEN))
				store_check_problem(tc->out, "event %llu: "
				    "missing from the word index under %.64s",
				    (unsigned long long)e->id,
				    words_at(ws, i));
		}
	}
	record_clear(&ev);
}

/* Walk the word index against the records noted; free tc. */
void
store_text_check_end(struct text_check *tc, struct store *st)
{
	size_t	i, j;

	if (tc == NULL)
		return;
	/* Records come in time order (store-rec.c); postings are found by id. */
	if (tc->nev > 1)	/* none: ev is NULL */
		qsort(tc->ev, tc->nev, sizeof *tc->ev, tcheck_ev_cmp);
	tcheck_blocks(tc, st);
	tcheck_tails(tc, st);
	tcheck_words(tc, st);
	tcheck_stage(tc, st);
	for (i = 0; i < tc->nev; i++) {
		for (j = 0; j < tc->ev[i].n; j++) {
			if (!(tc->hash[tc->ev[i].first + j] & TCHECK_SEEN)) {
				tcheck_missing(tc, st, &tc->ev[i]);
				break;
			}
		}
	}
	free(tc->ev);
	free(tc->hash);
	free(tc->list);
	free(tc->b.p);
	free(tc);
}
