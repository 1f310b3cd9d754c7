/*
 * The store's environment: opening it and its databases, the format
 * check, the key order, transactions, map growth and the meta counters.
 * The write path is in store-write.c, the query planner in
 * store-query.c, reads by id, key and seq in store-read.c, aggregations
 * in store-agg.c; they and the other store*.c files are the only ones
 * that include <lmdb.h> (through store-int.h).
 *
 * Databases in one environment:
 *	events	  start id -> packed record of a short event (the wire
 *		  encoding, server fields set, top-level attrs names by id:
 *		  store-attrs.c), then the seq of its change in logblocks
 *		  (8 bytes): records lie in time order (store-rec.c)
 *	events.18 to events.63  start id -> the records of the long events
 *		  of that class, as events (format 11 and before kept them
 *		  in events, the class first in their keys)
 *	idblocks  id / 64 -> the classes and starts of the records of
 *		  those 64 ids (store-rec.c; format 8 and before kept ids,
 *		  an entry an id)
 *	timeblocks class start id -> block of the spans of the events of
 *		  that class, the first that one (store-post.c, as actor's;
 *		  format 10 and before kept time, an entry an event)
 *	time_new  class start id -> span, staged	(store_sweep)
 *	actor	  name NUL class start id -> block of postings, the first
 *		  that one (store-post.c)
 *	actor_new name NUL class start id -> span, staged
 *	actors	  name -> event count, mask of classes used
 *	type	  type NUL class start id -> block	(store-type.c)
 *	type_new  type NUL class start id -> span, staged
 *	types	  type -> event count, mask of classes used
 *	text	  word NUL class start id -> block of postings (store-text.c)
 *	text_tail word NUL class -> the list's last block, still growing
 *	text_new  batch -> start id class words, ...	(the stage)
 *	words	  word -> postings, mask of classes used
 *	days	  day of a start -> events starting that day
 *	keys	  source NUL key -> id
 *	logblocks seq / 64 -> the changes of those 64 seqs: op and id (one
 *		  per live id or delete), or op, kind and key of the
 *		  dictionary's (store-log.c; format 9 and before kept
 *		  changes, an entry a seq)
 *	tombs	  seq -> time, id of each delete	(prune_tombs); time alone
 *		  for the dictionary's
 *	meta	  format, uuid, next_id, next_seq, classes (and those of
 *		  them with fuzzy starts or spans not whole days, to
 *		  spanned_to: store_spans_open), typed_to, postings,
 *		  texted_to, text_tails, text_fold (words.h), no_empty,
 *		  stream_seq (a replica's), horizon, upgrading (while
 *		  records move to format 6 and after)
 *	dict, dictch the actor dictionary	(store-dict.c)
 *	attr_ids, attr_names  attribute name <-> id	(store-attrs.c)
 *
 * Invariants: every index changes in the same write transaction as its
 * record; exactly one function (write_once) opens write transactions; no
 * read transaction outlives the call that opened it, so the map can be
 * resized between calls (P8, P9, P10).
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <endian.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <lmdb.h>

#include "annalsd.h"
#include "store-int.h"

/*
 * rc, or ENOSPC for an EIO of a write into dir once its filesystem has
 * less than STORE_FULL_SLACK left: LMDB reports a write that the
 * filesystem cut short as EIO (mdb_page_flush), which is how a full
 * disk shows when part of a commit's pages still fit.
 */
int
store_disk_full(const char *dir, int rc)
{
	struct statvfs	vfs;

	if (rc != EIO || statvfs(dir, &vfs) == -1)
		return (rc);
	return ((uint64_t)vfs.f_bavail * vfs.f_frsize < STORE_FULL_SLACK ?
	    ENOSPC : rc);
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

int
store_meta_put(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t value)
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

static int	grow_map(struct store *);
static void	store_free(struct store *);

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
 * The pid holding the flock(2) on fd's file, from /proc/locks (0 when it
 * cannot be told).  Not from the file: a holder that could only read it
 * (store_lock_dir) left another's pid there.
 */
