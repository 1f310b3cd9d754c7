/*
 * Scale-out on NATS JetStream (issue #17, contrib/nats/README.md): a
 * primary, annals-nats publish, and replicas (annalsd --follow), against
 * a nats-server -js each test starts on loopback ports with its store in
 * the test's directory.  Without libnats or nats-server they skip.
 *
 * The load is mixed: batches of new events, updates of live ones by id,
 * deletions.  ANNALS_NATS_N sets how many records it touches in the
 * first test (default 50000, as the issue asks); the others use fewer.
 */
#include <sys/stat.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "../client/annals.h"
#include "../proto/proto.h"
#include "harness.h"
#include "nats.h"
#include "runner.h"
#include "test.h"

/* What curl ARGS printed (the body, then the status code). */
static char *
curl(const char *args)
{
	char	cmd[512], out[160];

	snprintf(out, sizeof out, "%s/curl.out", t_dir());
	snprintf(cmd, sizeof cmd, "curl -s -w ' %%{http_code}' %s > %s", args,
	    out);
	T_EQ_INT(system(cmd), 0);
	return (th_slurp(out, NULL));
}

static char *
export_of(const char *sock)
{
	const char	*args[] = { "export", NULL };
	struct th_run	 r;
	char		*out;

	th_annals(&r, sock, NULL, args);
	T_EQ_INT(r.status, 0);
	out = r.out;
	r.out = NULL;
	th_run_free(&r);
	return (out);
}

static void
assert_same_export(const char *primary, const char *replica)
{
	char	*a = export_of(primary), *b = export_of(replica);

	T_ASSERT(a != NULL && b != NULL);
	T_ASSERTF(strlen(a) > 0, "the primary exported nothing");
	T_ASSERTF(strcmp(a, b) == 0, "%s differs from the primary's export "
	    "(%zu and %zu bytes)", replica, strlen(b), strlen(a));
	free(a);
	free(b);
}

/* The mixed load: n records touched in batches on ctx. */
struct load {
	annals_ctx	*ctx;
	uint64_t	*live;
	size_t		 nlive, cap;
	unsigned	 rnd;
	uint64_t	 done;
};

static unsigned
load_rand(struct load *l)
{
	l->rnd = l->rnd * 1103515245u + 12345u;
	return (l->rnd >> 8);
}

static void
load_batch(struct load *l)
{
	struct annals_event	 ev[100];
	struct annals_put_result res[100];
	struct annals_actor	 actors[2] = { { "AAA", NULL }, { "BBB", "x" } };
	char			 start[100][16], title[100][32];
	uint64_t		 del[10];
	size_t			 i, k, n, pick;
	unsigned		 kind = load_rand(l) % 10;

	memset(ev, 0, sizeof ev);
	if (kind < 5 || l->nlive < 200) {
		/* New events. */
		n = 100;
		for (i = 0; i < n; i++) {
			snprintf(start[i], sizeof start[i], "%04u-%02u-%02u",
			    1990 + load_rand(l) % 30, 1 + load_rand(l) % 12,
			    1 + load_rand(l) % 28);
			snprintf(title[i], sizeof title[i], "new %u",
			    load_rand(l));
			ev[i].start = start[i];
			ev[i].title = title[i];
			ev[i].actors = actors;
			ev[i].nactors = 1 + load_rand(l) % 2;
		}
		T_ASSERTF(annals_put(l->ctx, ev, n, res) == 0, "put: %s",
		    annals_errmsg(l->ctx));
		for (i = 0; i < n; i++) {
			if (l->nlive == l->cap) {
				l->cap = l->cap ? l->cap * 2 : 1024;
				l->live = realloc(l->live, l->cap *
				    sizeof *l->live);
				T_ASSERT(l->live != NULL);
			}
			l->live[l->nlive++] = res[i].id;
		}
	} else if (kind < 9) {
		/* Updates of live events, by id. */
		n = 50;
		for (i = 0; i < n; i++) {
			ev[i].id = l->live[load_rand(l) % l->nlive];
			for (k = 0; k < i; k++)
				if (ev[k].id == ev[i].id)
					ev[i].id = 0;
			if (ev[i].id == 0) {
				i--;
				n--;
				continue;
			}
			snprintf(start[i], sizeof start[i], "%04u-%02u",
			    1990 + load_rand(l) % 30, 1 + load_rand(l) % 12);
			snprintf(title[i], sizeof title[i], "upd %u",
			    load_rand(l));
			ev[i].start = start[i];
			ev[i].title = title[i];
			ev[i].actors = actors + load_rand(l) % 2;
			ev[i].nactors = 1;
		}
		T_ASSERTF(annals_put(l->ctx, ev, n, res) == 0, "update: %s",
		    annals_errmsg(l->ctx));
	} else {
		n = 10;
		for (i = 0; i < n; i++) {
			pick = load_rand(l) % l->nlive;
			del[i] = l->live[pick];
			l->live[pick] = l->live[--l->nlive];
		}
		T_ASSERTF(annals_delete(l->ctx, del, n, NULL) == 0,
		    "delete: %s", annals_errmsg(l->ctx));
	}
	l->done += n;
}

