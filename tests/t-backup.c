/*
 * Backup while writing: a writer keeps putting events while the daemon
 * copies itself; the copy passes the integrity check and holds every
 * event acknowledged before the backup began, with the names of its
 * attrs.
 */
#define _GNU_SOURCE	/* unshare */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "../client/annals.h"
#include "../proto/proto.h"
#include "harness.h"
#include "nats.h"
#include "test.h"

static void
writer(const char *sock, const char *logpath)
{
	struct annals_actor	 actor = { "RUS", "source" };
	struct annals_event	 ev[10];
	annals_ctx		*ctx = annals_connect(sock);
	char			 keys[10][32], line[400];
	int			 fd, i, j, n;

	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (ctx == NULL || annals_errcode(ctx) != 0 || fd == -1)
		_exit(2);
	for (i = 0; i < 100000; i++) {
		memset(ev, 0, sizeof ev);
		for (j = 0; j < 10; j++) {
			snprintf(keys[j], sizeof keys[j], "b%d", i * 10 + j);
			ev[j].source = "backup";
			ev[j].key = keys[j];
			ev[j].start = "2015-01-26/2015-01-29";
			ev[j].actors = &actor;
			ev[j].nactors = 1;
			ev[j].title = "written during a backup";
			/* {"written": "during"}: a name by id, to restore. */
			ev[j].attrs = "\x81\xa7" "written" "\xa6" "during";
			ev[j].attrs_len = 16;
		}
		if (annals_put(ctx, ev, 10, NULL) != 0)
			break;
		n = snprintf(line, sizeof line, "%d\n", i);
		if (write(fd, line, (size_t)n) != n)
			break;
	}
	_exit(0);
}

static int
batches_acked(const char *path)
{
	FILE	*f = fopen(path, "r");
	int	 n = 0, v;

	if (f == NULL)
		return (0);
	while (fscanf(f, "%d", &v) == 1)
		n = v + 1;
	fclose(f);
	return (n);
}

static void
backup_label(const struct annals_actor_info *info, void *arg)
{
	snprintf(arg, 64, "%s", info->label != NULL ? info->label : "");
}