static long
store_lock_holder(int fd)
{
	struct stat	 sb;
	char		 line[256], kind[16];
	unsigned	 maj, min;
	unsigned long	 ino;
	long		 pid, found = 0;
	FILE		*f;

	if (fstat(fd, &sb) == -1 || (f = fopen("/proc/locks", "re")) == NULL)
		return (0);
	while (found == 0 && fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%lu", kind, &pid,
		    &maj, &min, &ino) == 5 && strcmp(kind, "FLOCK") == 0 &&
		    maj == major(sb.st_dev) && min == minor(sb.st_dev) &&
		    ino == (unsigned long)sb.st_ino)
			found = pid;
	}
	fclose(f);
	return (found);
}

/*
 * Take the data directory for this process alone: two daemons on one
 * directory would each trust what it keeps in memory (counters, the
 * staged words, the names of attrs) over what the other wrote, and
 * annalsd --compact replaces data.mdb.  LMDB itself lets processes
 * share an environment, so the lock is ours: flock(2) on annalsd.lock,
 * let go when the process ends however it ends.  Not on lock.mdb:
 * closing any other descriptor of that file would drop LMDB's own POSIX
 * locks on it.  The file holds the holder's pid for people to read,
 * and anyone may: one this process may not write (a directory handed to
 * another user with the files it knew of) is locked all the same, read
 * only.
 */
static int
store_lock_dir(const char *path, struct aerr *err)
{
	char	file[4200], buf[32];
	ssize_t	n;
	long	pid;
	int	fd, writable = 1;

	snprintf(file, sizeof file, "%s/annalsd.lock", path);
	if ((fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1 &&
	    errno == EACCES) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		writable = 0;
	}
	if (fd == -1) {
		aerr_set(err, AERR_INTERNAL, "%s: %s", file, strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			aerr_set(err, AERR_INTERNAL, "flock %s: %s", file,
			    strerror(errno));
			close(fd);
			return (-1);
		}
		if ((pid = store_lock_holder(fd)) > 0)
			snprintf(buf, sizeof buf, " (pid %ld)", pid);
		else
			buf[0] = '\0';
		aerr_set(err, AERR_INVALID, "data directory %s is in use by "
		    "another annalsd%s: stop it first, or give another --data",
		    path, buf);
		close(fd);
		return (-1);
	}
	if (writable) {
		n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) == -1 ||
		    pwrite(fd, buf, (size_t)n, 0) != n) {
			aerr_set(err, AERR_INTERNAL, "%s: %s", file,
			    strerror(errno));
			close(fd);
			return (-1);
		}
	}
	return (fd);
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
	const MDB_dbi	dbis[] = { st->events, st->idblocks, st->timeblocks,
			    st->actor, st->actors, st->keys, st->logblocks,
			    st->meta,
			    st->tombs, st->time_new, st->actor_new,
			    st->days, st->type, st->type_new, st->types,
			    st->text, st->text_tail, st->text_new,
			    st->words, st->dict, st->dictch, st->attr_ids,
			    st->attr_names };
	size_t		i;

	for (i = 0; i < sizeof dbis / sizeof dbis[0]; i++)
		mdb_set_compare(txn, dbis[i], store_cmp);
	for (i = 0; i < REC_LONG_CLASSES; i++)
		mdb_set_compare(txn, st->longs[i], store_cmp);
}

/*
 * Rewrite the records of cur's database that hold empty strings, each
 * packed again in sbuf, counting them in *fixed: MDB_NOTFOUND once all
 * are, or an LMDB error.
 */
static int
store_drop_empty_db(struct store *st, MDB_txn *txn, MDB_cursor *cur,
    msgpack_sbuffer *sbuf, size_t *fixed)
{
	msgpack_packer	 pk;
	struct event	 ev;
	MDB_val		 k, v;
	unsigned char	 seq[STORE_SEQ_LEN];
	int		 rc;

	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		skey_be64(seq, store_rec_split(&v));
		if (store_unpack(st, txn, v.mv_data, v.mv_size, &ev) != 0)
			continue;	/* store-check's business */
		msgpack_sbuffer_clear(sbuf);
		msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
		record_pack(&pk, &ev);
		record_clear(&ev);
		if (sbuf->size == v.mv_size &&
		    memcmp(sbuf->data, v.mv_data, v.mv_size) == 0)
			continue;
		msgpack_sbuffer_write(sbuf, (const char *)seq, STORE_SEQ_LEN);
		v.mv_size = sbuf->size;
		v.mv_data = sbuf->data;
		if ((rc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT)) != 0)
			return (rc);
		(*fixed)++;
	}
	return (rc);
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
	MDB_cursor	*cur;
	size_t		 fixed = 0;
	int		 i, rc = MDB_NOTFOUND;

	if (store_meta_get(txn, st->meta, "no_empty", 0) != 0)
		return (0);
	msgpack_sbuffer_init(&sbuf);
	for (i = 0; i < REC_DBS && rc == MDB_NOTFOUND; i++) {
		if ((rc = mdb_cursor_open(txn, store_rec_db(st, i),
		    &cur)) != 0)
			break;
		rc = store_drop_empty_db(st, txn, cur, &sbuf, &fixed);
		mdb_cursor_close(cur);
	}
	msgpack_sbuffer_destroy(&sbuf);
	if (rc != MDB_NOTFOUND)
		return (rc);
	if (fixed > 0)
		log_notice("dropped empty strings from %zu stored records",
		    fixed);
	return (store_meta_put(txn, st->meta, "no_empty", 1));
}