static void
load_run(struct load *l, uint64_t n)
{
	uint64_t	until = l->done + n;

	while (l->done < until)
		load_batch(l);
}

static void
load_open(struct load *l, const char *sock, unsigned seed)
{
	memset(l, 0, sizeof *l);
	l->ctx = annals_connect(sock);
	T_ASSERT(l->ctx != NULL && annals_errcode(l->ctx) == 0);
	l->rnd = seed;
}

static void
load_close(struct load *l)
{
	annals_free(l->ctx);
	free(l->live);
}

static void
verify_stream(const char *url, const char *stream, const char *sock)
{
	char		 log[160], *out;
	const char	*argv[] = { "verify", "--server", url, "--stream",
	    stream, "--annals", sock, NULL };
	int		 rc;

	snprintf(log, sizeof log, "%s/verify.log", t_dir());
	unlink(log);
	rc = annals_nats(log, argv);
	out = th_slurp(log, NULL);
	T_ASSERTF(rc == 0, "annals-nats verify: %s", out);
	T_ASSERT(strstr(out, " 0 faults") != NULL);
	T_ASSERT(strstr(out, ", 0 not on the stream") != NULL);
	free(out);
}

/*
 * What each test has: NATS (one server, or the cluster's URLs), a
 * primary in p/, a stream and its publisher.
 */
struct rig {
	struct nsrv		 ns;
	struct th_daemon	 p;
	pid_t			 pub;
	const char		*stream;
	char			 url[256];
};

/* One nats-server; then rig_primary(). */
static void
rig_one_server(struct rig *g)
{
	need_nats();
	memset(g, 0, sizeof *g);
	nats_one(&g->ns, "js");
	nats_start(&g->ns);
	snprintf(g->url, sizeof g->url, "nats://127.0.0.1:%d", g->ns.port);
}

/* The primary, the stream (with an init option) and the publisher. */
static void
rig_primary(struct rig *g, const char *stream, const char *opt,
    const char *val)
{
	g->stream = stream;
	mkdir("p", 0700);
	T_OK(th_daemon_start_in(&g->p, "p", NULL));
	stream_init(g->url, stream, opt, val);
	g->pub = publisher_start(g->url, stream, g->p.sock);
}

/* Once the load is done: the replica is the primary, and so the stream. */
static void
rig_check(struct rig *g, const struct th_daemon *r)
{
	wait_applied(r, last_seq_of(g->p.sock), 60);
	assert_same_export(g->p.sock, r->sock);
	verify_stream(g->url, g->stream, g->p.sock);
}

static void
rig_stop(struct rig *g)
{
	proc_stop(&g->pub, SIGTERM);
	T_EQ_INT(th_daemon_stop(&g->p), 0);
	proc_stop(&g->ns.pid, SIGTERM);
}

static size_t
env_count(const char *name, size_t dflt)
{
	const char	*v = getenv(name);

	return (v != NULL && atol(v) > 0 ? (size_t)atol(v) : dflt);
}

