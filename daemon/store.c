/*
 * The event store: the only file that speaks LMDB.
 *
 * Databases in one environment:
 *	events	id -> packed record (the wire encoding, server fields set)
 *	time	class start id -> span		(store-key.c)
 *	actor	name NUL class start id -> span
 *	actors	name -> event count, mask of classes used
 *	type	type NUL class start id -> span	(store-type.c)
 *	types	type -> event count, mask of classes used
 *	text	word NUL class start id -> block of postings (store-text.c)
 *	text_new start id -> class, words	(staged events)
 *	words	word -> postings, mask of classes used
 *	keys	source NUL key -> id
 *	changes	seq -> op, id			(one per put or delete)
 *	meta	next_id, next_seq, classes of the time index, typed_to
 *
 * Invariants: every index changes in the same write transaction as its
 * record; exactly one function (write_once) opens write transactions; no
 * read transaction outlives the call that opened it, so the map can be
 * resized between calls (P8, P9, P10).
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "annalsd.h"
#include "store-int.h"

/* Whether the filesystem of the store has (almost) no room left. */
static int
disk_nearly_full(struct store *st)
{
	struct statvfs	sv;
	const char	*path;

	if (mdb_env_get_path(st->env, &path) != 0 || statvfs(path, &sv) != 0)
		return (0);
	return ((uint64_t)sv.f_bavail * sv.f_frsize < ((uint64_t)4 << 20));
}

int
store_error(struct aerr *err, int rc, const char *what)
{
	if (rc == ENOSPC)
		aerr_set(err, AERR_DISK_FULL, "no space left on device");
	else if (rc == MDB_MAP_FULL)
		aerr_set(err, AERR_LIMIT, "database map is full");
	else {
		log_err("%s: %s", what, mdb_strerror(rc));
		aerr_set(err, AERR_INTERNAL, "storage error");
	}
	return (-1);
}

uint64_t
store_meta_get(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t dflt)
{
	MDB_val	k = { strlen(name), (void *)name }, v;

	if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size != 8)
		return (dflt);
	return (skey_get_be64(v.mv_data));
}

static int
meta_put(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t value)
{
	unsigned char	buf[8];
	MDB_val		k = { strlen(name), (void *)name }, v = { 8, buf };

	skey_be64(buf, value);
	return (mdb_put(txn, dbi, &k, &v, 0));
}

/*
 * The store's uuid, made from getrandom(2) the first time the store is
 * opened and kept in meta: it names the store in the message ids its
 * changes get on a NATS stream (contrib/nats), so that a store restored
 * elsewhere or made anew is not taken for another.
 */
static int
store_uuid_load(struct store *st, MDB_txn *txn)
{
	unsigned char	 raw[16];
	MDB_val		 k = { 4, (void *)"uuid" }, v;
	int		 rc;

	if ((rc = mdb_get(txn, st->meta, &k, &v)) == 0 && v.mv_size == 16)
		memcpy(raw, v.mv_data, 16);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	else {
		if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
			return (errno);
		raw[6] = (raw[6] & 0x0f) | 0x40;	/* version 4 */
		raw[8] = (raw[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
		v.mv_size = 16;
		v.mv_data = raw;
		if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0)
			return (rc);
	}
	snprintf(st->uuid, sizeof st->uuid, "%02x%02x%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", raw[0], raw[1],
	    raw[2], raw[3], raw[4], raw[5], raw[6], raw[7], raw[8], raw[9],
	    raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]);
	return (0);
}

/* Create a directory and any missing parents, like mkdir -p. */
static int
mkdir_parents(const char *path)
{
	char	buf[4096], *p;

	if (strlen(path) >= sizeof buf) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	strcpy(buf, path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) == -1 && errno != EEXIST)
			return (-1);
		*p = '/';
	}
	if (mkdir(buf, 0750) == -1 && errno != EEXIST)
		return (-1);
	return (0);
}

/*
 * The order of every key: memcmp's, compared 8 bytes at a time.  LMDB
 * calls its comparator through a pointer some thousands of times per
 * query, and libc's memcmp there was a tenth of a range query's time.
 * The order is the same, so mdb_stat, mdb_dump and an older annalsd
 * read the files as before.
 */
static int
store_cmp(const MDB_val *a, const MDB_val *b)
{
	const unsigned char	*p = a->mv_data, *q = b->mv_data;
	size_t			 n;
	uint64_t		 x, y;

	n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
	for (; n >= 8; n -= 8, p += 8, q += 8) {
		memcpy(&x, p, 8);
		memcpy(&y, q, 8);
		if (x != y)
			return (be64toh(x) < be64toh(y) ? -1 : 1);
	}
	for (; n > 0; n--, p++, q++) {
		if (*p != *q)
			return (*p < *q ? -1 : 1);
	}
	if (a->mv_size == b->mv_size)
		return (0);
	return (a->mv_size < b->mv_size ? -1 : 1);
}

/* Before any access to a database (mdb_set_compare(3)). */
static void
store_set_compare(struct store *st, MDB_txn *txn)
{
	const MDB_dbi	dbis[] = { st->events, st->time, st->actor,
			    st->actors, st->keys, st->changes, st->meta,
			    st->chid, st->tombs, st->time_new, st->actor_new,
			    st->days, st->type, st->type_new, st->types,
			    st->text, st->text_new, st->words };
	size_t		i;

	for (i = 0; i < sizeof dbis / sizeof dbis[0]; i++)
		mdb_set_compare(txn, dbis[i], store_cmp);
}

/*
 * Once per store: rewrite the records that daemons before issue #14
 * stored with empty strings ("title": ""), which the protocol says are
 * omitted.  store_unpack() leaves them out; the record is packed again.
 * No index holds those fields, so only the record changes.
 */
static int
store_drop_empty(struct store *st, MDB_txn *txn)
{
	msgpack_sbuffer	 sbuf;
	msgpack_packer	 pk;
	struct event	 ev;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 fixed = 0;
	int		 rc;

	if (store_meta_get(txn, st->meta, "no_empty", 0) != 0)
		return (0);
	if ((rc = mdb_cursor_open(txn, st->events, &cur)) != 0)
		return (rc);
	msgpack_sbuffer_init(&sbuf);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (store_unpack(v.mv_data, v.mv_size, &ev) != 0)
			continue;	/* store-check's business */
		msgpack_sbuffer_clear(&sbuf);
		msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
		record_pack(&pk, &ev);
		record_clear(&ev);
		if (sbuf.size == v.mv_size &&
		    memcmp(sbuf.data, v.mv_data, v.mv_size) == 0)
			continue;
		v.mv_size = sbuf.size;
		v.mv_data = sbuf.data;
		if ((rc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT)) != 0)
			break;
		fixed++;
	}
	mdb_cursor_close(cur);
	msgpack_sbuffer_destroy(&sbuf);
	if (rc != MDB_NOTFOUND)
		return (rc);
	if (fixed > 0)
		log_notice("dropped empty strings from %zu stored records",
		    fixed);
	return (meta_put(txn, st->meta, "no_empty", 1));
}

