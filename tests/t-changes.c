/*
 * The change feed through libannals and annals(1), against the real
 * daemon: replaying the changes from 0 gives the database, reading
 * resumes after a restart, deletes are reported, a subscriber hears of
 * another client's put while its own calls keep working, and
 * "annals changes --follow" prints it.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "test.h"
#include "../client/annals.h"

extern char	**environ;

/* id -> title of the live events, as a replay of the feed builds it. */
struct chg_map {
	json_t		*live;		/* object: id -> title */
	uint64_t	 puts, deletes, last;
	int		 ordered;
};

static int
chg_apply(const struct annals_change *ch, void *arg)
{
	struct chg_map	*m = arg;
	char		 id[32];

	if (ch->seq <= m->last)
		m->ordered = 0;
	m->last = ch->seq;
	snprintf(id, sizeof id, "%llu", (unsigned long long)ch->id);
	if (ch->op == ANNALS_CHANGE_PUT) {
		T_ASSERT(ch->event != NULL);
		T_EQ_U64(ch->event->id, ch->id);
		json_object_set_new(m->live, id,
		    json_string(ch->event->title));
		m->puts++;
	} else {
		T_EQ_INT(ch->op, ANNALS_CHANGE_DELETE);
		T_ASSERT(ch->event == NULL);
		json_object_del(m->live, id);
		m->deletes++;
	}
	return (0);
}

/* Read the feed after since in pages of limit into m; the next since. */
static uint64_t
chg_read(annals_ctx *ctx, uint64_t since, uint32_t limit, struct chg_map *m,
    int pages)
{
	struct annals_feed	feed;
	int			n = 0;

	do {
		T_ASSERTF(annals_changes(ctx, since, limit, chg_apply, m,
		    &feed) == 0, "%s", annals_errmsg(ctx));
		since = feed.next;
	} while (feed.more && ++n != pages);
	return (since);
}

/* What the database holds now, by a full range query. */
static json_t *
chg_snapshot(annals_ctx *ctx)
{
	const struct annals_event	*ev;
	annals_query			*q;
	annals_iter			*it;
	json_t				*o;
	char				 id[32];

	T_ASSERT((o = json_object()) != NULL);
	T_ASSERT((q = annals_query_new()) != NULL);
	T_ASSERT((it = annals_range(ctx, q)) != NULL);
	while ((ev = annals_iter_next(it)) != NULL) {
		snprintf(id, sizeof id, "%llu", (unsigned long long)ev->id);
		json_object_set_new(o, id, json_string(ev->title));
	}
	T_EQ_INT(annals_iter_error(it), 0);
	annals_iter_free(it);
	annals_query_free(q);
	return (o);
}

/* Put n events with keys prefix-i and the given title. */
static void
chg_put(annals_ctx *ctx, const char *prefix, int n, const char *title)
{
	struct annals_event	 ev[100];
	struct annals_actor	 a = { "SYR", "source" };
	char			 keys[100][32];
	int			 i;

	T_ASSERT(n <= 100);
	memset(ev, 0, sizeof ev);
	for (i = 0; i < n; i++) {
		snprintf(keys[i], sizeof keys[i], "%s-%d", prefix, i);
		ev[i].source = "test";
		ev[i].key = keys[i];
		ev[i].start = "2015-01-28";
		ev[i].actors = &a;
		ev[i].nactors = 1;
		ev[i].title = title;
	}
	T_ASSERTF(annals_put(ctx, ev, n, NULL) == 0, "%s", annals_errmsg(ctx));
}

TEST(changes_from_zero_reproduce_the_database)
{
	struct th_daemon	 d;
	struct chg_map		 m;
	annals_ctx		*ctx;
	uint64_t		 ids[10];
	json_t			*snap;
	int			 i;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	chg_put(ctx, "a", 100, "first");
	chg_put(ctx, "b", 50, "second");
	/* Updates and deletes: the log keeps the latest of each id. */
	chg_put(ctx, "a", 30, "updated");
	for (i = 0; i < 10; i++)
		ids[i] = 101 + i * 3;
	T_OK(annals_delete(ctx, ids, 10, NULL));

	memset(&m, 0, sizeof m);
	m.live = json_object();
	m.ordered = 1;
	chg_read(ctx, 0, 7, &m, 0);
	T_ASSERT(m.ordered);
	T_EQ_U64(m.deletes, 10);
	T_EQ_U64(m.puts, 150 - 10);
	snap = chg_snapshot(ctx);
	T_EQ_INT(json_object_size(snap), 140);
	T_ASSERTF(json_equal(snap, m.live), "replay differs from the store");
	T_EQ_STR(json_string_value(json_object_get(m.live, "1")), "updated");
	json_decref(snap);
	json_decref(m.live);
	annals_free(ctx);
	T_OK(th_daemon_stop(&d));
}

