/*
 * Records and the map of their ids.  A record is kept under the start
 * and id of its event (skey_rec_key): a short event's in events, a long
 * event's in the database of its class, events.18 to events.63
 * (store_rec_dbi).  So the records a range query's walk reads lie on a
 * few pages next to each other instead of on as many pages as there are
 * events, and a load in date order appends to each database, which
 * fills its pages.  idblocks maps an id to its record's class and start,
 * for reads by id, 64 ids an entry.  Every read or write of a record
 * goes through here.  Stores of format 4 and before kept records by id
 * alone, and those of format 5 kept long events by start and id among
 * the short ones: store_upgrade_records moves them.  Those of format 8
 * and before kept an entry of ids for each id: store_ids_to_blocks moves
 * them.  Those of formats 6 to 11 kept long records in events under
 * their class, start and id: store_longs_to_classes moves them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "annalsd.h"
#include "store-int.h"

/* Records moved per write transaction by the upgrade. */
#define UPGRADE_BATCH	20000

/* Neighbours store_rec_step() reads before it seeks instead. */
#define REC_STEPS	4

/*
 * A put that sorts after every key of its database is appended, which
 * fills the last page instead of splitting it in half: loads in feed
 * order (start ascending) and new ids do that.  LMDB refuses an append
 * that would not be last (MDB_KEYEXIST) before changing anything.
 */
int
store_put_last(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
	int	rc;

	rc = mdb_put(txn, dbi, k, v, MDB_APPEND);
	if (rc == MDB_KEYEXIST)
		rc = mdb_put(txn, dbi, k, v, 0);
	return (rc);
}

/*
 * Open a cursor on dbi at the block of key k, for a put that reads the
 * block and writes it back where it stands: 0 with *found, and v the
 * block when it is, or an LMDB error (the cursor closed).  MDB_SET
 * leaves k on the caller's bytes: MDB_SET_KEY would point it into the
 * page, which a put of another size rewrites before it reads k.
 */
int
store_block_find(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **cur, MDB_val *k,
    MDB_val *v, int *found)
{
	int	rc;

	if ((rc = mdb_cursor_open(txn, dbi, cur)) != 0)
		return (rc);
	rc = mdb_cursor_get(*cur, k, v, MDB_SET);
	if ((*found = rc == 0) || rc == MDB_NOTFOUND)
		return (0);
	mdb_cursor_close(*cur);
	return (rc);
}

/*
 * Write the block v of key k back where store_block_find found it, or
 * as a new one, appended when it sorts last, which fills pages.
 */
int
store_block_put(MDB_cursor *cur, MDB_val *k, MDB_val *v, int found)
{
	int	rc;

	if (found)
		return (mdb_cursor_put(cur, k, v, MDB_CURRENT));
	if ((rc = mdb_cursor_put(cur, k, v, MDB_APPEND)) == MDB_KEYEXIST)
		rc = mdb_cursor_put(cur, k, v, 0);
	return (rc);
}

/*
 * A block of idblocks: the ids base * 64 to base * 64 + 63, keyed by base
 * (8 bytes, big-endian).  Its value is the bitmap of the ids it holds (8
 * bytes, little-endian), then for each, in order, a varint whose low
 * bits say how its start is written: IDB_DAYS, as the zigzag of its
 * distance in days from the start before (0 for the first), in the bits
 * above; IDB_SECS, the same in seconds; IDB_ABS, in the 8 bytes that
 * follow (a distance too large for the varint); and IDB_CLASS, that its
 * class, a long event's, follows in a byte.  Ids are given out in order
 * and feeds arrive by date, so the starts of a block lie close: about a
 * byte an id, where an entry of its own took 27 with LMDB's overhead.
 */
#define IDB_SECS	0
#define IDB_DAYS	1
#define IDB_ABS		2
#define IDB_HOW		3
#define IDB_CLASS	4
#define IDB_SHIFT	3
#define IDB_DAY		86400

static void
idb_key(unsigned char *kbuf, uint64_t id)
{
	skey_be64(kbuf, id >> ID_BLOCK_SHIFT);
}