/*
 * Refuse a data directory whose index encodings are not ours: reading it
 * would answer wrongly, not fail.  Directories written before the format
 * was recorded hold format 1 (49-byte spans in every index entry).
 */
static int
store_format(struct store *st, MDB_txn *txn, const char *path,
    struct aerr *err)
{
	MDB_stat	ms;
	uint64_t	format;
	int		rc;

	format = store_meta_get(txn, st->meta, "format", 0);
	if (format == 0) {
		if ((rc = mdb_stat(txn, st->events, &ms)) != 0)
			return (store_error(err, rc, "mdb_stat"));
		if (ms.ms_entries == 0) {
			if ((rc = meta_put(txn, st->meta, "format",
			    STORE_FORMAT)) != 0)
				return (store_error(err, rc, "mdb_put"));
			return (0);
		}
		format = 1;
	}
	if (format != STORE_FORMAT) {
		aerr_set(err, AERR_INTERNAL, "%s holds store format %llu and "
		    "this annalsd reads format %d: export it with the annalsd "
		    "that wrote it (annals export) and import it here", path,
		    (unsigned long long)format, STORE_FORMAT);
		return (-1);
	}
	return (0);
}

/* Open the environment in path, creating it and its databases. */
struct store *
store_open(const struct store_config *cfg, struct aerr *err)
{
	struct store	*st;
	MDB_txn		*txn;
	MDB_envinfo	 info;
	int		 rc, dead;

	if (mkdir_parents(cfg->path) != 0) {
		aerr_set(err, AERR_INTERNAL, "mkdir %s: %s", cfg->path,
		    strerror(errno));
		return (NULL);
	}
	st = xcalloc(1, sizeof *st);
	st->max_map_size = cfg->max_map_size;
	st->stage_time = cfg->stage_entries != 0 ? cfg->stage_entries :
	    STAGE_TIME_ENTRIES;
	/* Events have two to three actors: stage as many events. */
	st->stage_actor = st->stage_time * 3;
	/* Staged events (store-text.c): a query reads them all. */
	st->stage_text = st->stage_time / 4 + 1;
	st->no_text = cfg->no_text_index;
	if ((rc = mdb_env_create(&st->env)) != 0)
		goto fail;
	mdb_env_set_maxdbs(st->env, 32);
	mdb_env_set_maxreaders(st->env, 1024);
	mdb_env_set_mapsize(st->env, cfg->map_size);
	/* NOTLS: a read txn is not tied to a thread (P12). */
	rc = mdb_env_open(st->env, cfg->path, MDB_NOTLS, 0640);
	if (rc != 0)
		goto fail;
	/* A crashed process may have left reader slots behind (P11). */
	mdb_reader_check(st->env, &dead);
	if (dead > 0)
		log_notice("cleared %d stale reader slots", dead);
	mdb_env_info(st->env, &info);
	st->map_size = info.me_mapsize;
	if (st->max_map_size < st->map_size)
		st->max_map_size = st->map_size;

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "events", MDB_CREATE, &st->events)) ||
	    (rc = mdb_dbi_open(txn, "time", MDB_CREATE, &st->time)) ||
	    (rc = mdb_dbi_open(txn, "actor", MDB_CREATE, &st->actor)) ||
	    (rc = mdb_dbi_open(txn, "actors", MDB_CREATE, &st->actors)) ||
	    (rc = mdb_dbi_open(txn, "keys", MDB_CREATE, &st->keys)) ||
	    (rc = mdb_dbi_open(txn, "changes", MDB_CREATE, &st->changes)) ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) ||
	    (rc = mdb_dbi_open(txn, "chid", MDB_CREATE, &st->chid)) ||
	    (rc = mdb_dbi_open(txn, "tombs", MDB_CREATE, &st->tombs)) ||
	    (rc = mdb_dbi_open(txn, "time_new", MDB_CREATE,
	    &st->time_new)) ||
	    (rc = mdb_dbi_open(txn, "actor_new", MDB_CREATE,
	    &st->actor_new)) ||
	    (rc = mdb_dbi_open(txn, "days", MDB_CREATE, &st->days)) ||
	    (rc = mdb_dbi_open(txn, "type", MDB_CREATE, &st->type)) ||
	    (rc = mdb_dbi_open(txn, "type_new", MDB_CREATE,
	    &st->type_new)) ||
	    (rc = mdb_dbi_open(txn, "types", MDB_CREATE, &st->types)) ||
	    (rc = mdb_dbi_open(txn, "text", MDB_CREATE, &st->text)) ||
	    (rc = mdb_dbi_open(txn, "text_new", MDB_CREATE,
	    &st->text_new)) ||
	    (rc = mdb_dbi_open(txn, "words", MDB_CREATE, &st->words))) {
		mdb_txn_abort(txn);
		goto fail;
	}
	store_set_compare(st, txn);
	if (store_format(st, txn, cfg->path, err) != 0) {
		mdb_txn_abort(txn);
		mdb_env_close(st->env);
		free(st);
		return (NULL);
	}
	if ((rc = store_uuid_load(st, txn)) == 0 &&
	    (rc = store_drop_empty(st, txn)) == 0 &&
	    (rc = store_type_open(st, txn)) == 1)
		rc = meta_put(txn, st->meta, "typed_to",
		    store_meta_get(txn, st->meta, "next_seq", 1));
	if (rc == 0 && (rc = store_text_open(st, txn)) == 1)
		rc = meta_put(txn, st->meta, "texted_to",
		    store_meta_get(txn, st->meta, "next_seq", 1));
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	st->last_seq = store_meta_get(txn, st->meta, "next_seq", 1) - 1;
	st->stream_seq = store_meta_get(txn, st->meta, "stream_seq", 0);
	st->keep_ms = cfg->changes_keep_ms;
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return (st);

fail:
	aerr_set(err, rc == ENOSPC ? AERR_DISK_FULL : AERR_INTERNAL,
	    "mdb_env_open %s: %s", cfg->path, mdb_strerror(rc));
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st);
	return (NULL);
}

void
store_close(struct store *st)
{
	struct aerr	err;
	uint64_t	bytes;

	if (st == NULL)
		return;
	/* A copy still running must end before the environment does. */
	if (st->backup != NULL && store_backup_finish(st, &bytes, &err) != 0)
		log_warn("%s", err.msg);
	mdb_env_close(st->env);
	free(st);
}