TEST(backup_while_writing_restores_everything_acknowledged)
{
	struct th_daemon	 d;
	annals_ctx		*ctx;
	struct annals_event	*ev;
	const char		*extra[] = { "--data", NULL, NULL };
	char			 logpath[128], copy[128], params[200], key[32];
	char			 cmd[512];
	void			*res = NULL;
	size_t			 reslen = 0;
	pid_t			 pid;
	int			 before, i, status, plen;
	struct annals_dict_entry name = { .kind = ANNALS_DICT_NAME,
	    .key = "SYRGOV", .name = "named before the backup" };
	char			 label[64] = "";

	T_OK(th_daemon_start(&d, NULL));
	snprintf(logpath, sizeof logpath, "%s/acked", t_dir());
	snprintf(copy, sizeof copy, "%s/copy", t_dir());
	if ((pid = fork()) == 0)
		writer(d.sock, logpath);
	/* The writer may have died (a failed put ends it): not forever. */
	for (i = 0; i < 6000 && batches_acked(logpath) < 50 &&
	    waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (batches_acked(logpath) < 50)
		kill(pid, SIGKILL);
	T_ASSERTF(batches_acked(logpath) >= 50, "the writer acknowledged "
	    "%d batches of 10 before the backup (exited or 60 s passed)",
	    batches_acked(logpath));

	before = batches_acked(logpath);
	ctx = annals_connect(d.sock);
	T_ASSERT(ctx != NULL && annals_errcode(ctx) == 0);
	/* The actor dictionary is copied too. */
	T_OK(annals_dict_put(ctx, &name, 1, 0, NULL));
	/* {"path": copy} by hand: a fixmap of one str key, str8 value. */
	plen = snprintf(params, sizeof params, "\x81\xa4path\xd9%c%s",
	    (char)strlen(copy), copy);
	T_ASSERTF(annals_call(ctx, "backup", params, (size_t)plen, &res,
	    &reslen) == 0, "%s", annals_errmsg(ctx));
	annals_buf_free(res);
	/* A second copy into the same place is refused. */
	T_ASSERT(annals_call(ctx, "backup", params, (size_t)plen, &res,
	    &reslen) != 0);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	annals_free(ctx);
	/* The writer is still being served (bounded wait: 10 s). */
	{
		int	after = batches_acked(logpath), tries;

		for (tries = 0; tries < 1000 &&
		    batches_acked(logpath) <= after; tries++)
			usleep(10000);
		T_ASSERT(batches_acked(logpath) > after);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	T_EQ_INT(th_daemon_stop(&d), 0);

	snprintf(cmd, sizeof cmd, "%s/annalsd --check --data %s >&2",
	    t_bindir(), copy);
	T_EQ_INT(system(cmd), 0);
	extra[1] = copy;
	T_OK(th_daemon_start(&d, extra));
	ctx = annals_connect(d.sock);
	for (i = 0; i < before * 10; i++) {
		snprintf(key, sizeof key, "b%d", i);
		ev = NULL;
		T_ASSERTF(annals_get_by_key(ctx, "backup", key, &ev) == 0,
		    "%s: %s", key, annals_errmsg(ctx));
		/* The copy has the names of attrs (store-attrs.c). */
		T_ASSERT(ev->attrs_len == 16 && memcmp(ev->attrs,
		    "\x81\xa7" "written" "\xa6" "during", 16) == 0);
		annals_event_free(ev);
	}
	T_OK(annals_actor_info(ctx, "SYRGOV", backup_label, label));
	T_EQ_STR(label, "named before the backup");
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

static int
log_has(const char *path, const char *what)
{
	char	*s = th_slurp(path, NULL);
	int	 found = s != NULL && strstr(s, what) != NULL;

	free(s);
	return (found);
}

/* stats' copying at sock: what copies the store, or "" if nothing. */
static const char *
copying_of(const char *sock)
{
	static char		 what[32];
	const msgpack_object	*v;
	msgpack_unpacked	 u;
	void			*buf;

	msgpack_unpacked_init(&u);
	T_OK(stats_of(sock, &u, &buf));
	v = mp_get(&u.data, "copying");
	T_ASSERT(v == NULL || v->type == MSGPACK_OBJECT_STR);
	snprintf(what, sizeof what, "%.*s", v ? (int)v->via.str.size : 0,
	    v ? v->via.str.ptr : "");
	msgpack_unpacked_destroy(&u);
	annals_buf_free(buf);
	return (what);
}

/*
 * A connection to sock (answers within 20 s) that has put one event of
 * title; its id in *id.
 */
static annals_ctx *
connect_and_put(const char *sock, const char *title, uint64_t *id)
{
	struct annals_actor	 actor = { "RUS", "source" };
	struct annals_event	 small = { 0 };
	struct annals_put_result put;
	annals_ctx		*ctx;

	ctx = annals_connect(sock);
	T_ASSERT(ctx != NULL && annals_errcode(ctx) == 0);
	T_OK(annals_set_timeout(ctx, 20000));
	small.start = "2014-12";
	small.actors = &actor;
	small.nactors = 1;
	small.title = title;
	T_ASSERTF(annals_put(ctx, &small, 1, &put) == 0, "%s",
	    annals_errmsg(ctx));
	*id = put.id;
	return (ctx);
}

/*
 * Send method with params (a packed map) on a connection of its own and
 * wait until its copy has stopped at the gate; returns the connection.
 */
static int
request_to_gate(const char *sock, const char *gate, const char *method,
    const void *params, size_t plen)
{
	struct stat	sb;
	char		file[200];
	int		fd, i;

	fd = th_raw_connect(sock);
	T_ASSERT(fd >= 0);
	T_OK(th_send_request(fd, 1, method, params, plen));
	snprintf(file, sizeof file, "%s/entered", gate);
	for (i = 0; i < 2000 && stat(file, &sb) == -1; i++)
		usleep(10000);
	T_ASSERTF(stat(file, &sb) == 0, "the %s never reached its gate",
	    method);
	return (fd);
}

static void
open_gate(const char *gate)
{
	char	file[200];

	snprintf(file, sizeof file, "%s/open", gate);
	th_write(file, "", 0);
}

/* Tell d to stop, and then open the gate its copy waits at. */
static void
stop_at_gate(const struct th_daemon *d, const char *gate)
{
	int	i;

	kill(d->pid, SIGTERM);
	for (i = 0; i < 2000 && !log_has(d->log, "shutting down"); i++)
		usleep(10000);
	T_ASSERT(log_has(d->log, "shutting down"));
	open_gate(gate);
}

/* Wait for d, told to stop, to exit 0. */
static void
stopped(struct th_daemon *d)
{
	int	i, status = -1;

	/* Another SIGTERM could find its handler gone: no th_daemon_stop. */
	for (i = 0; i < 3000 && waitpid(d->pid, &status, WNOHANG) != d->pid;
	    i++)
		usleep(10000);
	T_ASSERTF(i < 3000, "annalsd did not stop");
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "annalsd: status %d", status);
	d->pid = 0;
}

/* Put n events of about 4 KB each in one request; exit 0 when acked. */
static void
big_writer(const char *sock, int n)
{
	struct annals_actor	 actor = { "SYRGOV", "source" };
	struct annals_event	*ev = calloc((size_t)n, sizeof *ev);
	annals_ctx		*ctx = annals_connect(sock);
	char			*text = malloc(4096);
	int			 i;

	if (ev == NULL || text == NULL || ctx == NULL ||
	    annals_errcode(ctx) != 0)
		_exit(2);
	memset(text, 'x', 4095);
	text[4095] = '\0';
	for (i = 0; i < n; i++) {
		ev[i].start = "2015-01-26";
		ev[i].actors = &actor;
		ev[i].nactors = 1;
		ev[i].title = "a write that needs a larger map";
		ev[i].text = text;
	}
	_exit(annals_put(ctx, ev, (size_t)n, NULL) == 0 ? 0 : 3);
}

/*
 * A write that needs the map to grow while a backup copies the store
 * must not freeze the loop: the map cannot be resized under the copy's
 * read transaction, so the write waits for the backup while reads and
 * pings go on.  The backup is held at its first write by a preloaded
 * gate (tests/preload/gate-write.c), so the copy lasts as long as the
 * test needs on any disk; had the loop joined the backup, the ping
 * below would time out.  With stop, the daemon is told to stop while the
 * write waits: the write is still committed and acknowledged.
 */
static void
backup_during_growth(int stop)
{
	const char		*extra[] = { "--map-size", "1M",
				    "--max-map-size", "1G", NULL };
	struct annals_event	*got = NULL;
	struct annals_stats	 before, after;
	struct th_daemon	 d;
	annals_ctx		*ctx;
	unsigned char		 buf[4096];
	char			 gate[128], copy[160];
	char			 params[300], cmd[512];
	uint64_t		 id;
	ssize_t			 n;
	pid_t			 pid;
	int			 fd, i, plen, status;

	snprintf(gate, sizeof gate, "%s/gate", t_dir());
	snprintf(copy, sizeof copy, "%s/gated", t_dir());
	T_OK(mkdir(gate, 0755));
	T_OK(th_daemon_start_gated(&d, t_dir(), gate, extra));

	ctx = connect_and_put(d.sock, "stored before the backup", &id);
	T_ASSERTF(annals_stats(ctx, &before) == 0, "%s", annals_errmsg(ctx));

	/* The backup starts and stops at the gate. */
	plen = snprintf(params, sizeof params, "\x81\xa4path\xd9%c%s",
	    (char)strlen(copy), copy);
	fd = request_to_gate(d.sock, gate, "backup", params, (size_t)plen);

	/* 2.4 MB into a 1 MiB map: the write needs the map to grow. */
	if ((pid = fork()) == 0)
		big_writer(d.sock, 600);
	/* Both the old code and the new log this when the grow is due. */
	for (i = 0; i < 2000 && !log_has(d.log, "map full during a backup");
	    i++)
		usleep(10000);
	T_ASSERTF(log_has(d.log, "map full during a backup"),
	    "the write never needed the map to grow");

	/* The loop answers, and reads are served, while the write waits. */
	T_ASSERTF(annals_ping(ctx) == 0, "ping during the backup: %s",
	    annals_errmsg(ctx));
	T_ASSERTF(annals_get(ctx, id, &got) == 0, "get during the backup: %s",
	    annals_errmsg(ctx));
	T_EQ_STR(got->title, "stored before the backup");
	annals_event_free(got);
	T_ASSERTF(annals_stats(ctx, &after) == 0, "%s", annals_errmsg(ctx));
	T_EQ_U64(after.map_bytes, before.map_bytes);
	T_EQ_INT(waitpid(pid, &status, WNOHANG), 0);
	T_EQ_STR(copying_of(d.sock), "backup");

	/* Open the gate: the backup ends, then the map grows, the write is
	 * acknowledged, and the copy holds what came before it. */
	if (stop) {
		annals_free(ctx);
		stop_at_gate(&d, gate);
	} else {
		open_gate(gate);
		n = th_read_frame(fd, buf, sizeof buf, 30000);
		T_ASSERTF(n > 0, "no answer to the backup");
	}
	close(fd);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the big write: status %d", status);
	if (stop) {
		stopped(&d);
		T_OK(th_daemon_start(&d, extra));
		ctx = annals_connect(d.sock);
		T_ASSERT(ctx != NULL && annals_errcode(ctx) == 0);
	}
	T_ASSERTF(annals_stats(ctx, &after) == 0, "%s", annals_errmsg(ctx));
	T_ASSERT(after.map_bytes > before.map_bytes);
	T_EQ_U64(after.events, before.events + 600);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
	T_ASSERT(log_has(d.log, "writes wait for the backup to end"));

	snprintf(cmd, sizeof cmd, "%s/annalsd --check --data %s >&2",
	    t_bindir(), copy);
	T_EQ_INT(system(cmd), 0);
}

TEST(backup_map_growth_waits_without_freezing_the_loop)
{
	backup_during_growth(0);
}

TEST(backup_map_growth_parked_at_shutdown_is_committed)
{
	backup_during_growth(1);
}

/* The size of path, which must be there. */
static long long
file_size(const char *path)
{
	struct stat	sb;

	T_ASSERTF(stat(path, &sb) == 0, "%s: %s", path, strerror(errno));
	return ((long long)sb.st_size);
}

/*
 * Run annalsd with the arguments that follow (NULL-ended), and check
 * that it exits with status and, unless want is NULL, says want.  One
 * that serves instead of exiting is stopped after 30 s: timeout(1) then
 * exits 124.
 */
static void
annalsd_expect(int status, const char *want, ...)
{
	const char	*argv[20], *arg;
	char		 bin[4200], file[256], *out;
	va_list		 ap;
	int		 i = 0, got;

	snprintf(bin, sizeof bin, "%s/annalsd", t_bindir());
	snprintf(file, sizeof file, "%s/annalsd.out", t_dir());
	argv[i++] = "timeout";
	argv[i++] = "30";
	argv[i++] = bin;
	va_start(ap, want);
	while ((arg = va_arg(ap, const char *)) != NULL && i < 19)
		argv[i++] = arg;
	va_end(ap);
	argv[i] = NULL;
	got = th_spawn(argv, NULL, file, file, 1);
	out = th_slurp(file, NULL);
	T_ASSERTF(got == status && (want == NULL || strstr(out, want) !=
	    NULL), "annalsd %s: exit %d (%d wanted), said: %s", argv[3], got,
	    status, out);
	free(out);
}

/* stats' free_bytes of the daemon at sock. */
static uint64_t
free_bytes_of(const char *sock)
{
	msgpack_unpacked	 u;
	void			*buf;
	uint64_t		 n;

	msgpack_unpacked_init(&u);
	T_OK(stats_of(sock, &u, &buf));
	n = stat_u64(&u.data, "free_bytes");
	msgpack_unpacked_destroy(&u);
	annals_buf_free(buf);
	T_ASSERT(n != UINT64_MAX);
	return (n);
}

/* Every event, as annals export writes them. */
static char *
export_all(const char *sock)
{
	struct th_run	 r;
	const char	*args[] = { "export", NULL };
	char		*out;

	th_annals(&r, sock, NULL, args);
	T_ASSERTF(r.status == 0, "export: %s", r.err);
	out = r.out;
	r.out = NULL;
	th_run_free(&r);
	return (out);
}

/*
 * 10,000 events put at sock in random order of date, in 20 requests;
 * then a hundred of the first request deleted and the last request's
 * retitled, so that a compaction has pages to fill and free ones to
 * leave out.
 */
static void
load_thinned(const char *sock)
{
	struct annals_actor	 actors[2] = { { "RUS", "source" },
				    { NULL, "target" } };
	struct annals_event	 ev[500];
	struct annals_put_result res[500];
	uint64_t		 gone[100];
	annals_ctx		*ctx;
	char			 starts[500][40], titles[500][64], codes[20][16];
	int			 b, i, deleted[100];

	ctx = annals_connect(sock);
	T_ASSERT(ctx != NULL && annals_errcode(ctx) == 0);
	srand(16);
	for (i = 0; i < 20; i++)
		snprintf(codes[i], sizeof codes[i], "C%02d", i);
	for (b = 0; b < 20; b++) {
		memset(ev, 0, sizeof ev);
		for (i = 0; i < 500; i++) {
			snprintf(starts[i], sizeof starts[i], "%d-%02d-%02d",
			    1990 + rand() % 30, 1 + rand() % 12,
			    1 + rand() % 28);
			snprintf(titles[i], sizeof titles[i], "event %d of "
			    "batch %d, word%d", i, b, rand() % 300);
			ev[i].start = starts[i];
			ev[i].title = titles[i];
			ev[i].type = i % 3 ? "036" : "190";
			ev[i].actors = actors;
			ev[i].nactors = 2;
		}
		/* One target per request keeps the literal simple. */
		actors[1].name = codes[b];
		T_ASSERTF(annals_put(ctx, ev, 500, res) == 0, "%s",
		    annals_errmsg(ctx));
		for (i = 0; b == 0 && i < 100; i++)
			gone[i] = res[i * 5].id;
	}
	T_OK(annals_delete(ctx, gone, 100, deleted));
	for (i = 0; i < 100; i++)
		T_EQ_INT(deleted[i], 1);
	for (i = 0; i < 500; i++) {
		ev[i].id = res[i].id;
		ev[i].title = "retitled";
	}
	T_ASSERTF(annals_put(ctx, ev, 500, NULL) == 0, "%s",
	    annals_errmsg(ctx));
	annals_free(ctx);
}

/*
 * annalsd --compact on a store loaded in random order, then updated and
 * thinned: the file shrinks, and so do the free pages stats tells of,
 * the check passes, every event reads back the same and writes go on.
 * It is refused while a daemon holds the directory (so is a second
 * daemon), and removes what a compaction cut short left, but not files
 * it did not write.
 */
TEST(compact_rewrites_a_stopped_store_and_keeps_every_event)
{
	struct th_daemon	 d;
	struct annals_actor	 actors[1] = { { "RUS", "source" } };
	struct annals_event	 ev[1];
	struct annals_put_result res[1];
	annals_ctx		*ctx;
	const char		*extra[] = { "--data", NULL, NULL };
	static const char	*const files[] = { "data.mdb", "lock.mdb",
				    "annalsd.lock" };
	char			 tmp[256], file[300], sock2[160], inuse[64];
	char			*before, *after;
	long long		 bytes;
	uint64_t		 free_before;
	struct stat		 sb, sb2;
	struct passwd		*pw;
	MDB_env			*env;
	int			 i;

	T_OK(th_daemon_start(&d, NULL));
	load_thinned(d.sock);
	before = export_all(d.sock);
	/* The deletes and rewrites left pages free, and stats says so. */
	free_before = free_bytes_of(d.sock);
	T_ASSERT(free_before > 0);

	/* Not while the daemon holds the directory, nor a second one. */
	snprintf(inuse, sizeof inuse, "in use by another annalsd (pid %ld)",
	    (long)d.pid);
	annalsd_expect(1, inuse, "--compact", "--data", d.data, NULL);
	snprintf(sock2, sizeof sock2, "%s/second.sock", t_dir());
	annalsd_expect(1, inuse, "--socket", sock2, "--data", d.data, NULL);
	T_EQ_INT(th_daemon_stop(&d), 0);

	/* A mistyped directory is not made into an empty store. */
	snprintf(file, sizeof file, "%s/nowhere", t_dir());
	annalsd_expect(1, "--data names the directory of a store",
	    "--compact", "--data", file, NULL);
	T_ASSERT(access(file, F_OK) == -1);

	/*
	 * Nor while another process has the environment open (as annalsd
	 * --check may): it would go on with the old file's lock region.
	 */
	snprintf(file, sizeof file, "%s/data.mdb", d.data);
	T_OK(stat(file, &sb));
	T_OK(mdb_env_create(&env));
	mdb_env_set_maxdbs(env, 32);
	T_OK(mdb_env_open(env, d.data, MDB_RDONLY, 0640));
	annalsd_expect(1, "the store is open in another process",
	    "--compact", "--data", d.data, NULL);
	mdb_env_close(env);
	T_OK(stat(file, &sb2));
	T_ASSERT(sb2.st_ino == sb.st_ino && sb2.st_size == sb.st_size);

	/* What a compaction cut short leaves is removed. */
	snprintf(file, sizeof file, "%s/data.mdb", d.data);
	bytes = file_size(file);
	snprintf(tmp, sizeof tmp, "%s/compact.tmp", d.data);
	T_EQ_INT(mkdir(tmp, 0750), 0);
	snprintf(file, sizeof file, "%s/data.mdb", tmp);
	th_write(file, "half a copy", 11);
	annalsd_expect(0, "removing what an earlier compaction left",
	    "--compact", "--data", d.data, NULL);
	T_ASSERT(access(tmp, F_OK) == -1);
	snprintf(file, sizeof file, "%s/data.mdb", d.data);
	T_ASSERTF(file_size(file) < bytes, "data.mdb %lld bytes, %lld "
	    "before", file_size(file), bytes);
	T_OK(stat(file, &sb2));
	T_EQ_INT(sb2.st_mode & 07777, sb.st_mode & 07777);

	annalsd_expect(0, NULL, "--check", "--data", d.data, NULL);
	extra[1] = d.data;
	T_OK(th_daemon_start(&d, extra));
	after = export_all(d.sock);
	T_ASSERT(strlen(before) > 10000);
	T_EQ_STR(after, before);
	free(after);
	T_ASSERTF(free_bytes_of(d.sock) < free_before, "%llu bytes free "
	    "after, %llu before", (unsigned long long)free_bytes_of(d.sock),
	    (unsigned long long)free_before);
	ctx = annals_connect(d.sock);
	memset(ev, 0, sizeof ev);
	ev[0].start = "2014-12";
	ev[0].title = "after the compaction";
	ev[0].actors = actors;
	ev[0].nactors = 1;
	T_ASSERTF(annals_put(ctx, ev, 1, res) == 0, "%s", annals_errmsg(ctx));
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);

	/* A file it did not write in compact.tmp: refused, store as it was. */
	T_EQ_INT(mkdir(tmp, 0750), 0);
	snprintf(file, sizeof file, "%s/notes.txt", tmp);
	th_write(file, "mine", 4);
	annalsd_expect(1, "annalsd did not write", "--compact", "--data",
	    d.data, NULL);
	T_ASSERT(access(file, F_OK) == 0);
	annalsd_expect(0, NULL, "--check", "--data", d.data, NULL);
	T_OK(th_daemon_start(&d, extra));
	after = export_all(d.sock);
	T_ASSERT(strstr(after, "after the compaction") != NULL);
	free(after);
	free(before);
	T_EQ_INT(th_daemon_stop(&d), 0);
	T_OK(unlink(file));
	T_OK(rmdir(tmp));

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		return;
	/*
	 * Root compacts another user's store only as that user, so that the
	 * copy is theirs: a daemon running as them could not open root's.
	 */
	T_OK(chmod(t_dir(), 0755));
	T_OK(chown(d.data, pw->pw_uid, pw->pw_gid));
	for (i = 0; i < 3; i++) {
		snprintf(file, sizeof file, "%s/%s", d.data, files[i]);
		T_OK(chown(file, pw->pw_uid, pw->pw_gid));
	}
	annalsd_expect(1, "run as that user or with --user", "--compact",
	    "--data", d.data, NULL);
	annalsd_expect(0, NULL, "--compact", "--data", d.data, "--user",
	    "nobody", NULL);
	snprintf(file, sizeof file, "%s/data.mdb", d.data);
	T_OK(stat(file, &sb2));
	T_EQ_INT(sb2.st_uid, pw->pw_uid);
}

/*
 * A backup, the compact method and annalsd --compact on a filesystem
 * without room for their copy: each says that the disk is full and
 * leaves no copy behind, and the store is as it was (and served, by the
 * daemon that was asked); given room, they work.
 */
TEST(backup_and_compact_without_room_leave_no_copy_and_the_store_as_it_was)
{
	struct th_daemon	 d;
	struct annals_actor	 actor = { "SYR", "source" };
	struct annals_event	 ev[500];
	struct statvfs		 vfs;
	const char		*extra[] = { "--data", NULL, NULL };
	char			 small[160], db[200], file[300], tmp[300];
	char			 copy[200], starts[500][16], titles[500][240];
	const char		*args[] = { "backup", copy, NULL };
	const char		*compact[] = { "compact", NULL };
	struct th_run		 r;
	char			 buf[65536], *before, *after;
	annals_ctx		*ctx;
	struct stat		 sb, sb2;
	long long		 room;
	int			 b, i, fd;

	if (geteuid() != 0)
		T_SKIP("a small filesystem to fill is mounted as root");
	snprintf(small, sizeof small, "%s/small", t_dir());
	T_OK(mkdir(small, 0755));
	/* In a mount namespace of our own, the mount dies with the test. */
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", small, "tmpfs", 0, "size=16m") != 0) {
		T_ASSERTF(errno == EPERM, "mount: %s", strerror(errno));
		T_SKIP("mount: %s", strerror(errno));
	}
	snprintf(db, sizeof db, "%s/db", small);
	extra[1] = db;
	T_OK(th_daemon_start(&d, extra));
	ctx = annals_connect(d.sock);
	T_ASSERT(ctx != NULL && annals_errcode(ctx) == 0);
	srand(21);
	memset(titles, 0, sizeof titles);
	for (b = 0; b < 8; b++) {
		memset(ev, 0, sizeof ev);
		for (i = 0; i < 500; i++) {
			snprintf(starts[i], sizeof starts[i], "%d-%02d-%02d",
			    1990 + rand() % 30, 1 + rand() % 12,
			    1 + rand() % 28);
			memset(titles[i], 'a' + rand() % 26, 200);
			ev[i].start = starts[i];
			ev[i].title = titles[i];
			ev[i].actors = &actor;
			ev[i].nactors = 1;
		}
		T_ASSERTF(annals_put(ctx, ev, 500, NULL) == 0, "%s",
		    annals_errmsg(ctx));
	}
	annals_free(ctx);
	before = export_all(d.sock);

	/* Fill the filesystem but for a quarter of what a copy needs. */
	snprintf(file, sizeof file, "%s/data.mdb", db);
	T_OK(stat(file, &sb));
	T_OK(statvfs(small, &vfs));
	room = (long long)vfs.f_bavail * (long long)vfs.f_frsize -
	    sb.st_size / 4;
	T_ASSERTF(room > 0, "%lld bytes free, data.mdb %lld",
	    (long long)vfs.f_bavail * (long long)vfs.f_frsize,
	    (long long)sb.st_size);
	snprintf(tmp, sizeof tmp, "%s/filler", small);
	T_ASSERT((fd = open(tmp, O_WRONLY | O_CREAT, 0644)) >= 0);
	memset(buf, 'f', sizeof buf);
	for (; room > 0; room -= (long long)sizeof buf)
		T_ASSERT(write(fd, buf, room < (long long)sizeof buf ?
		    (size_t)room : sizeof buf) > 0);
	close(fd);

	snprintf(copy, sizeof copy, "%s/copy", small);
	th_annals(&r, d.sock, NULL, args);
	T_ASSERTF(r.status != 0 && strcmp(r.err, "annals: backup: no space "
	    "left on device\n") == 0, "backup: exit %d, %s", r.status, r.err);
	th_run_free(&r);
	T_ASSERTF(access(copy, F_OK) == -1, "%s is left", copy);
	/* The compact method too, and the daemon serves the store on. */
	th_annals(&r, d.sock, NULL, compact);
	T_ASSERTF(r.status != 0 && strstr(r.err, "no space left on the "
	    "device for the copy") != NULL, "compact: exit %d, %s", r.status,
	    r.err);
	th_run_free(&r);
	snprintf(tmp, sizeof tmp, "%s/compact.tmp", db);
	T_ASSERTF(access(tmp, F_OK) == -1, "%s is left", tmp);
	T_OK(stat(file, &sb2));
	T_ASSERT(sb2.st_ino == sb.st_ino && sb2.st_size == sb.st_size);
	after = export_all(d.sock);
	T_EQ_STR(after, before);
	free(after);
	T_EQ_INT(th_daemon_stop(&d), 0);

	annalsd_expect(1, "no space left on the device for the copy",
	    "--compact", "--data", db, NULL);
	snprintf(tmp, sizeof tmp, "%s/compact.tmp", db);
	T_ASSERTF(access(tmp, F_OK) == -1, "%s is left", tmp);
	T_OK(stat(file, &sb2));
	T_ASSERT(sb2.st_ino == sb.st_ino && sb2.st_size == sb.st_size);
	annalsd_expect(0, NULL, "--check", "--data", db, NULL);

	/* Room again: it compacts, and every event reads back the same. */
	snprintf(tmp, sizeof tmp, "%s/filler", small);
	T_OK(unlink(tmp));
	annalsd_expect(0, "compact", "--compact", "--data", db, NULL);
	T_ASSERTF(file_size(file) < (long long)sb.st_size, "data.mdb %lld "
	    "bytes, %lld before", file_size(file), (long long)sb.st_size);
	T_OK(th_daemon_start(&d, extra));
	after = export_all(d.sock);
	T_EQ_STR(after, before);
	free(after);
	free(before);
	th_annals(&r, d.sock, NULL, args);
	T_ASSERTF(r.status == 0, "backup: %s", r.err);
	th_run_free(&r);
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	T_ASSERT(file_size(file) > 0);
	T_EQ_INT(th_daemon_stop(&d), 0);
	T_OK(umount(small));
}