/* Decode a block's value: 0, or MDB_CORRUPTED. */
int
store_idb_decode(const void *data, size_t len, struct id_block *b)
{
	const unsigned char	*p = data, *end = p + len;
	uint64_t		 v, d, left;
	int64_t			 at = 0;
	int			 i;

	if (len < 8 || (b->present = store_bitmap_get(p)) == 0)
		return (MDB_CORRUPTED);
	p += 8;
	for (left = b->present; left != 0; left &= left - 1) {
		i = __builtin_ctzll(left);
		if (store_varint_get(&p, end, &v) != 0)
			return (MDB_CORRUPTED);
		d = store_unzigzag(v >> IDB_SHIFT);
		switch (v & IDB_HOW) {
		case IDB_SECS:
			at = (int64_t)((uint64_t)at + d);
			break;
		case IDB_DAYS:
			at = (int64_t)((uint64_t)at + d * IDB_DAY);
			break;
		case IDB_ABS:
			if (end - p < 8)
				return (MDB_CORRUPTED);
			at = skey_get_time(p);
			p += 8;
			break;
		default:
			return (MDB_CORRUPTED);
		}
		b->start[i] = at;
		b->class[i] = 0;
		if (v & IDB_CLASS) {
			if (p == end || *p <= SKEY_REC_SHORT ||
			    *p > SKEY_CLASS_INF)
				return (MDB_CORRUPTED);
			b->class[i] = *p++;
		}
	}
	return (p == end ? 0 : MDB_CORRUPTED);
}

/* Encode the entry of start, of that class, after at: its length. */
static size_t
idb_entry(unsigned char *o, int64_t at, int64_t start, unsigned char class)
{
	uint64_t	z;
	int64_t		d;
	size_t		n;
	int		how, flag = class != 0 ? IDB_CLASS : 0;

	if (__builtin_sub_overflow(start, at, &d) || (z = store_zigzag(
	    (uint64_t)(d % IDB_DAY == 0 ? d / IDB_DAY : d))) >>
	    (64 - IDB_SHIFT) != 0) {
		n = store_varint_put(o, IDB_ABS | flag);
		skey_time(o + n, start);
		n += 8;
	} else {
		how = d % IDB_DAY == 0 ? IDB_DAYS : IDB_SECS;
		n = store_varint_put(o, z << IDB_SHIFT | (uint64_t)(how |
		    flag));
	}
	if (flag)
		o[n++] = class;
	return (n);
}

/* Encode b into buf (ID_BLOCK_MAX bytes): its length. */
size_t
store_idb_encode(const struct id_block *b, unsigned char *buf)
{
	uint64_t	left;
	int64_t		at = 0;
	size_t		n = 8;
	int		i;

	store_bitmap_put(buf, b->present);
	for (left = b->present; left != 0; left &= left - 1) {
		i = __builtin_ctzll(left);
		n += idb_entry(buf + n, at, b->start[i], b->class[i]);
		at = b->start[i];
	}
	return (n);
}

/* The block of id: 0 (empty when it has none), or an LMDB error. */
static int
idb_get(MDB_txn *txn, struct store *st, uint64_t id, struct id_block *b)
{
	unsigned char	kbuf[8];
	MDB_val		k = { 8, kbuf }, v;
	int		rc;

	idb_key(kbuf, id);
	if ((rc = mdb_get(txn, st->idblocks, &k, &v)) == MDB_NOTFOUND) {
		b->present = 0;
		return (0);
	}
	return (rc != 0 ? rc : store_idb_decode(v.mv_data, v.mv_size, b));
}

/* Write b, a block that holds id, whole: appended when it sorts last. */
static int
idb_write(MDB_txn *txn, struct store *st, uint64_t id,
    const struct id_block *b)
{
	unsigned char	kbuf[8], vbuf[ID_BLOCK_MAX];
	MDB_val		k = { 8, kbuf }, v = { 0, vbuf };

	idb_key(kbuf, id);
	v.mv_size = store_idb_encode(b, vbuf);
	return (store_put_last(txn, st->idblocks, &k, &v));
}