/*
 * Format 2 to 4, in the transaction that opens the store: each record
 * gets the seq of its change from chid, which is then dropped (19 bytes
 * an event at 1M).  A record chid does not know gets seq 0, which
 * store_check reports.  store_upgrade_records goes on from there.
 */
static int
store_upgrade_2(struct store *st, MDB_txn *txn, const char *path)
{
	msgpack_sbuffer	 sbuf;
	MDB_cursor	*cur;
	MDB_dbi		 chid;
	MDB_val		 k, v, cv;
	unsigned char	 seq[STORE_SEQ_LEN], idbuf[8];
	size_t		 n = 0;
	int		 rc, chid_rc;

	if ((chid_rc = mdb_dbi_open(txn, "chid", 0, &chid)) != 0 &&
	    chid_rc != MDB_NOTFOUND)
		return (chid_rc);
	if (chid_rc == 0)
		mdb_set_compare(txn, chid, store_cmp);
	if ((rc = mdb_cursor_open(txn, st->events, &cur)) != 0)
		return (rc);
	msgpack_sbuffer_init(&sbuf);
	/*
	 * A put that makes a record longer may split its page, so the
	 * cursor is placed again after each one, past the id just done.
	 */
	k.mv_size = sizeof idbuf;
	k.mv_data = idbuf;
	memset(idbuf, 0, sizeof idbuf);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) {
		if (k.mv_size != sizeof idbuf) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(idbuf, k.mv_data, sizeof idbuf);
		memset(seq, 0, sizeof seq);
		if (chid_rc == 0 && mdb_get(txn, chid, &k, &cv) == 0 &&
		    cv.mv_size == STORE_SEQ_LEN)
			memcpy(seq, cv.mv_data, STORE_SEQ_LEN);
		msgpack_sbuffer_clear(&sbuf);
		msgpack_sbuffer_write(&sbuf, v.mv_data, v.mv_size);
		msgpack_sbuffer_write(&sbuf, (const char *)seq, sizeof seq);
		k.mv_data = idbuf;
		v.mv_size = sbuf.size;
		v.mv_data = sbuf.data;
		if ((rc = mdb_put(txn, st->events, &k, &v, 0)) != 0)
			break;
		n++;
		skey_be64(idbuf, skey_get_be64(idbuf) + 1);
		if (skey_get_be64(idbuf) == 0) {
			rc = MDB_NOTFOUND;
			break;
		}
	}
	mdb_cursor_close(cur);
	msgpack_sbuffer_destroy(&sbuf);
	if (rc != MDB_NOTFOUND)
		return (rc);
	if ((chid_rc == 0 && (rc = mdb_drop(txn, chid, 1)) != 0) ||
	    (rc = store_meta_put(txn, st->meta, "format", 4)) != 0)
		return (rc);
	log_notice("%s: gave %zu records the seq of their change", path, n);
	return (0);
}

/*
 * Refuse a data directory whose index encodings are not ours: reading it
 * would answer wrongly, not fail.  Directories written before the format
 * was recorded hold format 1 (49-byte spans in every index entry).
 * Those of formats 2 to 11 are upgraded in place: format 2 to 4 here, in
 * the transaction that opens the store (format 3 records name no attrs
 * by id, which format 4 reads the same); a store of 2 to 5 is then
 * marked STORE_FORMAT and "upgrading", and *upgrade asks for
 * store_upgrade_records, as it does when an earlier upgrade was cut
 * short.
 */