/* The result map of the response in buf, n bytes, unpacked into u. */
static const msgpack_object *
response_result(msgpack_unpacked *u, const unsigned char *buf, ssize_t n)
{
	const msgpack_object	*a;

	T_ASSERT(n > 0 && msgpack_unpack_next(u, (const char *)buf, (size_t)n,
	    NULL) == MSGPACK_UNPACK_SUCCESS);
	a = &u->data;
	T_ASSERT(a->type == MSGPACK_OBJECT_ARRAY && a->via.array.size == 4);
	T_ASSERTF(a->via.array.ptr[2].type == MSGPACK_OBJECT_NIL, "the "
	    "request failed");
	T_ASSERT(a->via.array.ptr[3].type == MSGPACK_OBJECT_MAP);
	return (&a->via.array.ptr[3]);
}

/* Put one event, (source during, key), at sock; exit 0 once acked. */
static void
keyed_writer(const char *sock, const char *key)
{
	struct annals_actor	 actor = { "USA", "source" };
	struct annals_event	 ev = { 0 };
	annals_ctx		*ctx = annals_connect(sock);

	if (ctx == NULL || annals_errcode(ctx) != 0)
		_exit(2);
	annals_set_timeout(ctx, 60000);
	ev.start = "2015-01-26/2015-01-29";
	ev.actors = &actor;
	ev.nactors = 1;
	ev.title = "written during a compaction";
	ev.source = "during";
	ev.key = key;
	_exit(annals_put(ctx, &ev, 1, NULL) == 0 ? 0 : 3);
}