/*
 * Give id the place (class, start) in its block, or take its place away
 * (class -1), through one cursor: a put reads and writes the block where
 * it stands.  An id after every other of its block, as a new id is,
 * has its entry appended to the block's bytes, not the block encoded
 * again; a new block goes at the end when it sorts last, filling pages.
 */
static int
idb_set(MDB_txn *txn, struct store *st, uint64_t id, int class,
    int64_t start)
{
	struct id_block	 b;
	MDB_cursor	*cur;
	unsigned char	 kbuf[8], vbuf[ID_BLOCK_MAX];
	MDB_val		 k = { 8, kbuf }, v;
	uint64_t	 bit = UINT64_C(1) << (id & (ID_BLOCK_IDS - 1));
	int		 rc, found, i, last;
	size_t		 n;

	idb_key(kbuf, id);
	if ((rc = store_block_find(txn, st->idblocks, &cur, &k, &v,
	    &found)) != 0)
		return (rc);
	b.present = 0;
	if (found && (rc = store_idb_decode(v.mv_data, v.mv_size, &b)) != 0)
		goto out;
	i = (int)(id & (ID_BLOCK_IDS - 1));
	if (class < 0) {
		b.present &= ~bit;
		if (!found || b.present == 0) {
			rc = found ? mdb_cursor_del(cur, 0) : 0;
			goto out;
		}
		n = store_idb_encode(&b, vbuf);
	} else if (found && (b.present & ~(bit - 1)) == 0) {
		last = 63 - __builtin_clzll(b.present);
		memcpy(vbuf, v.mv_data, v.mv_size);
		n = v.mv_size + idb_entry(vbuf + v.mv_size, b.start[last],
		    start, (unsigned char)class);
		b.present |= bit;
		store_bitmap_put(vbuf, b.present);
	} else {
		b.present |= bit;
		b.start[i] = start;
		b.class[i] = (unsigned char)class;
		n = store_idb_encode(&b, vbuf);
	}
	v.mv_size = n;
	v.mv_data = vbuf;
	rc = store_block_put(cur, &k, &v, found);
out:
	mdb_cursor_close(cur);
	return (rc);
}

/*
 * Where the record of stored event id is: its class (0 for a short
 * record) and start.  0, MDB_NOTFOUND or an LMDB error.
 */
int
store_rec_start(MDB_txn *txn, struct store *st, uint64_t id, int *class,
    int64_t *start)
{
	struct id_block	b;
	int		rc, i = (int)(id & (ID_BLOCK_IDS - 1));

	if ((rc = idb_get(txn, st, id, &b)) != 0)
		return (rc);
	if ((b.present & (UINT64_C(1) << i)) == 0)
		return (MDB_NOTFOUND);
	*class = b.class[i];
	*start = b.start[i];
	return (0);
}

/*
 * The record of the event id of that class that starts at start, as
 * stored (its seq follows: store_rec_split): what an index entry leads
 * to in one read.
 */
int
store_rec_at(MDB_txn *txn, struct store *st, int class, int64_t start,
    uint64_t id, MDB_val *v)
{
	unsigned char	kbuf[SKEY_REC_LEN];
	MDB_val		k = { SKEY_REC_LEN, kbuf };

	skey_rec_key(kbuf, start, id);
	return (mdb_get(txn, store_rec_dbi(st, class), &k, v));
}

/*
 * As store_rec_at, through cur, a cursor on the records of the class
 * that a walk keeps: LMDB looks for a key on the leaf the cursor stands
 * on before it descends from the root, and the records a walk in time
 * order reads one after the other mostly share a leaf.
 */
int
store_rec_seek(MDB_cursor *cur, int64_t start, uint64_t id, MDB_val *v)
{
	unsigned char	kbuf[SKEY_REC_LEN];
	MDB_val		k = { SKEY_REC_LEN, kbuf };

	skey_rec_key(kbuf, start, id);
	return (mdb_cursor_get(cur, &k, v, MDB_SET_KEY));
}

/*
 * As store_rec_seek, for a walk whose cursor stands on the record read
 * before, in the walk's order (desc: backwards): a time index walk reads
 * records that mostly follow each other, and a step to the neighbour
 * reads one node where MDB_SET_KEY searches the leaf, or descends from
 * the root when the record is on the next leaf.  After REC_STEPS steps
 * that do not meet the record, it seeks.
 */