static int
store_format(struct store *st, MDB_txn *txn, const char *path, int *upgrade,
    struct aerr *err)
{
	MDB_stat	ms;
	uint64_t	format;
	int		rc;

	*upgrade = 0;
	format = store_meta_get(txn, st->meta, "format", 0);
	if (format == 0) {
		if ((rc = mdb_stat(txn, st->events, &ms)) != 0)
			return (store_error(err, rc, "mdb_stat"));
		if (ms.ms_entries == 0) {
			if ((rc = store_meta_put(txn, st->meta, "format",
			    STORE_FORMAT)) != 0)
				return (store_error(err, rc, "mdb_put"));
			return (0);
		}
		format = 1;
	}
	/* An upgrade cut short (store_upgrade_records) goes on. */
	if (format == STORE_FORMAT) {
		if ((*upgrade = store_meta_get(txn, st->meta, "upgrading",
		    0) != 0))
			log_notice("%s: going on with the upgrade to format "
			    "%d, which was cut short", path, STORE_FORMAT);
		return (0);
	}
	if (format < 2 || format > STORE_FORMAT) {
		aerr_set(err, AERR_INTERNAL, "%s holds store format %llu and "
		    "this annalsd reads format %d: export it with the annalsd "
		    "that wrote it (annals export) and import it here", path,
		    (unsigned long long)format, STORE_FORMAT);
		return (-1);
	}
	log_notice("%s: upgrading the store from format %llu to %d", path,
	    (unsigned long long)format, STORE_FORMAT);
	/*
	 * Format 7 changed the actor and type indexes alone, which
	 * store_post_open builds again from the records; records that a
	 * format 6 annalsd left half moved go on moving.  Format 8 reads
	 * the maps of format 7 as they are.  Format 9's blocks of ids,
	 * format 10's of changes, format 11's of the time index and format
	 * 12's databases of long records are made by store_open_moves once
	 * this transaction commits.
	 */
	if (format >= 6) {
		if ((rc = store_meta_put(txn, st->meta, "format",
		    STORE_FORMAT)) != 0)
			return (store_error(err, rc, "mdb_put"));
		*upgrade = store_meta_get(txn, st->meta, "upgrading", 0) != 0;
		return (0);
	}
	if (format == 2 && (rc = store_upgrade_2(st, txn, path)) != 0)
		return (store_error(err, rc, "upgrading the store"));
	/*
	 * Marked STORE_FORMAT before a record moves, with "upgrading" until
	 * the last has: an annalsd of an older format refuses the store
	 * from now on rather than take a half-moved one for its own.
	 */
	if ((rc = store_meta_put(txn, st->meta, "format", STORE_FORMAT)) !=
	    0 || (rc = store_meta_put(txn, st->meta, "upgrading", 1)) != 0)
		return (store_error(err, rc, "mdb_put"));
	*upgrade = 1;
	return (0);
}

/*
 * The databases of the environment (the head comment says what each
 * holds): every one is opened, created if missing, when the store is,
 * and stats tells the size of each.
 */
#define STORE_DB(name)	{ #name, offsetof(struct store, name) }
static const struct store_db {
	const char	*name;
	size_t		 off;		/* of its handle in struct store */
} store_dbs[] = {
	STORE_DB(events), STORE_DB(idblocks), STORE_DB(timeblocks),
	STORE_DB(actor), STORE_DB(actors), STORE_DB(keys), STORE_DB(logblocks),
	STORE_DB(meta),
	STORE_DB(tombs), STORE_DB(time_new), STORE_DB(actor_new),
	STORE_DB(days), STORE_DB(type), STORE_DB(type_new), STORE_DB(types),
	STORE_DB(text), STORE_DB(text_tail), STORE_DB(text_new),
	STORE_DB(words), STORE_DB(dict), STORE_DB(dictch), STORE_DB(attr_ids),
	STORE_DB(attr_names),
};
_Static_assert(sizeof store_dbs / sizeof store_dbs[0] + REC_LONG_CLASSES <=
    STORE_DBS_MAX,
    "struct store_stats has room for every database");

static MDB_dbi *
store_db_handle(struct store *st, const struct store_db *db)
{
	return ((MDB_dbi *)(void *)((char *)st + db->off));
}

