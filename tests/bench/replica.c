/*
 * make bench-replica: replication through NATS JetStream (issue #17).
 * A nats-server, a primary, annals-nats publish and one replica, all on
 * this machine; new events in feed order (rising start dates), in
 * batches of 100 from one client.
 *
 *   lag      at BENCH_REPLICA_RATE events/s (default 10000) for
 *            BENCH_REPLICA_SECONDS (default 10): from a put acknowledged
 *            by the primary to the event's change arriving from the
 *            replica's own subscribe (so readable there), p50 and p99
 *   max      doubling the rate from there, 5 s each, while the replica
 *            keeps up (p99 under a second, nothing left behind)
 *   apply    BENCH_REPLICA_N events (default 200000) as fast as one
 *            client puts them, with the replica stopped: the primary's
 *            ingest rate; then the replica started, catching up: its
 *            apply rate
 *   queries  the same range queries on the primary and on the replica
 *
 * Everything shares the machine's cores: the figures are noisy when
 * other work runs, and the lag includes NATS's own fsyncs.
 */
#include <sys/stat.h>

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../client/annals.h"
#include "../harness.h"
#include "../nats.h"
#include "../test.h"

#define BATCH		100
#define MAX_EVENTS	(1u << 22)

static char	 bench_dir[64];
static char	 bench_bin[PATH_MAX];

/* The harness and tests/nats.c ask for these; there is no runner. */
const char *
t_dir(void)
{
	return (bench_dir);
}

const char *
t_bindir(void)
{
	return (bench_bin);
}