TEST(nats_two_replicas_follow_a_mixed_load)
{
	struct rig		 g;
	struct th_daemon	 r1, r2;
	struct load		 l;
	msgpack_unpacked	 u;
	const msgpack_object	*rep;
	struct annals_event	 ev;
	struct annals_actor	 a = { "X", NULL };
	annals_ctx		*ctx;
	void			*buf;
	char			 http[32], args[128], want[64], *out;
	uint64_t		 last;

	rig_one_server(&g);
	snprintf(http, sizeof http, "127.0.0.1:%d", th_free_port());
	rig_primary(&g, "MIX", NULL, NULL);
	replica_start(&r1, "r1", g.url, "MIX");
	load_open(&l, g.p.sock, 1);
	load_run(&l, env_count("ANNALS_NATS_N", 50000) / 2);
	/* The second replica starts empty half-way and catches up. */
	replica_start_http(&r2, "r2", g.url, "MIX", http);
	load_run(&l, env_count("ANNALS_NATS_N", 50000) / 2);
	rig_check(&g, &r1);
	rig_check(&g, &r2);
	last = last_seq_of(g.p.sock);

	/* Its stats name the stream; caught up, the lag is nil. */
	msgpack_unpacked_init(&u);
	T_OK(stats_of(r1.sock, &u, &buf));
	rep = mp_get(&u.data, "replica");
	T_ASSERT(rep != NULL && rep->type == MSGPACK_OBJECT_MAP);
	T_ASSERT(mp_key_is(mp_get(rep, "stream"), "MIX"));
	T_EQ_U64(stat_u64(rep, "applied_seq"), last);
	T_EQ_U64(stat_u64(rep, "lag_changes"), 0);
	T_ASSERT(mp_get(rep, "lag_seconds") != NULL);
	T_ASSERT(mp_get(rep, "error") == NULL);
	msgpack_unpacked_destroy(&u);
	annals_buf_free(buf);
	/* annals stats shows the replica's figures beside the store's. */
	{
		const char	*cli_args[] = { "--format", "table", "stats",
		    NULL };
		struct th_run	 r;

		th_annals(&r, r1.sock, NULL, cli_args);
		T_EQ_INT(r.status, 0);
		T_ASSERTF(strstr(r.out, "\nreplica.stream MIX\n") != NULL &&
		    strstr(r.out, "\nreplica.lag_changes 0\n") != NULL &&
		    strstr(r.out, "\nuuid ") != NULL, "%s", r.out);
		th_run_free(&r);
	}

	/* Writes are refused, naming the stream. */
	ctx = annals_connect(r1.sock);
	memset(&ev, 0, sizeof ev);
	ev.start = "2020";
	ev.actors = &a;
	ev.nactors = 1;
	T_EQ_INT(annals_put(ctx, &ev, 1, NULL), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EREADONLY);
	T_ASSERT(strstr(annals_errmsg(ctx), "stream MIX") != NULL);
	T_EQ_INT(annals_delete(ctx, &last, 1, NULL), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EREADONLY);
	annals_free(ctx);

	/* The same over HTTP. */
	snprintf(args, sizeof args, "http://%s/v1/stats", http);
	out = curl(args);
	T_ASSERTF(strstr(out, "\"replica\":{\"server\":") != NULL &&
	    strstr(out, "\"stream\":\"MIX\"") != NULL &&
	    strstr(out, "\"lag_changes\":0") != NULL, "%s", out);
	free(out);
	/* Reads over HTTP, the change log with the primary's seqs. */
	snprintf(args, sizeof args, "'http://%s/v1/changes?since=%llu'",
	    http, (unsigned long long)last - 1);
	out = curl(args);
	snprintf(want, sizeof want, "\"seq\":%llu,", (unsigned long long)last);
	T_ASSERTF(strstr(out, want) != NULL && strstr(out, " 200") != NULL,
	    "%s", out);
	free(out);
	snprintf(args, sizeof args, "-X DELETE http://%s/v1/events/%llu",
	    http, (unsigned long long)l.live[0]);
	out = curl(args);
	T_ASSERTF(strstr(out, "\"code\":\"read_only\"") != NULL &&
	    strstr(out, " 403") != NULL, "%s", out);
	free(out);

	load_close(&l);
	T_EQ_INT(th_daemon_stop(&r1), 0);
	T_EQ_INT(th_daemon_stop(&r2), 0);
	rig_stop(&g);
}

/* How many events an actor query for actor finds on sock. */
static int
events_of(const char *sock, const char *actor)
{
	annals_ctx	*ctx;
	annals_query	*q;
	annals_iter	*it;
	int		 n = 0;

	T_ASSERT((ctx = annals_connect(sock)) != NULL);
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_actor(q, actor, NULL));
	T_ASSERTF((it = annals_actor(ctx, q)) != NULL, "%s",
	    annals_errmsg(ctx));
	while (annals_iter_next(it) != NULL)
		n++;
	T_EQ_INT(annals_iter_error(it), 0);
	annals_iter_free(it);
	annals_query_free(q);
	annals_free(ctx);
	return (n);
}

