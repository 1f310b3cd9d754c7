/*
 * The actor dictionary in the store: names users gave codes, and aliases.
 *
 *	dict	kind key -> the packed entry (proto/dict.c's map)
 *	dictch	kind key -> the seq of its latest change
 *
 * kind is one byte, DICT_NAME or DICT_ALIAS.  Entries go through the
 * change log as events do, compacted per key: a put is logged as
 * CHANGE_DICT_PUT kind key (the entry is read from dict when the log
 * is), a delete as CHANGE_DICT_DELETE kind key with an 8-byte tomb (its
 * time) so that it is pruned with the events' deletes.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "annalsd.h"
#include "store-int.h"

static size_t
dict_key(unsigned char *buf, int kind, const char *key, size_t len)
{
	buf[0] = (unsigned char)kind;
	memcpy(buf + 1, key, len);
	return (len + 1);
}

/* Log a change of the entry under k: the latest one per key stays. */
static int
dict_log(struct wctx *w, int op, MDB_val *k)
{
	struct log_entry e = { op, 0, k->mv_data, k->mv_size };
	unsigned char	 sbuf[8], tbuf[8];
	MDB_val		 v, old;
	uint64_t	 seq = w->c.next_seq++;
	int		 rc;

	rc = mdb_get(w->txn, w->st->dictch, k, &old);
	if (rc == 0 && old.mv_size == 8) {
		if ((rc = store_log_del(w->txn, w->st,
		    skey_get_be64(old.mv_data))) != 0 && rc != MDB_NOTFOUND)
			return (rc);
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if ((rc = store_log_add(w->txn, w->st, seq, &e)) != 0)
		return (rc);
	skey_be64(sbuf, seq);
	v.mv_size = 8;
	v.mv_data = sbuf;
	if ((rc = mdb_put(w->txn, w->st->dictch, k, &v, 0)) != 0)
		return (rc);
	if (op != CHANGE_DICT_DELETE)
		return (0);
	skey_be64(tbuf, w->now);
	v.mv_data = tbuf;
	old.mv_size = 8;
	old.mv_data = sbuf;
	return (mdb_put(w->txn, w->st->tombs, &old, &v, MDB_APPEND));
}

/*
 * Apply a dict_put or dict_delete op.  A put with only_new leaves an
 * entry that is there alone (STORE_KEPT).  Returns 0 or an LMDB error.
 */
int
store_dict_apply(struct wctx *w, struct store_op *op)
{
	const struct dict_entry	*e = op->dict;
	unsigned char		 kbuf[DICT_KEY_MAX];
	msgpack_packer		 pk;
	MDB_val			 k = { 0, kbuf }, v, old;
	int			 rc;

	k.mv_size = dict_key(kbuf, e->kind, e->key, strlen(e->key));
	if (op->kind == CHANGE_DICT_DELETE) {
		rc = mdb_del(w->txn, w->st->dict, &k, NULL);
		if (rc == MDB_NOTFOUND) {
			op->status = 0;
			return (0);
		}
		if (rc != 0 || (rc = dict_log(w, CHANGE_DICT_DELETE, &k)) != 0)
			return (rc);
		op->status = 1;
		return (0);
	}
	msgpack_sbuffer_clear(&w->sbuf);
	msgpack_packer_init(&pk, &w->sbuf, msgpack_sbuffer_write);
	dict_pack(&pk, e);
	rc = mdb_get(w->txn, w->st->dict, &k, &old);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if (rc == 0 && op->only_new) {
		op->status = STORE_KEPT;
		return (0);
	}
	if (rc == 0 && old.mv_size == w->sbuf.size &&
	    memcmp(old.mv_data, w->sbuf.data, old.mv_size) == 0) {
		op->status = STORE_UNCHANGED;
		return (0);
	}
	op->status = rc == 0 ? STORE_UPDATED : STORE_ADDED;
	v.mv_size = w->sbuf.size;
	v.mv_data = w->sbuf.data;
	if ((rc = mdb_put(w->txn, w->st->dict, &k, &v, 0)) != 0)
		return (rc);
	return (dict_log(w, CHANGE_DICT_PUT, &k));
}

/*
 * Drop the change-log entry of a dictionary delete whose tomb (at seq)
 * expired, unless the key was logged again since.
 */
int
store_dict_prune(struct wctx *w, uint64_t seq)
{
	struct log_entry e;
	unsigned char	 kbuf[DICT_KEY_MAX], sbuf[8];
	MDB_val		 k, cur;
	int		 rc;

	rc = store_log_get(w->txn, w->st, seq, &e);
	if (rc == MDB_NOTFOUND)
		return (0);
	if (rc != 0)
		return (rc);
	if (e.op != CHANGE_DICT_DELETE)
		return (0);
	/* The key points into the block, which the delete rewrites. */
	k.mv_size = e.dkeylen;
	memcpy(kbuf, e.dkey, k.mv_size);
	k.mv_data = kbuf;
	if ((rc = store_log_del(w->txn, w->st, seq)) != 0)
		return (rc);
	skey_be64(sbuf, seq);
	rc = mdb_get(w->txn, w->st->dictch, &k, &cur);
	if (rc == 0 && cur.mv_size == 8 && memcmp(cur.mv_data, sbuf, 8) == 0)
		rc = mdb_del(w->txn, w->st->dictch, &k, NULL);
	return (rc == MDB_NOTFOUND ? 0 : rc);
}

/*
 * Fill in a dictionary change from its log entry: a put points at the
 * entry as stored now, a delete at its kind and key.  Returns -1 for an
 * entry to pass over (a put whose entry is gone, a damaged key).
 */
int
store_dict_change(struct store *st, MDB_txn *txn, const struct log_entry *le,
    struct store_change *ch)
{
	MDB_val	k, e;

	if (le->dkeylen < 2 || le->dkeylen > DICT_KEY_MAX ||
	    (le->dkey[0] != DICT_NAME && le->dkey[0] != DICT_ALIAS))
		return (-1);
	ch->dict_kind = le->dkey[0];
	ch->dict_key = (const char *)le->dkey + 1;
	ch->dict_keylen = le->dkeylen - 1;
	if (le->op == CHANGE_DICT_DELETE) {
		ch->op = CHANGE_DICT_DELETE;
		return (0);
	}
	ch->op = CHANGE_DICT_PUT;
	k.mv_size = le->dkeylen;
	k.mv_data = (void *)le->dkey;
	if (mdb_get(txn, st->dict, &k, &e) != 0)
		return (-1);
	ch->data = e.mv_data;
	ch->len = e.mv_size;
	return (0);
}

/* Whether a dictionary change at seq is its key's latest (store_check). */
int
store_dict_check_change(struct store *st, MDB_txn *txn, uint64_t seq,
    const struct log_entry *le)
{
	MDB_val	k, cur, e;
	int	live;

	if (le->dkeylen < 2 || le->dkeylen > DICT_KEY_MAX)
		return (-1);
	k.mv_size = le->dkeylen;
	k.mv_data = (void *)le->dkey;
	if (mdb_get(txn, st->dictch, &k, &cur) != 0 || cur.mv_size != 8 ||
	    skey_get_be64(cur.mv_data) != seq)
		return (-1);
	live = mdb_get(txn, st->dict, &k, &e) == 0;
	return ((le->op == CHANGE_DICT_PUT) == live ? 0 : -1);
}

/*
 * Hand cb the stored entry of each key (kind keys[i]), or NULL for a
 * key without one, in one read transaction.
 */
int
store_dict_lookup(struct store *st, int kind, const char *const *keys,
    size_t n, store_get_cb cb, void *arg, struct aerr *err)
{
	unsigned char	 kbuf[DICT_KEY_MAX];
	MDB_txn		*txn;
	MDB_val		 k, v;
	size_t		 i, len;
	int		 rc, ret = 0;

	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	for (i = 0; i < n && ret == 0; i++) {
		len = strlen(keys[i]);
		if (len > DICT_MAX_NAME) {
			ret = cb(arg, i, NULL, 0);
			continue;
		}
		k.mv_data = kbuf;
		k.mv_size = dict_key(kbuf, kind, keys[i], len);
		rc = mdb_get(txn, st->dict, &k, &v);
		if (rc == MDB_NOTFOUND)
			ret = cb(arg, i, NULL, 0);
		else if (rc != 0)
			ret = store_error(err, rc, "mdb_get");
		else
			ret = cb(arg, i, v.mv_data, v.mv_size);
	}
	mdb_txn_abort(txn);
	return (ret);
}

/*
 * The entries of a kind whose keys start with prefix, after the key
 * after, in key order: at most limit of them to cb (as store_get_cb,
 * with their index), and whether more follow.  cb may return 1 to pass
 * an entry over without counting it.
 */
int
store_dict_list(struct store *st, int kind, const char *prefix,
    const char *after, uint32_t limit, store_get_cb cb, void *arg,
    int *more, struct aerr *err)
{
	unsigned char	 kbuf[DICT_KEY_MAX];
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	const char	*pfx = prefix != NULL ? prefix : "";
	size_t		 plen = strlen(pfx), alen;
	uint32_t	 n = 0;
	int		 rc, ret = 0;

	*more = 0;
	if (plen > DICT_MAX_NAME)
		return (0);
	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	if ((rc = mdb_cursor_open(txn, st->dict, &cur)) != 0) {
		mdb_txn_abort(txn);
		return (store_error(err, rc, "mdb_cursor_open"));
	}
	k.mv_data = kbuf;
	k.mv_size = dict_key(kbuf, kind, pfx, plen);
	if (after != NULL && (alen = strlen(after)) <= DICT_MAX_NAME &&
	    strncmp(after, pfx, plen) >= 0)
		k.mv_size = dict_key(kbuf, kind, after, alen);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && after != NULL && k.mv_size == 1 + strlen(after) &&
	    memcmp((char *)k.mv_data + 1, after, k.mv_size - 1) == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 1 + plen ||
		    ((unsigned char *)k.mv_data)[0] != kind ||
		    memcmp((char *)k.mv_data + 1, pfx, plen) != 0)
			break;
		if (n == limit) {
			*more = 1;
			break;
		}
		if ((ret = cb(arg, n, v.mv_data, v.mv_size)) == 1) {
			ret = 0;
			continue;
		}
		if (ret != 0)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND && ret == 0)
		return (store_error(err, rc, "mdb_cursor_get"));
	return (ret);
}
