/*
 * Sixteen clients writing and reading at once, each with its own
 * connection in its own process: every acknowledged write is there
 * afterwards, readers always see whole events, and the store is sound.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../client/annals.h"
#include "harness.h"
#include "test.h"

#define CLIENTS		16
#define ROUNDS		60
#define BATCH		5

/* Put ROUNDS batches and query between them; exit status = failures. */
static void
client(const char *sock, int c)
{
	struct annals_actor		 actors[2] = { { "SYRGOV", "source" },
					    { "RUS", "target" } };
	struct annals_event		 ev[BATCH];
	struct annals_put_result	 res[BATCH];
	const struct annals_event	*e;
	annals_query			*q;
	annals_iter			*it;
	annals_ctx			*ctx = annals_connect(sock);
	char				 keys[BATCH][32];
	int				 r, i, bad = 0;

	if (ctx == NULL || annals_errcode(ctx) != 0)
		_exit(100);
	q = annals_query_new();
	annals_query_set_range(q, "2015-01", "2015-01");
	annals_query_set_page_size(q, 50);
	for (r = 0; r < ROUNDS; r++) {
		memset(ev, 0, sizeof ev);
		for (i = 0; i < BATCH; i++) {
			snprintf(keys[i], sizeof keys[i], "c%d-%d", c,
			    r * BATCH + i);
			ev[i].source = "conc";
			ev[i].key = keys[i];
			ev[i].start = i % 2 ? "2015-01-26/2015-01-29" :
			    "2015-01";
			ev[i].actors = actors;
			ev[i].nactors = 2;
			ev[i].title = "concurrent";
		}
		if (annals_put(ctx, ev, BATCH, res) != 0) {
			bad++;
			continue;
		}
		for (i = 0; i < BATCH; i++)
			if (res[i].status != ANNALS_ADDED)
				bad++;
		/* Readers see whole records, never a torn one. */
		it = annals_range(ctx, q);
		for (i = 0; i < 120 && (e = annals_iter_next(it)) != NULL;
		    i++) {
			if (e->nactors != 2 || e->title == NULL ||
			    strcmp(e->title, "concurrent") != 0)
				bad++;
		}
		if (annals_iter_error(it) != 0)
			bad++;
		annals_iter_free(it);
	}
	annals_query_free(q);
	annals_free(ctx);
	_exit(bad > 99 ? 99 : bad);
}

TEST(concurrency_16_clients_lose_nothing)
{
	struct th_daemon	 d;
	struct annals_stats	 st;
	struct annals_event	*ev;
	annals_ctx		*ctx;
	pid_t			 pids[CLIENTS];
	char			 key[32], cmd[512];
	int			 c, i, status;

	T_OK(th_daemon_start(&d, NULL));
	for (c = 0; c < CLIENTS; c++) {
		if ((pids[c] = fork()) == 0)
			client(d.sock, c);
	}
	for (c = 0; c < CLIENTS; c++) {
		T_EQ_INT(waitpid(pids[c], &status, 0), pids[c]);
		T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "client %d: status %d", c, status);
	}
	ctx = annals_connect(d.sock);
	T_OK(annals_stats(ctx, &st));
	T_EQ_U64(st.events, CLIENTS * ROUNDS * BATCH);
	for (c = 0; c < CLIENTS; c++) {
		for (i = 0; i < ROUNDS * BATCH; i++) {
			snprintf(key, sizeof key, "c%d-%d", c, i);
			ev = NULL;
			T_ASSERTF(annals_get_by_key(ctx, "conc", key, &ev) == 0,
			    "%s: %s", key, annals_errmsg(ctx));
			annals_event_free(ev);
		}
	}
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
	snprintf(cmd, sizeof cmd, "%s/annalsd --check --data %s >&2",
	    t_bindir(), d.data);
	T_EQ_INT(system(cmd), 0);
}