struct dict_seen {
	char	label[64], from[16];
};

static void
dict_seen_info(const struct annals_actor_info *i, void *arg)
{
	struct dict_seen	*d = arg;

	snprintf(d->label, sizeof d->label, "%s", i->label ? i->label : "");
	snprintf(d->from, sizeof d->from, "%s", i->label_from);
}

static int
dict_seen_alias(const struct annals_dict_entry *e, void *arg)
{
	struct dict_seen	*d = arg;

	snprintf(d->label, sizeof d->label, "%s %zu %s", e->key, e->ncodes,
	    e->during != NULL ? e->during : "");
	return (0);
}

TEST(nats_dictionary_changes_reach_a_replica)
{
	static const char *const both[] = { "AAA", "BBB" };
	struct annals_dict_entry e[3] = {
		{ .kind = ANNALS_DICT_NAME, .key = "AAA", .name = "Alpha" },
		{ .kind = ANNALS_DICT_NAME, .key = "BBB", .name = "Beta" },
		{ .kind = ANNALS_DICT_ALIAS, .key = "Both", .codes = both,
		    .ncodes = 2, .during = "1995/2005" },
	};
	struct rig		 g;
	struct th_daemon	 r1;
	struct load		 l;
	struct dict_seen	 seen;
	annals_ctx		*ctx;
	int			 n;

	rig_one_server(&g);
	rig_primary(&g, "DICT", NULL, NULL);
	replica_start(&r1, "r1", g.url, "DICT");
	load_open(&l, g.p.sock, 7);
	load_run(&l, 300);
	ctx = annals_connect(g.p.sock);
	T_ASSERTF(annals_dict_put(ctx, e, 3, 0, NULL) == 0, "%s",
	    annals_errmsg(ctx));
	load_run(&l, 100);
	/* The last change of the primary is a dictionary delete. */
	T_OK(annals_dict_delete(ctx, &e[1], 1, NULL));
	annals_free(ctx);
	rig_check(&g, &r1);

	memset(&seen, 0, sizeof seen);
	ctx = annals_connect(r1.sock);
	T_OK(annals_actor_info(ctx, "AAA", dict_seen_info, &seen));
	T_EQ_STR(seen.label, "Alpha");
	T_EQ_STR(seen.from, "user");
	T_OK(annals_actor_info(ctx, "BBB", dict_seen_info, &seen));
	T_EQ_STR(seen.from, "none");
	memset(&seen, 0, sizeof seen);
	T_OK(annals_dict_list(ctx, ANNALS_DICT_ALIAS, NULL, NULL,
	    dict_seen_alias, &seen));
	T_EQ_STR(seen.label, "Both 2 1995/2005");
	/* The replica answers queries by the alias as the primary does. */
	n = events_of(g.p.sock, "Both");
	T_ASSERT(n > 0);
	T_EQ_INT(events_of(r1.sock, "Both"), n);
	/* And refuses dictionary writes as it refuses puts. */
	T_EQ_INT(annals_dict_put(ctx, e, 1, 0, NULL), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EREADONLY);
	annals_free(ctx);

	load_close(&l);
	T_EQ_INT(th_daemon_stop(&r1), 0);
	rig_stop(&g);
}

TEST(nats_kill9_of_publisher_and_replica_loses_nothing)
{
	struct rig		 g;
	struct th_daemon	 r1;
	struct load		 l;
	char			*log;
	int			 i;

	rig_one_server(&g);
	rig_primary(&g, "K9", NULL, NULL);
	replica_start(&r1, "r1", g.url, "K9");
	load_open(&l, g.p.sock, 2);
	for (i = 0; i < 4; i++) {
		load_run(&l, 2000);
		/* Mid-stream: the publisher is busy with what came before. */
		if (i % 2 == 0) {
			proc_stop(&g.pub, SIGKILL);
			load_run(&l, 1000);
			g.pub = publisher_start(g.url, "K9", g.p.sock);
		} else {
			th_daemon_kill(&r1);
			load_run(&l, 1000);
			replica_start(&r1, "r1", g.url, "K9");
		}
	}
	rig_check(&g, &r1);
	/* After a clean stop, caught up, it goes on with its consumer. */
	T_EQ_INT(th_daemon_stop(&r1), 0);
	replica_start(&r1, "r1", g.url, "K9");
	load_run(&l, 1000);
	rig_check(&g, &r1);
	log = th_slurp(r1.log, NULL);
	T_ASSERTF(strstr(log, "(kept)") != NULL, "%s", log);
	free(log);
	load_close(&l);
	T_EQ_INT(th_daemon_stop(&r1), 0);
	rig_stop(&g);
}

