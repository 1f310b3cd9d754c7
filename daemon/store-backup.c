/*
 * Backups: a compacted copy of the live store, written on a read
 * transaction in a thread of its own so that writers and readers go on.
 * The copy holds everything committed when it began.  annalsd --compact
 * makes the same copy beside a store no daemon runs on, and puts it in
 * the store's place (store_compact).  Every database is
 * rewritten in key order with MDB_APPEND, which fills its pages: LMDB
 * splits a page in half when a key lands inside it, so indexes written
 * in random order (or swept from a stage) are half to two thirds full,
 * and mdb_env_copy2's compaction keeps pages as they are.  Records still
 * maps are stored by position in the copy (backup_record).
 *
 * The map must not be resized while the copy's read transaction is open
 * (P9).  The group commit parks a grow until the backup has ended
 * (store_backup_running); grow_map() still waits for a running backup
 * first (store_backup_wait), for callers with nothing else to do.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annalsd.h"
#include "store-int.h"

/* The longest directory a copy goes into. */
#define COPY_PATH_MAX	4096

struct backup {
	pthread_t	 thread;
	struct store	*st;
	char		 path[COPY_PATH_MAX];
	int		 done_fd;	/* written to when the copy ends */
	int		 made_dir;	/* store_backup_start made path */
	int		 rc;		/* of backup_copy */
	uint64_t	 bytes;
	int		 joined;
	int		 compaction;	/* path is the store's compact.tmp */
};

/* Entries appended per write transaction of the copy. */
#define BACKUP_TXN_ENTRIES	100000

/*
 * Make *v, a record of events, one stored by position in rec when it is
 * a map that form holds: records written before format 8 are maps, and
 * the copy stores them as annalsd stores its new ones.
 */
static void
backup_record(MDB_val *v, msgpack_sbuffer *rec, msgpack_sbuffer *scratch)
{
	size_t	len;

	if (v->mv_size <= STORE_SEQ_LEN || store_pos_is(v->mv_data,
	    v->mv_size))
		return;
	len = v->mv_size - STORE_SEQ_LEN;
	msgpack_sbuffer_clear(rec);
	msgpack_sbuffer_write(rec, v->mv_data, len);
	if (!store_pos_pack(rec, scratch))
		return;
	msgpack_sbuffer_write(rec, (const char *)v->mv_data + len,
	    STORE_SEQ_LEN);
	v->mv_data = rec->data;
	v->mv_size = rec->size;
}

