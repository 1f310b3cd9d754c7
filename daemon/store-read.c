/*
 * Reads that need no planning: records by id and by (source, key), the
 * actor list, and the change log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "annalsd.h"
#include "store-int.h"

/* The error of a read that met the damaged record of id. */
static int
store_damaged(struct aerr *err, uint64_t id)
{
	aerr_set(err, AERR_INTERNAL, "event %llu does not decode: the store "
	    "is damaged (annalsd --check)", (unsigned long long)id);
	return (-1);
}

/* Hand cb each requested record, or NULL for an id not stored. */

int
store_get(struct store *st, const uint64_t *ids, size_t n, store_get_cb cb,
    void *arg, struct aerr *err)
{
	msgpack_sbuffer	 wire;
	MDB_txn		*txn;
	MDB_val		 v;
	size_t		 i;
	int		 rc, ret = 0;

	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	msgpack_sbuffer_init(&wire);
	for (i = 0; i < n && ret == 0; i++) {
		rc = store_rec_get(txn, st, ids[i], &v);
		if (rc == 0) {
			store_rec_split(&v);
			if (store_rec_wire(st, txn, &v, &wire) != 0)
				ret = store_damaged(err, ids[i]);
			else
				ret = cb(arg, i, v.mv_data, v.mv_size);
		} else if (rc == MDB_NOTFOUND)
			ret = cb(arg, i, NULL, 0);
		else
			ret = store_error(err, rc, "mdb_get");
	}
	mdb_txn_abort(txn);
	msgpack_sbuffer_destroy(&wire);
	return (ret);
}

int
store_get_by_key(struct store *st, const char *source, const char *key,
    store_get_cb cb, void *arg, struct aerr *err)
{
	unsigned char	 skey[SOURCE_KEY_MAX];
	msgpack_sbuffer	 wire;
	MDB_txn		*txn;
	MDB_val		 k, v;
	uint64_t	 id = 0;
	int		 rc, ret;

	if (strlen(source) > EVENT_MAX_SOURCE || strlen(key) > EVENT_MAX_KEY) {
		aerr_set(err, AERR_NOT_FOUND, "no event with that source "
		    "and key");
		return (-1);
	}
	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	k.mv_data = skey;
	k.mv_size = skey_source_key(skey, source, key);
	rc = mdb_get(txn, st->keys, &k, &v);
	if (rc == 0 && v.mv_size == 8) {
		id = skey_get_be64(v.mv_data);
		if ((rc = store_rec_get(txn, st, id, &v)) == 0)
			store_rec_split(&v);
	}
	if (rc == MDB_NOTFOUND) {
		aerr_set(err, AERR_NOT_FOUND, "no event with that source "
		    "and key");
		ret = -1;
	} else if (rc != 0)
		ret = store_error(err, rc, "mdb_get");
	else {
		msgpack_sbuffer_init(&wire);
		if (store_rec_wire(st, txn, &v, &wire) != 0)
			ret = store_damaged(err, id);
		else
			ret = cb(arg, 0, v.mv_data, v.mv_size);
		msgpack_sbuffer_destroy(&wire);
	}
	mdb_txn_abort(txn);
	return (ret);
}

/* List actors with prefix, in name order, after the name `after`. */
int
store_actors(struct store *st, const char *prefix, const char *after,
    uint32_t limit, store_actor_cb cb, void *arg, int *more,
    struct aerr *err)
{
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 plen = prefix ? strlen(prefix) : 0;
	uint32_t	 n = 0;
	int		 rc, ret = 0;