void
store_reader_check(struct store *st)
{
	int	dead = 0;

	mdb_reader_check(st->env, &dead);
	if (dead > 0)
		log_notice("cleared %d stale reader slots", dead);
}

void
store_inject_commit_error(struct store *st, int error, int count)
{
	st->inject_errno = error;
	st->inject_count = count;
}

/* Begin a read transaction, clearing stale readers once if full. */
int
store_read_begin(struct store *st, MDB_txn **txn, struct aerr *err)
{
	int	rc;

	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
	if (rc == MDB_READERS_FULL) {
		store_reader_check(st);
		rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
	}
	if (rc != 0)
		return (store_error(err, rc, "mdb_txn_begin"));
	return (0);
}

/* Decode a stored record, with the server fields record_decode skips. */
int
store_unpack(const void *data, size_t len, struct event *ev)
{
	msgpack_unpacked	 u;
	struct aerr		 err;
	uint64_t		 v;
	int			 rc = -1;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, data, len, NULL) != MSGPACK_UNPACK_SUCCESS)
		goto out;
	if (record_decode_stored(&u.data, ev, &err) != 0) {
		log_err("stored record does not decode: %s", err.msg);
		goto out;
	}
	if (mp_get(&u.data, "rev") != NULL &&
	    mp_uint(mp_get(&u.data, "rev"), "rev", &v, &err) == 0)
		ev->rev = v;
	if (mp_get(&u.data, "created") != NULL &&
	    mp_uint(mp_get(&u.data, "created"), "created", &v, &err) == 0)
		ev->created = v;
	if (mp_get(&u.data, "updated") != NULL &&
	    mp_uint(mp_get(&u.data, "updated"), "updated", &v, &err) == 0)
		ev->updated = v;
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	return (rc);
}

/* Whether actor i's name already appeared earlier in the list. */
static int
actor_seen(const struct event *ev, uint32_t i)
{
	uint32_t	j;

	for (j = 0; j < i; j++) {
		if (strcmp(ev->actors[j].name, ev->actors[i].name) == 0)
			return (1);
	}
	return (0);
}

/*
 * Add delta to the count of an actor (or type) in names, recording the
 * class it is used with.
 */
int
store_name_count(struct wctx *w, MDB_dbi names, const char *name, int delta,
    int class)
{
	MDB_val		k = { strlen(name), (void *)name }, v;
	unsigned char	buf[16];
	uint64_t	count = 0, mask = 0;
	int		rc;

	rc = mdb_get(w->txn, names, &k, &v);
	if (rc == 0 && v.mv_size == 16) {
		count = skey_get_be64(v.mv_data);
		mask = skey_get_be64((const unsigned char *)v.mv_data + 8);
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if (delta < 0 && count <= 1)
		return (mdb_del(w->txn, names, &k, NULL));
	count += delta;
	/* The mask only grows: a stale bit costs one empty seek. */
	mask |= UINT64_C(1) << class;
	skey_be64(buf, count);
	skey_be64(buf + 8, mask);
	v.mv_size = 16;
	v.mv_data = buf;
	return (mdb_put(w->txn, names, &k, &v, 0));
}

/*
 * Call fn with each name in names that is name (or with prefix, starts
 * with it) and the mask of classes it is used with, until fn returns
 * other than 0, which is returned.
 */
int
store_names_each(MDB_txn *txn, MDB_dbi names, const char *name, int prefix,
    store_name_fn fn, void *arg, struct aerr *err)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	uint64_t	 mask;
	size_t		 len = strlen(name);
	int		 rc, ret = 0;

	if ((rc = mdb_cursor_open(txn, names, &cur)) != 0)
		return (store_error(err, rc, "mdb_cursor_open"));
	k.mv_size = len;
	k.mv_data = (void *)name;
	rc = mdb_cursor_get(cur, &k, &v, prefix ? MDB_SET_RANGE : MDB_SET_KEY);
	for (; rc == 0 && ret == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < len || memcmp(k.mv_data, name, len) != 0)
			break;
		mask = v.mv_size == 16 ?
		    skey_get_be64((const unsigned char *)v.mv_data + 8) : 0;
		ret = fn(arg, k.mv_data, k.mv_size, mask);
		if (!prefix)
			break;
	}
	mdb_cursor_close(cur);
	return (ret);
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
		rc = mdb_del(w->txn, index, k, NULL);
	return (rc);
}

/*
 * Add (or with del, remove) the index entries of an event.  New time and
 * actor entries go to their stage, a small index that store_sweep()
 * empties into the large one in key order (see there).
 */
