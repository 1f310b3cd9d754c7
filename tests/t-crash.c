/*
 * Crash consistency: writers put, update and delete events and log every
 * acknowledgement; the daemon is killed with SIGKILL at a random moment,
 * restarted, and every acknowledged write must be there (every
 * acknowledged delete gone), with the indexes agreeing with the records.
 *
 * `make test` runs a few cycles; `make test-crash` runs
 * $ANNALS_CRASH_CYCLES (default 50).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../client/annals.h"
#include "harness.h"
#include "test.h"

#define CRASH_WRITERS	3
#define CRASH_KEYS	40

struct key_state {
	int		acked;		/* version acknowledged; -1 deleted */
	int		pending;	/* version in flight; -1 delete */
	int		has_pending;
};

static void
log_line(int fd, char op, int k, int v)
{
	char	buf[64];
	int	n = snprintf(buf, sizeof buf, "%c %d %d\n", op, k, v);

	if (write(fd, buf, (size_t)n) != n)
		_exit(3);
}

/* One writer: random puts and deletes on its own keys until it fails. */
static void
writer(const char *sock, int cycle, int w, const char *logpath,
    unsigned seed)
{
	struct annals_event		 ev;
	struct annals_actor		 actor = { "RUS", "source" };
	struct annals_put_result	 res;
	uint64_t			 ids[CRASH_KEYS];
	annals_ctx			*ctx;
	char				 key[32], title[48];
	int				 fd, k, v = 0, i;

	memset(ids, 0, sizeof ids);
	if ((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		_exit(2);
	ctx = annals_connect(sock);
	if (ctx == NULL || annals_errcode(ctx) != 0)
		_exit(0);
	for (i = 0; i < 100000; i++) {
		k = (int)(rand_r(&seed) % CRASH_KEYS);
		if (ids[k] != 0 && rand_r(&seed) % 4 == 0) {
			log_line(fd, 'T', k, -1);
			if (annals_delete(ctx, &ids[k], 1, NULL) != 0)
				break;
			log_line(fd, 'A', k, -1);
			ids[k] = 0;
			continue;
		}
		v++;
		snprintf(key, sizeof key, "c%d-w%d-k%d", cycle, w, k);
		snprintf(title, sizeof title, "version %d", v);
		memset(&ev, 0, sizeof ev);
		ev.source = "crash";
		ev.key = key;
		ev.start = v % 2 ? "2015-01-26/2015-01-29" : "2014-12";
		ev.actors = &actor;
		ev.nactors = 1;
		ev.title = title;
		log_line(fd, 'T', k, v);
		if (annals_put(ctx, &ev, 1, &res) != 0)
			break;
		log_line(fd, 'A', k, v);
		ids[k] = res.id;
	}
	annals_free(ctx);
	close(fd);
	_exit(0);
}

/* Read a writer's log into per-key states; returns acked writes. */
static int
read_log(const char *path, struct key_state *ks)
{
	FILE	*f;
	char	 op;
	int	 k, v, acked = 0;

	for (k = 0; k < CRASH_KEYS; k++) {
		ks[k].acked = -1;
		ks[k].has_pending = 0;
	}
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	while (fscanf(f, " %c %d %d", &op, &k, &v) == 3) {
		T_ASSERT(k >= 0 && k < CRASH_KEYS);
		if (op == 'T') {
			ks[k].pending = v;
			ks[k].has_pending = 1;
		} else {
			ks[k].acked = v;
			ks[k].has_pending = 0;
			acked++;
		}
	}
	fclose(f);
	return (acked);
}

static int
version_of(const struct annals_event *ev)
{
	int	v;

	if (ev == NULL)
		return (-1);
	if (sscanf(ev->title, "version %d", &v) != 1)
		return (-2);
	return (v);
}

static void
run_cycles(int cycles)
{
	struct th_daemon	 d;
	struct key_state	 ks[CRASH_KEYS];
	struct annals_event	*ev;
	annals_ctx		*ctx;
	pid_t			 pids[CRASH_WRITERS];
	char			 path[160], key[64], cmd[512];
	unsigned		 seed = t_seed();
	int			 c, w, k, have, status, checked = 0;
	int			 lost = 0;

	T_OK(th_daemon_start(&d, NULL));
	for (c = 0; c < cycles; c++) {
		for (w = 0; w < CRASH_WRITERS; w++) {
			snprintf(path, sizeof path, "%s/w%d.log", t_dir(), w);
			if ((pids[w] = fork()) == 0)
				writer(d.sock, c, w, path, seed + c * 31 + w);
		}
		usleep(20000 + rand_r(&seed) % 200000);
		th_daemon_kill(&d);
		for (w = 0; w < CRASH_WRITERS; w++)
			waitpid(pids[w], &status, 0);

		T_OK(th_daemon_start(&d, NULL));
		ctx = annals_connect(d.sock);
		T_ASSERT(ctx != NULL && annals_errcode(ctx) == 0);
		for (w = 0; w < CRASH_WRITERS; w++) {
			snprintf(path, sizeof path, "%s/w%d.log", t_dir(), w);
			checked += read_log(path, ks);
			for (k = 0; k < CRASH_KEYS; k++) {
				snprintf(key, sizeof key, "c%d-w%d-k%d", c, w,
				    k);
				ev = NULL;
				if (annals_get_by_key(ctx, "crash", key,
				    &ev) != 0)
					T_ASSERTF(annals_errcode(ctx) ==
					    ANNALS_ENOTFOUND, "%s",
					    annals_errmsg(ctx));
				have = version_of(ev);
				annals_event_free(ev);
				/* The last acknowledged state, or the one in
				 * flight when the daemon died. */
				if (have != ks[k].acked && !(ks[k].has_pending &&
				    have == ks[k].pending)) {
					fprintf(stderr, "cycle %d %s: have %d, "
					    "acknowledged %d\n", c, key, have,
					    ks[k].acked);
					lost++;
				}
			}
		}
		annals_free(ctx);
		/* The indexes agree with the records after every crash. */
		snprintf(cmd, sizeof cmd, "%s/annalsd --check --data %s "
		    ">&2", t_bindir(), d.data);
		T_EQ_INT(system(cmd), 0);
	}
	T_EQ_INT(th_daemon_stop(&d), 0);
	printf("crash: cycles %d, acknowledged writes checked %d, lost: %d\n",
	    cycles, checked, lost);
	T_EQ_INT(lost, 0);
	T_ASSERT(checked > 0);
}

TEST(crash_kill9_loses_no_acknowledged_write)
{
	const char	*env = getenv("ANNALS_CRASH_CYCLES");

	run_cycles(env != NULL ? atoi(env) : 4);
}