static int
store_dbs_open(struct store *st, MDB_txn *txn)
{
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof store_dbs / sizeof store_dbs[0]; i++)
		if ((rc = mdb_dbi_open(txn, store_dbs[i].name, MDB_CREATE,
		    store_db_handle(st, &store_dbs[i]))) != 0)
			return (rc);
	return (store_rec_open(st, txn));
}

/*
 * The databases that stores of older formats kept an entry a key in,
 * moved into blocks when the store is opened: what each move is, and
 * what its notice says moved.
 */
static const struct store_move {
	int		(*move)(MDB_txn *, struct store *, size_t *);
	const char	*what;		/* "moved N what" */
} store_moves[] = {
	{ store_ids_to_blocks,					/* 8 */
	    "places of records into blocks of 64 ids" },
	{ store_log_from_changes,				/* 9 */
	    "changes of the log into blocks of 64 seqs" },
	{ store_time_to_blocks,					/* 10 */
	    "entries of the time index into blocks of postings" },
	{ store_longs_to_classes,				/* 11 */
	    "long events' records into the databases of their classes" },
};

/*
 * Each move, in a transaction of its own, which drops the database it
 * moved: a store that has one still has all of its entries, even when
 * an upgrade was cut short, and the next open moves them again.  One
 * that moved finds nothing to move when this runs again after the map
 * grew.  An LMDB error (MDB_MAP_FULL: grow and call again) or 0.
 */
static int
store_open_moves(struct store *st)
{
	const struct store_move	*m;
	MDB_txn			*txn;
	size_t			 i, n;
	int			 rc;

	for (i = 0; i < sizeof store_moves / sizeof store_moves[0]; i++) {
		m = &store_moves[i];
		if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
			return (rc);
		if ((rc = m->move(txn, st, &n)) != 0) {
			mdb_txn_abort(txn);
			return (rc);
		}
		if ((rc = mdb_txn_commit(txn)) != 0)
			return (rc);
		if (n > 0)
			log_notice("%s: moved %zu %s (store format %d)",
			    st->path, n, m->what, STORE_FORMAT);
	}
	return (0);
}

/*
 * The part of opening that may build indexes, in a transaction of its
 * own; an LMDB error (MDB_MAP_FULL: grow and call again) or 0.
 */
static int
store_open_indexes(struct store *st)
{
	MDB_txn	*txn;
	int	 rc;

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return (rc);
	/* Blocks built from the records hold every type: typed_to. */
	if ((rc = store_uuid_load(st, txn)) == 0 &&
	    (rc = store_drop_empty(st, txn)) == 0 &&
	    ((rc = store_post_open(st, txn)) == 1 ||
	    (rc == 0 && (rc = store_type_open(st, txn)) == 1)))
		rc = store_meta_put(txn, st->meta, "typed_to",
		    store_meta_get(txn, st->meta, "next_seq", 1));
	if (rc == 0 && (rc = store_spans_open(st, txn)) == 1)
		rc = store_meta_put(txn, st->meta, "spanned_to",
		    store_meta_get(txn, st->meta, "next_seq", 1));
	if (rc == 0 && (rc = store_text_open(st, txn)) == 1)
		rc = store_meta_put(txn, st->meta, "texted_to",
		    store_meta_get(txn, st->meta, "next_seq", 1));
	if (rc != 0) {
		mdb_txn_abort(txn);
		return (rc);
	}
	st->last_seq = store_meta_get(txn, st->meta, "next_seq", 1) - 1;
	st->stream_seq = store_meta_get(txn, st->meta, "stream_seq", 0);
	return (mdb_txn_commit(txn));
}

/*
 * Run step, a part of opening in a transaction of its own, again after
 * growing the map each time it finds the map full: 0, an LMDB error, or
 * -1 with err when the map may grow no more.
 */
static int
store_open_step(struct store *st, int (*step)(struct store *),
    const char *what, struct aerr *err)
{
	int	rc;

	while ((rc = step(st)) == MDB_MAP_FULL) {
		if (grow_map(st) != 0) {
			aerr_set(err, AERR_DISK_FULL, "%s: %s needs a map "
			    "larger than its maximum of %zu bytes", st->path,
			    what, st->max_map_size);
			return (-1);
		}
	}
	return (rc);
}

