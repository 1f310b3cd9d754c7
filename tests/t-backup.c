/*
 * Backup while writing: a writer keeps putting events while the daemon
 * copies itself; the copy passes the integrity check and holds every
 * event acknowledged before the backup began.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../client/annals.h"
#include "harness.h"
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

	T_OK(th_daemon_start(&d, NULL));
	snprintf(logpath, sizeof logpath, "%s/acked", t_dir());
	snprintf(copy, sizeof copy, "%s/copy", t_dir());
	if ((pid = fork()) == 0)
		writer(d.sock, logpath);
	while (batches_acked(logpath) < 50)
		usleep(10000);

	before = batches_acked(logpath);
	ctx = annals_connect(d.sock);
	T_ASSERT(ctx != NULL && annals_errcode(ctx) == 0);
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
		annals_event_free(ev);
	}
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}