TEST(changes_resume_after_a_restart)
{
	struct th_daemon	 d;
	struct chg_map		 m;
	annals_ctx		*ctx;
	uint64_t		 next;
	json_t			*snap;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	chg_put(ctx, "a", 100, "one");
	memset(&m, 0, sizeof m);
	m.live = json_object();
	m.ordered = 1;
	/* Two pages of 20, then the daemon goes away. */
	next = chg_read(ctx, 0, 20, &m, 2);
	T_EQ_U64(m.puts, 40);
	annals_free(ctx);
	T_OK(th_daemon_stop(&d));

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	chg_put(ctx, "b", 10, "two");
	chg_read(ctx, next, 20, &m, 0);
	T_ASSERT(m.ordered);
	T_EQ_U64(m.puts, 110);
	snap = chg_snapshot(ctx);
	T_ASSERT(json_equal(snap, m.live));
	json_decref(snap);
	json_decref(m.live);
	annals_free(ctx);
	T_OK(th_daemon_stop(&d));
}

struct chg_one {
	int		 n;
	uint64_t	 seq, id;
	int		 op;
	char		 title[64];
};

static int
chg_note(const struct annals_change *ch, void *arg)
{
	struct chg_one	*o = arg;

	o->n++;
	o->seq = ch->seq;
	o->id = ch->id;
	o->op = ch->op;
	snprintf(o->title, sizeof o->title, "%s", ch->event != NULL &&
	    ch->event->title != NULL ? ch->event->title : "");
	return (0);
}