int
store_rec_step(MDB_cursor *cur, int64_t start, uint64_t id, int desc,
    MDB_val *v)
{
	unsigned char	kbuf[SKEY_REC_LEN];
	MDB_val		k;
	int		i, c;

	skey_rec_key(kbuf, start, id);
	for (i = 0; i < REC_STEPS; i++) {
		if (mdb_cursor_get(cur, &k, v, desc ? MDB_PREV : MDB_NEXT) != 0 ||
		    k.mv_size != SKEY_REC_LEN)
			break;
		if ((c = memcmp(k.mv_data, kbuf, SKEY_REC_LEN)) == 0)
			return (0);
		if (desc ? c < 0 : c > 0)
			break;
	}
	k.mv_size = SKEY_REC_LEN;
	k.mv_data = kbuf;
	return (mdb_cursor_get(cur, &k, v, MDB_SET_KEY));
}

/* The record of id, as stored: 0, MDB_NOTFOUND or an LMDB error. */
int
store_rec_get(MDB_txn *txn, struct store *st, uint64_t id, MDB_val *v)
{
	int64_t	start;
	int	rc, class;

	if ((rc = store_rec_start(txn, st, id, &class, &start)) != 0)
		return (rc);
	return (store_rec_at(txn, st, class, start, id, v));
}

/*
 * Store v as the record of id, of that class and starting at start: the
 * record moves when its class or start did.  fresh says that id has no
 * record, as for an id just given out, which spares looking for one.
 */
int
store_rec_put(MDB_txn *txn, struct store *st, int class, int64_t start,
    uint64_t id, MDB_val *v, int fresh)
{
	unsigned char	kbuf[SKEY_REC_LEN], okbuf[SKEY_REC_LEN];
	MDB_val		k = { SKEY_REC_LEN, kbuf };
	MDB_val		ok = { SKEY_REC_LEN, okbuf };
	int64_t		old;
	int		rc = MDB_NOTFOUND, oclass;

	if (class <= SKEY_REC_SHORT)
		class = 0;
	skey_rec_key(kbuf, start, id);
	if (!fresh)
		rc = store_rec_start(txn, st, id, &oclass, &old);
	if (rc == 0) {
		if (oclass == class && old == start)
			return (mdb_put(txn, store_rec_dbi(st, class), &k, v,
			    0));
		skey_rec_key(okbuf, old, id);
		if ((rc = mdb_del(txn, store_rec_dbi(st, oclass), &ok,
		    NULL)) != 0 && rc != MDB_NOTFOUND)
			return (rc);
	} else if (rc != MDB_NOTFOUND)
		return (rc);
	/* idblocks keeps the key less its id, and the class. */
	if ((rc = idb_set(txn, st, id, class, start)) != 0)
		return (rc);
	return (store_put_last(txn, store_rec_dbi(st, class), &k, v));
}

/* Drop the record of id: 0, MDB_NOTFOUND or an LMDB error. */
int
store_rec_del(MDB_txn *txn, struct store *st, uint64_t id)
{
	struct id_block	b;
	unsigned char	kbuf[SKEY_REC_LEN];
	MDB_val		k = { SKEY_REC_LEN, kbuf };
	int		rc, i = (int)(id & (ID_BLOCK_IDS - 1));

	if ((rc = idb_get(txn, st, id, &b)) != 0)
		return (rc);
	if ((b.present & (UINT64_C(1) << i)) == 0)
		return (MDB_NOTFOUND);
	skey_rec_key(kbuf, b.start[i], id);
	if ((rc = mdb_del(txn, store_rec_dbi(st, b.class[i]), &k, NULL)) !=
	    0 && rc != MDB_NOTFOUND)
		return (rc);
	return (idb_set(txn, st, id, -1, 0));
}

/* The name of the database of the records of class: events.CLASS or events. */
void
store_rec_db_name(int class, char *buf, size_t len)
{
	if (class <= SKEY_REC_SHORT)
		snprintf(buf, len, "events");
	else
		snprintf(buf, len, "events.%d", class);
}

