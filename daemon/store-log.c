/*
 * The change log, 64 seqs an entry.  A block of logblocks holds the
 * changes of the seqs base * 64 to base * 64 + 63, keyed by base (8
 * bytes, big-endian): the bitmap of the seqs it holds (8 bytes,
 * little-endian), then for each, in order, a varint whose low bits say
 * what changed.  LOG_PUT and LOG_DELETE, an event's: the zigzag of its
 * id's distance from the event id before it in the block (0 for the
 * first) in the bits above, or with LOG_ABS the id whole in the 8 bytes
 * that follow.  LOG_DICT_PUT and LOG_DICT_DELETE, a dictionary entry's:
 * the length of its kind and key in the bits above, and those bytes.
 * A load gives out seqs and ids together, so an entry takes a byte,
 * where one of its own took 28 with LMDB's overhead.  Stores of format 9
 * and before kept an entry a seq in changes: store_log_from_changes
 * moves them.
 */
#include <string.h>

#include <lmdb.h>

#include "annalsd.h"
#include "store-int.h"

#define LOG_PUT		0
#define LOG_DELETE	1
#define LOG_DICT_PUT	2
#define LOG_DICT_DELETE	3
#define LOG_HOW		3
#define LOG_ABS		4
#define LOG_SHIFT	3

static void
log_key(unsigned char *kbuf, uint64_t seq)
{
	skey_be64(kbuf, seq >> LOG_BLOCK_SHIFT);
}

static int
log_is_event(int op)
{
	return (op == CHANGE_PUT || op == CHANGE_DELETE);
}

/* Decode a block's value: 0, or MDB_CORRUPTED. */
int
store_log_decode(const void *data, size_t len, struct log_block *b)
{
	const unsigned char	*p = data, *end = p + len;
	struct log_entry	*e;
	uint64_t		 v, left, id = 0;
	int			 i;

	if (len < 8 || (b->present = store_bitmap_get(p)) == 0)
		return (MDB_CORRUPTED);
	p += 8;
	for (left = b->present; left != 0; left &= left - 1) {
		i = __builtin_ctzll(left);
		e = &b->e[i];
		if (store_varint_get(&p, end, &v) != 0)
			return (MDB_CORRUPTED);
		switch (v & LOG_HOW) {
		case LOG_PUT:
		case LOG_DELETE:
			e->op = (v & LOG_HOW) == LOG_PUT ? CHANGE_PUT :
			    CHANGE_DELETE;
			if (v & LOG_ABS) {
				if (v >> LOG_SHIFT != 0 || end - p < 8)
					return (MDB_CORRUPTED);
				id = skey_get_be64(p);
				p += 8;
			} else
				id += store_unzigzag(v >> LOG_SHIFT);
			e->id = id;
			e->dkey = NULL;
			e->dkeylen = 0;
			break;
		default:
			e->op = (v & LOG_HOW) == LOG_DICT_PUT ?
			    CHANGE_DICT_PUT : CHANGE_DICT_DELETE;
			e->dkeylen = v >> LOG_SHIFT;
			if ((v & LOG_ABS) || e->dkeylen == 0 ||
			    e->dkeylen > DICT_KEY_MAX ||
			    (size_t)(end - p) < e->dkeylen)
				return (MDB_CORRUPTED);
			e->dkey = p;
			e->id = 0;
			p += e->dkeylen;
			break;
		}
	}
	return (p == end ? 0 : MDB_CORRUPTED);
}

/* Encode e after the event id *prev into o: its length. */
static size_t
log_entry(unsigned char *o, uint64_t *prev, const struct log_entry *e)
{
	uint64_t	z;
	size_t		n;
	int		how;

	if (!log_is_event(e->op)) {
		how = e->op == CHANGE_DICT_PUT ? LOG_DICT_PUT :
		    LOG_DICT_DELETE;
		n = store_varint_put(o, (uint64_t)e->dkeylen << LOG_SHIFT |
		    (uint64_t)how);
		memcpy(o + n, e->dkey, e->dkeylen);
		return (n + e->dkeylen);
	}
	how = e->op == CHANGE_PUT ? LOG_PUT : LOG_DELETE;
	z = store_zigzag(e->id - *prev);
	*prev = e->id;
	if (z >> (64 - LOG_SHIFT) != 0) {
		n = store_varint_put(o, (uint64_t)(how | LOG_ABS));
		skey_be64(o + n, e->id);
		return (n + 8);
	}
	return (store_varint_put(o, z << LOG_SHIFT | (uint64_t)how));
}

/* Encode b into buf (LOG_BLOCK_MAX bytes): its length. */
size_t
store_log_encode(const struct log_block *b, unsigned char *buf)
{
	uint64_t	left, prev = 0;
	size_t		n = 8;

	store_bitmap_put(buf, b->present);
	for (left = b->present; left != 0; left &= left - 1)
		n += log_entry(buf + n, &prev, &b->e[__builtin_ctzll(left)]);
	return (n);
}