/* Start a daemon whose compaction copies stop at the gate in dir/gate. */
static void
start_compact_gated(struct th_daemon *d, char *gate, size_t size)
{
	int	rc;

	snprintf(gate, size, "%s/gate", t_dir());
	T_OK(mkdir(gate, 0755));
	setenv("ANNALS_GATE_PATH", "/compact.tmp/", 1);
	rc = th_daemon_start_gated(d, t_dir(), gate, NULL);
	unsetenv("ANNALS_GATE_PATH");
	T_OK(rc);
}

/*
 * The compact method on a live store: its copy is held at a preloaded
 * gate (tests/preload/gate-write.c) for as long as the test needs.
 * Meanwhile reads are served and writes wait, uncommitted (else the
 * copy would miss them); a second compaction and a backup are refused.
 * Then the copy takes the store's place: the file shrinks, every event
 * reads back the same, the write that waited is committed, and the
 * check passes.
 */
TEST(compact_online_serves_reads_and_holds_writes_until_the_copy_is_in)
{
	struct th_daemon	 d;
	struct annals_event	*got = NULL;
	const msgpack_object	*res;
	msgpack_unpacked	 u;
	annals_ctx		*ctx;
	unsigned char		 buf[4096];
	char			 gate[128], file[300], copy[200], params[300];
	char			 msg[256], *before, *after;
	uint64_t		 seq, bytes, id;
	ssize_t			 n;
	pid_t			 pid;
	int			 fd, fd2, plen, status, deleted;

	start_compact_gated(&d, gate, sizeof gate);
	load_thinned(d.sock);
	ctx = connect_and_put(d.sock, "stored before the compaction", &id);
	before = export_all(d.sock);
	seq = last_seq_of(d.sock);
	snprintf(file, sizeof file, "%s/data.mdb", d.data);
	bytes = (uint64_t)file_size(file);

	fd = request_to_gate(d.sock, gate, "compact", "\x80", 1);
	if ((pid = fork()) == 0)
		keyed_writer(d.sock, "k1");
	T_ASSERTF(annals_ping(ctx) == 0, "ping during the compaction: %s",
	    annals_errmsg(ctx));
	T_ASSERTF(annals_get(ctx, id, &got) == 0, "get during the "
	    "compaction: %s", annals_errmsg(ctx));
	T_EQ_STR(got->title, "stored before the compaction");
	annals_event_free(got);
	/* The write has had time to commit, had it not been held. */
	usleep(300000);
	T_EQ_U64(last_seq_of(d.sock), seq);
	T_EQ_INT(waitpid(pid, &status, WNOHANG), 0);
	T_EQ_STR(copying_of(d.sock), "compaction");

	/* One copy at a time. */
	fd2 = th_raw_connect(d.sock);
	T_EQ_INT(th_call(fd2, 2, "compact", "\x80", 1, buf, sizeof buf, 10000,
	    msg, sizeof msg), ANNALS_ELIMIT);
	T_ASSERTF(strstr(msg, "a compaction is already running") != NULL,
	    "%s", msg);
	snprintf(copy, sizeof copy, "%s/copy", t_dir());
	plen = snprintf(params, sizeof params, "\x81\xa4path\xd9%c%s",
	    (char)strlen(copy), copy);
	T_EQ_INT(th_call(fd2, 3, "backup", params, (size_t)plen, buf,
	    sizeof buf, 10000, msg, sizeof msg), ANNALS_ELIMIT);
	T_ASSERTF(strstr(msg, "a compaction is running") != NULL, "%s", msg);
	close(fd2);
	T_ASSERT(access(copy, F_OK) == -1);

	/* The gate opens: the copy ends and is put in place. */
	open_gate(gate);
	n = th_read_frame(fd, buf, sizeof buf, 30000);
	msgpack_unpacked_init(&u);
	res = response_result(&u, buf, n);
	T_EQ_U64(stat_u64(res, "bytes_before"), bytes);
	T_ASSERTF(stat_u64(res, "bytes_after") < bytes, "%llu bytes after, "
	    "%llu before", (unsigned long long)stat_u64(res, "bytes_after"),
	    (unsigned long long)bytes);
	T_ASSERT(stat_u64(res, "entries") > 10000);
	T_ASSERT(stat_u64(res, "writes_held_ms") <= stat_u64(res, "ms"));
	T_ASSERT(stat_u64(res, "writes_held_ms") >= 300);
	msgpack_unpacked_destroy(&u);
	close(fd);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the write "
	    "held by the compaction: status %d", status);
	snprintf(copy, sizeof copy, "%s/compact.tmp", d.data);
	T_ASSERTF(access(copy, F_OK) == -1, "%s is left", copy);

	/* Every event as it was, and the held write on top. */
	T_ASSERTF(annals_get_by_key(ctx, "during", "k1", &got) == 0, "%s",
	    annals_errmsg(ctx));
	T_EQ_STR(got->title, "written during a compaction");
	T_OK(annals_delete(ctx, &got->id, 1, &deleted));
	T_EQ_INT(deleted, 1);
	annals_event_free(got);
	after = export_all(d.sock);
	T_EQ_STR(after, before);
	free(after);
	free(before);
	annals_free(ctx);
	T_EQ_STR(copying_of(d.sock), "");
	T_EQ_INT(th_daemon_stop(&d), 0);
	T_ASSERT(log_has(d.log, "compacted the store"));
	annalsd_expect(0, NULL, "--check", "--data", d.data, NULL);
}