TEST(changes_report_deletes)
{
	struct th_daemon	 d;
	struct annals_feed	 feed;
	struct chg_one		 o;
	annals_ctx		*ctx;
	uint64_t		 id = 2;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	chg_put(ctx, "a", 3, "x");
	T_OK(annals_delete(ctx, &id, 1, NULL));
	memset(&o, 0, sizeof o);
	T_OK(annals_changes(ctx, 3, 0, chg_note, &o, &feed));
	T_EQ_INT(o.n, 1);
	T_EQ_INT(o.op, ANNALS_CHANGE_DELETE);
	T_EQ_U64(o.id, 2);
	T_EQ_U64(o.seq, 4);
	T_EQ_U64(feed.next, 4);
	T_EQ_U64(feed.last_seq, 4);
	T_EQ_INT(feed.more, 0);
	/* Nothing after the end. */
	memset(&o, 0, sizeof o);
	T_OK(annals_changes(ctx, 4, 0, chg_note, &o, &feed));
	T_EQ_INT(o.n, 0);
	/* A limit the protocol refuses. */
	T_EQ_INT(annals_changes(ctx, 0, 10001, chg_note, &o, NULL), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	annals_free(ctx);
	T_OK(th_daemon_stop(&d));
}

TEST(changes_subscriber_hears_another_clients_put)
{
	struct th_daemon		 d;
	struct annals_feed		 feed;
	struct chg_one			 o;
	struct annals_event		*ev;
	annals_ctx			*sub, *other;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((sub = annals_connect(d.sock)) != NULL);
	T_ASSERT((other = annals_connect(d.sock)) != NULL);
	chg_put(other, "old", 2, "backlog");
	/* Not subscribed yet: refused. */
	T_EQ_INT(annals_notification_next(sub, 0, chg_note, &o, NULL), -1);
	T_EQ_INT(annals_errcode(sub), ANNALS_EINVALID);

	T_OK(annals_subscribe(sub, 1, NULL));
	memset(&o, 0, sizeof o);
	/* First the backlog after since. */
	T_EQ_INT(annals_notification_next(sub, 5000, chg_note, &o, &feed), 1);
	T_EQ_INT(o.n, 1);
	T_EQ_U64(o.seq, 2);
	T_EQ_U64(feed.next, 2);
	/* Nothing more yet: a time-out, and the context still works. */
	T_EQ_INT(annals_notification_next(sub, 50, chg_note, &o, NULL), 0);
	T_OK(annals_ping(sub));

	/* Another client's put arrives while sub waits for its own call. */
	chg_put(other, "new", 1, "pushed");
	T_OK(annals_get(sub, 1, &ev));
	T_EQ_STR(ev->title, "backlog");
	annals_event_free(ev);
	memset(&o, 0, sizeof o);
	T_EQ_INT(annals_notification_next(sub, 5000, chg_note, &o, &feed), 1);
	T_EQ_INT(o.n, 1);
	T_EQ_INT(o.op, ANNALS_CHANGE_PUT);
	T_EQ_STR(o.title, "pushed");
	T_EQ_U64(o.seq, 3);

	T_OK(annals_unsubscribe(sub));
	chg_put(other, "late", 1, "unheard");
	T_OK(annals_ping(sub));
	T_EQ_INT(annals_notification_next(sub, 0, chg_note, &o, NULL), -1);
	annals_free(sub);
	annals_free(other);
	T_OK(th_daemon_stop(&d));
}

/* Start annals with args, stdout to out; returns the pid. */
static pid_t
chg_spawn(const char *sock, const char *out, const char **args)
{
	posix_spawn_file_actions_t	 fa;
	const char			*argv[32];
	char				 bin[4200];
	pid_t				 pid;
	int				 i = 0;

	snprintf(bin, sizeof bin, "%s/annals", t_bindir());
	argv[i++] = bin;
	argv[i++] = "-s";
	argv[i++] = sock;
	while (*args != NULL && i < 31)
		argv[i++] = *args++;
	argv[i] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out,
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_EQ_INT(posix_spawn(&pid, bin, &fa, NULL, (char **)argv, environ),
	    0);
	posix_spawn_file_actions_destroy(&fa);
	return (pid);
}

TEST(changes_cli_follow_prints_another_clients_put)
{
	const char		*follow[] = { "changes", "--since", "1",
	    "--follow", "--limit", "2", NULL };
	const char		*all[] = { "--format", "csv", "changes", NULL };
	struct th_daemon	 d;
	annals_ctx		*ctx;
	char			 out[256], *text, *nl;
	json_t			*o;
	pid_t			 pid;
	int			 status, i;
	uint64_t		 id = 1;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	chg_put(ctx, "a", 1, "before");
	snprintf(out, sizeof out, "%s/follow.out", t_dir());
	pid = chg_spawn(d.sock, out, follow);
	/* Let it subscribe: the put must come through the notification. */
	usleep(200000);
	T_EQ_INT(waitpid(pid, &status, WNOHANG), 0);
	chg_put(ctx, "b", 1, "followed");
	T_OK(annals_delete(ctx, &id, 1, NULL));
	for (i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(50000);
	T_ASSERTF(i < 100, "annals changes --follow did not end");
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	text = th_slurp(out, NULL);
	T_ASSERT((nl = strchr(text, '\n')) != NULL);
	T_ASSERT((o = json_loadb(text, nl - text, 0, NULL)) != NULL);
	T_EQ_INT(json_integer_value(json_object_get(o, "seq")), 2);
	T_EQ_STR(json_string_value(json_object_get(o, "op")), "put");
	T_EQ_STR(json_string_value(json_object_get(o, "title")), "followed");
	json_decref(o);
	T_ASSERT((o = json_loads(nl + 1, 0, NULL)) != NULL);
	T_EQ_STR(json_string_value(json_object_get(o, "op")), "delete");
	T_EQ_INT(json_integer_value(json_object_get(o, "id")), 1);
	T_ASSERT(json_object_get(o, "start") == NULL);
	json_decref(o);
	free(text);

	/* CSV: seq and op before the event's columns. */
	pid = chg_spawn(d.sock, out, all);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	text = th_slurp(out, NULL);
	T_ASSERTF(strncmp(text, "seq,op,id,rev,", 14) == 0, "%s", text);
	T_ASSERT(strstr(text, "\n2,put,2,1,") != NULL);
	T_ASSERT(strstr(text, "\n3,delete,1,") != NULL);
	free(text);
	annals_free(ctx);
	T_OK(th_daemon_stop(&d));
}