/*
 * Open (creating them) the databases of long records, named after their
 * class: every one, so that readers never open one.
 */
int
store_rec_open(struct store *st, MDB_txn *txn)
{
	int	i, rc;

	for (i = 0; i < REC_LONG_CLASSES; i++) {
		store_rec_db_name(store_rec_db_class(i + 1), st->long_names[i],
		    sizeof st->long_names[i]);
		if ((rc = mdb_dbi_open(txn, st->long_names[i], MDB_CREATE,
		    &st->longs[i])) != 0)
			return (rc);
	}
	return (0);
}

/*
 * How many records the store holds, in *n, the long ones of the classes
 * in the mask classes only: 0 or an LMDB error.  A query's plan passes
 * the classes used (meta "classes"): the first read of each database in
 * a transaction looks it up in the main database.
 */
int
store_rec_count(MDB_txn *txn, const struct store *st, uint64_t classes,
    uint64_t *n)
{
	MDB_stat	ms;
	int		i, rc;

	*n = 0;
	for (i = 0; i < REC_DBS; i++) {
		if (i > 0 && (classes >> store_rec_db_class(i) & 1) == 0)
			continue;
		if ((rc = mdb_stat(txn, store_rec_db(st, i), &ms)) != 0)
			return (rc);
		*n += ms.ms_entries;
	}
	return (0);
}

/*
 * Move the records that formats 6 to 11 kept in events under their
 * class, start and id (17 bytes, the class byte first) into the
 * databases of their classes, in txn: *n says how many.  Those keys sort
 * together, before the short records' (a class byte is below any start's
 * first byte but that of the earliest times, which only short records
 * have), and each class is read in order, so each record is appended.
 */
