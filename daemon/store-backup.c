/*
 * Backups: a compacted copy of the live store, written on a read
 * transaction in a thread of its own so that writers and readers go on.
 * The copy holds everything committed when it began.  Every database is
 * rewritten in key order with MDB_APPEND, which fills its pages: LMDB
 * splits a page in half when a key lands inside it, so indexes written
 * in random order (or swept from a stage) are half to two thirds full,
 * and mdb_env_copy2's compaction keeps pages as they are.
 *
 * The map must not be resized while the copy's read transaction is open
 * (P9).  The group commit parks a grow until the backup has ended
 * (store_backup_running); grow_map() still waits for a running backup
 * first (store_backup_wait), for callers with nothing else to do.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annalsd.h"
#include "store-int.h"

struct backup {
	pthread_t	 thread;
	struct store	*st;
	char		 path[4096];
	int		 done_fd;	/* written to when the copy ends */
	int		 rc;		/* of backup_copy */
	uint64_t	 bytes;
	int		 joined;
};

/* Entries appended per write transaction of the copy. */
#define BACKUP_TXN_ENTRIES	100000

/* Append every entry of the database name of rtxn to the copy in env. */
static int
backup_dbi(MDB_txn *rtxn, MDB_env *env, const char *name)
{
	MDB_cursor	*rc_cur, *wc_cur = NULL;
	MDB_txn		*wtxn = NULL;
	MDB_dbi		 from, to;
	MDB_val		 k, v;
	size_t		 n = 0;
	int		 rc;

	if ((rc = mdb_dbi_open(rtxn, name, 0, &from)) != 0)
		return (rc);
	if ((rc = mdb_cursor_open(rtxn, from, &rc_cur)) != 0)
		return (rc);
	for (rc = mdb_cursor_get(rc_cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(rc_cur, &k, &v, MDB_NEXT)) {
		if (wtxn == NULL) {
			if ((rc = mdb_txn_begin(env, NULL, 0, &wtxn)) != 0 ||
			    (rc = mdb_dbi_open(wtxn, name, MDB_CREATE,
			    &to)) != 0 ||
			    (rc = mdb_cursor_open(wtxn, to, &wc_cur)) != 0)
				break;
		}
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
 * Copy the store into path, database by database in key order, on one
 * read transaction.  The copy's keys keep the order of the live ones:
 * store_cmp is memcmp's order, which is LMDB's default.
 */
static int
backup_copy(struct store *st, const char *path)
{
	MDB_env		*env;
	MDB_txn		*rtxn;
	MDB_cursor	*cur;
	MDB_dbi		 main;
	MDB_val		 k, v;
	char		 name[256];
	int		 rc;

	if ((rc = mdb_env_create(&env)) != 0)
		return (rc);
	mdb_env_set_maxdbs(env, 32);
	mdb_env_set_mapsize(env, st->map_size);
	if ((rc = mdb_env_open(env, path, MDB_NOSYNC, 0640)) != 0) {
		mdb_env_close(env);
		return (rc);
	}
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rtxn)) != 0)
		goto out;
	if ((rc = mdb_dbi_open(rtxn, NULL, 0, &main)) != 0 ||
	    (rc = mdb_cursor_open(rtxn, main, &cur)) != 0) {
		mdb_txn_abort(rtxn);
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size >= sizeof name)
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if ((rc = backup_dbi(rtxn, env, name)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(rtxn);
	if (rc == MDB_NOTFOUND)
		rc = mdb_env_sync(env, 1);
out:
	mdb_env_close(env);
	return (rc);
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
	if (write(b->done_fd, &one, 1) != 1)
		b->rc = b->rc ? b->rc : EIO;
	return (NULL);
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
	struct backup	*b;
	char		 file[4200];
	struct stat	 sb;

	if (st->backup != NULL) {
		aerr_set(err, AERR_LIMIT, "a backup is already running");
		return (-1);
	}
	if (path[0] != '/' || strlen(path) >= sizeof b->path) {
		aerr_set(err, AERR_INVALID, "path: must be an absolute path "
		    "of a directory on the server");
		return (-1);
	}
	if (mkdir(path, 0750) == -1 && errno != EEXIST) {
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
	b = xcalloc(1, sizeof *b);
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

/* Wait for the backup to end; *bytes is the size of the copy. */
int
store_backup_finish(struct store *st, uint64_t *bytes, struct aerr *err)
{
	struct backup	*b = st->backup;
	int		 rc;

	if (b == NULL) {
		aerr_set(err, AERR_INTERNAL, "no backup is running");
		return (-1);
	}
	if (!b->joined)
		pthread_join(b->thread, NULL);
	st->backup = NULL;
	rc = b->rc;
	*bytes = b->bytes;
	free(b);
	if (rc == ENOSPC) {
		aerr_set(err, AERR_DISK_FULL, "backup: no space left on "
		    "device");
		return (-1);
	}
	if (rc != 0) {
		aerr_set(err, AERR_INTERNAL, "backup: %s", mdb_strerror(rc));
		return (-1);
	}
	return (0);
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
