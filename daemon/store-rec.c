/*
 * Records and the map of their ids.  A record is kept under the start
 * and id of its event (skey_rec_key), the start the time index sorts on,
 * so that the records of a range query's page lie on a few pages next to
 * each other instead of on as many pages as there are events; ids maps
 * an id to that start, for reads by id.  Every read or write of a record
 * goes through here.  Stores of format 4 and before kept records by id
 * alone; store_upgrade_4 moves them.
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

/* The start of stored event id: 0, MDB_NOTFOUND or an LMDB error. */
int
store_rec_start(MDB_txn *txn, struct store *st, uint64_t id, int64_t *start)
{
	unsigned char	kbuf[8];
	MDB_val		k = { 8, kbuf }, v;
	int		rc;

	skey_be64(kbuf, id);
	if ((rc = mdb_get(txn, st->ids, &k, &v)) != 0)
		return (rc);
	if (v.mv_size != 8)
		return (MDB_CORRUPTED);
	*start = skey_get_time(v.mv_data);
	return (0);
}

/*
 * The record of the event id that starts at start, as stored (its seq
 * follows: store_rec_split): what an index entry leads to in one read.
 */
int
store_rec_at(MDB_txn *txn, struct store *st, int64_t start, uint64_t id,
    MDB_val *v)
{
	unsigned char	kbuf[SKEY_REC_LEN];
	MDB_val		k = { SKEY_REC_LEN, kbuf };

	skey_rec_key(kbuf, start, id);
	return (mdb_get(txn, st->events, &k, v));
}

/*
 * As store_rec_at, through cur, a cursor on the records that a walk
 * keeps: LMDB looks for a key on the leaf the cursor stands on before
 * it descends from the root, and the records a walk in time order reads
 * one after the other mostly share a leaf.
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
	int	rc;

	if ((rc = store_rec_start(txn, st, id, &start)) != 0)
		return (rc);
	return (store_rec_at(txn, st, start, id, v));
}

/*
 * A put that sorts after every key of its database is appended, which
 * fills the last page instead of splitting it in half: loads in feed
 * order (start ascending) and new ids do that.  LMDB refuses an append
 * that would not be last (MDB_KEYEXIST) before changing anything.
 */
static int
put_last(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
	int	rc;

	rc = mdb_put(txn, dbi, k, v, MDB_APPEND);
	if (rc == MDB_KEYEXIST)
		rc = mdb_put(txn, dbi, k, v, 0);
	return (rc);
}

/*
 * Store v as the record of id, which starts at start: the record moves
 * when its start did.  fresh says that id has no record, as for an id
 * just given out, which spares looking for one.
 */
int
store_rec_put(MDB_txn *txn, struct store *st, int64_t start, uint64_t id,
    MDB_val *v, int fresh)
{
	unsigned char	kbuf[SKEY_REC_LEN], ibuf[8];
	MDB_val		k = { SKEY_REC_LEN, kbuf }, ik = { 8, ibuf };
	MDB_val		iv = { 8, kbuf };
	int64_t		old;
	int		rc = MDB_NOTFOUND;

	if (!fresh)
		rc = store_rec_start(txn, st, id, &old);
	if (rc == 0 && old != start) {
		skey_rec_key(kbuf, old, id);
		if ((rc = mdb_del(txn, st->events, &k, NULL)) != 0 &&
		    rc != MDB_NOTFOUND)
			return (rc);
		rc = MDB_NOTFOUND;
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	skey_rec_key(kbuf, start, id);
	if (rc == MDB_NOTFOUND) {
		skey_be64(ibuf, id);
		if ((rc = put_last(txn, st->ids, &ik, &iv)) != 0)
			return (rc);
	}
	return (put_last(txn, st->events, &k, v));
}

/* Drop the record of id: 0, MDB_NOTFOUND or an LMDB error. */
int
store_rec_del(MDB_txn *txn, struct store *st, uint64_t id)
{
	unsigned char	kbuf[SKEY_REC_LEN], ibuf[8];
	MDB_val		k = { SKEY_REC_LEN, kbuf }, ik = { 8, ibuf };
	int64_t		start;
	int		rc;

	if ((rc = store_rec_start(txn, st, id, &start)) != 0)
		return (rc);
	skey_rec_key(kbuf, start, id);
	skey_be64(ibuf, id);
	if ((rc = mdb_del(txn, st->events, &k, NULL)) != 0 &&
	    rc != MDB_NOTFOUND)
		return (rc);
	return (mdb_del(txn, st->ids, &ik, NULL));
}

/*
 * Move the records at or after id next that are still keyed by id alone
 * (8 bytes) to their (start, id) keys, at most UPGRADE_BATCH of them,
 * in txn.  *next is where the next batch starts, UINT64_MAX when none
 * is left.  The two kinds of key share the database meanwhile: a key of
 * 16 bytes is moved, and no key of 8 bytes sorts after it unless its id
 * is above its first 8 bytes, so the walk skips there, and ends where
 * those are past every id given (next_id).
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
	int		 rc;

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
		record_clear(&ev);
		v.mv_size = sbuf.size;
		k.mv_size = 8;
		k.mv_data = kbuf;
		skey_be64(kbuf, id);
		if ((rc = mdb_del(txn, st->events, &k, NULL)) != 0 ||
		    (rc = store_rec_put(txn, st, start, id, &v, 1)) != 0)
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
 * Format 4 to 5: every record moves from its id to its (start, id) key
 * and ids learns its start; the bytes of each record are kept.  Bounded
 * batches, each a write transaction of its own that may grow the map.
 * The store is marked format 5 before the first (store_format), with
 * meta "upgrading", which the last batch deletes: a store left midway by
 * a crash is refused by an annalsd of format 4, and the next open of
 * this one carries on where it stopped.
 */
int
store_upgrade_4(struct store *st, const char *path, struct aerr *err)
{
	MDB_txn		*txn;
	MDB_val		 k;
	uint64_t	 next = 0, from;
	size_t		 n = 0, before;
	int		 rc;

	for (;;) {
		if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
			return (store_error(err, rc, "mdb_txn_begin"));
		from = next;
		before = n;
		rc = upgrade_batch(st, txn, &next, &n);
		if (rc == 0 && next == UINT64_MAX) {
			k.mv_size = strlen("upgrading");
			k.mv_data = (void *)"upgrading";
			rc = mdb_del(txn, st->meta, &k, NULL);
		}
		if (rc == 0)
			rc = mdb_txn_commit(txn);	/* frees it either way */
		else
			mdb_txn_abort(txn);
		if (rc == 0 && next == UINT64_MAX)
			break;
		if (rc == 0)
			continue;
		if (rc != MDB_MAP_FULL)
			return (store_error(err, rc, "upgrading the store"));
		if (store_grow(st, err) != 0)
			return (-1);
		next = from;
		n = before;
	}
	log_notice("%s: upgraded %zu records to store format %d: records are "
	    "kept in time order", path, n, STORE_FORMAT);
	return (0);
}