/*
 * A stop during a compaction waits for the copy, leaves the store as it
 * was (the copy is removed), and commits the write that was held.
 */
TEST(compact_online_cut_short_by_a_stop_leaves_the_store_and_the_write)
{
	struct th_daemon	 d;
	annals_ctx		*ctx;
	struct annals_event	*got = NULL;
	char			 gate[128], file[300], *before, *after;
	struct stat		 sb, sb2;
	pid_t			 pid;
	int			 fd, status, deleted;

	start_compact_gated(&d, gate, sizeof gate);
	load_thinned(d.sock);
	before = export_all(d.sock);
	snprintf(file, sizeof file, "%s/data.mdb", d.data);
	T_OK(stat(file, &sb));

	fd = request_to_gate(d.sock, gate, "compact", "\x80", 1);
	if ((pid = fork()) == 0)
		keyed_writer(d.sock, "k2");
	usleep(100000);
	stop_at_gate(&d, gate);
	stopped(&d);
	close(fd);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the held "
	    "write: status %d", status);
	T_ASSERT(log_has(d.log, "compaction cut short by the stop"));
	snprintf(file, sizeof file, "%s/compact.tmp", d.data);
	T_ASSERTF(access(file, F_OK) == -1, "%s is left", file);
	snprintf(file, sizeof file, "%s/data.mdb", d.data);
	T_OK(stat(file, &sb2));
	T_EQ_U64((uint64_t)sb2.st_ino, (uint64_t)sb.st_ino);
	annalsd_expect(0, NULL, "--check", "--data", d.data, NULL);

	{
		const char	*extra[] = { "--data", d.data, NULL };
		char		 data[sizeof d.data];

		snprintf(data, sizeof data, "%s", d.data);
		extra[1] = data;
		T_OK(th_daemon_start(&d, extra));
	}
	ctx = annals_connect(d.sock);
	T_ASSERT(ctx != NULL && annals_errcode(ctx) == 0);
	T_ASSERTF(annals_get_by_key(ctx, "during", "k2", &got) == 0, "%s",
	    annals_errmsg(ctx));
	T_OK(annals_delete(ctx, &got->id, 1, &deleted));
	annals_event_free(got);
	annals_free(ctx);
	after = export_all(d.sock);
	T_EQ_STR(after, before);
	free(after);
	free(before);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * What keeps the compact method from putting its copy in place leaves
 * the store as it was and served: files in compact.tmp it did not
 * write, another process with the environment open.  Then it compacts,
 * as annals compact says.
 */