/* The id of the last event entry of b below bit end, or 0. */
static uint64_t
log_last_id(const struct log_block *b, int end)
{
	uint64_t	left = end == 64 ? b->present :
			    b->present & ((UINT64_C(1) << end) - 1);
	int		i;

	for (; left != 0; left &= ~(UINT64_C(1) << i)) {
		i = 63 - __builtin_clzll(left);
		if (log_is_event(b->e[i].op))
			return (b->e[i].id);
	}
	return (0);
}

/*
 * Log e at seq, or take seq's entry away (e NULL), through one cursor
 * that reads and writes the block where it stands.  A seq after every
 * other of its block, as a new change's is, has its entry appended to
 * the block's bytes; a new block goes at the end, filling pages.  An
 * LMDB error, MDB_NOTFOUND for a seq to take away that is not there, or
 * 0.
 */
static int
log_set(MDB_txn *txn, struct store *st, uint64_t seq,
    const struct log_entry *e)
{
	struct log_block b;
	MDB_cursor	*cur;
	unsigned char	 kbuf[8], vbuf[LOG_BLOCK_MAX];
	MDB_val		 k = { 8, kbuf }, v;
	uint64_t	 prev;
	int		 rc, found, i = (int)(seq & (LOG_BLOCK_SEQS - 1));
	uint64_t	 bit = UINT64_C(1) << i;
	size_t		 n;

	log_key(kbuf, seq);
	if ((rc = store_block_find(txn, st->logblocks, &cur, &k, &v,
	    &found)) != 0)
		return (rc);
	b.present = 0;
	if (found && (rc = store_log_decode(v.mv_data, v.mv_size, &b)) != 0)
		goto out;
	if (e == NULL) {
		if ((b.present & bit) == 0) {
			rc = MDB_NOTFOUND;
			goto out;
		}
		b.present &= ~bit;
		if (b.present == 0) {
			rc = mdb_cursor_del(cur, 0);
			goto out;
		}
		n = store_log_encode(&b, vbuf);
	} else if (found && (b.present & ~(bit - 1)) == 0) {
		prev = log_last_id(&b, i);
		memcpy(vbuf, v.mv_data, v.mv_size);
		n = v.mv_size + log_entry(vbuf + v.mv_size, &prev, e);
		store_bitmap_put(vbuf, b.present | bit);
	} else {
		b.present |= bit;
		b.e[i] = *e;
		n = store_log_encode(&b, vbuf);
	}
	v.mv_size = n;
	v.mv_data = vbuf;
	rc = store_block_put(cur, &k, &v, found);
out:
	mdb_cursor_close(cur);
	return (rc);
}

/* Log e at seq, a seq given out by this transaction. */
int
store_log_add(MDB_txn *txn, struct store *st, uint64_t seq,
    const struct log_entry *e)
{
	return (log_set(txn, st, seq, e));
}

/* Take seq's entry out of the log: MDB_NOTFOUND if it has none. */
int
store_log_del(MDB_txn *txn, struct store *st, uint64_t seq)
{
	return (log_set(txn, st, seq, NULL));
}

/*
 * The entry of seq, pointing into txn's pages: 0, MDB_NOTFOUND,
 * MDB_CORRUPTED or an LMDB error.
 */
int
store_log_get(MDB_txn *txn, struct store *st, uint64_t seq,
    struct log_entry *e)
{
	struct log_block b;
	unsigned char	 kbuf[8];
	MDB_val		 k = { 8, kbuf }, v;
	int		 rc, i = (int)(seq & (LOG_BLOCK_SEQS - 1));

	log_key(kbuf, seq);
	if ((rc = mdb_get(txn, st->logblocks, &k, &v)) != 0 ||
	    (rc = store_log_decode(v.mv_data, v.mv_size, &b)) != 0)
		return (rc);
	if ((b.present & UINT64_C(1) << i) == 0)
		return (MDB_NOTFOUND);
	*e = b.e[i];
	return (0);
}

/* Start a walk of the log at seq from: 0 or an LMDB error. */
int
store_log_walk_open(MDB_txn *txn, struct store *st, uint64_t from,
    struct log_walk *w)
{
	memset(w, 0, sizeof *w);
	w->from = from;
	w->op = MDB_SET_RANGE;
	return (mdb_cursor_open(txn, st->logblocks, &w->cur));
}

/*
 * The next entry of the walk and its seq: 0, MDB_NOTFOUND at the end,
 * an LMDB error, or MDB_CORRUPTED for a block that does not decode,
 * whose first seq *seq is: the walk goes on after it.
 */