int
store_longs_to_classes(MDB_txn *txn, struct store *st, size_t *n)
{
	unsigned char	 from = SKEY_REC_SHORT + 1;
	const unsigned char *p;
	MDB_cursor	*cur;
	MDB_val		 k = { 1, &from }, v, nk;
	int		 rc;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, st->events, &cur)) != 0)
		return (rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		p = k.mv_data;
		if (p[0] > SKEY_CLASS_INF)
			break;
		if (k.mv_size != SKEY_TIME_LEN)
			continue;	/* store-check's business */
		nk.mv_size = SKEY_REC_LEN;
		nk.mv_data = (void *)(p + 1);
		if ((rc = store_put_last(txn, store_rec_dbi(st, p[0]), &nk,
		    &v)) != 0 || (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		(*n)++;
	}
	mdb_cursor_close(cur);
	return (rc == MDB_NOTFOUND ? 0 : rc);
}

/*
 * Move the entries of ids, one an id (format 8 and before), into
 * idblocks, in txn, and drop ids: *n says how many.  ids is read in
 * order, so each block is written once, appended.
 */
int
store_ids_to_blocks(MDB_txn *txn, struct store *st, size_t *n)
{
	struct id_block	 b;
	const unsigned char *p;
	MDB_cursor	*cur;
	MDB_dbi		 ids;
	MDB_val		 k, v;
	uint64_t	 id, at = 0;
	int		 rc, i;

	*n = 0;
	if ((rc = mdb_dbi_open(txn, "ids", 0, &ids)) != 0)
		return (rc == MDB_NOTFOUND ? 0 : rc);
	if ((rc = mdb_cursor_open(txn, ids, &cur)) != 0)
		return (rc);
	b.present = 0;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		p = v.mv_data;
		if (k.mv_size != 8 || (v.mv_size != 8 && (v.mv_size != 9 ||
		    p[0] <= SKEY_REC_SHORT || p[0] > SKEY_CLASS_INF))) {
			rc = MDB_CORRUPTED;
			break;
		}
		id = skey_get_be64(k.mv_data);
		if (b.present != 0 && id >> ID_BLOCK_SHIFT != at >>
		    ID_BLOCK_SHIFT) {
			if ((rc = idb_write(txn, st, at, &b)) != 0)
				break;
			b.present = 0;
		}
		at = id;
		i = (int)(id & (ID_BLOCK_IDS - 1));
		b.present |= UINT64_C(1) << i;
		b.class[i] = v.mv_size == 9 ? p[0] : 0;
		b.start[i] = skey_get_time(p + (v.mv_size == 9));
		(*n)++;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return (rc);
	if (b.present != 0 && (rc = idb_write(txn, st, at, &b)) != 0)
		return (rc);
	return (mdb_drop(txn, ids, 1));
}

/*
 * Move the records at or after id next that are still keyed by id alone
 * (8 bytes) to their keys, at most UPGRADE_BATCH of them, in txn.
 * *next is where the next batch starts, UINT64_MAX when none is left.
 * The kinds of key share the database meanwhile: a key of 16 bytes is
 * moved, and no key of 8 bytes sorts after it unless its id is
 * above its first 8 bytes, so the walk skips there, and ends where those
 * are past every id given (next_id).
 */
static int
upgrade_batch(struct store *st, MDB_txn *txn, uint64_t *next, size_t *n)
{
	msgpack_sbuffer	 sbuf;
	struct event	 ev;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	unsigned char	 kbuf[8];
	uint64_t	 id, next_id;
	int64_t		 start;
	size_t		 done = 0;
	int		 rc, class;

	next_id = store_meta_get(txn, st->meta, "next_id", UINT64_MAX);
	if ((rc = mdb_cursor_open(txn, st->events, &cur)) != 0)
		return (rc);
	msgpack_sbuffer_init(&sbuf);
	while (done < UPGRADE_BATCH) {
		skey_be64(kbuf, *next);
		k.mv_size = 8;
		k.mv_data = kbuf;
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		id = skey_get_be64(k.mv_data);
		if (k.mv_size != 8) {
			if (k.mv_size < 8) {
				rc = MDB_CORRUPTED;
				break;
			}
			if (id >= next_id || id == UINT64_MAX) {
				rc = MDB_NOTFOUND;
				break;
			}
			*next = id + 1;
			continue;
		}
		msgpack_sbuffer_clear(&sbuf);
		msgpack_sbuffer_write(&sbuf, v.mv_data, v.mv_size);
		v.mv_size = sbuf.size;
		v.mv_data = sbuf.data;
		store_rec_split(&v);
		memset(&ev, 0, sizeof ev);
		if (store_unpack(st, txn, v.mv_data, v.mv_size, &ev) == 0)
			start = ev.span.lo;
		else {
			log_warn("event %llu: record does not decode; kept "
			    "first in time order", (unsigned long long)id);
			start = DATE_NEG_INF;
		}
		class = start == DATE_NEG_INF ? 0 : skey_class(&ev.span);
		record_clear(&ev);
		v.mv_size = sbuf.size;
		k.mv_size = 8;
		k.mv_data = kbuf;
		skey_be64(kbuf, id);
		if ((rc = mdb_del(txn, st->events, &k, NULL)) != 0 ||
		    (rc = store_rec_put(txn, st, class, start, id, &v, 1)) != 0)
			break;
		done++;
		if (id == UINT64_MAX) {
			rc = MDB_NOTFOUND;
			break;
		}
		*next = id + 1;
	}
	mdb_cursor_close(cur);
	msgpack_sbuffer_destroy(&sbuf);
	*n += done;
	if (rc == MDB_NOTFOUND) {
		*next = UINT64_MAX;
		rc = 0;
	}
	return (rc);
}

/*
 * Where the move of format 5's long records stands: the time index,
 * then its stage, from the key after the last one done.
 */
struct long_walk {
	int		db;		/* 0: timeblocks, 1: time_new, 2: done */
	unsigned char	key[SKEY_TIME_LEN];
};

/*
 * Move the records of long events still kept under their start and id
 * (format 5) to their class, start and id, at most UPGRADE_BATCH of
 * them, in txn.  The time index names every event with its class, and
 * the long ones sort after the short ones.
 */
static int
long_batch(struct store *st, MDB_txn *txn, struct long_walk *lw, size_t *n)
{
	msgpack_sbuffer	 sbuf;
	struct ixcur	 cur;
	MDB_val		 k, v;
	int64_t		 start, at;
	uint64_t	 id;
	size_t		 done = 0;
	int		 rc = 0, class, now;

	msgpack_sbuffer_init(&sbuf);
	while (lw->db < 2 && done < UPGRADE_BATCH) {
		if ((rc = store_ixcur_open(st, txn, lw->db == 0 ?
		    st->timeblocks : st->time_new, &cur)) != 0)
			break;
		k.mv_size = SKEY_TIME_LEN;
		k.mv_data = lw->key;
		for (rc = store_ixcur_get(&cur, &k, &v, MDB_SET_RANGE);
		    rc == 0 && done < UPGRADE_BATCH;
		    rc = store_ixcur_get(&cur, &k, &v, MDB_NEXT)) {
			if (k.mv_size != SKEY_TIME_LEN)
				continue;	/* store-check's business */
			memcpy(lw->key, k.mv_data, SKEY_TIME_LEN);
			class = lw->key[0];
			start = skey_get_time(lw->key + 1);
			id = skey_get_be64(lw->key + 9);
			if (store_rec_start(txn, st, id, &now, &at) != 0 ||
			    now != 0 || at != start ||
			    store_rec_at(txn, st, 0, start, id, &v) != 0)
				continue;
			/* The put moves the pages v is in. */
			msgpack_sbuffer_clear(&sbuf);
			msgpack_sbuffer_write(&sbuf, v.mv_data, v.mv_size);
			v.mv_size = sbuf.size;
			v.mv_data = sbuf.data;
			if ((rc = store_rec_put(txn, st, class, start, id, &v,
			    0)) != 0)
				break;
			done++;
		}
		store_ixcur_close(&cur);
		if (rc != MDB_NOTFOUND)
			break;
		rc = 0;
		lw->db++;
		memset(lw->key, 0, sizeof lw->key);
		lw->key[0] = SKEY_REC_SHORT + 1;
	}
	msgpack_sbuffer_destroy(&sbuf);
	*n += done;
	return (rc);
}

/*
 * Format 4 to 6 (and on): every record moves from its id to its key;
 * format 5 to 6: the records of long events move to theirs
 * (skey_rec_key).  ids learns each new key; the bytes of each record are
 * kept.  Bounded batches, each a write transaction of its own that may
 * grow the map.  The store is marked with this format before the first
 * (store_format), with meta "upgrading", which the last batch deletes: a
 * store left midway by a crash is refused by an annalsd of an older
 * format, and the next open of this one carries on where it stopped
 * (both walks skip what moved).
 */
int
store_upgrade_records(struct store *st, const char *path, struct aerr *err)
{
	struct long_walk	 lw, lw_from;
	MDB_txn			*txn;
	MDB_val			 k;
	uint64_t		 next = 0, from;
	size_t			 n = 0, before;
	int			 rc;

	memset(&lw, 0, sizeof lw);
	lw.key[0] = SKEY_REC_SHORT + 1;
	for (;;) {
		if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
			return (store_error(err, rc, "mdb_txn_begin"));
		from = next;
		lw_from = lw;
		before = n;
		if (next != UINT64_MAX)
			rc = upgrade_batch(st, txn, &next, &n);
		else
			rc = long_batch(st, txn, &lw, &n);
		if (rc == 0 && next == UINT64_MAX && lw.db == 2) {
			k.mv_size = strlen("upgrading");
			k.mv_data = (void *)"upgrading";
			rc = mdb_del(txn, st->meta, &k, NULL);
		}
		if (rc == 0)
			rc = mdb_txn_commit(txn);	/* frees it either way */
		else
			mdb_txn_abort(txn);
		if (rc == 0 && next == UINT64_MAX && lw.db == 2)
			break;
		if (rc == 0)
			continue;
		if (rc != MDB_MAP_FULL)
			return (store_error(err, rc, "upgrading the store"));
		if (store_grow(st, err) != 0)
			return (-1);
		next = from;
		lw = lw_from;
		n = before;
	}
	log_notice("%s: upgraded %zu records to store format %d: records are "
	    "kept in time order, a long event's by its class", path, n,
	    STORE_FORMAT);
	if (n > 0)
		log_notice("%s: the moves left pages part empty; annalsd "
		    "--compact gives them back while no daemon runs", path);
	return (0);
}