TEST(nats_server_restart_under_load)
{
	struct rig		 g;
	struct th_daemon	 r1;
	struct load		 l;

	rig_one_server(&g);
	rig_primary(&g, "RS", NULL, NULL);
	replica_start(&r1, "r1", g.url, "RS");
	load_open(&l, g.p.sock, 3);
	load_run(&l, 3000);
	proc_stop(&g.ns.pid, SIGTERM);
	/* The primary takes writes while NATS is away. */
	load_run(&l, 3000);
	nats_start(&g.ns);
	load_run(&l, 3000);
	rig_check(&g, &r1);
	T_ASSERT(g.pub > 0 && kill(g.pub, 0) == 0);
	load_close(&l);
	T_EQ_INT(th_daemon_stop(&r1), 0);
	rig_stop(&g);
}

TEST(nats_cluster_of_three_loses_a_server)
{
	struct nsrv		 ns[3];
	struct rig		 g;
	struct th_daemon	 r1;
	struct load		 l;
	int			 i;

	need_nats();
	memset(&g, 0, sizeof g);
	for (i = 0; i < 3; i++) {
		nats_one(&ns[i], i == 0 ? "n0" : i == 1 ? "n1" : "n2");
		ns[i].cport = th_free_port();
		snprintf(ns[i].name, sizeof ns[i].name, "n%d", i);
	}
	for (i = 0; i < 3; i++)
		snprintf(ns[i].routes, sizeof ns[i].routes,
		    "nats://127.0.0.1:%d,nats://127.0.0.1:%d",
		    ns[(i + 1) % 3].cport, ns[(i + 2) % 3].cport);
	for (i = 0; i < 3; i++)
		nats_start(&ns[i]);
	snprintf(g.url, sizeof g.url, "nats://127.0.0.1:%d,"
	    "nats://127.0.0.1:%d,nats://127.0.0.1:%d", ns[0].port, ns[1].port,
	    ns[2].port);
	rig_primary(&g, "CL", "--replicas", "3");
	replica_start(&r1, "r1", g.url, "CL");
	load_open(&l, g.p.sock, 4);
	load_run(&l, 3000);
	proc_stop(&ns[1].pid, SIGKILL);
	load_run(&l, 3000);
	rig_check(&g, &r1);
	load_close(&l);
	T_EQ_INT(th_daemon_stop(&r1), 0);
	/* rig_stop stops one server: the rig's, the first. */
	g.ns = ns[0];
	rig_stop(&g);
	proc_stop(&ns[2].pid, SIGTERM);
}