void
t_skip(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fputs("bench-replica: skipped: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	exit(0);
}

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

/* When each event was acknowledged and seen on the replica (ms). */
static double		*acked, *seen;
static volatile int	 watching = 1;
static uint64_t		 seen_count;

static int
on_change(const struct annals_change *ch, void *arg)
{
	(void)arg;
	if (ch->op == ANNALS_CHANGE_PUT && ch->id < MAX_EVENTS &&
	    seen[ch->id] == 0) {
		seen[ch->id] = now_ms();
		seen_count++;
	}
	return (0);
}

static void *
watch(void *arg)
{
	annals_ctx	*ctx = annals_connect(arg);

	if (ctx == NULL || annals_subscribe(ctx, 0, NULL) != 0) {
		fprintf(stderr, "subscribe: %s\n", ctx ? annals_errmsg(ctx) :
		    "out of memory");
		exit(1);
	}
	while (watching)
		if (annals_notification_next(ctx, 100, on_change, NULL,
		    NULL) == -1) {
			fprintf(stderr, "notification: %s\n",
			    annals_errmsg(ctx));
			exit(1);
		}
	annals_free(ctx);
	return (NULL);
}

/*
 * Put n events in feed order at rate events/s (0: as fast as it goes);
 * returns the rate achieved.
 */
static double
feed(annals_ctx *ctx, uint64_t n, double rate, uint64_t *day)
{
	struct annals_event	 ev[BATCH];
	struct annals_put_result res[BATCH];
	struct annals_actor	 actor = { "FEED", NULL };
	char			 start[BATCH][16];
	double			 t0 = now_ms(), due, t;
	uint64_t		 done, i;
	time_t			 when;
	struct tm		 tm;

	memset(ev, 0, sizeof ev);
	for (done = 0; done < n; done += BATCH) {
		due = t0 + done * 1000.0 / (rate > 0 ? rate : 1e12);
		while ((t = now_ms()) < due)
			usleep((useconds_t)((due - t) * 1000 > 200 ?
			    200 : (due - t) * 1000));
		for (i = 0; i < BATCH; i++) {
			when = (time_t)((*day)++ / 40) * 86400;
			gmtime_r(&when, &tm);
			strftime(start[i], sizeof start[i], "%Y-%m-%d", &tm);
			ev[i].start = start[i];
			ev[i].title = "a feed event";
			ev[i].actors = &actor;
			ev[i].nactors = 1;
		}
		if (annals_put(ctx, ev, BATCH, res) != 0) {
			fprintf(stderr, "put: %s\n", annals_errmsg(ctx));
			exit(1);
		}
		t = now_ms();
		for (i = 0; i < BATCH; i++)
			if (res[i].id < MAX_EVENTS)
				acked[res[i].id] = t;
	}
	return (n * 1000.0 / (now_ms() - t0));
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* Wait for ids lo..hi on the replica; p50 and p99 of their lag. */
static int
lags(uint64_t lo, uint64_t hi, double wait_ms, double *p50, double *p99)
{
	double		*v, t0 = now_ms();
	uint64_t	 id, n = 0;

	while (seen[hi] == 0 && now_ms() - t0 < wait_ms)
		usleep(10000);
	if (seen[hi] == 0)
		return (-1);
	v = calloc(hi - lo + 1, sizeof *v);
	for (id = lo; id <= hi; id++)
		if (seen[id] != 0 && acked[id] != 0)
			v[n++] = seen[id] > acked[id] ? seen[id] - acked[id] :
			    0;
	qsort(v, n, sizeof *v, cmp_double);
	*p50 = n ? v[n / 2] : 0;
	*p99 = n ? v[n * 99 / 100] : 0;
	free(v);
	return (0);
}

/* Range queries a second on the daemon at sock, for seconds. */
static double
query_rate(const char *sock, double seconds)
{
	annals_ctx	*ctx = annals_connect(sock);
	annals_query	*q = annals_query_new();
	annals_iter	*it;
	double		 t0 = now_ms();
	unsigned	 n = 0, year;
	char		 from[8], to[8];

	annals_query_set_page_size(q, 100);
	while (now_ms() - t0 < seconds * 1000) {
		year = 1970 + n % 50;
		snprintf(from, sizeof from, "%u", year);
		snprintf(to, sizeof to, "%u", year);
		annals_query_set_range(q, from, to);
		if ((it = annals_range(ctx, q)) == NULL) {
			fprintf(stderr, "range: %s\n", annals_errmsg(ctx));
			exit(1);
		}
		annals_iter_free(it);
		n++;
	}
	annals_query_free(q);
	annals_free(ctx);
	return (n * 1000.0 / (now_ms() - t0));
}

static double
env_num(const char *name, double dflt)
{
	const char	*v = getenv(name);

	return (v != NULL && atof(v) > 0 ? atof(v) : dflt);
}

int
main(int argc, char **argv)
{
	struct nsrv		 ns;
	struct th_daemon	 p, r;
	annals_ctx		*ctx;
	pthread_t		 tid;
	char			 url[64], path[PATH_MAX], *slash;
	double			 rate = env_num("BENCH_REPLICA_RATE", 10000);
	double			 secs = env_num("BENCH_REPLICA_SECONDS", 10);
	double			 n_apply = env_num("BENCH_REPLICA_N", 200000);
	double			 p50, p99, got, t0, t1, best = 0, qp, qr;
	uint64_t		 day = 0, lo, hi, id = 1, last;
	pid_t			 pub;

	(void)argc;
	snprintf(bench_bin, sizeof bench_bin, "%s", argv[0]);
	if ((slash = strrchr(bench_bin, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(bench_bin, sizeof bench_bin, ".");
	if (realpath(bench_bin, path) != NULL)
		snprintf(bench_bin, sizeof bench_bin, "%s", path);
	snprintf(bench_dir, sizeof bench_dir, "/tmp/annals-bench.XXXXXX");
	if (mkdtemp(bench_dir) == NULL || chdir(bench_dir) != 0) {
		perror("bench-replica: mkdtemp");
		return (1);
	}
	need_nats();
	acked = calloc(MAX_EVENTS, sizeof *acked);
	seen = calloc(MAX_EVENTS, sizeof *seen);
	nats_one(&ns, "js");
	nats_start(&ns);
	snprintf(url, sizeof url, "nats://127.0.0.1:%d", ns.port);
	mkdir("p", 0700);
	if (th_daemon_start_in(&p, "p", NULL) != 0)
		return (1);
	stream_init(url, "BENCH", NULL, NULL);
	pub = publisher_start(url, "BENCH", p.sock);
	replica_start(&r, "r", url, "BENCH");
	pthread_create(&tid, NULL, watch, r.sock);
	ctx = annals_connect(p.sock);

	printf("bench-replica: a primary, annals-nats publish, nats-server "
	    "-js and one replica on this machine; feed order, batches of "
	    "%d.\nShared cores: the figures are noisy when other work "
	    "runs.\n", BATCH);
	lo = id;
	got = feed(ctx, (uint64_t)(rate * secs), rate, &day);
	id += (uint64_t)(rate * secs);
	hi = id - 1;
	if (lags(lo, hi, 60000, &p50, &p99) != 0) {
		printf("lag: the replica did not catch up within 60 s\n");
		return (1);
	}
	printf("lag at %.0f events/s (%.0f achieved) for %.0f s: p50 %.1f "
	    "ms, p99 %.1f ms\n", rate, got, secs, p50, p99);

	for (rate *= 2; rate <= 640000; rate *= 2) {
		lo = id;
		got = feed(ctx, (uint64_t)(rate * 5), rate, &day);
		id += (uint64_t)(rate * 5);
		hi = id - 1;
		if (lags(lo, hi, 5000, &p50, &p99) != 0 || p99 > 1000 ||
		    got < rate * 0.95) {
			printf("at %.0f events/s: %s (primary achieved %.0f/s)"
			    "\n", rate, got < rate * 0.95 ? "the primary "
			    "cannot take it from one client" : "the replica "
			    "falls behind", got);
			lags(lo, hi, 60000, &p50, &p99);
			break;
		}
		best = rate;
		printf("at %.0f events/s: p50 %.1f ms, p99 %.1f ms\n", rate,
		    p50, p99);
	}
	printf("max sustained rate: %.0f events/s\n", best > 0 ? best :
	    env_num("BENCH_REPLICA_RATE", 10000));

	/* The replica away while the primary takes a backlog. */
	watching = 0;
	pthread_join(tid, NULL);
	th_daemon_stop(&r);
	got = feed(ctx, (uint64_t)n_apply, 0, &day);
	last = last_seq_of(p.sock);
	t0 = now_ms();
	replica_start(&r, "r", url, "BENCH");
	while (last_seq_of(r.sock) != last && now_ms() - t0 < 300000)
		usleep(10000);
	t1 = now_ms();
	if (last_seq_of(r.sock) == last)
		printf("apply: primary ingests %.0f events/s from one client; "
		    "the replica, started %.0f events behind, applies %.0f "
		    "events/s (caught up in %.0f ms)\n", got, n_apply,
		    n_apply * 1000.0 / (t1 - t0), t1 - t0);
	else
		printf("apply: the replica did not catch up within 300 s\n");

	qp = query_rate(p.sock, 3);
	qr = query_rate(r.sock, 3);
	printf("queries (range, one year, 100 a page): primary %.0f/s, "
	    "replica %.0f/s (replica/primary %.2f)\n", qp, qr, qr / qp);
	printf("RATIO replica_queries annals/primary %.2f\n", qr / qp);

	annals_free(ctx);
	proc_stop(&pub, SIGTERM);
	th_daemon_stop(&r);
	th_daemon_stop(&p);
	proc_stop(&ns.pid, SIGTERM);
	snprintf(path, sizeof path, "rm -rf %s", bench_dir);
	if (system(path) != 0)
		return (1);
	return (0);
}
