/*
 * The store's write path: one write transaction per group of batches
 * (write_once), each put or delete applied to its record, its index
 * entries (staged, then swept into the indexes in key order), the day
 * counts and the change log; map growth is asked of the caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "annalsd.h"
#include "store-int.h"

/* Whether actor i's name already appeared earlier in the list. */
int
store_actor_seen(const struct event *ev, uint32_t i)
{
	uint32_t	j;

	for (j = 0; j < i; j++) {
		if (strcmp(ev->actors[j].name, ev->actors[i].name) == 0)
			return (1);
	}
	return (0);
}

/* The day a time falls on, counted from the epoch. */
int64_t
store_day(int64_t t)
{
	int64_t	d = t / 86400;

	return (t % 86400 < 0 ? d - 1 : d);
}

/*
 * Count an event (delta 1) or uncount it (-1) on the day of its strict
 * start, so that a histogram of starts without filters adds up days
 * instead of walking every event (store_histogram).
 */
static int
day_count(struct wctx *w, int64_t lo, int delta)
{
	unsigned char	kbuf[8], vbuf[8];
	MDB_val		k = { 8, kbuf }, v;
	uint64_t	count = 0;
	int		rc;

	skey_time(kbuf, store_day(lo));
	rc = mdb_get(w->txn, w->st->days, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		count = skey_get_be64(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if (delta < 0 && count <= 1)
		return (rc == 0 ? mdb_del(w->txn, w->st->days, &k, NULL) : 0);
	skey_be64(vbuf, count + (uint64_t)delta);
	v.mv_size = 8;
	v.mv_data = vbuf;
	return (mdb_put(w->txn, w->st->days, &k, &v, 0));
}

/* Remove an index entry, which is in the stage or in the index. */
int
store_index_del(struct wctx *w, MDB_dbi stage, MDB_dbi index, MDB_val *k)
{
	int	rc;

	rc = mdb_del(w->txn, stage, k, NULL);
	if (rc == MDB_NOTFOUND)
		rc = store_ix_blocks(w->st, index) ?
		    store_post_del(w, index, k) :
		    mdb_del(w->txn, index, k, NULL);
	return (rc);
}

/*
 * Add (or with del, remove) the index entries of an event.  New time and
 * actor entries go to their stage, a small index that store_sweep()
 * empties into the large one in key order (see there).  seq is that of
 * the record's change (put_record): the word index's stage tells by it
 * whether the event may still be staged.
 */
static int
index_event(struct wctx *w, const struct event *ev, int del, uint64_t seq)
{
	unsigned char	key[ACTOR_KEY_MAX], span[SKEY_SPAN_MAX];
	MDB_val		k, v;
	uint32_t	i;
	int		class = skey_class(&ev->span), kind, rc;

	v.mv_size = skey_span(span, &ev->span);
	v.mv_data = span;
	k.mv_data = key;
	k.mv_size = skey_time_key(key, class, ev->span.lo, ev->id);
	rc = del ? store_index_del(w, w->st->time_new, w->st->timeblocks, &k) :
	    mdb_put(w->txn, w->st->time_new, &k, &v, 0);
	if (rc != 0 || (rc = day_count(w, ev->span.lo, del ? -1 : 1)) != 0 ||
	    (rc = store_type_index(w, ev, del)) != 0 ||
	    (rc = store_text_index(w, ev, class, del, seq)) != 0)
		return (rc);
	if (!del) {
		kind = skey_span_kind(&ev->span);
		w->c.classes |= UINT64_C(1) << class;
		if (kind & SKEY_SPAN_BEFORE)
			w->c.classes_before |= UINT64_C(1) << class;
		if (kind & SKEY_SPAN_UNALIGNED)
			w->c.classes_unaligned |= UINT64_C(1) << class;
	}

	for (i = 0; i < ev->nactors; i++) {
		if (store_actor_seen(ev, i))
			continue;
		k.mv_size = skey_actor_key(key, ev->actors[i].name,
		    strlen(ev->actors[i].name), class, ev->span.lo, ev->id);
		rc = del ? store_index_del(w, w->st->actor_new, w->st->actor,
		    &k) :
		    mdb_put(w->txn, w->st->actor_new, &k, &v, 0);
		if (rc != 0)
			return (rc);
		if ((rc = store_name_add(w, w->st->actors,
		    ev->actors[i].name, del ? -1 : 1, class)) != 0)
			return (rc);
	}

	if (ev->source != NULL) {
		unsigned char	skey[SOURCE_KEY_MAX], idbuf[8];

		k.mv_data = skey;
		k.mv_size = skey_source_key(skey, ev->source, ev->key);
		skey_be64(idbuf, ev->id);
		v.mv_data = idbuf;
		v.mv_size = 8;
		if (!del)
			rc = mdb_put(w->txn, w->st->keys, &k, &v, 0);
		/*
		 * Only its own: a replica applying a compacted feed may get
		 * the event that took the key over before the change of the
		 * event that gave it up (apply_given_put).
		 */
		else if ((rc = mdb_get(w->txn, w->st->keys, &k, &v)) == 0 &&
		    v.mv_size == 8 && skey_get_be64(v.mv_data) == ev->id)
			rc = mdb_del(w->txn, w->st->keys, &k, NULL);
		else if (rc == 0 || rc == MDB_NOTFOUND)
			rc = 0;
		if (rc != 0)
			return (rc);
	}
	return (0);
}

/*
 * Record a change of id, whose previous change was old (0: none), and
 * set *seq to its number, which its record keeps (store_rec_split).  The
 * log keeps one entry per id, its latest, so replaying it from the start
 * rebuilds the database however often events were updated; deletions
 * are also listed in tombs so that they can be dropped after the
 * retention time without walking the whole log.
 */
static int
log_change(struct wctx *w, int op, uint64_t id, uint64_t old, uint64_t *seq)
{
	struct log_entry e = { op, id, NULL, 0 };
	unsigned char	 kbuf[8], vbuf[16];
	MDB_val		 k = { 8, kbuf }, v = { 16, vbuf };
	int		 rc;

	*seq = w->c.next_seq++;
	if (old != 0 && (rc = store_log_del(w->txn, w->st, old)) != 0 &&
	    rc != MDB_NOTFOUND)
		return (rc);
	if ((rc = store_log_add(w->txn, w->st, *seq, &e)) != 0)
		return (rc);
	if (op == CHANGE_DELETE) {
		skey_be64(kbuf, *seq);
		skey_be64(vbuf, w->now);
		skey_be64(vbuf + 8, id);
		if ((rc = mdb_put(w->txn, w->st->tombs, &k, &v,
		    MDB_APPEND)) != 0)
			return (rc);
	}
	return (0);
}

/*
 * Drop deletions older than the retention time from the log.  A client
 * whose sequence number is below the newest dropped one could have
 * missed a delete, so the horizon moves up with it (store_changes).
 */
static int
prune_tombs(struct wctx *w)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	uint64_t	 horizon = 0, cutoff;
	int		 rc, n = 0, dict;

	if (w->now < w->st->keep_ms)
		return (0);
	cutoff = w->now - w->st->keep_ms;
	if ((rc = mdb_cursor_open(w->txn, w->st->tombs, &cur)) != 0)
		return (rc);
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
	    n < PRUNE_BATCH) {
		/* An event's tomb has its id; a dictionary entry's not. */
		if ((v.mv_size != 16 && v.mv_size != 8) ||
		    skey_get_be64(v.mv_data) >= cutoff)
			break;
		dict = v.mv_size == 8;
		horizon = skey_get_be64(k.mv_data);
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		if (dict) {
			if ((rc = store_dict_prune(w, horizon)) != 0)
				break;
			n++;
			continue;
		}
		if ((rc = store_log_del(w->txn, w->st, horizon)) != 0 &&
		    rc != MDB_NOTFOUND)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if (horizon != 0)
		return (store_meta_put(w->txn, w->st->meta, "horizon", horizon));
	return (0);
}

/*
 * Move the entries a stage holds beyond its size into its index, going
 * on in key order from where the last sweep stopped.  An event's entries
 * land at random places of a large index, and a commit writes every page
 * it touched: put straight there, the entries of a commit touch about as
 * many pages as there are entries.  Staged, they touch the few pages of
 * the stage, and a sweep moves runs of neighbouring keys, many to a page
 * of the index.  Queries read both (plan_add).  The puts go through
 * one cursor on the index: LMDB looks for a key on the leaf the cursor
 * stands on before it descends from the root, and a run of neighbouring
 * keys mostly lands on one leaf.  The actor and type indexes take each
 * entry into the block of postings of its list (store_post_run_put).
 */
static int
store_sweep(struct wctx *w, MDB_dbi stage, MDB_dbi index, size_t max,
    struct sweep *pos)
{
	unsigned char	 key[ACTOR_KEY_MAX], val[SKEY_SPAN_MAX];
	MDB_cursor	*cur, *icur;
	MDB_stat	 ms;
	MDB_val		 k, v;
	struct post_run	*run = NULL;
	size_t		 n, moved = 0, wrapped = 0;
	int		 rc, end;

	if ((rc = mdb_stat(w->txn, stage, &ms)) != 0)
		return (rc);
	if (ms.ms_entries <= max)
		return (0);
	n = ms.ms_entries - max;
	if ((rc = mdb_cursor_open(w->txn, stage, &cur)) != 0)
		return (rc);
	if ((rc = mdb_cursor_open(w->txn, index, &icur)) != 0) {
		mdb_cursor_close(cur);
		return (rc);
	}
	if (store_ix_blocks(w->st, index))
		run = store_post_run_new();
	k.mv_size = pos->len;
	k.mv_data = pos->key;
	rc = mdb_cursor_get(cur, &k, &v, pos->len != 0 ? MDB_SET_RANGE :
	    MDB_FIRST);
	while (moved < n) {
		if (rc == MDB_NOTFOUND && !wrapped++)
			rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		if (rc != 0)
			break;
		if (k.mv_size > sizeof key || v.mv_size > sizeof val) {
			rc = MDB_CORRUPTED;
			break;
		}
		/* Copied: a put may spill the page they point into. */
		memcpy(key, k.mv_data, k.mv_size);
		memcpy(val, v.mv_data, v.mv_size);
		k.mv_data = key;
		v.mv_data = val;
		if ((rc = run != NULL ? store_post_run_put(w, run, index, &k,
		    &v) : mdb_cursor_put(icur, &k, &v, 0)) != 0 ||
		    (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		memcpy(pos->key, key, k.mv_size);
		pos->len = k.mv_size;
		moved++;
		/* After a delete the cursor already stands on the next. */
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
		if (rc == EINVAL)
			rc = MDB_NOTFOUND;
	}
	mdb_cursor_close(icur);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND || moved == n)
		rc = 0;
	/* The last block a run gathered is written now. */
	if (run != NULL) {
		if ((end = store_post_run_end(w, run)) != 0 && rc == 0)
			rc = end;
		store_post_run_free(run);
	}
	return (rc);
}

/*
 * Pack ev into w->sbuf as it is stored: its attrs, which record_pack()
 * appends last as they are, by id (store-attrs.c), new names given ids
 * when give says so; then the whole by position (store-pos.c).
 * Returns 0 or an LMDB error.
 */
static int
pack_stored(struct wctx *w, const struct event *ev, int give)
{
	msgpack_packer	pk;
	int		rc;

	msgpack_sbuffer_clear(&w->sbuf);
	msgpack_packer_init(&pk, &w->sbuf, msgpack_sbuffer_write);
	record_pack(&pk, ev);
	if (ev->attrs != NULL) {
		w->sbuf.size -= ev->attrs_len;
		if ((rc = store_attrs_pack(w, ev->attrs, ev->attrs_len,
		    give)) != 0)
			return (rc);
	}
	store_pos_pack(&w->sbuf, &w->pos);
	return (0);
}

/*
 * Whether ev packs to the bytes of stored, a record, once both name
 * their attrs by strings.  A record keeps the mix of ids and strings
 * its names had when it was written (format 3 had no ids; a name gets
 * one only when seen again, store-attrs.c), so the same event may pack
 * by ids now where it was stored by strings.
 */
static int
same_by_names(struct wctx *w, const struct event *ev, const MDB_val *stored)
{
	msgpack_sbuffer	 named;
	msgpack_packer	 pk;
	int		 same;

	msgpack_sbuffer_clear(&w->sbuf);
	msgpack_packer_init(&pk, &w->sbuf, msgpack_sbuffer_write);
	record_pack(&pk, ev);
	msgpack_sbuffer_init(&named);
	if (store_rec_expand(w->st, w->txn, stored->mv_data,
	    stored->mv_size, &named) == 0)
		same = w->sbuf.size == stored->mv_size &&
		    memcmp(w->sbuf.data, stored->mv_data, stored->mv_size) == 0;
	else
		same = w->sbuf.size == named.size &&
		    memcmp(w->sbuf.data, named.data, named.size) == 0;
	msgpack_sbuffer_destroy(&named);
	return (same);
}

/*
 * Log a put of ev, whose previous change was old, and store its record,
 * which moves if its start did; fresh: ev->id has none yet.
 */
static int
put_record(struct wctx *w, const struct event *ev, uint64_t old, int fresh)
{
	unsigned char	seqbuf[8];
	MDB_val		v;
	uint64_t	seq;
	int		rc;

	if ((rc = log_change(w, CHANGE_PUT, ev->id, old, &seq)) != 0 ||
	    (rc = pack_stored(w, ev, 1)) != 0)
		return (rc);
	skey_be64(seqbuf, seq);
	msgpack_sbuffer_write(&w->sbuf, (const char *)seqbuf, 8);
	v.mv_size = w->sbuf.size;
	v.mv_data = w->sbuf.data;
	return (store_rec_put(w->txn, w->st, skey_class(&ev->span), ev->span.lo,
	    ev->id, &v, fresh));
}

/*
 * The stored record of id: *v as stored, *old decoded, *seq its
 * change.  Returns 0, an LMDB error (MDB_NOTFOUND), or -1 with err set.
 */
static int
get_old(struct wctx *w, uint64_t id, MDB_val *v, struct event *old,
    uint64_t *seq, struct aerr *err)
{
	int	rc;

	if ((rc = store_rec_get(w->txn, w->st, id, v)) != 0)
		return (rc);
	memset(old, 0, sizeof *old);
	*seq = store_rec_split(v);
	if (store_unpack(w->st, w->txn, v->mv_data, v->mv_size, old) != 0) {
		aerr_set(err, AERR_INTERNAL, "event %llu is damaged",
		    (unsigned long long)id);
		return (-1);
	}
	return (0);
}

/*
 * Put one record: update the event its id or its (source, key) names, or
 * add a new one.  Returns 0, an LMDB error, or -1 with err set.
 */
static int
apply_put(struct wctx *w, struct store_op *op, struct aerr *err)
{
	struct event	*ev = op->ev, old;
	unsigned char	 skey[SOURCE_KEY_MAX];
	MDB_val		 k, v;
	uint64_t	 target = op->id, keyed = 0, oldseq;
	int		 rc;

	ev->id = op->id;
	if (ev->source != NULL) {
		k.mv_data = skey;
		k.mv_size = skey_source_key(skey, ev->source, ev->key);
		rc = mdb_get(w->txn, w->st->keys, &k, &v);
		if (rc == 0)
			keyed = skey_get_be64(v.mv_data);
		else if (rc != MDB_NOTFOUND)
			return (rc);
	}
	if (target != 0 && keyed != 0 && keyed != target) {
		aerr_set(err, AERR_INVALID, "source and key belong to event "
		    "%llu, not %llu", (unsigned long long)keyed,
		    (unsigned long long)target);
		return (-1);
	}
	if (target == 0)
		target = keyed;

	if (target == 0 && op->check_rev && op->if_rev != 0) {
		if (ev->source != NULL)
			aerr_set(err, AERR_CONFLICT, "no event has source %s "
			    "and key %s (expected at rev %llu)", ev->source,
			    ev->key, (unsigned long long)op->if_rev);
		else
			aerr_set(err, AERR_INVALID, "rev %llu given for a new "
			    "event: name it by id or by source and key",
			    (unsigned long long)op->if_rev);
		return (-1);
	}
	if (target == 0) {
		ev->id = w->c.next_id++;
		ev->rev = 1;
		ev->created = ev->updated = w->now;
		if ((rc = put_record(w, ev, 0, 1)) != 0 ||
		    (rc = index_event(w, ev, 0, w->c.next_seq - 1)) != 0)
			return (rc);
		op->status = STORE_ADDED;
		goto done;
	}

	rc = get_old(w, target, &v, &old, &oldseq, err);
	if (rc == MDB_NOTFOUND) {
		aerr_set(err, AERR_NOT_FOUND, "event %llu not found",
		    (unsigned long long)target);
		return (-1);
	} else if (rc != 0)
		return (rc);
	if (op->check_rev && old.rev != op->if_rev) {
		aerr_set(err, AERR_CONFLICT, "event %llu is at rev %llu, not "
		    "%llu", (unsigned long long)target,
		    (unsigned long long)old.rev,
		    (unsigned long long)op->if_rev);
		record_clear(&old);
		return (-1);
	}

	/*
	 * Unchanged when it packs to the same bytes with the same stamps,
	 * so that putting the same again changes nothing.  No name is
	 * given an id here: a write would move the bytes of v.
	 */
	ev->id = target;
	ev->rev = old.rev;
	ev->created = old.created;
	ev->updated = old.updated;
	if ((rc = pack_stored(w, ev, 0)) != 0) {
		record_clear(&old);
		return (rc);
	}
	if ((w->sbuf.size == v.mv_size &&
	    memcmp(w->sbuf.data, v.mv_data, v.mv_size) == 0) ||
	    same_by_names(w, ev, &v)) {
		op->status = STORE_UNCHANGED;
		record_clear(&old);
		goto done;
	}
	ev->rev = old.rev + 1;
	ev->updated = w->now;
	rc = index_event(w, &old, 1, oldseq);
	record_clear(&old);
	if (rc != 0 || (rc = put_record(w, ev, oldseq, 0)) != 0 ||
	    (rc = index_event(w, ev, 0, w->c.next_seq - 1)) != 0)
		return (rc);
	op->status = STORE_UPDATED;
done:
	op->out_id = ev->id;
	op->out_rev = ev->rev;
	return (0);
}

/*
 * Take the stored event id out of the indexes; *found says whether there
 * was one, *oldseq is the seq of its change.  Returns 0, an LMDB error,
 * or -1 with err set.
 */
static int
unindex_stored(struct wctx *w, uint64_t id, int *found, uint64_t *oldseq,
    struct aerr *err)
{
	struct event	old;
	MDB_val		v;
	int		rc;

	*found = 0;
	*oldseq = 0;
	rc = get_old(w, id, &v, &old, oldseq, err);
	if (rc == MDB_NOTFOUND)
		return (0);
	else if (rc != 0)
		return (rc);
	old.id = id;
	rc = index_event(w, &old, 1, *oldseq);
	record_clear(&old);
	*found = 1;
	return (rc);
}

static int
apply_delete(struct wctx *w, struct store_op *op, struct aerr *err)
{
	uint64_t	oldseq, seq;
	int		rc, found;

	op->status = 0;
	if ((rc = unindex_stored(w, op->id, &found, &oldseq, err)) != 0 ||
	    !found)
		return (rc);
	if ((rc = store_rec_del(w->txn, w->st, op->id)) != 0 ||
	    (rc = log_change(w, CHANGE_DELETE, op->id, oldseq, &seq)) != 0)
		return (rc);
	op->status = 1;
	op->out_id = op->id;
	return (0);
}

/*
 * A primary's put, as given (struct store_op's seq): its record keeps
 * the primary's seq, as the primary's record does.
 */
static int
apply_given_put(struct wctx *w, struct store_op *op, struct aerr *err)
{
	struct event	*ev = op->ev;
	uint64_t	 oldseq;
	int		 rc, found;

	if ((rc = unindex_stored(w, ev->id, &found, &oldseq, err)) != 0 ||
	    (rc = put_record(w, ev, oldseq, !found)) != 0 ||
	    (rc = index_event(w, ev, 0, w->c.next_seq - 1)) != 0)
		return (rc);
	if (ev->id >= w->c.next_id)
		w->c.next_id = ev->id + 1;
	op->status = found ? STORE_UPDATED : STORE_ADDED;
	op->out_id = ev->id;
	op->out_rev = ev->rev;
	return (0);
}

/* One op of its kind: a client's, or one given by a primary (seq). */
static int
apply_kind(struct wctx *w, struct store_op *op, struct aerr *err)
{
	switch (op->kind) {
	case CHANGE_PUT:
		return (op->seq == 0 ? apply_put(w, op, err) :
		    apply_given_put(w, op, err));
	case CHANGE_DELETE:
		return (apply_delete(w, op, err));
	default:
		return (store_dict_apply(w, op));
	}
}

/*
 * One op.  A replicated one takes the seq it had on the primary; one at
 * or below the last applied was applied before (a message delivered
 * again after a crash between the commit and its acknowledgement) and
 * is skipped.
 */
static int
apply_op(struct wctx *w, struct store_op *op, struct aerr *err)
{
	int	rc;

	if (op->seq == 0)
		return (apply_kind(w, op, err));
	if (op->seq < w->c.next_seq) {
		op->status = STORE_UNCHANGED;
		rc = 0;
	} else {
		w->c.next_seq = op->seq;
		rc = apply_kind(w, op, err);
		w->c.next_seq = op->seq + 1;
	}
	if (rc == 0 && op->stream_seq > w->c.stream_seq)
		w->c.stream_seq = op->stream_seq;
	return (rc);
}

/* Apply one request's ops in a nested transaction: all or none. */
static int
apply_batch(struct wctx *w, struct store_batch *b)
{
	MDB_txn		*parent = w->txn;
	struct counters	 saved = w->c;
	size_t		 i;
	uint32_t	 mark;
	int		 rc;

	b->failed = 0;
	aerr_clear(&b->err);
	/*
	 * Most batches apply cleanly: try them straight in the parent,
	 * since a nested transaction copies every page the parent already
	 * dirtied.  If one fails, the whole group is redone with a nested
	 * transaction per batch, so that only that batch fails.
	 */
	if (!w->nested) {
		for (i = 0; i < b->nops; i++) {
			rc = apply_op(w, &b->ops[i], &b->err);
			if (rc == -1)
				return (STORE_RETRY_NESTED);
			if (rc != 0)
				return (rc);
		}
		return (0);
	}
	mark = store_attrs_mark(w->st);
	if ((rc = mdb_txn_begin(w->st->env, parent, 0, &w->txn)) != 0) {
		w->txn = parent;
		return (rc);
	}
	for (i = 0; i < b->nops; i++) {
		rc = apply_op(w, &b->ops[i], &b->err);
		if (rc != 0)
			break;
	}
	/* The child's staged events go with it, or are forgotten. */
	if (rc == 0 && (rc = store_text_flush(w)) == 0 &&
	    (rc = store_names_flush(w)) == 0)
		rc = mdb_txn_commit(w->txn);
	else {
		store_text_discard(w);
		store_names_discard(w);
		mdb_txn_abort(w->txn);
	}
	w->txn = parent;
	if (rc == 0)
		return (0);
	w->c = saved;
	store_attrs_rollback(w->st, mark);
	if (rc == -1) {
		aerr_prefix(&b->err, "records[%zu]: ", i);
		b->failed = 1;
		return (0);
	}
	return (rc);
}

static void
fail_all(struct store_batch *batches, size_t n, const struct aerr *err)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		batches[i].failed = 1;
		batches[i].err = *err;
	}
}