/* Create st->env and open it on st->path with a map of map_size. */
static int
env_open(struct store *st, size_t map_size)
{
	int	rc;

	if ((rc = mdb_env_create(&st->env)) != 0) {
		st->env = NULL;
		return (rc);
	}
	mdb_env_set_maxdbs(st->env, STORE_DBS_MAX);
	mdb_env_set_maxreaders(st->env, 1024);
	mdb_env_set_mapsize(st->env, map_size);
	/* NOTLS: a read txn is not tied to a thread (P12). */
	return (mdb_env_open(st->env, st->path, MDB_NOTLS, 0640));
}

/* Open the environment in path, creating it and its databases. */
struct store *
store_open(const struct store_config *cfg, struct aerr *err)
{
	struct store	*st;
	MDB_txn		*txn;
	MDB_envinfo	 info;
	int		 rc, dead, upgrade;

	if (mkdir_parents(cfg->path) != 0) {
		aerr_set(err, AERR_INTERNAL, "mkdir %s: %s", cfg->path,
		    strerror(errno));
		return (NULL);
	}
	st = xcalloc(1, sizeof *st);
	st->lock_fd = -1;
	if (cfg->exclusive &&
	    (st->lock_fd = store_lock_dir(cfg->path, err)) == -1) {
		free(st);
		return (NULL);
	}
	st->max_map_size = cfg->max_map_size;
	st->stage_time = cfg->stage_entries != 0 ? cfg->stage_entries :
	    STAGE_TIME_ENTRIES;
	/* Events have two to three actors: stage as many events. */
	st->stage_actor = st->stage_time * 3;
	/*
	 * Staged events (store-text.c): a query reads them all, at tens of
	 * ns an event, and each sweep rewrites the tails of every word it
	 * meets (and in a random order most of the word index), so that
	 * fewer, larger sweeps are worth a stage read of about 1 ms.
	 */
	st->stage_text = cfg->stage_text != 0 ? cfg->stage_text :
	    st->stage_time + 1;
	st->no_text = cfg->no_text_index;
	st->text_mirror_check = cfg->text_mirror_check;
	st->path = xstrdup(cfg->path);
	if ((rc = env_open(st, cfg->map_size)) != 0)
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
	if ((rc = store_dbs_open(st, txn)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	store_set_compare(st, txn);
	if (store_format(st, txn, cfg->path, &upgrade, err) != 0) {
		mdb_txn_abort(txn);
		store_free(st);
		return (NULL);
	}
	if ((rc = store_attrs_load(st, txn)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	/*
	 * An upgrade's batches commit as they go, and indexes built below
	 * may need the map grown: what is before them, first.
	 */
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	if ((rc = store_open_step(st, store_open_moves, "moving its older "
	    "databases into blocks", err)) == -1) {
		store_free(st);
		return (NULL);
	}
	if (rc != 0)
		goto fail;
	if (upgrade && store_upgrade_records(st, cfg->path, err) != 0) {
		store_free(st);
		return (NULL);
	}
	/*
	 * A word index built again (new folding rules) needs room for a
	 * whole new index beside the old one's pages, which are free only
	 * once it commits: grow the map and build again, as a write would.
	 */
	if ((rc = store_open_step(st, store_open_indexes, "building the "
	    "indexes", err)) == -1) {
		store_free(st);
		return (NULL);
	}
	if (rc != 0)
		goto fail;
	st->keep_ms = cfg->changes_keep_ms;
	return (st);

fail:
	aerr_set(err, rc == ENOSPC ? AERR_DISK_FULL : AERR_INTERNAL,
	    "mdb_env_open %s: %s", cfg->path, mdb_strerror(rc));
	store_free(st);
	return (NULL);
}

/* Close what store_open() opened, in any state it left st. */
static void
store_free(struct store *st)
{
	if (st->env != NULL)
		mdb_env_close(st->env);
	store_attrs_close(st);
	store_text_close(st);
	/* The directory is let go only once the environment is closed. */
	if (st->lock_fd != -1)
		close(st->lock_fd);
	free(st->path);
	free(st);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	/* A copy still running must end before the environment does. */
	store_copy_abandon(st);
	store_free(st);
}

/*
 * Open st's environment again after mdb_env_close(), on the file now in
 * st->path, with the same handles (opened in the same order).  What
 * opened a moment ago failing to open again (no memory, no descriptors)
 * leaves nothing to serve from: stop, saying why.  Everything
 * acknowledged is committed.
 */
void
store_env_reopen(struct store *st, const char *why)
{
	MDB_txn	*txn;
	int	 rc;

	if ((rc = env_open(st, st->map_size)) != 0 ||
	    (rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		fatalx("opening %s again %s: %s", st->path, why,
		    mdb_strerror(rc));
	if ((rc = store_dbs_open(st, txn)) != 0) {
		mdb_txn_abort(txn);
		fatalx("opening the databases of %s again: %s", st->path,
		    mdb_strerror(rc));
	}
	store_set_compare(st, txn);
	if ((rc = mdb_txn_commit(txn)) != 0)
		fatalx("opening the databases of %s again: %s", st->path,
		    mdb_strerror(rc));
}

/*
 * Give back the memory LMDB keeps for write transactions.  A write
 * transaction takes a buffer for each page it changes, and LMDB keeps
 * every buffer for the next ones until the environment closes: after a
 * commit that changed 180 MB of pages (the word sweep of a load in
 * random order touches most of the word index), the process holds those
 * 180 MB for good.  So close the environment and open it again.  Only
 * when no transaction is open in the process, as for map growth (P9):
 * the caller pauses the readers, and no backup runs.  The database
 * handles come back the same, opened in the same order.
 */
void
store_release(struct store *st)
{
	mdb_env_close(st->env);
	store_env_reopen(st, "to give back memory");
	st->write_peak = 0;
	st->releases++;
#ifdef __GLIBC__
	/* The buffers went back to malloc; from there to the system. */
	malloc_trim(0);
#endif
}

/*
 * Where LMDB mapped data.mdb, and how long the mapping is, from
 * /proc/self/maps (mdb_env_info's address is only that of MDB_FIXEDMAP),
 * found by the file's device and inode; NULL when it cannot be told.
 */
static char *
data_map(struct store *st, size_t *len)
{
	struct stat		 sb;
	FILE			*f;
	char			 line[512];
	unsigned long		 lo, hi, ino;
	unsigned		 maj, mnr;
	char			*map = NULL;
	mdb_filehandle_t	 fd;

	if (mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) != 0 ||
	    (f = fopen("/proc/self/maps", "re")) == NULL)
		return (NULL);
	while (map == NULL && fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%lx-%lx %*s %*s %x:%x %lu", &lo, &hi, &maj,
		    &mnr, &ino) == 5 && ino == (unsigned long)sb.st_ino &&
		    maj == major(sb.st_dev) && mnr == minor(sb.st_dev)) {
			map = (char *)lo;
			*len = hi - lo;
		}
	}
	fclose(f);
	return (map);
}

/*
 * Map again the pages of the store that the page cache holds, after
 * store_release(): the new map starts empty, and queries would each
 * fault back in the pages they read (on a 1M store in random order,
 * range pages took 170 us of daemon CPU instead of 158 for a while).
 * mincore() tells which are cached, so nothing is read from disk.  Runs
 * as a reader does, the environment open and not growing.
 */
void
store_warm(struct store *st)
{
	MDB_envinfo	 info;
	MDB_stat	 ms;
	unsigned char	*vec;
	char		*map;
	size_t		 page, len, n, i, end;

	if (mdb_env_info(st->env, &info) != 0 ||
	    mdb_env_stat(st->env, &ms) != 0 ||
	    (map = data_map(st, &len)) == NULL)
		return;
	page = (size_t)sysconf(_SC_PAGESIZE);
	if (len > (size_t)(info.me_last_pgno + 1) * ms.ms_psize)
		len = (size_t)(info.me_last_pgno + 1) * ms.ms_psize;
	n = (len + page - 1) / page;
	vec = xmalloc(n);
	if (mincore(map, len, vec) == 0) {
		for (i = 0; i < n; i = end + 1) {
			for (end = i; end < n && (vec[end] & 1); end++)
				;
			if (end > i && madvise(map + i * page, (end - i) *
			    page, MADV_POPULATE_READ) != 0) {
				/* Before Linux 5.14: a read maps a page. */
				for (; i < end; i++)
					(void)*(volatile char *)(map +
					    i * page);
			}
		}
	}
	free(vec);
}

/*
 * The bytes the largest commit since the last release wrote, which is
 * about what LMDB keeps for the next write transactions; 0 when the
 * system does not say (store-write.c).
 */
uint64_t
store_write_memory(const struct store *st)
{
	return (st->write_peak);
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

/*
 * Cut the seq of its change off a stored record (v then holds the record,
 * whose attrs store_rec_wire() names) and return it; 0 for a record too
 * short to have one.
 */
uint64_t
store_rec_split(MDB_val *v)
{
	if (v->mv_size < STORE_SEQ_LEN)
		return (0);
	v->mv_size -= STORE_SEQ_LEN;
	return (skey_get_be64((const unsigned char *)v->mv_data +
	    v->mv_size));
}

/*
 * Decode a stored record (of txn), with the server fields record_decode
 * skips and its attrs named.
 */
int
store_unpack(struct store *st, MDB_txn *txn, const void *data, size_t len,
    struct event *ev)
{
	msgpack_unpacked	 u;
	msgpack_sbuffer		 wire;
	struct aerr		 err;
	uint64_t		 v;
	int			 rc = -1;

	msgpack_unpacked_init(&u);
	msgpack_sbuffer_init(&wire);
	if (store_rec_expand(st, txn, data, len, &wire) == 1) {
		data = wire.data;
		len = wire.size;
	}
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
	msgpack_sbuffer_destroy(&wire);
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
 * The pages of data.mdb that LMDB keeps free for later writes: its free
 * list is database 0, each entry the pages one transaction freed, as a
 * list whose first word is their count.
 */
static uint64_t
store_free_pages(MDB_txn *txn)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	uint64_t	 n = 0;
	size_t		 count;

	if (mdb_cursor_open(txn, 0, &cur) != 0)
		return (0);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		if (v.mv_size < sizeof count)
			continue;
		memcpy(&count, v.mv_data, sizeof count);
		n += count;
	}
	mdb_cursor_close(cur);
	return (n);
}

int
store_stats(struct store *st, struct store_stats *out, struct aerr *err)
{
	MDB_txn		*txn;
	MDB_stat	 ms;
	MDB_envinfo	 info;
	struct store_db_size *db;
	size_t		 i;

	memset(out, 0, sizeof *out);
	if (store_read_begin(st, &txn, err) != 0)
		return (-1);
	store_rec_count(txn, st, UINT64_MAX, &out->events);
	if (mdb_stat(txn, st->actors, &ms) == 0)
		out->actors = ms.ms_entries;
	store_text_sizes(st, txn, &out->records_bytes, &out->text_bytes);
	for (i = 0; i < sizeof store_dbs / sizeof store_dbs[0]; i++) {
		if (mdb_stat(txn, *store_db_handle(st, &store_dbs[i]),
		    &ms) != 0)
			continue;
		db = &out->dbs[out->ndbs++];
		db->name = store_dbs[i].name;
		db->entries = ms.ms_entries;
		db->bytes = (uint64_t)ms.ms_psize * (ms.ms_branch_pages +
		    ms.ms_leaf_pages + ms.ms_overflow_pages);
	}
	/* Of the long records' databases, those that hold any. */
	for (i = 0; i < REC_LONG_CLASSES; i++) {
		if (mdb_stat(txn, st->longs[i], &ms) != 0 ||
		    ms.ms_entries == 0)
			continue;
		db = &out->dbs[out->ndbs++];
		db->name = st->long_names[i];
		db->entries = ms.ms_entries;
		db->bytes = (uint64_t)ms.ms_psize * (ms.ms_branch_pages +
		    ms.ms_leaf_pages + ms.ms_overflow_pages);
	}
	out->last_seq = store_meta_get(txn, st->meta, "next_seq", 1) - 1;
	mdb_env_stat(st->env, &ms);
	out->free_bytes = store_free_pages(txn) * ms.ms_psize;
	mdb_txn_abort(txn);
	mdb_env_info(st->env, &info);
	out->db_bytes = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	out->map_bytes = info.me_mapsize;
	out->map_grows = st->map_grows;
	out->write_memory = st->write_peak;
	out->releases = st->releases;
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

/* LMDB's version, for the start-up log line. */
const char *
store_lmdb_version(void)
{
	return (mdb_version(NULL, NULL, NULL));
}
