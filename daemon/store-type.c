/*
 * The type index: an event with a type is listed under it, so that a
 * query filtered by type walks only the events of that type instead of
 * fetching and decoding every record the time or actor index offers.
 *
 *	type	 type NUL class start id -> block of postings, as the
 *		 actor index (store-post.c)
 *	type_new type NUL class start id -> span, staged (store_sweep)
 *	types	 type -> event count, mask of classes used
 *
 * A type filter is a prefix ("03" matches "036"), so a query reads the
 * types with the prefix from `types` and walks each one's part of the
 * index.  Where another index drives the walk (an actor's), the type
 * is checked instead by looking the event up under each such type, when
 * there are few (TYPE_PROBE_MAX).
 *
 * The index is complete up to the change sequence number in meta
 * "typed_to", which every write moves on; a store written by a daemon
 * without the index, or by an older one in between, is indexed again
 * when it is opened (store_type_open).
 */
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"
#include "store-int.h"

/* Add (del 0) or remove (del 1) the type index entry of an event. */
int
store_type_index(struct wctx *w, const struct event *ev, int del)
{
	unsigned char	key[ACTOR_KEY_MAX], span[SKEY_SPAN_MAX];
	MDB_val		k = { 0, key }, v = { 0, span };
	int		class, rc;

	/* "" is no type: issue #14's rewrite drops it on opening. */
	if (ev->type == NULL || *ev->type == '\0')
		return (0);
	class = skey_class(&ev->span);
	k.mv_size = skey_actor_key(key, ev->type, strlen(ev->type), class,
	    ev->span.lo, ev->id);
	v.mv_size = skey_span(span, &ev->span);
	rc = del ? store_index_del(w, w->st->type_new, w->st->type, &k) :
	    mdb_put(w->txn, w->st->type_new, &k, &v, 0);
	if (rc != 0)
		return (rc);
	return (store_name_add(w, w->st->types, ev->type, del ? -1 : 1,
	    class));
}

/*
 * Call fn with each stored record that decodes, its id set, until fn
 * returns other than 0: the walk of an index's one-time build.  Returns
 * 0, or what fn or LMDB returned.
 */
int
store_records_each(struct store *st, MDB_txn *txn,
    int (*fn)(void *, const struct event *), void *arg)
{
	struct event	 ev;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int64_t		 start;
	uint64_t	 id;
	int		 i, rc = MDB_NOTFOUND, ret = 0;

	for (i = 0; i < REC_DBS && rc == MDB_NOTFOUND && ret == 0; i++) {
		if ((rc = mdb_cursor_open(txn, store_rec_db(st, i),
		    &cur)) != 0)
			return (rc);
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 &&
		    ret == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			memset(&ev, 0, sizeof ev);
			store_rec_split(&v);
			if (skey_get_rec_key(k.mv_data, k.mv_size, &start,
			    &id) != 0 || store_unpack(st, txn, v.mv_data,
			    v.mv_size, &ev) != 0)
				continue;	/* store-check's business */
			ev.id = id;
			ret = fn(arg, &ev);
			record_clear(&ev);
		}
		mdb_cursor_close(cur);
	}
	if (ret != 0)
		return (ret);
	return (rc == MDB_NOTFOUND ? 0 : rc);
}

/* What a build's walk needs: the write context, and events indexed. */
struct build {
	struct wctx	 w;
	struct post_run	*run;
	size_t		 n;
};

static int
type_build_one(void *arg, const struct event *ev)
{
	struct build	*b = arg;

	if (ev->type == NULL || *ev->type == '\0')
		return (0);
	b->n++;
	return (store_post_build_put(&b->w, b->run, ev, 0));
}

/*
 * Index every stored record into an emptied index: the one-time build
 * for a store that has none, or whose index fell behind its records.
 * The postings go straight to the index's blocks, not to the stage,
 * which would take as many writes to drain.
 */