int
store_log_walk_next(struct log_walk *w, uint64_t *seq, struct log_entry *e)
{
	unsigned char	kbuf[8];
	MDB_val		k, v;
	uint64_t	base;
	int		rc, i;

	while (w->left == 0) {
		if (w->op == MDB_SET_RANGE) {
			log_key(kbuf, w->from);
			k.mv_size = 8;
			k.mv_data = kbuf;
		}
		rc = mdb_cursor_get(w->cur, &k, &v, w->op);
		w->op = MDB_NEXT;
		if (rc != 0)
			return (rc);
		if (k.mv_size != 8) {
			*seq = 0;
			return (MDB_CORRUPTED);
		}
		base = skey_get_be64(k.mv_data);
		w->base = base << LOG_BLOCK_SHIFT;
		if (store_log_decode(v.mv_data, v.mv_size, &w->b) != 0) {
			*seq = w->base;
			return (MDB_CORRUPTED);
		}
		w->left = w->b.present;
		if (w->base < w->from)
			w->left &= ~((UINT64_C(1) << (w->from - w->base)) - 1);
	}
	i = __builtin_ctzll(w->left);
	w->left &= w->left - 1;
	*seq = w->base + (uint64_t)i;
	*e = w->b.e[i];
	return (0);
}

void
store_log_walk_close(struct log_walk *w)
{
	if (w->cur != NULL)
		mdb_cursor_close(w->cur);
	w->cur = NULL;
}

/* Write b, the block of seq, whole, appended: the move writes in order. */
static int
log_write(MDB_txn *txn, struct store *st, uint64_t seq,
    const struct log_block *b)
{
	unsigned char	kbuf[8], vbuf[LOG_BLOCK_MAX];
	MDB_val		k = { 8, kbuf }, v = { 0, vbuf };

	log_key(kbuf, seq);
	v.mv_size = store_log_encode(b, vbuf);
	return (store_put_last(txn, st->logblocks, &k, &v));
}

/*
 * The entry of changes (format 9 and before) k, v as a log entry: 0, or
 * -1 for one that changes' readers passed over as damaged.
 */
static int
log_from_value(const MDB_val *k, const MDB_val *v, struct log_entry *e)
{
	const unsigned char	*p = v->mv_data;

	if (k->mv_size != 8 || v->mv_size < 2)
		return (-1);
	e->op = p[0];
	if (log_is_event(e->op)) {
		if (v->mv_size != 9)
			return (-1);
		e->id = skey_get_be64(p + 1);
		e->dkey = NULL;
		e->dkeylen = 0;
		return (0);
	}
	if ((e->op != CHANGE_DICT_PUT && e->op != CHANGE_DICT_DELETE) ||
	    v->mv_size > 1 + DICT_KEY_MAX)
		return (-1);
	e->id = 0;
	e->dkey = p + 1;
	e->dkeylen = v->mv_size - 1;
	return (0);
}

/*
 * Move the entries of changes, one a seq (format 9 and before), into
 * logblocks, in txn, and drop changes: *n says how many moved.  Those
 * that do not decode, which its readers passed over, the log leaves
 * out, with a warning.  changes is read in order, so each block is
 * written once, appended; its entries point into changes' pages until
 * then, which nothing in txn writes.
 */
int
store_log_from_changes(MDB_txn *txn, struct store *st, size_t *n)
{
	struct log_block b;
	MDB_cursor	*cur;
	MDB_dbi		 changes;
	MDB_val		 k, v;
	uint64_t	 seq, at = 0;
	size_t		 bad = 0;
	int		 rc, i;

	*n = 0;
	if ((rc = mdb_dbi_open(txn, "changes", 0, &changes)) != 0)
		return (rc == MDB_NOTFOUND ? 0 : rc);
	if ((rc = mdb_cursor_open(txn, changes, &cur)) != 0)
		return (rc);
	b.present = 0;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != 8) {
			bad++;
			continue;
		}
		seq = skey_get_be64(k.mv_data);
		if (b.present != 0 && seq >> LOG_BLOCK_SHIFT != at >>
		    LOG_BLOCK_SHIFT) {
			if ((rc = log_write(txn, st, at, &b)) != 0)
				break;
			b.present = 0;
		}
		i = (int)(seq & (LOG_BLOCK_SEQS - 1));
		if (log_from_value(&k, &v, &b.e[i]) != 0) {
			bad++;
			continue;
		}
		at = seq;
		b.present |= UINT64_C(1) << i;
		(*n)++;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return (rc);
	if (b.present != 0 && (rc = log_write(txn, st, at, &b)) != 0)
		return (rc);
	if (bad > 0)
		log_warn("%s: left out %zu entries of the change log that "
		    "did not decode", st->path, bad);
	return (mdb_drop(txn, changes, 1));
}