/* Append every entry of the database name of rtxn to the copy in env. */
static int
backup_dbi(MDB_txn *rtxn, MDB_env *env, const char *name)
{
	MDB_cursor	*rc_cur, *wc_cur = NULL;
	MDB_txn		*wtxn = NULL;
	MDB_dbi		 from, to;
	MDB_val		 k, v;
	msgpack_sbuffer	 rec, scratch;
	size_t		 n = 0;
	int		 rc, records = strncmp(name, "events", 6) == 0 &&
			    (name[6] == '\0' || name[6] == '.');

	if ((rc = mdb_dbi_open(rtxn, name, 0, &from)) != 0)
		return (rc);
	if ((rc = mdb_cursor_open(rtxn, from, &rc_cur)) != 0)
		return (rc);
	msgpack_sbuffer_init(&rec);
	msgpack_sbuffer_init(&scratch);
	for (rc = mdb_cursor_get(rc_cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(rc_cur, &k, &v, MDB_NEXT)) {
		if (wtxn == NULL) {
			if ((rc = mdb_txn_begin(env, NULL, 0, &wtxn)) != 0 ||
			    (rc = mdb_dbi_open(wtxn, name, MDB_CREATE,
			    &to)) != 0 ||
			    (rc = mdb_cursor_open(wtxn, to, &wc_cur)) != 0)
				break;
		}
		if (records)
			backup_record(&v, &rec, &scratch);
		if ((rc = mdb_cursor_put(wc_cur, &k, &v, MDB_APPEND)) != 0)
			break;
		if (++n % BACKUP_TXN_ENTRIES == 0) {
			mdb_cursor_close(wc_cur);
			wc_cur = NULL;
			rc = mdb_txn_commit(wtxn);
			wtxn = NULL;
			if (rc != 0)
				break;
		}
	}
	mdb_cursor_close(rc_cur);
	msgpack_sbuffer_destroy(&rec);
	msgpack_sbuffer_destroy(&scratch);
	if (rc != MDB_NOTFOUND) {
		if (wtxn != NULL)
			mdb_txn_abort(wtxn);
		return (rc);
	}
	/* An empty database is created all the same. */
	if (wtxn == NULL && ((rc = mdb_txn_begin(env, NULL, 0, &wtxn)) != 0 ||
	    (rc = mdb_dbi_open(wtxn, name, MDB_CREATE, &to)) != 0)) {
		if (wtxn != NULL)
			mdb_txn_abort(wtxn);
		return (rc);
	}
	if (wc_cur != NULL)
		mdb_cursor_close(wc_cur);
	return (mdb_txn_commit(wtxn));
}

/*
 * Call fn(txn, name, arg) for each named database of txn's environment,
 * in the main database's order, until it returns other than 0.
 */
static int
backup_each_db(MDB_txn *txn, int (*fn)(MDB_txn *, const char *, void *),
    void *arg)
{
	MDB_cursor	*cur;
	MDB_dbi		 main;
	MDB_val		 k, v;
	char		 name[256];
	int		 rc;

	if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) != 0 ||
	    (rc = mdb_cursor_open(txn, main, &cur)) != 0)
		return (rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size >= sizeof name)
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if ((rc = fn(txn, name, arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return (rc == MDB_NOTFOUND ? 0 : rc);
}

static int
backup_dbi_into(MDB_txn *rtxn, const char *name, void *env)
{
	return (backup_dbi(rtxn, env, name));
}

/*
 * Remove the files of a copy from dir: 0, or -1 with errno set and
 * *file naming the one that would not go.
 */
static int
copy_remove(const char *dir, char *file, size_t size)
{
	static const char	*const files[] = { "data.mdb", "lock.mdb" };
	size_t			 i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(file, size, "%s/%s", dir, files[i]);
		if (unlink(file) == -1 && errno != ENOENT)
			return (-1);
	}
	return (0);
}

/*
 * Copy the store into path, database by database in key order, on one
 * read transaction.  The copy's keys keep the order of the live ones:
 * store_cmp is memcmp's order, which is LMDB's default.
 */
static int
backup_copy(struct store *st, const char *path)
{
	MDB_env		*env;
	MDB_txn		*rtxn;
	int		 rc;

	if ((rc = mdb_env_create(&env)) != 0)
		return (rc);
	mdb_env_set_maxdbs(env, STORE_DBS_MAX);
	mdb_env_set_mapsize(env, st->map_size);
	if ((rc = mdb_env_open(env, path, MDB_NOSYNC, 0640)) != 0) {
		mdb_env_close(env);
		return (rc);
	}
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rtxn)) == 0) {
		rc = backup_each_db(rtxn, backup_dbi_into, env);
		mdb_txn_abort(rtxn);
		if (rc == 0)
			rc = mdb_env_sync(env, 1);
	}
	mdb_env_close(env);
	return (store_disk_full(path, rc));
}

static void *
backup_run(void *arg)
{
	struct backup	*b = arg;
	char		 file[4200];
	struct stat	 sb;
	char		 one = 1;

	b->rc = backup_copy(b->st, b->path);
	snprintf(file, sizeof file, "%s/data.mdb", b->path);
	if (b->rc == 0 && stat(file, &sb) == 0)
		b->bytes = (uint64_t)sb.st_size;
	/* Half a copy would only be refused by the next backup there. */
	if (b->rc != 0 && (copy_remove(b->path, file, sizeof file) == -1 ||
	    (b->made_dir && rmdir(b->path) == -1)))
		log_warn("backup failed, and its copy in %s is left: %s",
		    b->path, strerror(errno));
	if (write(b->done_fd, &one, 1) != 1)
		b->rc = b->rc ? b->rc : EIO;
	return (NULL);
}