	*more = 0;
	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	if ((rc = mdb_cursor_open(txn, st->actors, &cur)) != 0) {
		mdb_txn_abort(txn);
		return (store_error(err, rc, "mdb_cursor_open"));
	}
	if (after != NULL && (prefix == NULL || strcmp(after, prefix) >= 0)) {
		k.mv_size = strlen(after);
		k.mv_data = (void *)after;
	} else {
		k.mv_size = plen;
		k.mv_data = (void *)(prefix ? prefix : "");
	}
	rc = k.mv_size ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == 0 && ret == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (plen > 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if (after != NULL && k.mv_size == strlen(after) &&
		    memcmp(k.mv_data, after, k.mv_size) == 0)
			continue;
		if (n == limit) {
			*more = 1;
			break;
		}
		ret = cb(arg, k.mv_data, k.mv_size, v.mv_size == 16 ?
		    skey_get_be64(v.mv_data) : 0);
		n++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (ret);
}

/*
 * Hand cb the changes after since, in order, at most limit of them, each
 * put with its current record.  *next is where to continue; *more says
 * whether more changes follow.  cb returns STORE_PAGE_FULL to end the
 * page before the change it was given (a page cut at a byte budget).
 */
int
store_changes(struct store *st, uint64_t since, uint32_t limit,
    store_change_cb cb, void *arg, uint64_t *next, int *more,
    uint64_t *last_seq, struct aerr *err)
{
	struct store_change	 ch;
	struct log_walk		 walk;
	struct log_entry	 le;
	msgpack_sbuffer		 wire;
	MDB_txn			*txn;
	MDB_val			 ev;
	uint64_t		 horizon, seq;
	uint32_t		 n = 0;
	int			 rc, ret = 0;

	*next = since;
	*more = 0;
	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	*last_seq = store_meta_get(txn, st->meta, "next_seq", 1) - 1;
	horizon = store_meta_get(txn, st->meta, "horizon", 0);
	if (since < horizon) {
		mdb_txn_abort(txn);
		aerr_set(err, AERR_EXPIRED, "since: %llu is older than the "
		    "change log, which has dropped deletions up to %llu; "
		    "resynchronise from an export", (unsigned long long)since,
		    (unsigned long long)horizon);
		return (-1);
	}
	/*
	 * Issue #14: answering next = since would let a client that stores
	 * next skip every change up to it.  Its position belongs to another
	 * store, or to this one before a restore from backup.
	 */
	if (since > *last_seq) {
		mdb_txn_abort(txn);
		aerr_set(err, AERR_INVALID, "since: %llu is past the last "
		    "change, %llu", (unsigned long long)since,
		    (unsigned long long)*last_seq);
		return (-1);
	}
	if ((rc = store_log_walk_open(txn, st, since + 1, &walk)) != 0) {
		mdb_txn_abort(txn);
		return (store_error(err, rc, "mdb_cursor_open"));
	}
	msgpack_sbuffer_init(&wire);
	while (ret == 0 && (rc = store_log_walk_next(&walk, &seq, &le)) !=
	    MDB_NOTFOUND) {
		if (rc == MDB_CORRUPTED) {
			log_err("the change log's block of seq %llu does not "
			    "decode: the store is damaged (annalsd --check)",
			    (unsigned long long)seq);
			continue;
		}
		if (rc != 0) {
			ret = store_error(err, rc, "mdb_cursor_get");
			break;
		}
		if (n == limit) {
			*more = 1;
			break;
		}
		memset(&ch, 0, sizeof ch);
		ch.seq = seq;
		if (le.op == CHANGE_DICT_PUT || le.op == CHANGE_DICT_DELETE) {
			if (store_dict_change(st, txn, &le, &ch) != 0)
				continue;
			goto deliver;
		}
		ch.id = le.id;
		ch.op = le.op;
		if (ch.op == CHANGE_PUT) {
			if (store_rec_get(txn, st, ch.id, &ev) != 0)
				continue;
			store_rec_split(&ev);
			if (store_rec_wire(st, txn, &ev, &wire) != 0) {
				log_err("event %llu does not decode",
				    (unsigned long long)ch.id);
				continue;
			}
			ch.data = ev.mv_data;
			ch.len = ev.mv_size;
		}
deliver:
		if ((ret = cb(arg, &ch)) == STORE_PAGE_FULL) {
			ret = 0;
			*more = 1;
			break;
		}
		*next = ch.seq;
		if (ret == STORE_CHANGE_SKIP) {
			ret = 0;
			continue;
		}
		n++;
	}
	store_log_walk_close(&walk);
	msgpack_sbuffer_destroy(&wire);
	mdb_txn_abort(txn);
	return (ret);
}
