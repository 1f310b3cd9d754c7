/*
 * Backups: a compacted copy of the live store, made by LMDB on a read
 * transaction in a thread of its own so that writers and readers go on.
 * The copy holds everything committed when it began.
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
	int		 rc;		/* of mdb_env_copy2 */
	uint64_t	 bytes;
	int		 joined;
};

static void *
backup_run(void *arg)
{
	struct backup	*b = arg;
	char		 file[4200];
	struct stat	 sb;
	char		 one = 1;

	b->rc = mdb_env_copy2(b->st->env, b->path, MDB_CP_COMPACT);
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