/* Start the thread that copies st into path, which is ready for it. */
static int
copy_start(struct store *st, const char *path, int done_fd, int made_dir,
    int compaction, struct aerr *err)
{
	struct backup	*b;

	b = xcalloc(1, sizeof *b);
	b->made_dir = made_dir;
	b->compaction = compaction;
	b->st = st;
	b->done_fd = done_fd;
	snprintf(b->path, sizeof b->path, "%s", path);
	if ((errno = pthread_create(&b->thread, NULL, backup_run, b)) != 0) {
		aerr_set(err, AERR_INTERNAL, "pthread_create: %s",
		    strerror(errno));
		free(b);
		return (-1);
	}
	st->backup = b;
	return (0);
}

/* One copy at a time: a backup and a compaction each hold the map. */
static int
copy_refused(struct store *st, const char *what, struct aerr *err)
{
	if (st->backup == NULL)
		return (0);
	if (st->backup->compaction)
		aerr_set(err, AERR_LIMIT, "a compaction is running: %s when "
		    "it has ended", what);
	else
		aerr_set(err, AERR_LIMIT, "a backup is running: %s when it "
		    "has ended", what);
	return (-1);
}

/*
 * Start copying the store into the directory path (created if missing;
 * it must not hold a data.mdb yet).  done_fd gets one byte when the copy
 * has ended; then call store_backup_finish().
 */
int
store_backup_start(struct store *st, const char *path, int done_fd,
    struct aerr *err)
{
	char		 file[4200];
	struct stat	 sb;
	int		 made;