TEST(nats_replica_of_a_stream_without_its_start_says_so)
{
	struct rig		 g;
	struct th_daemon	 r1;
	struct load		 l;
	msgpack_unpacked	 u;
	const msgpack_object	*rep, *err;
	annals_ctx		*ctx;
	annals_query		*q;
	char			 why[512], want[128];
	char			*out = NULL;
	void			*buf;
	int			 waited;

	rig_one_server(&g);
	/* A stream that keeps only its last 50 messages. */
	rig_primary(&g, "SHORT", "--max-msgs", "50");
	load_open(&l, g.p.sock, 5);
	load_run(&l, 1000);
	/* Until the publisher has put the last change on the stream. */
	snprintf(want, sizeof want, " to %llu, 0 faults",
	    (unsigned long long)last_seq_of(g.p.sock));
	for (waited = 0; waited < 20000; waited += 100) {
		char		 log[160];
		const char	*argv[] = { "verify", "--server", g.url,
		    "--stream", "SHORT", NULL };

		snprintf(log, sizeof log, "%s/verify.log", t_dir());
		unlink(log);
		annals_nats(log, argv);
		free(out);
		out = th_slurp(log, NULL);
		if (strstr(out, want) != NULL)
			break;
		usleep(100000);
	}
	T_ASSERTF(strstr(out, want) != NULL &&
	    strstr(out, ": 50 messages,") != NULL, "%s", out);
	free(out);
	replica_start(&r1, "r1", g.url, "SHORT");
	rep = err = NULL;
	msgpack_unpacked_init(&u);
	for (waited = 0; waited < 10000 && err == NULL; waited += 50) {
		buf = NULL;
		T_OK(stats_of(r1.sock, &u, &buf));
		rep = mp_get(&u.data, "replica");
		T_ASSERT(rep != NULL);
		if ((err = mp_get(rep, "error")) == NULL) {
			annals_buf_free(buf);
			usleep(50000);
		}
	}
	T_ASSERTF(err != NULL && err->type == MSGPACK_OBJECT_STR,
	    "no error in the replica's stats");
	snprintf(why, sizeof why, "%.*s", (int)err->via.str.size,
	    err->via.str.ptr);
	T_ASSERTF(strstr(why, "no longer holds") != NULL, "%s", why);
	T_EQ_U64(stat_u64(rep, "applied_seq"), 0);
	msgpack_unpacked_destroy(&u);
	annals_buf_free(buf);

	/* It does not serve what it does not have. */
	ctx = annals_connect(r1.sock);
	q = annals_query_new();
	T_ASSERT(annals_range(ctx, q) == NULL);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EUNAVAILABLE);
	T_ASSERT(strstr(annals_errmsg(ctx), "no longer holds") != NULL);
	annals_query_free(q);
	annals_free(ctx);

	load_close(&l);
	T_EQ_INT(th_daemon_stop(&r1), 0);
	rig_stop(&g);
}

#ifdef HAVE_NATS
#include <nats/nats.h>