/*
 * The bytes this thread has handed to write(2) and its kin so far, from
 * /proc/thread-self/io; -1 when that cannot be read.  Around a commit,
 * they are the pages it wrote: LMDB kept a buffer for each, and keeps
 * them for the next transactions (store_release).
 */
static int
thread_wchar(uint64_t *bytes)
{
	char		 buf[512], *p;
	ssize_t		 n;
	int		 fd;

	if ((fd = open("/proc/thread-self/io", O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	if ((p = strstr(buf, "wchar:")) == NULL)
		return (-1);
	*bytes = strtoull(p + 6, NULL, 10);
	return (0);
}

/* One attempt at the whole group; returns 0 or an LMDB error. */
static int
write_once(struct store *st, struct store_batch *batches, size_t n,
    uint64_t now, int nested, struct aerr *err)
{
	struct wctx	 w;
	struct name_pend names;
	uint64_t	 before, after;
	int		 measured;
	size_t		 i;
	int		 rc;

	memset(&w, 0, sizeof w);
	memset(&names, 0, sizeof names);
	w.st = st;
	w.now = now;
	w.nested = nested;
	w.names = &names;
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &w.txn)) != 0)
		return (rc);
	store_text_write_begin(&w);
	msgpack_sbuffer_init(&w.sbuf);
	msgpack_sbuffer_init(&w.pos);
	w.c.next_id = store_meta_get(w.txn, st->meta, "next_id", 1);
	w.c.next_seq = store_meta_get(w.txn, st->meta, "next_seq", 1);
	w.c.classes = store_meta_get(w.txn, st->meta, "classes", 0);
	w.c.classes_before = store_meta_get(w.txn, st->meta,
	    "classes_before", 0);
	w.c.classes_unaligned = store_meta_get(w.txn, st->meta,
	    "classes_unaligned", 0);
	w.c.stream_seq = st->stream_seq;
	for (i = 0; i < n; i++) {
		if ((rc = apply_batch(&w, &batches[i])) != 0)
			goto abort;
	}
	if (st->prune_due && (rc = prune_tombs(&w)) != 0)
		goto abort;
	if ((rc = store_sweep(&w, st->time_new, st->timeblocks, st->stage_time,
	    &st->sweep_time)) != 0 ||
	    (rc = store_sweep(&w, st->actor_new, st->actor, st->stage_actor,
	    &st->sweep_actor)) != 0 ||
	    (rc = store_sweep(&w, st->type_new, st->type, st->stage_time,
	    &st->sweep_type)) != 0 ||
	    (rc = store_text_sweep(&w)) != 0)
		goto abort;
	/* Last: whatever the transaction counted reaches the store. */
	if ((rc = store_names_flush(&w)) != 0)
		goto abort;
	if ((rc = store_meta_put(w.txn, st->meta, "next_id", w.c.next_id)) ||
	    (rc = store_meta_put(w.txn, st->meta, "next_seq", w.c.next_seq)) ||
	    (rc = store_meta_put(w.txn, st->meta, "typed_to", w.c.next_seq)) ||
	    /* Without the word index, the store does not claim it. */
	    (!st->no_text && (rc = store_meta_put(w.txn, st->meta,
	    "texted_to", w.c.next_seq)) != 0) ||
	    (rc = store_meta_put(w.txn, st->meta, "classes", w.c.classes)) ||
	    (rc = store_meta_put(w.txn, st->meta, "classes_before",
	    w.c.classes_before)) ||
	    (rc = store_meta_put(w.txn, st->meta, "classes_unaligned",
	    w.c.classes_unaligned)) ||
	    (rc = store_meta_put(w.txn, st->meta, "spanned_to",
	    w.c.next_seq)) ||
	    (w.c.stream_seq != 0 && (rc = store_meta_put(w.txn, st->meta,
	    "stream_seq", w.c.stream_seq)) != 0) ||
	    (rc = store_text_serial(&w)) != 0)
		goto abort;
	msgpack_sbuffer_destroy(&w.sbuf);
	msgpack_sbuffer_destroy(&w.pos);
	if (st->inject_count > 0) {
		st->inject_count--;
		mdb_txn_abort(w.txn);
		store_attrs_rollback(st, 0);
		return (st->inject_errno);
	}
	store_text_write_end(&w);
	measured = thread_wchar(&before) == 0;
	/* The handle is gone after a failed commit too (P14). */
	if ((rc = mdb_txn_commit(w.txn)) == 0) {
		if (measured && thread_wchar(&after) == 0 &&
		    after - before > st->write_peak)
			st->write_peak = after - before;
		store_attrs_commit(st);
		st->last_seq = w.c.next_seq - 1;
		if (w.c.stream_seq != 0)
			st->stream_seq = w.c.stream_seq;
		st->prune_due = 0;
	} else
		store_attrs_rollback(st, 0);
	return (rc);

abort:
	msgpack_sbuffer_destroy(&w.sbuf);
	msgpack_sbuffer_destroy(&w.pos);
	store_text_discard(&w);
	store_names_discard(&w);
	mdb_txn_abort(w.txn);
	store_attrs_rollback(st, 0);
	(void)err;
	return (rc);
}