	if (copy_refused(st, "back up", err) != 0)
		return (-1);
	if (path[0] != '/' || strlen(path) >= COPY_PATH_MAX) {
		aerr_set(err, AERR_INVALID, "path: must be an absolute path "
		    "of a directory on the server");
		return (-1);
	}
	made = mkdir(path, 0750) == 0;
	if (!made && errno != EEXIST) {
		aerr_set(err, AERR_INVALID, "path: mkdir %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	snprintf(file, sizeof file, "%s/data.mdb", path);
	if (stat(file, &sb) == 0) {
		aerr_set(err, AERR_INVALID, "path: %s already holds a "
		    "database", path);
		return (-1);
	}
	return (copy_start(st, path, done_fd, made, 0, err));
}

/*
 * Wait for st's copy to end and take it off st: its rc and bytes, and
 * the directory it went into, are the caller's.
 */
static void
copy_end(struct store *st, struct backup *out)
{
	struct backup	*b = st->backup;

	if (!b->joined)
		pthread_join(b->thread, NULL);
	st->backup = NULL;
	*out = *b;
	free(b);
}

/* Wait for the backup to end; *bytes is the size of the copy. */
int
store_backup_finish(struct store *st, uint64_t *bytes, struct aerr *err)
{
	struct backup	 b;
	int		 rc;

	if (st->backup == NULL) {
		aerr_set(err, AERR_INTERNAL, "no backup is running");
		return (-1);
	}
	copy_end(st, &b);
	rc = b.rc;
	*bytes = b.bytes;
	/* The client knows it asked for a backup. */
	if (rc == ENOSPC) {
		aerr_set(err, AERR_DISK_FULL, "no space left on device");
		return (-1);
	}
	if (rc != 0) {
		aerr_set(err, AERR_INTERNAL, "copying the store: %s",
		    mdb_strerror(rc));
		return (-1);
	}
	return (0);
}

/* "backup" or "compaction" while one copies the store, else NULL. */
const char *
store_copy_running(struct store *st)
{
	if (st->backup == NULL)
		return (NULL);
	return (st->backup->compaction ? "compaction" : "backup");
}

/* Whether a copy started and store_backup_finish() has not been called. */
int
store_backup_running(struct store *st)
{
	return (st->backup != NULL && !st->backup->joined);
}

/* Block until a running copy has ended (its result is kept). */
void
store_backup_wait(struct store *st)
{
	struct backup	*b = st->backup;

	if (b == NULL || b->joined)
		return;
	log_notice("map full during a backup: waiting for the backup to end");
	pthread_join(b->thread, NULL);
	b->joined = 1;
}

/*
 * Compaction (annalsd --compact): the same copy, made into
 * DIR/compact.tmp while this process holds the directory, then renamed
 * over DIR/data.mdb.  A copy cut short (a crash, a full disk) leaves the
 * store as it was, and its remains are removed by the next compaction.
 */

/* Remove what a compaction cut short left in tmp, if anything. */
static int
compact_clear(const char *tmp, struct aerr *err)
{
	char		file[4200];
	struct stat	sb;

	if (lstat(tmp, &sb) == -1) {
		if (errno == ENOENT)
			return (0);
		aerr_set(err, AERR_INTERNAL, "%s: %s", tmp, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(sb.st_mode)) {
		aerr_set(err, AERR_INVALID, "%s is not a directory: remove it "
		    "first", tmp);
		return (-1);
	}
	if (copy_remove(tmp, file, sizeof file) == -1) {
		aerr_set(err, AERR_INTERNAL, "unlink %s: %s", file,
		    strerror(errno));
		return (-1);
	}
	if (rmdir(tmp) == -1) {
		aerr_set(err, AERR_INTERNAL, "rmdir %s: %s%s", tmp,
		    strerror(errno), errno == ENOTEMPTY ? " (it holds files "
		    "annalsd did not write)" : "");
		return (-1);
	}
	return (0);
}

/* What compact_count() gathers, one database at a time. */
struct compact_counts {
	uint64_t	*counts;	/* STORE_DBS_MAX of them */
	size_t		 n;
	const uint64_t	*want;		/* an earlier call's, or NULL */
	char		*differs;	/* the first that differs from want */
	size_t		 differs_len;
};

static int
compact_count_db(MDB_txn *txn, const char *name, void *arg)
{
	struct compact_counts	*c = arg;
	MDB_dbi			 dbi;
	MDB_stat		 ms;
	int			 rc;

	if (c->n == STORE_DBS_MAX)
		return (0);
	if ((rc = mdb_dbi_open(txn, name, 0, &dbi)) != 0 ||
	    (rc = mdb_stat(txn, dbi, &ms)) != 0)
		return (rc);
	c->counts[c->n] = ms.ms_entries;
	if (c->want != NULL && c->differs[0] == '\0' &&
	    c->counts[c->n] != c->want[c->n])
		snprintf(c->differs, c->differs_len, "%s: %llu entries, %llu "
		    "in the store", name, (unsigned long long)c->counts[c->n],
		    (unsigned long long)c->want[c->n]);
	c->n++;
	return (0);
}

/*
 * The entries of each named database of env, in the main database's
 * order, into c->counts (c->n of them); given an earlier call's counts
 * in c->want, the first database whose count differs is described in
 * c->differs.
 */
static int
compact_count(MDB_env *env, struct compact_counts *c)
{
	MDB_txn	*txn;
	int	 rc;

	c->n = 0;
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0)
		return (rc);
	rc = backup_each_db(txn, compact_count_db, c);
	mdb_txn_abort(txn);
	return (rc);
}

/* The copy in tmp holds as many entries in each database as st. */
static int
compact_verify(struct store *st, const char *tmp, uint64_t *entries,
    struct aerr *err)
{
	uint64_t		 want[STORE_DBS_MAX], got[STORE_DBS_MAX];
	char			 differs[400] = "";
	struct compact_counts	 store = { want, 0, NULL, NULL, 0 };
	struct compact_counts	 copy = { got, 0, want, differs,
				    sizeof differs };
	MDB_env			*env;
	size_t			 i;
	int			 rc;

	if ((rc = compact_count(st->env, &store)) != 0) {
		aerr_set(err, AERR_INTERNAL, "counting the entries of %s: %s",
		    st->path, mdb_strerror(rc));
		return (-1);
	}
	if ((rc = mdb_env_create(&env)) != 0) {
		aerr_set(err, AERR_INTERNAL, "mdb_env_create: %s",
		    mdb_strerror(rc));
		return (-1);
	}
	mdb_env_set_maxdbs(env, STORE_DBS_MAX);
	if ((rc = mdb_env_open(env, tmp, MDB_RDONLY, 0640)) != 0 ||
	    (rc = compact_count(env, &copy)) != 0) {
		mdb_env_close(env);
		aerr_set(err, AERR_INTERNAL, "counting the entries of the "
		    "copy in %s: %s", tmp, mdb_strerror(rc));
		return (-1);
	}
	mdb_env_close(env);
	if (differs[0] == '\0' && copy.n != store.n)
		snprintf(differs, sizeof differs, "%zu databases, %zu in the "
		    "store", copy.n, store.n);
	if (differs[0] != '\0') {
		aerr_set(err, AERR_INTERNAL, "the copy in %s differs: %s",
		    tmp, differs);
		return (-1);
	}
	for (*entries = 0, i = 0; i < store.n; i++)
		*entries += want[i];
	return (0);
}

/*
 * Make sure no process has the environment open, now that this one has
 * closed it: daemons are kept out by the directory's lock, but annalsd
 * --check, mdb_stat or mdb_dump may have it open.  One that had would
 * go on with the lock file of the old data.mdb, and a later opener
 * would find it set up and trust its last transaction id, which picks
 * a meta page of the new file by the old one's count.  Every LMDB
 * environment holds a read lock on the first byte of lock.mdb: taking
 * it for writing tells that none is open, and keeps one from opening
 * until the file is truncated (compact_swap), so that the next opener
 * sets it up again.  *lfd is -1 when there is no lock.mdb.
 */
static int
compact_env_alone(const char *path, int *lfd, struct aerr *err)
{
	struct flock	lk;
	char		file[4200];

	snprintf(file, sizeof file, "%s/lock.mdb", path);
	if ((*lfd = open(file, O_RDWR | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return (0);
		aerr_set(err, AERR_INTERNAL, "%s: %s", file, strerror(errno));
		return (-1);
	}
	memset(&lk, 0, sizeof lk);
	lk.l_type = F_WRLCK;
	lk.l_whence = SEEK_SET;
	lk.l_start = 0;
	lk.l_len = 1;
	if (fcntl(*lfd, F_SETLK, &lk) == -1) {
		if (errno == EACCES || errno == EAGAIN)
			aerr_set(err, AERR_INVALID, "the store is open in "
			    "another process (annalsd --check, mdb_stat or "
			    "mdb_dump?): let it end and compact again; the "
			    "store is unchanged");
		else
			aerr_set(err, AERR_INTERNAL, "fcntl %s: %s", file,
			    strerror(errno));
		close(*lfd);
		*lfd = -1;
		return (-1);
	}
	return (0);
}

/*
 * Put tmp/data.mdb in the place of path/data.mdb, for good: the rename
 * is atomic, and the directory is synced so that it stays done after a
 * crash.  lfd, LMDB's lock file held by compact_env_alone(), is emptied
 * before it is let go.  Once the rename is done a failure says so.
 */
static int
compact_swap(const char *path, const char *tmp, int lfd,
    struct aerr *err)
{
	char	from[4200], to[4200];
	int	dfd, rc = 0;

	snprintf(from, sizeof from, "%s/data.mdb", tmp);
	snprintf(to, sizeof to, "%s/data.mdb", path);
	if (rename(from, to) == -1) {
		aerr_set(err, AERR_INTERNAL, "rename %s to %s: %s; the store "
		    "is unchanged", from, to, strerror(errno));
		if (lfd != -1)
			close(lfd);
		return (-1);
	}
	if (lfd != -1) {
		if (ftruncate(lfd, 0) == -1) {
			aerr_set(err, AERR_INTERNAL, "data.mdb is compacted, "
			    "but emptying %s/lock.mdb failed: %s; remove it "
			    "before a daemon starts", path, strerror(errno));
			rc = -1;
		}
		close(lfd);
	}
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		if (rc == 0)
			aerr_set(err, AERR_INTERNAL, "data.mdb is compacted, "
			    "but syncing %s failed: %s (a crash before the "
			    "system writes it back could bring the old file "
			    "back)", path, strerror(errno));
		rc = -1;
	}
	if (dfd != -1)
		close(dfd);
	return (rc);
}

/* Give the copy the owner and mode of the file it replaces. */
static int
compact_own(const char *tmp, const struct stat *old, struct aerr *err)
{
	char	file[4200];

	snprintf(file, sizeof file, "%s/data.mdb", tmp);
	if ((geteuid() == 0 && chown(file, old->st_uid, old->st_gid) == -1) ||
	    chmod(file, old->st_mode & 07777) == -1) {
		aerr_set(err, AERR_INTERNAL, "giving %s the owner and mode of "
		    "the store's data.mdb: %s", file, strerror(errno));
		return (-1);
	}
	return (0);
}

/* The directory a compaction of the store in path copies into. */
static int
compact_tmp(const char *path, char *tmp, size_t size, struct aerr *err)
{
	if (strlen(path) + sizeof "/compact.tmp" > size) {
		aerr_set(err, AERR_INVALID, "data directory: a path of more "
		    "than %zu bytes", size - sizeof "/compact.tmp");
		return (-1);
	}
	snprintf(tmp, size, "%s/compact.tmp", path);
	return (0);
}

/* An empty tmp for the copy, with what an earlier one left removed. */
static int
compact_prepare(const char *tmp, struct aerr *err)
{
	struct stat	sb;

	if (lstat(tmp, &sb) == 0)
		log_notice("%s: removing what an earlier compaction left", tmp);
	if (compact_clear(tmp, err) != 0)
		return (-1);
	if (mkdir(tmp, 0750) == -1) {
		aerr_set(err, AERR_INTERNAL, "mkdir %s: %s", tmp,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * After a copy into tmp that ended with rc: check it against st and give
 * it the owner and mode of old, the store's data.mdb, or say why not
 * and remove it.
 */
static int
compact_accept(struct store *st, const char *tmp, int rc,
    const struct stat *old, uint64_t *entries, struct aerr *err)
{
	struct aerr	ignored;

	if (rc == 0 && compact_verify(st, tmp, entries, err) == 0 &&
	    compact_own(tmp, old, err) == 0)
		return (0);
	if (rc == ENOSPC)
		aerr_set(err, AERR_DISK_FULL, "no space left on the device "
		    "for the copy in %s (the pages in use take up to %llu "
		    "bytes); the store is unchanged", tmp,
		    (unsigned long long)old->st_size);
	else if (rc != 0)
		aerr_set(err, AERR_INTERNAL, "copying the store into %s: %s",
		    tmp, mdb_strerror(rc));
	compact_clear(tmp, &ignored);
	return (-1);
}

/*
 * Rewrite the store in cfg->path in key order, filling its pages and
 * leaving out its free ones.  It takes the directory as a daemon does,
 * so that none runs meanwhile, and the disk must hold a second copy of
 * the pages in use until the end.
 */
int
store_compact(const struct store_config *cfg, struct store_compacted *out,
    struct aerr *err)
{
	struct store_config	 own = *cfg;
	struct store		*st;
	struct aerr		 ignored;
	struct stat		 sb, old;
	char			 tmp[COPY_PATH_MAX], file[4200];
	int			 rc, lock_fd, lfd;

	memset(out, 0, sizeof *out);
	if (compact_tmp(cfg->path, tmp, sizeof tmp, err) != 0)
		return (-1);
	snprintf(file, sizeof file, "%s/data.mdb", cfg->path);
	/* Not a new, empty store in a mistyped directory. */
	if (stat(file, &old) == -1) {
		aerr_set(err, AERR_INVALID, "%s: %s; --data names the "
		    "directory of a store", file, strerror(errno));
		return (-1);
	}
	out->bytes_before = (uint64_t)old.st_size;
	own.exclusive = 1;
	if ((st = store_open(&own, err)) == NULL)
		return (-1);
	log_notice("compacting %s: %llu bytes", cfg->path,
	    (unsigned long long)out->bytes_before);
	if (compact_prepare(tmp, err) != 0) {
		store_close(st);
		return (-1);
	}
	if (compact_accept(st, tmp, backup_copy(st, tmp), &old, &out->entries,
	    err) != 0) {
		store_close(st);
		return (-1);
	}
	/* The environment goes, the directory's lock stays until the end. */
	lock_fd = st->lock_fd;
	st->lock_fd = -1;
	store_close(st);
	if (compact_env_alone(cfg->path, &lfd, err) != 0) {
		compact_clear(tmp, &ignored);
		close(lock_fd);
		return (-1);
	}
	rc = compact_swap(cfg->path, tmp, lfd, err);
	if (rc == 0 && compact_clear(tmp, &ignored) != 0)
		log_warn("compacted, but %s is left: %s", tmp, ignored.msg);
	close(lock_fd);
	if (stat(file, &sb) == 0)
		out->bytes_after = (uint64_t)sb.st_size;
	return (rc);
}

/*
 * Compaction of the store a daemon serves (the compact method): the
 * same copy, made in a thread while readers go on, and put in place
 * between two read transactions.  Writes wait for the whole of it, so
 * that the copy is the store: the caller holds the group commit from
 * before store_compact_start() until store_compact_finish() returns.
 */
int
store_compact_start(struct store *st, int done_fd, struct aerr *err)
{
	char	tmp[COPY_PATH_MAX];

	if (copy_refused(st, "compact", err) != 0 ||
	    compact_tmp(st->path, tmp, sizeof tmp, err) != 0 ||
	    compact_prepare(tmp, err) != 0)
		return (-1);
	return (copy_start(st, tmp, done_fd, 1, 1, err));
}

/*
 * Once the copy has ended (done_fd got its byte), put it in the store's
 * place and open it.  No transaction may be open in the process: the
 * caller pauses the readers, as for a grow.  On failure the store is
 * as it was, and open, unless the message says that it is compacted.
 */
int
store_compact_finish(struct store *st, struct store_compacted *out,
    struct aerr *err)
{
	struct backup	 b;
	struct aerr	 ignored;
	struct stat	 sb, old;
	char		*tmp = b.path, file[4200];
	int		 rc, lfd;

	memset(out, 0, sizeof *out);
	if (st->backup == NULL || !st->backup->compaction) {
		aerr_set(err, AERR_INTERNAL, "no compaction is running");
		return (-1);
	}
	copy_end(st, &b);
	rc = b.rc;
	snprintf(file, sizeof file, "%s/data.mdb", st->path);
	if (stat(file, &old) == -1) {
		aerr_set(err, AERR_INTERNAL, "%s: %s", file, strerror(errno));
		compact_clear(tmp, &ignored);
		return (-1);
	}
	out->bytes_before = (uint64_t)old.st_size;
	if (compact_accept(st, tmp, rc, &old, &out->entries, err) != 0)
		return (-1);
	mdb_env_close(st->env);
	if (compact_env_alone(st->path, &lfd, err) != 0) {
		store_env_reopen(st, "after a refused compaction");
		compact_clear(tmp, &ignored);
		return (-1);
	}
	rc = compact_swap(st->path, tmp, lfd, err);
	store_env_reopen(st, "after a compaction");
	if (compact_clear(tmp, &ignored) != 0)
		log_warn("%s is left: %s", tmp, ignored.msg);
	if (stat(file, &sb) == 0)
		out->bytes_after = (uint64_t)sb.st_size;
	return (rc);
}

/*
 * The store closes: wait for a copy still running.  A compaction's is
 * removed, the store staying as it was; a backup's failure is logged.
 */
void
store_copy_abandon(struct store *st)
{
	struct backup	 b;
	struct aerr	 err;
	uint64_t	 bytes;

	if (st->backup == NULL)
		return;
	if (!st->backup->compaction) {
		if (store_backup_finish(st, &bytes, &err) != 0)
			log_warn("%s", err.msg);
		return;
	}
	copy_end(st, &b);
	if (compact_clear(b.path, &err) != 0)
		log_warn("compaction cut short: %s", err.msg);
	else
		log_notice("compaction cut short by the stop: the store is "
		    "as it was");
}