/* Put one change map on the stream's subject, as a publisher would. */
static void
publish_raw(const char *url, const char *subject, const char *op,
    uint64_t seq)
{
	natsConnection	*nc = NULL;
	jsCtx		*js = NULL;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_pack_kv_uint(&pk, "seq", seq);
	mp_pack_kv_str(&pk, "op", op);
	mp_pack_kv_uint(&pk, "id", 1);
	T_EQ_INT(natsConnection_ConnectTo(&nc, url), NATS_OK);
	T_EQ_INT(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
	T_EQ_INT(js_Publish(NULL, js, subject, sb.data, (int)sb.size, NULL,
	    NULL), NATS_OK);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	msgpack_sbuffer_destroy(&sb);
}
#endif

TEST(nats_replica_stops_at_a_kind_of_change_it_does_not_apply)
{
	struct rig		 g;
	struct th_daemon	 r1;
	struct load		 l;
	msgpack_unpacked	 u;
	const msgpack_object	*rep = NULL, *err = NULL;
	char			 why[512];
	void			*buf = NULL;
	int			 waited;

	rig_one_server(&g);
	rig_primary(&g, "KIND", NULL, NULL);
	replica_start(&r1, "r1", g.url, "KIND");
	load_open(&l, g.p.sock, 6);
	load_run(&l, 500);
	rig_check(&g, &r1);
	/* What a newer primary could send: the replica must not drop it. */
	proc_stop(&g.pub, SIGTERM);
#ifdef HAVE_NATS
	publish_raw(g.url, "annals.KIND.changes", "rename",
	    last_seq_of(g.p.sock) + 1);
#endif
	msgpack_unpacked_init(&u);
	for (waited = 0; waited < 10000 && err == NULL; waited += 50) {
		annals_buf_free(buf);
		T_OK(stats_of(r1.sock, &u, &buf));
		rep = mp_get(&u.data, "replica");
		if ((err = mp_get(rep, "error")) == NULL)
			usleep(50000);
	}
	T_ASSERTF(err != NULL && err->type == MSGPACK_OBJECT_STR,
	    "no error in the replica's stats");
	snprintf(why, sizeof why, "%.*s", (int)err->via.str.size,
	    err->via.str.ptr);
	T_ASSERTF(strstr(why, "change kind \"rename\"") != NULL, "%s", why);
	msgpack_unpacked_destroy(&u);
	annals_buf_free(buf);
	load_close(&l);
	T_EQ_INT(th_daemon_stop(&r1), 0);
	rig_stop(&g);
}

/* The replica's lag_changes, stream_seq and lag_seconds from its stats. */
static void
lag_of(const char *sock, uint64_t *lag, uint64_t *seq, double *secs)
{
	msgpack_unpacked	 u;
	const msgpack_object	*rep, *s;
	void			*buf = NULL;

	msgpack_unpacked_init(&u);
	T_OK(stats_of(sock, &u, &buf));
	rep = mp_get(&u.data, "replica");
	T_ASSERT(rep != NULL);
	*lag = stat_u64(rep, "lag_changes");
	*seq = stat_u64(rep, "stream_seq");
	s = mp_get(rep, "lag_seconds");
	T_ASSERT(s != NULL && s->type == MSGPACK_OBJECT_FLOAT64);
	*secs = s->via.f64;
	msgpack_unpacked_destroy(&u);
	annals_buf_free(buf);
}

/*
 * lag_changes is what the store does not have: the messages still on
 * the stream for the consumer, and those fetched but not yet committed.
 * The replica's store is behind a write gate (tests/preload/
 * gate-write.c), so a fetched batch waits in its commit for as long as
 * the test needs; the stream holds every change of the primary, one
 * message each, so what the replica lacks is the primary's last seq
 * less the replica's stream_seq.
 */
TEST(nats_replica_lag_is_what_is_not_yet_committed)
{
	struct rig		 g;
	struct th_daemon	 r1;
	struct load		 l;
	struct stat		 sb;
	char			 dir[128], gate[128], data[160], file[200];
	const char		*extra[] = { "--follow", NULL, "--stream", "LAG",
	    "--data", data, NULL };
	uint64_t		 lag = 0, seq = 0, want = 0;
	double			 secs = 0;
	int			 waited;

	rig_one_server(&g);
	rig_primary(&g, "LAG", NULL, NULL);
	extra[1] = g.url;
	snprintf(dir, sizeof dir, "%s/r1", t_dir());
	snprintf(gate, sizeof gate, "%s/gate", t_dir());
	snprintf(data, sizeof data, "%s/gated/data", dir);
	T_OK(mkdir(dir, 0700));
	T_OK(mkdir(gate, 0700));
	/* Open while it starts and catches up with a first load. */
	snprintf(file, sizeof file, "%s/open", gate);
	th_write(file, "", 0);
	T_OK(th_daemon_start_gated(&r1, dir, gate, extra));
	load_open(&l, g.p.sock, 8);
	load_run(&l, 200);
	wait_applied(&r1, last_seq_of(g.p.sock), 60);

	/* Shut: the next batch the replica fetches stays in its commit. */
	T_OK(unlink(file));
	snprintf(file, sizeof file, "%s/entered", gate);
	unlink(file);
	load_run(&l, 300);
	for (waited = 0; waited < 20000 && stat(file, &sb) != 0; waited += 50)
		usleep(50000);
	T_ASSERTF(stat(file, &sb) == 0, "the replica's commit never reached "
	    "the gate");
	want = last_seq_of(g.p.sock);
	for (waited = 0; waited < 20000; waited += 100) {
		lag_of(r1.sock, &lag, &seq, &secs);
		if (lag == want - seq)
			break;
		usleep(100000);
	}
	T_ASSERTF(seq < want, "the replica committed up to %llu behind its "
	    "gate", (unsigned long long)seq);
	T_ASSERTF(lag == want - seq, "lag_changes %llu while the store has "
	    "stream messages up to %llu of %llu", (unsigned long long)lag,
	    (unsigned long long)seq, (unsigned long long)want);
	T_ASSERTF(secs > 0, "lag_seconds %g while a batch waits", secs);

	/* Open: it commits, catches up, and lags no more. */
	snprintf(file, sizeof file, "%s/open", gate);
	th_write(file, "", 0);
	rig_check(&g, &r1);
	for (waited = 0; waited < 10000; waited += 100) {
		lag_of(r1.sock, &lag, &seq, &secs);
		if (lag == 0)
			break;
		usleep(100000);
	}
	T_EQ_U64(lag, 0);
	T_EQ_U64(seq, want);
	load_close(&l);
	T_EQ_INT(th_daemon_stop(&r1), 0);
	rig_stop(&g);
}