TEST(compact_online_refused_leaves_the_store_served)
{
	struct th_daemon	 d;
	struct th_run		 r;
	MDB_env			*env;
	const char		*args[] = { "compact", NULL };
	unsigned char		 buf[4096];
	char			 tmp[256], file[300], msg[256], *before, *after;
	int			 fd;
	unsigned long long	 from, to, entries, ms, held;
	long long		 bytes;

	T_OK(th_daemon_start(&d, NULL));
	load_thinned(d.sock);
	before = export_all(d.sock);
	snprintf(file, sizeof file, "%s/data.mdb", d.data);
	bytes = file_size(file);

	/* It takes no parameters. */
	fd = th_raw_connect(d.sock);
	T_EQ_INT(th_call(fd, 1, "compact", "\x81\xa1x\x01", 4, buf,
	    sizeof buf, 10000, msg, sizeof msg), ANNALS_EINVALID);
	close(fd);

	snprintf(tmp, sizeof tmp, "%s/compact.tmp", d.data);
	T_OK(mkdir(tmp, 0750));
	snprintf(file, sizeof file, "%s/notes.txt", tmp);
	th_write(file, "mine", 4);
	th_annals(&r, d.sock, NULL, args);
	T_ASSERTF(r.status != 0 && strstr(r.err, "annalsd did not write") !=
	    NULL, "exit %d: %s", r.status, r.err);
	th_run_free(&r);
	T_ASSERT(access(file, F_OK) == 0);
	T_OK(unlink(file));
	T_OK(rmdir(tmp));

	T_OK(mdb_env_create(&env));
	mdb_env_set_maxdbs(env, 128);
	T_OK(mdb_env_open(env, d.data, MDB_RDONLY, 0640));
	th_annals(&r, d.sock, NULL, args);
	T_ASSERTF(r.status != 0 && strstr(r.err, "the store is open in "
	    "another process") != NULL, "exit %d: %s", r.status, r.err);
	th_run_free(&r);
	mdb_env_close(env);
	T_ASSERTF(access(tmp, F_OK) == -1, "%s is left", tmp);
	snprintf(file, sizeof file, "%s/data.mdb", d.data);
	T_EQ_INT(file_size(file), bytes);
	after = export_all(d.sock);
	T_EQ_STR(after, before);
	free(after);

	TH_ANNALS(&r, d.sock, NULL, 0, "compact");
	T_ASSERTF(sscanf(r.out, "compacted: %llu bytes to %llu, %llu entries, "
	    "in %llu ms (writes held %llu ms)\n", &from, &to, &entries, &ms,
	    &held) == 5, "%s", r.out);
	th_run_free(&r);
	T_EQ_U64(from, (uint64_t)bytes);
	T_EQ_U64(to, (uint64_t)file_size(file));
	T_ASSERTF(to < from, "%llu bytes to %llu", from, to);
	T_ASSERT(held <= ms);
	after = export_all(d.sock);
	T_EQ_STR(after, before);
	free(after);
	free(before);
	T_EQ_INT(th_daemon_stop(&d), 0);
	annalsd_expect(0, NULL, "--check", "--data", d.data, NULL);
}