static int
index_event(struct wctx *w, const struct event *ev, int del)
{
	unsigned char	key[ACTOR_KEY_MAX], span[SKEY_SPAN_MAX];
	MDB_val		k, v;
	uint32_t	i;
	int		class = skey_class(&ev->span), rc;

	v.mv_size = skey_span(span, &ev->span);
	v.mv_data = span;
	k.mv_data = key;
	k.mv_size = skey_time_key(key, class, ev->span.lo, ev->id);
	rc = del ? store_index_del(w, w->st->time_new, w->st->time, &k) :
	    mdb_put(w->txn, w->st->time_new, &k, &v, 0);
	if (rc != 0 || (rc = day_count(w, ev->span.lo, del ? -1 : 1)) != 0 ||
	    (rc = store_type_index(w, ev, del)) != 0 ||
	    (rc = store_text_index(w, ev, del)) != 0)
		return (rc);
	if (!del)
		w->c.classes |= UINT64_C(1) << class;

	for (i = 0; i < ev->nactors; i++) {
		if (actor_seen(ev, i))
			continue;
		k.mv_size = skey_actor_key(key, ev->actors[i].name,
		    strlen(ev->actors[i].name), class, ev->span.lo, ev->id);
		rc = del ? store_index_del(w, w->st->actor_new, w->st->actor,
		    &k) :
		    mdb_put(w->txn, w->st->actor_new, &k, &v, 0);
		if (rc != 0)
			return (rc);
		if ((rc = store_name_count(w, w->st->actors,
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
 * Record a change of id.  The log keeps one entry per id, its latest, so
 * replaying it from the start rebuilds the database however often events
 * were updated; deletions are also listed in tombs so that they can be
 * dropped after the retention time without walking the whole log.
 */
static int
log_change(struct wctx *w, int op, uint64_t id)
{
	unsigned char	kbuf[8], vbuf[16], idbuf[8];
	MDB_val		k = { 8, kbuf }, v = { 9, vbuf }, ik = { 8, idbuf }, iv;
	uint64_t	seq = w->c.next_seq++;
	int		rc;

	skey_be64(idbuf, id);
	rc = mdb_get(w->txn, w->st->chid, &ik, &iv);
	if (rc == 0 && iv.mv_size == 8) {
		k.mv_data = iv.mv_data;
		if ((rc = mdb_del(w->txn, w->st->changes, &k, NULL)) != 0 &&
		    rc != MDB_NOTFOUND)
			return (rc);
		k.mv_data = kbuf;
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	skey_be64(kbuf, seq);
	vbuf[0] = (unsigned char)op;
	skey_be64(vbuf + 1, id);
	if ((rc = mdb_put(w->txn, w->st->changes, &k, &v, MDB_APPEND)) != 0)
		return (rc);
	iv.mv_size = 8;
	iv.mv_data = kbuf;
	if ((rc = mdb_put(w->txn, w->st->chid, &ik, &iv, 0)) != 0)
		return (rc);
	if (op == CHANGE_DELETE) {
		skey_be64(vbuf, w->now);
		skey_be64(vbuf + 8, id);
		v.mv_size = 16;
		v.mv_data = vbuf;
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
	MDB_val		 k, v, ck;
	uint64_t	 horizon = 0, cutoff;
	unsigned char	 kbuf[8], idbuf[8];
	int		 rc, n = 0;

	if (w->now < w->st->keep_ms)
		return (0);
	cutoff = w->now - w->st->keep_ms;
	if ((rc = mdb_cursor_open(w->txn, w->st->tombs, &cur)) != 0)
		return (rc);
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
	    n < PRUNE_BATCH) {
		if (v.mv_size != 16 || skey_get_be64(v.mv_data) >= cutoff)
			break;
		memcpy(kbuf, k.mv_data, 8);
		memcpy(idbuf, (unsigned char *)v.mv_data + 8, 8);
		horizon = skey_get_be64(kbuf);
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		ck.mv_size = 8;
		ck.mv_data = kbuf;
		if ((rc = mdb_del(w->txn, w->st->changes, &ck, NULL)) != 0 &&
		    rc != MDB_NOTFOUND)
			break;
		ck.mv_data = idbuf;
		if ((rc = mdb_del(w->txn, w->st->chid, &ck, NULL)) != 0 &&
		    rc != MDB_NOTFOUND)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if (horizon != 0)
		return (meta_put(w->txn, w->st->meta, "horizon", horizon));
	return (0);
}

/*
 * Move the entries a stage holds beyond its size into its index, going
 * on in key order from where the last sweep stopped.  An event's entries
 * land at random places of a large index, and a commit writes every page
 * it touched: put straight there, the entries of a commit touch about as
 * many pages as there are entries.  Staged, they touch the few pages of
 * the stage, and a sweep moves runs of neighbouring keys, many to a page
 * of the index.  Queries read both (plan_add).
 */
static int
store_sweep(struct wctx *w, MDB_dbi stage, MDB_dbi index, size_t max,
    struct sweep *pos)
{
	unsigned char	 key[ACTOR_KEY_MAX], val[SKEY_SPAN_MAX];
	MDB_cursor	*cur;
	MDB_stat	 ms;
	MDB_val		 k, v;
	size_t		 n, moved = 0, wrapped = 0;
	int		 rc;

	if ((rc = mdb_stat(w->txn, stage, &ms)) != 0)
		return (rc);
	if (ms.ms_entries <= max)
		return (0);
	n = ms.ms_entries - max;
	if ((rc = mdb_cursor_open(w->txn, stage, &cur)) != 0)
		return (rc);
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
		if ((rc = mdb_put(w->txn, index, &k, &v, 0)) != 0 ||
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
	mdb_cursor_close(cur);
	return (rc == MDB_NOTFOUND || moved == n ? 0 : rc);
}

static int
put_record(struct wctx *w, const struct event *ev)
{
	msgpack_packer	pk;
	unsigned char	kbuf[8];
	MDB_val		k = { 8, kbuf }, v;

	msgpack_sbuffer_clear(&w->sbuf);
	msgpack_packer_init(&pk, &w->sbuf, msgpack_sbuffer_write);
	record_pack(&pk, ev);
	skey_be64(kbuf, ev->id);
	v.mv_size = w->sbuf.size;
	v.mv_data = w->sbuf.data;
	return (mdb_put(w->txn, w->st->events, &k, &v, 0));
}

/*
 * Put one record: update the event its id or its (source, key) names, or
 * add a new one.  Returns 0, an LMDB error, or -1 with err set.
 */
static int
apply_put(struct wctx *w, struct store_op *op, struct aerr *err)
{
	struct event	*ev = op->ev, old;
	unsigned char	 skey[SOURCE_KEY_MAX], kbuf[8];
	MDB_val		 k, v;
	uint64_t	 target = op->id, keyed = 0;
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
		if ((rc = put_record(w, ev)) != 0 ||
		    (rc = index_event(w, ev, 0)) != 0 ||
		    (rc = log_change(w, CHANGE_PUT, ev->id)) != 0)
			return (rc);
		op->status = STORE_ADDED;
		goto done;
	}

	skey_be64(kbuf, target);
	k.mv_data = kbuf;
	k.mv_size = 8;
	rc = mdb_get(w->txn, w->st->events, &k, &v);
	if (rc == MDB_NOTFOUND) {
		aerr_set(err, AERR_NOT_FOUND, "event %llu not found",
		    (unsigned long long)target);
		return (-1);
	} else if (rc != 0)
		return (rc);
	memset(&old, 0, sizeof old);
	if (store_unpack(v.mv_data, v.mv_size, &old) != 0) {
		aerr_set(err, AERR_INTERNAL, "event %llu is damaged",
		    (unsigned long long)target);
		return (-1);
	}
	if (op->check_rev && old.rev != op->if_rev) {
		aerr_set(err, AERR_CONFLICT, "event %llu is at rev %llu, not "
		    "%llu", (unsigned long long)target,
		    (unsigned long long)old.rev,
		    (unsigned long long)op->if_rev);
		record_clear(&old);
		return (-1);
	}

	/* Unchanged when it packs to the same bytes with the same stamps. */
	ev->id = target;
	ev->rev = old.rev;
	ev->created = old.created;
	ev->updated = old.updated;
	msgpack_sbuffer_clear(&w->sbuf);
	{
		msgpack_packer	pk;

		msgpack_packer_init(&pk, &w->sbuf, msgpack_sbuffer_write);
		record_pack(&pk, ev);
	}
	if (w->sbuf.size == v.mv_size &&
	    memcmp(w->sbuf.data, v.mv_data, v.mv_size) == 0) {
		op->status = STORE_UNCHANGED;
		record_clear(&old);
		goto done;
	}
	ev->rev = old.rev + 1;
	ev->updated = w->now;
	rc = index_event(w, &old, 1);
	record_clear(&old);
	if (rc != 0 || (rc = put_record(w, ev)) != 0 ||
	    (rc = index_event(w, ev, 0)) != 0 ||
	    (rc = log_change(w, CHANGE_PUT, ev->id)) != 0)
		return (rc);
	op->status = STORE_UPDATED;
done:
	op->out_id = ev->id;
	op->out_rev = ev->rev;
	return (0);
}

/*
 * Take the stored event id out of the indexes; *found says whether there
 * was one.  Returns 0, an LMDB error, or -1 with err set.
 */
static int
unindex_stored(struct wctx *w, uint64_t id, int *found, struct aerr *err)
{
	struct event	old;
	unsigned char	kbuf[8];
	MDB_val		k = { 8, kbuf }, v;
	int		rc;

	*found = 0;
	skey_be64(kbuf, id);
	rc = mdb_get(w->txn, w->st->events, &k, &v);
	if (rc == MDB_NOTFOUND)
		return (0);
	else if (rc != 0)
		return (rc);
	memset(&old, 0, sizeof old);
	if (store_unpack(v.mv_data, v.mv_size, &old) != 0) {
		aerr_set(err, AERR_INTERNAL, "event %llu is damaged",
		    (unsigned long long)id);
		return (-1);
	}
	old.id = id;
	rc = index_event(w, &old, 1);
	record_clear(&old);
	*found = 1;
	return (rc);
}

static int
apply_delete(struct wctx *w, struct store_op *op, struct aerr *err)
{
	unsigned char	kbuf[8];
	MDB_val		k = { 8, kbuf };
	int		rc, found;

	op->status = 0;
	if ((rc = unindex_stored(w, op->id, &found, err)) != 0 || !found)
		return (rc);
	skey_be64(kbuf, op->id);
	if ((rc = mdb_del(w->txn, w->st->events, &k, NULL)) != 0 ||
	    (rc = log_change(w, CHANGE_DELETE, op->id)) != 0)
		return (rc);
	op->status = 1;
	op->out_id = op->id;
	return (0);
}

/* A primary's put, as given (struct store_op's seq). */
static int
apply_given_put(struct wctx *w, struct store_op *op, struct aerr *err)
{
	struct event	*ev = op->ev;
	int		 rc, found;

	if ((rc = unindex_stored(w, ev->id, &found, err)) != 0 ||
	    (rc = put_record(w, ev)) != 0 ||
	    (rc = index_event(w, ev, 0)) != 0 ||
	    (rc = log_change(w, CHANGE_PUT, ev->id)) != 0)
		return (rc);
	if (ev->id >= w->c.next_id)
		w->c.next_id = ev->id + 1;
	op->status = found ? STORE_UPDATED : STORE_ADDED;
	op->out_id = ev->id;
	op->out_rev = ev->rev;
	return (0);
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
		return (op->kind == CHANGE_PUT ? apply_put(w, op, err) :
		    apply_delete(w, op, err));
	if (op->seq < w->c.next_seq) {
		op->status = STORE_UNCHANGED;
		rc = 0;
	} else {
		w->c.next_seq = op->seq;
		rc = op->kind == CHANGE_PUT ? apply_given_put(w, op, err) :
		    apply_delete(w, op, err);
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
	if ((rc = mdb_txn_begin(w->st->env, parent, 0, &w->txn)) != 0) {
		w->txn = parent;
		return (rc);
	}
	for (i = 0; i < b->nops; i++) {
		rc = apply_op(w, &b->ops[i], &b->err);
		if (rc != 0)
			break;
	}
	if (rc == 0)
		rc = mdb_txn_commit(w->txn);
	else
		mdb_txn_abort(w->txn);
	w->txn = parent;
	if (rc == 0)
		return (0);
	w->c = saved;
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

/* One attempt at the whole group; returns 0 or an LMDB error. */
static int
write_once(struct store *st, struct store_batch *batches, size_t n,
    uint64_t now, int nested, struct aerr *err)
{
	struct wctx	w;
	size_t		i;
	int		rc;

	memset(&w, 0, sizeof w);
	w.st = st;
	w.now = now;
	w.nested = nested;
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &w.txn)) != 0)
		return (rc);
	msgpack_sbuffer_init(&w.sbuf);
	w.c.next_id = store_meta_get(w.txn, st->meta, "next_id", 1);
	w.c.next_seq = store_meta_get(w.txn, st->meta, "next_seq", 1);
	w.c.classes = store_meta_get(w.txn, st->meta, "classes", 0);
	w.c.stream_seq = st->stream_seq;
	for (i = 0; i < n; i++) {
		if ((rc = apply_batch(&w, &batches[i])) != 0)
			goto abort;
	}
	if (st->prune_due && (rc = prune_tombs(&w)) != 0)
		goto abort;
	if ((rc = store_sweep(&w, st->time_new, st->time, st->stage_time,
	    &st->sweep_time)) != 0 ||
	    (rc = store_sweep(&w, st->actor_new, st->actor, st->stage_actor,
	    &st->sweep_actor)) != 0 ||
	    (rc = store_sweep(&w, st->type_new, st->type, st->stage_time,
	    &st->sweep_type)) != 0 ||
	    (rc = store_text_sweep(&w)) != 0)
		goto abort;
	if ((rc = meta_put(w.txn, st->meta, "next_id", w.c.next_id)) ||
	    (rc = meta_put(w.txn, st->meta, "next_seq", w.c.next_seq)) ||
	    (rc = meta_put(w.txn, st->meta, "typed_to", w.c.next_seq)) ||
	    (rc = meta_put(w.txn, st->meta, "texted_to", w.c.next_seq)) ||
	    (rc = meta_put(w.txn, st->meta, "classes", w.c.classes)) ||
	    (w.c.stream_seq != 0 && (rc = meta_put(w.txn, st->meta,
	    "stream_seq", w.c.stream_seq)) != 0))
		goto abort;
	msgpack_sbuffer_destroy(&w.sbuf);
	if (st->inject_count > 0) {
		st->inject_count--;
		mdb_txn_abort(w.txn);
		return (st->inject_errno);
	}
	/* The handle is gone after a failed commit too (P14). */
	if ((rc = mdb_txn_commit(w.txn)) == 0) {
		st->last_seq = w.c.next_seq - 1;
		if (w.c.stream_seq != 0)
			st->stream_seq = w.c.stream_seq;
		st->prune_due = 0;
	}
	return (rc);

abort:
	msgpack_sbuffer_destroy(&w.sbuf);
	mdb_txn_abort(w.txn);
	(void)err;
	return (rc);
}

/* Double the map, up to the configured maximum.  Nothing may be open. */
static int
grow_map(struct store *st)
{
	size_t	size = st->map_size * 2;
	int	rc;

	if (st->map_size >= st->max_map_size)
		return (-1);
	if (size > st->max_map_size)
		size = st->max_map_size;
	store_backup_wait(st);
	if ((rc = mdb_env_set_mapsize(st->env, size)) != 0) {
		log_err("mdb_env_set_mapsize %zu: %s", size, mdb_strerror(rc));
		return (-1);
	}
	log_notice("map grown from %zu to %zu bytes", st->map_size, size);
	st->map_size = size;
	st->map_grows++;
	return (0);
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
		else if (rc == EIO && disk_nearly_full(st))
			/* LMDB reports a write cut short by a full disk
			 * as EIO. */
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

/* Grow the map for store_write_try(); -1 (with err) when it cannot. */
int
store_grow(struct store *st, struct aerr *err)
{
	if (grow_map(st) == 0)
		return (0);
	aerr_set(err, AERR_DISK_FULL, "database map is full at its maximum "
	    "of %zu bytes", st->max_map_size);
	return (-1);
}

/*
 * Apply a group of batches and commit it, growing the map as needed, so
 * that no client ever sees MDB_MAP_FULL (P8).  Returns as
 * store_write_try() does, but never STORE_NEED_GROW.
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

/* One index range merged into a query: a cursor between two keys. */
struct scan {
	MDB_dbi		 dbi;		/* an index or its stage */
	MDB_cursor	*cur;
	unsigned char	 lo[ACTOR_KEY_MAX];
	unsigned char	 hi[ACTOR_KEY_MAX];
	size_t		 klen;		/* prefix + start + id */
	MDB_val		 k, v;
};

struct plan {
	struct scan	*scans;
	size_t		 n, cap;
	struct scan	**heap;
	size_t		 nheap;
	int		 desc;
};

static int64_t
sat_add(int64_t a, int64_t b)
{
	if (a == DATE_POS_INF || b == DATE_POS_INF || a > INT64_MAX - b)
		return (DATE_POS_INF);
	return (a + b);
}

static int64_t
sat_sub(int64_t a, int64_t b)
{
	if (a == DATE_NEG_INF || b == DATE_POS_INF || a < INT64_MIN + b)
		return (DATE_NEG_INF);
	return (a - b);
}

/* Add the scan of one (prefix, class) for events reaching [qlo, qhi]. */
static int
plan_add(struct plan *p, MDB_dbi dbi, const char *name, size_t nlen,
    int class, const struct query *q, struct aerr *err)
{
	struct scan	*s;
	int64_t		 reach = skey_class_reach(class);
	int64_t		 lo = sat_sub(q->qlo, reach), hi = sat_add(q->qhi, reach);

	if (p->n == STORE_MAX_SCANS) {
		aerr_set(err, AERR_LIMIT, "query needs more than %d index "
		    "scans; use a longer actor prefix", STORE_MAX_SCANS);
		return (-1);
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->scans = xreallocarray(p->scans, p->cap, sizeof *p->scans);
	}
	s = &p->scans[p->n++];
	memset(s, 0, sizeof *s);
	s->dbi = dbi;
	if (class == SKEY_CLASS_INF) {
		lo = DATE_NEG_INF;
		hi = DATE_POS_INF;
	}
	if (name != NULL) {
		s->klen = skey_actor_key(s->lo, name, nlen, class, lo, 0);
		skey_actor_key(s->hi, name, nlen, class, hi, UINT64_MAX);
	} else {
		s->klen = skey_time_key(s->lo, class, lo, 0);
		skey_time_key(s->hi, class, hi, UINT64_MAX);
	}
	return (0);
}

static int
scan_cmp(const struct scan *a, const struct scan *b)
{
	return (memcmp((const unsigned char *)a->k.mv_data + a->k.mv_size - 16,
	    (const unsigned char *)b->k.mv_data + b->k.mv_size - 16, 16));
}

/* Whether heap entry a comes out before b in the query's order. */
static int
heap_before(const struct plan *p, const struct scan *a, const struct scan *b)
{
	int	c = scan_cmp(a, b);

	return (p->desc ? c > 0 : c < 0);
}

static void
heap_down(struct plan *p, size_t i)
{
	struct scan	*t;
	size_t		 l, best;

	for (;;) {
		best = i;
		l = 2 * i + 1;
		if (l < p->nheap && heap_before(p, p->heap[l], p->heap[best]))
			best = l;
		if (l + 1 < p->nheap &&
		    heap_before(p, p->heap[l + 1], p->heap[best]))
			best = l + 1;
		if (best == i)
			return;
		t = p->heap[i];
		p->heap[i] = p->heap[best];
		p->heap[best] = t;
		i = best;
	}
}

/* Whether the scan's cursor stands inside its range. */
static int
scan_inside(const struct scan *s)
{
	if (s->k.mv_size != s->klen)
		return (0);
	return (memcmp(s->k.mv_data, s->lo, s->klen) >= 0 &&
	    memcmp(s->k.mv_data, s->hi, s->klen) <= 0);
}

static int
scan_step(struct scan *s, int desc)
{
	if (mdb_cursor_get(s->cur, &s->k, &s->v,
	    desc ? MDB_PREV : MDB_NEXT) != 0)
		return (0);
	return (scan_inside(s));
}

/*
 * Place a scan on its first entry in the query's order, after the resume
 * point when there is one.  Returns 1 when it has an entry.
 */
static int
scan_start(struct scan *s, const struct query *q)
{
	unsigned char	seek[ACTOR_KEY_MAX], resume[ACTOR_KEY_MAX];
	size_t		plen = s->klen - 16;
	int		rc;

	memcpy(seek, q->desc ? s->hi : s->lo, s->klen);
	if (q->has_cursor) {
		memcpy(resume, s->lo, plen);
		skey_time(resume + plen, q->cur_start);
		skey_be64(resume + plen + 8, q->cur_id);
		if (q->desc ? memcmp(resume, seek, s->klen) < 0 :
		    memcmp(resume, seek, s->klen) > 0)
			memcpy(seek, resume, s->klen);
	}
	s->k.mv_data = seek;
	s->k.mv_size = s->klen;
	rc = mdb_cursor_get(s->cur, &s->k, &s->v, MDB_SET_RANGE);
	if (q->desc) {
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(s->cur, &s->k, &s->v, MDB_LAST);
		else if (rc == 0 && (s->k.mv_size != s->klen ||
		    memcmp(s->k.mv_data, seek, s->klen) > 0))
			rc = mdb_cursor_get(s->cur, &s->k, &s->v, MDB_PREV);
	}
	if (rc != 0 || !scan_inside(s))
		return (0);
	/* The resume point itself was on the previous page. */
	if (q->has_cursor && s->k.mv_size == s->klen &&
	    memcmp(s->k.mv_data, resume, s->klen) == 0)
		return (scan_step(s, q->desc));
	return (1);
}

static void
plan_free(struct plan *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++) {
		if (p->scans[i].cur != NULL)
			mdb_cursor_close(p->scans[i].cur);
	}
	free(p->scans);
	free(p->heap);
}

/* Where plan_name puts the scans of a name. */
struct plan_dest {
	struct plan		*p;
	MDB_dbi			 index, stage;
	const struct query	*q;
	struct aerr		*err;
};

/* Plan the scans of one actor or type: each class it is used with. */
static int
plan_name(void *arg, const void *name, size_t len, uint64_t mask)
{
	struct plan_dest	*d = arg;
	int			 class, ret = 0;

	for (class = 0; class <= SKEY_CLASS_INF && ret == 0; class++) {
		if ((mask & (UINT64_C(1) << class)) == 0)
			continue;
		ret = plan_add(d->p, d->index, name, len, class, d->q, d->err);
		if (ret == 0)
			ret = plan_add(d->p, d->stage, name, len, class, d->q,
			    d->err);
	}
	return (ret);
}

/*
 * Plan the scans: each class of the time index, of the actor's part of
 * the actor index (or of each actor with its prefix), or with by_type of
 * each type with the query's type prefix in the type index.
 */
static int
plan_build(struct store *st, MDB_txn *txn, const struct query *q,
    int by_type, struct plan *p, struct aerr *err)
{
	struct plan_dest d = { p, st->actor, st->actor_new, q, err };
	uint64_t	 mask;
	int		 class;

	if (q->actor != NULL)
		return (store_names_each(txn, st->actors, q->actor,
		    q->actor_prefix, plan_name, &d, err));
	if (by_type) {
		d.index = st->type;
		d.stage = st->type_new;
		return (store_names_each(txn, st->types, q->type, 1, plan_name,
		    &d, err));
	}
	mask = store_meta_get(txn, st->meta, "classes", 0);
	for (class = 0; class <= SKEY_CLASS_INF; class++) {
		if ((mask & (UINT64_C(1) << class)) &&
		    (plan_add(p, st->time, NULL, 0, class, q, err) ||
		    plan_add(p, st->time_new, NULL, 0, class, q, err)))
			return (-1);
	}
	return (0);
}

/*
 * How a type filter is met: by walking the type index (1) when no actor
 * drives the query and the types hold at most a quarter of the events,
 * since beyond that the time index finds a page's events sooner (and
 * are not so many that their scans would pass STORE_MAX_SCANS); by
 * looking each event up in it (2, tn filled) when there are few types;
 * or by the record (0).
 */
static int
plan_type(struct store *st, MDB_txn *txn, const struct query *q,
    struct type_names *tn, struct aerr *err)
{
	MDB_stat	ms;
	int		rc;

	memset(tn, 0, sizeof *tn);
	if (q->type == NULL)
		return (0);
	if (store_type_names(st, txn, q->type, TYPE_PROBE_MAX, tn, err) != 0)
		return (-1);
	if (q->actor == NULL && q->text == NULL) {
		if ((rc = mdb_stat(txn, st->events, &ms)) != 0) {
			store_type_names_free(tn);
			return (store_error(err, rc, "mdb_stat"));
		}
		if (tn->events <= ms.ms_entries / 4 &&
		    tn->n <= TYPE_WALK_MAX) {
			store_type_names_free(tn);
			return (1);
		}
	}
	if (tn->n <= TYPE_PROBE_MAX)
		return (2);
	store_type_names_free(tn);
	return (0);
}

/*
 * Whether the query asks about more than the indexes say.  The word
 * index drives a text query, so its actor is checked on the record.
 */
static int
needs_record(const struct query *q, int type_known)
{
	return (q->actor_prefix || q->role != NULL ||
	    (q->text != NULL && q->actor != NULL) ||
	    (q->type != NULL && !type_known) || q->tag != NULL ||
	    q->source != NULL);
}

/* The next index entry of a query: from the scans, or the word index. */
static int
plan_next(struct plan *p, struct text_iter *text, int desc, MDB_val *k,
    MDB_val *v, struct aerr *err)
{
	struct scan	*s;

	if (text != NULL)
		return (store_text_next(text, k, v, err));
	if (p->nheap == 0)
		return (0);
	s = p->heap[0];
	*k = s->k;
	*v = s->v;
	if (!scan_step(s, desc))
		p->heap[0] = p->heap[--p->nheap];
	heap_down(p, 0);
	return (1);
}

/*
 * Answer a range or actor query: merge the planned scans in (start, id)
 * order (or take the events holding the words of q->text), drop what the
 * filters reject, and hand at most q->limit hits to cb while the read
 * transaction is still open.
 */
int
store_query(struct store *st, const struct query *q, store_page_cb cb,
    void *arg, struct aerr *err)
{
	struct plan		 p;
	struct store_page	 page;
	struct type_names	 tn;
	struct date_span	 span;
	struct scan		*s;
	struct event		 ev;
	struct text_iter	*text = NULL;
	MDB_txn			*txn;
	MDB_val			 k, v;
	unsigned char		 last[16], idbuf[8];
	size_t			 i;
	int			 rc, m, have_last = 0, ok, ret = -1, by;

	memset(&p, 0, sizeof p);
	memset(&page, 0, sizeof page);
	memset(&tn, 0, sizeof tn);
	p.desc = q->desc;
	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	if ((by = plan_type(st, txn, q, &tn, err)) == -1)
		goto out;
	if (q->text != NULL ? store_text_begin(st, txn, q, &text, err) != 0 :
	    plan_build(st, txn, q, by == 1, &p, err) != 0)
		goto out;
	p.heap = xcalloc(p.n, sizeof *p.heap);
	for (i = 0; i < p.n; i++) {
		s = &p.scans[i];
		if ((rc = mdb_cursor_open(txn, s->dbi, &s->cur)) != 0) {
			store_error(err, rc, "mdb_cursor_open");
			goto out;
		}
		if (scan_start(s, q))
			p.heap[p.nheap++] = s;
	}
	for (i = p.nheap; i-- > 0;)
		heap_down(&p, i);

	page.hits = xcalloc(q->limit + 1, sizeof *page.hits);
	while ((rc = plan_next(&p, text, q->desc, &k, &v, err)) == 1) {

		/* A prefix query meets an event once per matching actor. */
		if (have_last && memcmp(last, (unsigned char *)k.mv_data +
		    k.mv_size - 16, 16) == 0)
			continue;
		memcpy(last, (unsigned char *)k.mv_data + k.mv_size - 16, 16);
		have_last = 1;

		if (skey_get_span(v.mv_data, v.mv_size, skey_get_time(last),
		    &span) != 0)
			continue;
		m = date_match(&span, q->qlo, q->qhi);
		if (m == DATE_MATCH_NONE ||
		    (q->certain && m != DATE_MATCH_CERTAIN) ||
		    (q->within && !date_within(&span, q->qlo, q->qhi)) ||
		    span.prec < q->min_prec)
			continue;

		if (by == 2 && !store_type_has(st, txn, &tn, &span,
		    skey_get_be64(last + 8)))
			continue;
		memcpy(idbuf, last + 8, 8);
		k.mv_size = 8;
		k.mv_data = idbuf;
		if ((rc = mdb_get(txn, st->events, &k, &v)) != 0) {
			log_err("index entry for missing event %llu",
			    (unsigned long long)skey_get_be64(idbuf));
			continue;
		}
		if (needs_record(q, by != 0) ||
		    (text != NULL && store_text_needs_record(text))) {
			memset(&ev, 0, sizeof ev);
			if (store_unpack(v.mv_data, v.mv_size, &ev) != 0)
				continue;
			ok = query_matches(q, &ev, &m) && (text == NULL ||
			    store_text_match(text, ev.title, ev.title ?
			    strlen(ev.title) : 0, ev.text, ev.text ?
			    strlen(ev.text) : 0));
			record_clear(&ev);
			if (!ok)
				continue;
		}
		if (page.nhits == q->limit) {
			page.more = 1;
			break;
		}
		page.hits[page.nhits].data = v.mv_data;
		page.hits[page.nhits].len = v.mv_size;
		page.hits[page.nhits].match = m;
		page.hits[page.nhits].start = skey_get_time(last);
		page.hits[page.nhits].id = skey_get_be64(last + 8);
		page.next_start = page.hits[page.nhits].start;
		page.next_id = page.hits[page.nhits].id;
		page.nhits++;
	}
	if (rc != -1)
		ret = cb(arg, &page);
out:
	store_text_end(text);
	free(page.hits);
	plan_free(&p);
	store_type_names_free(&tn);
	mdb_txn_abort(txn);
	return (ret);
}

/* Hand cb each requested record, or NULL for an id not stored. */
int
store_get(struct store *st, const uint64_t *ids, size_t n, store_get_cb cb,
    void *arg, struct aerr *err)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	unsigned char	 kbuf[8];
	size_t		 i;
	int		 rc, ret = 0;

	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	for (i = 0; i < n && ret == 0; i++) {
		skey_be64(kbuf, ids[i]);
		k.mv_size = 8;
		k.mv_data = kbuf;
		rc = mdb_get(txn, st->events, &k, &v);
		if (rc == 0)
			ret = cb(arg, i, v.mv_data, v.mv_size);
		else if (rc == MDB_NOTFOUND)
			ret = cb(arg, i, NULL, 0);
		else
			ret = store_error(err, rc, "mdb_get");
	}
	mdb_txn_abort(txn);
	return (ret);
}

int
store_get_by_key(struct store *st, const char *source, const char *key,
    store_get_cb cb, void *arg, struct aerr *err)
{
	unsigned char	 skey[SOURCE_KEY_MAX];
	MDB_txn		*txn;
	MDB_val		 k, v;
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
		k = v;
		rc = mdb_get(txn, st->events, &k, &v);
	}
	if (rc == MDB_NOTFOUND) {
		aerr_set(err, AERR_NOT_FOUND, "no event with that source "
		    "and key");
		ret = -1;
	} else if (rc != 0)
		ret = store_error(err, rc, "mdb_get");
	else
		ret = cb(arg, 0, v.mv_data, v.mv_size);
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

int
store_stats(struct store *st, struct store_stats *out, struct aerr *err)
{
	MDB_txn		*txn;
	MDB_stat	 ms;
	MDB_envinfo	 info;

	memset(out, 0, sizeof *out);
	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	if (mdb_stat(txn, st->events, &ms) == 0)
		out->events = ms.ms_entries;
	if (mdb_stat(txn, st->actors, &ms) == 0)
		out->actors = ms.ms_entries;
	store_text_sizes(st, txn, &out->records_bytes, &out->text_bytes);
	out->last_seq = store_meta_get(txn, st->meta, "next_seq", 1) - 1;
	mdb_txn_abort(txn);
	mdb_env_info(st->env, &info);
	mdb_env_stat(st->env, &ms);
	out->db_bytes = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	out->map_bytes = info.me_mapsize;
	out->map_grows = st->map_grows;
	return (0);
}

/* The sequence number of the last change committed. */
uint64_t
store_last_seq(const struct store *st)
{
	return (st->last_seq);
}

/* A replica's place in its stream: the last message applied, or 0. */
uint64_t
store_stream_seq(const struct store *st)
{
	return (st->stream_seq);
}

const char *
store_uuid(const struct store *st)
{
	return (st->uuid);
}

/* Ask the next write to drop deletions past the retention time. */
void
store_prune_soon(struct store *st)
{
	st->prune_due = 1;
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
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, v, ek, ev;
	unsigned char		 kbuf[8];
	uint64_t		 horizon;
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
	if ((rc = mdb_cursor_open(txn, st->changes, &cur)) != 0) {
		mdb_txn_abort(txn);
		return (store_error(err, rc, "mdb_cursor_open"));
	}
	skey_be64(kbuf, since == UINT64_MAX ? since : since + 1);
	k.mv_size = 8;
	k.mv_data = kbuf;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	    rc == 0 && ret == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || v.mv_size < 9)
			continue;
		if (n == limit) {
			*more = 1;
			break;
		}
		memset(&ch, 0, sizeof ch);
		ch.seq = skey_get_be64(k.mv_data);
		ch.id = skey_get_be64((unsigned char *)v.mv_data + 1);
		ch.op = ((unsigned char *)v.mv_data)[0] == CHANGE_DELETE ?
		    CHANGE_DELETE : CHANGE_PUT;
		if (ch.op == CHANGE_PUT) {
			ek.mv_size = 8;
			ek.mv_data = (unsigned char *)v.mv_data + 1;
			if (mdb_get(txn, st->events, &ek, &ev) != 0)
				continue;
			ch.data = ev.mv_data;
			ch.len = ev.mv_size;
		}
		if ((ret = cb(arg, &ch)) == STORE_PAGE_FULL) {
			ret = 0;
			*more = 1;
			break;
		}
		*next = ch.seq;
		n++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (ret);
}

/* LMDB's version, for the start-up log line. */
const char *
store_lmdb_version(void)
{
	return (mdb_version(NULL, NULL, NULL));
}