static int
type_build(struct store *st, MDB_txn *txn)
{
	struct build	 b;
	int		 rc;

	if ((rc = mdb_drop(txn, st->type, 0)) != 0 ||
	    (rc = mdb_drop(txn, st->type_new, 0)) != 0 ||
	    (rc = mdb_drop(txn, st->types, 0)) != 0)
		return (rc);
	memset(&b, 0, sizeof b);
	b.w.st = st;
	b.w.txn = txn;
	b.run = store_post_run_new();
	if ((rc = store_records_each(st, txn, type_build_one, &b)) == 0)
		rc = store_post_run_end(&b.w, b.run);
	store_post_run_free(b.run);
	if (rc != 0)
		return (rc);
	if (b.n > 0)
		log_notice("indexed the types of %zu stored events", b.n);
	return (0);
}

/*
 * On opening: build the index unless it is complete up to the store's
 * last change.  Returns 1 when the caller is to record it as complete,
 * 0 when it already was, or an LMDB error.
 */
int
store_type_open(struct store *st, MDB_txn *txn)
{
	return (store_index_open(st, txn, "typed_to", type_build));
}

/*
 * Build an index with build unless meta `done` says it is complete up
 * to the store's last change; returns as store_type_open.
 */
int
store_index_open(struct store *st, MDB_txn *txn, const char *done,
    int (*build)(struct store *, MDB_txn *))
{
	int	rc;

	if (store_meta_get(txn, st->meta, done, 0) ==
	    store_meta_get(txn, st->meta, "next_seq", 1))
		return (0);
	if ((rc = build(st, txn)) != 0)
		return (rc);
	return (1);
}

/*
 * The stored types with prefix: their number in tn->n, their events in
 * tn->events, and the names of the first max of them.
 */
int
store_type_names(struct store *st, MDB_txn *txn, const char *prefix,
    size_t max, struct type_names *tn, struct aerr *err)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 plen = strlen(prefix);
	int		 rc;

	memset(tn, 0, sizeof *tn);
	if ((rc = mdb_cursor_open(txn, st->types, &cur)) != 0)
		return (store_error(err, rc, "mdb_cursor_open"));
	k.mv_size = plen;
	k.mv_data = (void *)prefix;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (tn->nnames < max) {
			tn->names = xreallocarray(tn->names, tn->nnames + 1,
			    sizeof *tn->names);
			tn->names[tn->nnames] = xmalloc(k.mv_size + 1);
			memcpy(tn->names[tn->nnames], k.mv_data, k.mv_size);
			tn->names[tn->nnames++][k.mv_size] = '\0';
		}
		tn->n++;
		if (v.mv_size == 16)
			tn->events += skey_get_be64(v.mv_data);
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		store_type_names_free(tn);
		return (store_error(err, rc, "mdb_cursor_get"));
	}
	return (0);
}

void
store_type_names_free(struct type_names *tn)
{
	size_t	i;

	for (i = 0; i < tn->nnames; i++)
		free(tn->names[i]);
	free(tn->names);
	memset(tn, 0, sizeof *tn);
}

/*
 * Whether the event (span, id) is listed under one of tn's types (all
 * of them named: tn->nnames == tn->n).
 */
int
store_type_has(struct store *st, MDB_txn *txn, const struct type_names *tn,
    const struct date_span *span, uint64_t id)
{
	unsigned char	key[ACTOR_KEY_MAX];
	MDB_val		k = { 0, key }, v;
	size_t		i;
	int		class = skey_class(span);

	for (i = 0; i < tn->nnames; i++) {
		k.mv_size = skey_actor_key(key, tn->names[i],
		    strlen(tn->names[i]), class, span->lo, id);
		if (store_ix_get(st, txn, st->type, &k, &v) == 0 ||
		    mdb_get(txn, st->type_new, &k, &v) == 0)
			return (1);
	}
	return (0);
}