/* Remember the ids the puts were given, before any attempt changes them. */
void
store_write_prepare(struct store_batch *batches, size_t n)
{
	size_t	i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < batches[i].nops; j++) {
			if (batches[i].ops[j].kind == CHANGE_PUT)
				batches[i].ops[j].id = batches[i].ops[j].ev->id;
		}
	}
}

/*
 * One attempt at a group of batches, in one write transaction, after
 * store_write_prepare().  A batch that fails leaves the others alone.
 * Returns 0 when the transaction committed (each batch then says whether
 * it applied), STORE_NEED_GROW when the map is full and can grow (nothing
 * was written: grow it with store_grow() while no transaction is open
 * anywhere, then try again), or -1 when nothing was written and every
 * batch failed with err.  Safe to call from a thread of its own.
 */
int
store_write_try(struct store *st, struct store_batch *batches, size_t n,
    uint64_t now, struct aerr *err)
{
	size_t	i, j;
	int	rc, nested = 0;

	for (;;) {
		rc = write_once(st, batches, n, now, nested, err);
		if (rc == 0)
			return (0);
		if (rc == STORE_RETRY_NESTED && !nested) {
			nested = 1;
			continue;
		}
		if (rc == MDB_MAP_FULL && st->map_size < st->max_map_size)
			return (STORE_NEED_GROW);
		if (rc == MDB_MAP_FULL)
			aerr_set(err, AERR_DISK_FULL, "database map is full "
			    "at its maximum of %zu bytes", st->max_map_size);
		else if (store_disk_full(st->path, rc) == ENOSPC)
			aerr_set(err, AERR_DISK_FULL, "no space left on "
			    "device");
		else
			store_error(err, rc, "write transaction");
		fail_all(batches, n, err);
		/* Nothing was written: the records are as they were given. */
		for (i = 0; i < n; i++) {
			for (j = 0; j < batches[i].nops; j++) {
				if (batches[i].ops[j].kind == CHANGE_PUT)
					batches[i].ops[j].ev->id =
					    batches[i].ops[j].id;
			}
		}
		return (-1);
	}
}

/*
 * Apply a group of batches and commit it, growing the map as needed, so
 * that no client ever sees MDB_MAP_FULL (P8).  Returns as
 * store_write_try() does, but never STORE_NEED_GROW.  Growing maps the
 * file again, so only for a process with no read transaction open on
 * another thread: annalsd's writer calls store_write_try() and pauses
 * its readers to grow (commit.c).
 */
int
store_write(struct store *st, struct store_batch *batches, size_t n,
    uint64_t now, struct aerr *err)
{
	int	rc;

	store_write_prepare(batches, n);
	while ((rc = store_write_try(st, batches, n, now, err)) ==
	    STORE_NEED_GROW) {
		if (store_grow(st, err) != 0) {
			fail_all(batches, n, err);
			return (-1);
		}
	}
	return (rc);
}
