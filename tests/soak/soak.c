/*
 * The soak: a real annalsd on a temporary directory and CLIENTS client
 * processes, each with its own libannals context, mixing puts, updates,
 * deletes, range and actor queries for a fixed time.  Prints operations,
 * errors and the daemon's memory at the start, every minute and at the
 * end, then exits non-zero if any operation failed, if the daemon did not
 * stop cleanly, or if its resident memory grew by more than the margin
 * between the first minute and the end: memory must level off, not grow
 * with time.
 *
 * Each client owns the keys c<N>-0 .. c<N>-499 of source "soak", so the
 * store stays bounded however long the soak runs, and each client knows
 * what it wrote: every answer is checked against that (the id a key has,
 * the revision it reached, what was deleted), and at the end every key
 * is read back.
 *
 * Usage: soak [-t SECONDS] [-c CLIENTS] [-m MARGIN%] [-s SEED] ANNALSD
 */
#define _XOPEN_SOURCE 700	/* nftw */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../client/annals.h"
#include "../harness.h"
#include "../test.h"

#define SOAK_KEYS	500		/* keys per client */
#define SOAK_MAX_CLIENTS 64
#define SOAK_MAX_TEXT	2000
#define SOAK_SLACK_KB	(8L * 1024)	/* growth always allowed */

/* What one client did; in shared memory, written by that client only. */
struct soak_count {
	uint64_t	ops;
	uint64_t	puts, updates, deletes, ranges, actors;
	uint64_t	events_read;
	uint64_t	errors;
	int		done;
};

/* The state of one of a client's keys. */
struct soak_key {
	uint64_t	id;		/* 0: not stored */
	uint64_t	rev;
};

static char			 soak_dir[64];
static char			 soak_bin[PATH_MAX];
static struct soak_count	*soak_counts;

/* The harness asks for these; the soak has no test runner. */
const char *
t_dir(void)
{
	return (soak_dir);
}

const char *
t_bindir(void)
{
	return (soak_bin);
}

static int
soak_rm_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	remove(path);
	return (0);
}

static double
soak_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Count an error; the first few are told. */
static void
soak_error(struct soak_count *c, int client, const char *fmt, ...)
{
	va_list	ap;

	c->errors++;
	if (c->errors > 5)
		return;
	fprintf(stderr, "soak: client %d: ", client);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
soak_date(char *buf, size_t size)
{
	int	y, m, d;

	y = 1990 + rand() % 35;
	m = 1 + rand() % 12;
	d = 1 + rand() % 28;

	switch (rand() % 7) {
	case 0:
		snprintf(buf, size, "%04d", y);
		break;
	case 1:
		snprintf(buf, size, "%04d-%02d", y, m);
		break;
	case 2:
		snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
		break;
	case 3:
		snprintf(buf, size, "%04d-%02d-%02dT10:30Z", y, m, d);
		break;
	case 4:
		snprintf(buf, size, "%04d~", y);
		break;
	case 5:
		snprintf(buf, size, "%04d-%02d?", y, m);
		break;
	default:
		snprintf(buf, size, "%04d-%02d-%02d/..", y, m, d);
		break;
	}
}

/* Fill ev as the event of key k of client n, with a random title. */
static void
soak_event(struct annals_event *ev, struct annals_actor *actors, int n,
    int k, char *key, size_t keysize, char *start, char *title)
{
	static const char *const names[] = {
		"RUS", "SYR", "SYRGOV", "USA", "IRN", "TUR", "EGY", "UKR"
	};
	size_t	len, i;

	memset(ev, 0, sizeof *ev);
	snprintf(key, keysize, "c%d-%d", n, k);
	soak_date(start, 64);
	len = 10 + (size_t)rand() % (SOAK_MAX_TEXT - 10);
	for (i = 0; i < len; i++)
		title[i] = (char)('a' + rand() % 26);
	title[len] = '\0';
	actors[0].name = names[rand() % 8];
	actors[0].role = "source";
	actors[1].name = names[rand() % 8];
	actors[1].role = NULL;
	ev->source = "soak";
	ev->key = key;
	ev->start = start;
	ev->actors = actors;
	ev->nactors = 2;
	ev->type = rand() % 2 ? "036" : "190";
	ev->title = title;
}

/* Put 1 to 20 events of random keys; check ids and revisions. */
static void
soak_put(annals_ctx *ctx, int n, struct soak_key *keys,
    struct soak_count *c)
{
	struct annals_event		 evs[20];
	struct annals_actor		 actors[20][2];
	struct annals_put_result	 res[20];
	char				 key[20][32], start[20][64];
	static char			 title[20][SOAK_MAX_TEXT + 1];
	int				 k[20], i, j, cnt = 1 + rand() % 20;

	for (i = 0; i < cnt; i++) {
		/* A key only once per batch. */
		do {
			k[i] = rand() % SOAK_KEYS;
			for (j = 0; j < i && k[j] != k[i]; j++)
				;
		} while (j < i);
		soak_event(&evs[i], actors[i], n, k[i], key[i],
		    sizeof key[i], start[i], title[i]);
	}
	c->puts++;
	if (annals_put(ctx, evs, (size_t)cnt, res) != 0) {
		soak_error(c, n, "put: %s", annals_errmsg(ctx));
		return;
	}
	for (i = 0; i < cnt; i++) {
		struct soak_key *sk = &keys[k[i]];

		if (sk->id == 0) {
			if (res[i].status != ANNALS_ADDED || res[i].rev != 1)
				soak_error(c, n, "put of new %s: status %d "
				    "rev %" PRIu64, key[i], res[i].status,
				    res[i].rev);
		} else if (res[i].id != sk->id || res[i].rev != sk->rev + 1 ||
		    res[i].status != ANNALS_UPDATED)
			soak_error(c, n, "upsert of %s: id %" PRIu64 " rev %"
			    PRIu64 ", had id %" PRIu64 " rev %" PRIu64, key[i],
			    res[i].id, res[i].rev, sk->id, sk->rev);
		sk->id = res[i].id;
		sk->rev = res[i].rev;
	}
}

/* A key of this client that is stored, or -1. */
static int
soak_stored(const struct soak_key *keys)
{
	int	i, k = rand() % SOAK_KEYS;

	for (i = 0; i < SOAK_KEYS; i++) {
		if (keys[(k + i) % SOAK_KEYS].id != 0)
			return ((k + i) % SOAK_KEYS);
	}
	return (-1);
}

/* Read an event back by id, change its title, put it by id. */
static void
soak_update(annals_ctx *ctx, int n, struct soak_key *keys,
    struct soak_count *c)
{
	struct annals_event		*ev;
	struct annals_event		 copy;
	struct annals_put_result	 res;
	char				 want[32], title[64];
	int				 k;

	if ((k = soak_stored(keys)) == -1)
		return;
	c->updates++;
	snprintf(want, sizeof want, "c%d-%d", n, k);
	if (annals_get(ctx, keys[k].id, &ev) != 0) {
		soak_error(c, n, "get %" PRIu64 " (%s): %s", keys[k].id, want,
		    annals_errmsg(ctx));
		return;
	}
	c->events_read++;
	if (ev->key == NULL || strcmp(ev->key, want) != 0 ||
	    ev->rev != keys[k].rev) {
		soak_error(c, n, "get %" PRIu64 ": key %s rev %" PRIu64
		    ", want %s rev %" PRIu64, keys[k].id,
		    ev->key ? ev->key : "(none)", ev->rev, want, keys[k].rev);
		annals_event_free(ev);
		return;
	}
	copy = *ev;
	snprintf(title, sizeof title, "updated %d", rand());
	copy.title = title;
	if (annals_put(ctx, &copy, 1, &res) != 0)
		soak_error(c, n, "update %" PRIu64 ": %s", keys[k].id,
		    annals_errmsg(ctx));
	else if (res.id != keys[k].id || res.rev != keys[k].rev + 1 ||
	    res.status != ANNALS_UPDATED)
		soak_error(c, n, "update %" PRIu64 ": id %" PRIu64 " rev %"
		    PRIu64 " status %d", keys[k].id, res.id, res.rev,
		    res.status);
	else
		keys[k].rev = res.rev;
	annals_event_free(ev);
}

static void
soak_delete(annals_ctx *ctx, int n, struct soak_key *keys,
    struct soak_count *c)
{
	uint64_t	ids[5];
	int		k[5], deleted[5], i, j, cnt = 1 + rand() % 5;

	for (i = 0; i < cnt; i++) {
		if ((k[i] = soak_stored(keys)) == -1)
			break;
		for (j = 0; j < i && k[j] != k[i]; j++)
			;
		if (j < i)
			break;
		ids[i] = keys[k[i]].id;
	}
	if ((cnt = i) == 0)
		return;
	c->deletes++;
	if (annals_delete(ctx, ids, (size_t)cnt, deleted) != 0) {
		soak_error(c, n, "delete: %s", annals_errmsg(ctx));
		return;
	}
	for (i = 0; i < cnt; i++) {
		if (!deleted[i])
			soak_error(c, n, "delete %" PRIu64 ": was not there",
			    ids[i]);
		keys[k[i]].id = keys[k[i]].rev = 0;
	}
}

/* A range or actor query, read to its end; events come in order. */
static void
soak_query(annals_ctx *ctx, int n, int actor, struct soak_count *c)
{
	static const char *const prefixes[] = { "RUS", "SYR*", "U*", "IRN" };
	const struct annals_event	*ev;
	annals_query			*q;
	annals_iter			*it;
	char				 from[64], to[64];
	int				 y;

	if ((q = annals_query_new()) == NULL) {
		soak_error(c, n, "annals_query_new failed");
		return;
	}
	y = 1990 + rand() % 35;
	snprintf(from, sizeof from, "%d", y);
	snprintf(to, sizeof to, "%d", y + rand() % 5);
	annals_query_set_range(q, rand() % 4 ? from : NULL,
	    rand() % 4 ? to : NULL);
	annals_query_set_page_size(q, 50 + (uint32_t)rand() % 450);
	annals_query_set_desc(q, rand() % 2);
	if (actor)
		annals_query_set_actor(q, prefixes[rand() % 4], NULL);
	if (actor) {
		c->actors++;
		it = annals_actor(ctx, q);
	} else {
		c->ranges++;
		it = annals_range(ctx, q);
	}
	if (it == NULL) {
		soak_error(c, n, "%s: %s", actor ? "actor" : "range",
		    annals_errmsg(ctx));
		annals_query_free(q);
		return;
	}
	while ((ev = annals_iter_next(it)) != NULL) {
		c->events_read++;
		if (ev->match != ANNALS_MATCH_CERTAIN &&
		    ev->match != ANNALS_MATCH_POSSIBLE)
			soak_error(c, n, "event %" PRIu64 ": match %d", ev->id,
			    ev->match);
	}
	if (annals_iter_error(it) != 0)
		soak_error(c, n, "%s paging: %s", actor ? "actor" : "range",
		    annals_errmsg(ctx));
	annals_iter_free(it);
	annals_query_free(q);
}

/* Read every key back: what the client believes is what is stored. */
static void
soak_verify(annals_ctx *ctx, int n, const struct soak_key *keys,
    struct soak_count *c)
{
	struct annals_event	*ev;
	char			 key[32];
	int			 k, rc;

	for (k = 0; k < SOAK_KEYS; k++) {
		snprintf(key, sizeof key, "c%d-%d", n, k);
		rc = annals_get_by_key(ctx, "soak", key, &ev);
		if (keys[k].id == 0) {
			if (rc == 0 || annals_errcode(ctx) != ANNALS_ENOTFOUND)
				soak_error(c, n, "%s: deleted but found", key);
		} else if (rc != 0)
			soak_error(c, n, "%s: %s", key, annals_errmsg(ctx));
		else if (ev->id != keys[k].id || ev->rev != keys[k].rev)
			soak_error(c, n, "%s: id %" PRIu64 " rev %" PRIu64
			    ", want id %" PRIu64 " rev %" PRIu64, key, ev->id,
			    ev->rev, keys[k].id, keys[k].rev);
		annals_event_free(ev);
	}
}

static void
soak_client(const char *sock, int n, double until, unsigned seed)
{
	struct soak_count	*c = &soak_counts[n];
	struct soak_key		*keys;
	annals_ctx		*ctx;
	int			 r;

	srand(seed + (unsigned)n * 7919);
	if ((keys = calloc(SOAK_KEYS, sizeof *keys)) == NULL)
		_exit(2);
	ctx = annals_connect(sock);
	if (ctx == NULL || annals_errcode(ctx) != 0) {
		soak_error(c, n, "connect: %s", ctx ? annals_errmsg(ctx) :
		    "out of memory");
		_exit(1);
	}
	annals_set_timeout(ctx, 30000);
	while (soak_now() < until) {
		r = rand() % 100;
		if (r < 35)
			soak_put(ctx, n, keys, c);
		else if (r < 50)
			soak_update(ctx, n, keys, c);
		else if (r < 60)
			soak_delete(ctx, n, keys, c);
		else if (r < 85)
			soak_query(ctx, n, 0, c);
		else
			soak_query(ctx, n, 1, c);
		c->ops++;
		/* A broken context fails every call from now on. */
		if (annals_errcode(ctx) == ANNALS_EIO ||
		    annals_errcode(ctx) == ANNALS_EPROTOCOL)
			break;
	}
	soak_verify(ctx, n, keys, c);
	c->done = 1;
	annals_free(ctx);
	free(keys);
	_exit(0);
}

/* VmRSS, VmHWM, RssAnon of pid in KiB. */
static int
soak_rss(pid_t pid, long *rss, long *hwm, long *anon)
{
	char	 path[64], line[256];
	FILE	*f;

	*rss = *hwm = *anon = -1;
	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "RssAnon:", 8) == 0)
			*anon = strtol(line + 8, NULL, 10);
	}
	fclose(f);
	return (*rss > 0 ? 0 : -1);
}

static void
soak_totals(int clients, struct soak_count *t)
{
	int	i;

	memset(t, 0, sizeof *t);
	for (i = 0; i < clients; i++) {
		t->ops += soak_counts[i].ops;
		t->puts += soak_counts[i].puts;
		t->updates += soak_counts[i].updates;
		t->deletes += soak_counts[i].deletes;
		t->ranges += soak_counts[i].ranges;
		t->actors += soak_counts[i].actors;
		t->events_read += soak_counts[i].events_read;
		t->errors += soak_counts[i].errors;
	}
}

/* One line of figures: time, operations, errors, the daemon's memory. */
static void
soak_report(const char *when, double t, int clients, pid_t daemon,
    long *rss_out)
{
	struct soak_count	tot;
	long			rss, hwm, anon;

	soak_totals(clients, &tot);
	if (soak_rss(daemon, &rss, &hwm, &anon) != 0)
		rss = hwm = anon = -1;
	printf("soak: %-6s %5.0fs  ops %8" PRIu64 "  errors %" PRIu64
	    "  annalsd VmRSS %ld KiB (anon %ld KiB, peak %ld KiB)\n", when, t,
	    tot.ops, tot.errors, rss, anon, hwm);
	fflush(stdout);
	*rss_out = rss;
}

static void
usage(void)
{
	fprintf(stderr, "usage: soak [-t SECONDS] [-c CLIENTS] [-m MARGIN%%] "
	    "[-s SEED] ANNALSD\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct th_daemon	 d;
	struct soak_count	 tot;
	const char		*extra[] = { "--map-size", "256M", NULL };
	pid_t			 pids[SOAK_MAX_CLIENTS], pid;
	double			 start, until, next;
	long			 rss0, rss1 = -1, rss_end, allowed;
	int			 ch, i, status, failed = 0, clients = 8;
	int			 seconds = 600, margin = 20, minute = 0;
	unsigned		 seed = (unsigned)time(NULL);
	char			*p;

	while ((ch = getopt(argc, argv, "c:m:s:t:")) != -1) {
		switch (ch) {
		case 'c':
			clients = atoi(optarg);
			break;
		case 'm':
			margin = atoi(optarg);
			break;
		case 's':
			seed = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || clients < 1 || clients > SOAK_MAX_CLIENTS ||
	    seconds < 1 || margin < 0)
		usage();
	if (realpath(argv[optind], soak_bin) == NULL) {
		fprintf(stderr, "soak: %s: %s\n", argv[optind],
		    strerror(errno));
		return (2);
	}
	if ((p = strrchr(soak_bin, '/')) != NULL)
		*p = '\0';
	snprintf(soak_dir, sizeof soak_dir, "/tmp/annals-soak.XXXXXX");
	if (mkdtemp(soak_dir) == NULL) {
		fprintf(stderr, "soak: mkdtemp: %s\n", strerror(errno));
		return (2);
	}
	soak_counts = mmap(NULL, SOAK_MAX_CLIENTS * sizeof *soak_counts,
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (soak_counts == MAP_FAILED) {
		fprintf(stderr, "soak: mmap: %s\n", strerror(errno));
		return (2);
	}
	signal(SIGPIPE, SIG_IGN);
	if (th_daemon_start(&d, extra) != 0)
		return (1);
	printf("soak: %d clients for %d s on %s, seed %u; the end may use at "
	    "most %d%% (and %ld KiB) more memory than the first minute\n",
	    clients, seconds, soak_dir, seed, margin, SOAK_SLACK_KB);

	start = soak_now();
	until = start + seconds;
	soak_report("start", 0, clients, d.pid, &rss0);
	for (i = 0; i < clients; i++) {
		if ((pids[i] = fork()) == -1) {
			perror("soak: fork");
			return (2);
		}
		if (pids[i] == 0)
			soak_client(d.sock, i, until, seed);
	}

	/*
	 * Report every minute; the first minute's figure is the baseline.
	 * A run shorter than two minutes takes its baseline half-way.
	 */
	next = start + (seconds >= 120 ? 60 : seconds / 2.0);
	while (soak_now() < until) {
		usleep(200000);
		if (waitpid(d.pid, &status, WNOHANG) == d.pid) {
			fprintf(stderr, "soak: annalsd died (status %d)\n",
			    status);
			th_daemon_dump_log(&d);
			d.pid = 0;
			failed = 1;
			break;
		}
		if (soak_now() >= next && soak_now() < until) {
			minute++;
			soak_report(minute == 1 ? "base" : "minute",
			    soak_now() - start, clients, d.pid,
			    minute == 1 ? &rss1 : &rss_end);
			next += 60;
		}
	}
	for (i = 0; i < clients; i++) {
		while ((pid = waitpid(pids[i], &status, 0)) == -1 &&
		    errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
		    !soak_counts[i].done) {
			fprintf(stderr, "soak: client %d ended badly (status "
			    "%d)\n", i, status);
			failed = 1;
		}
	}
	if (d.pid == 0)
		return (1);
	soak_report("end", soak_now() - start, clients, d.pid, &rss_end);
	if (th_daemon_stop(&d) != 0) {
		fprintf(stderr, "soak: annalsd did not stop cleanly\n");
		failed = 1;
	}

	soak_totals(clients, &tot);
	printf("soak: %" PRIu64 " operations: %" PRIu64 " puts, %" PRIu64
	    " updates, %" PRIu64 " deletes, %" PRIu64 " range and %" PRIu64
	    " actor queries; %" PRIu64 " events read; %" PRIu64 " errors\n",
	    tot.ops, tot.puts, tot.updates, tot.deletes, tot.ranges,
	    tot.actors, tot.events_read, tot.errors);
	if (tot.errors != 0)
		failed = 1;
	if (rss1 < 0)
		rss1 = rss0;
	allowed = rss1 + rss1 * margin / 100;
	if (allowed < rss1 + SOAK_SLACK_KB)
		allowed = rss1 + SOAK_SLACK_KB;
	printf("soak: annalsd VmRSS %ld KiB at the start, %ld KiB after the "
	    "first minute, %ld KiB at the end (at most %ld KiB allowed)\n",
	    rss0, rss1, rss_end, allowed);
	if (rss_end > allowed) {
		fprintf(stderr, "soak: memory grew from %ld to %ld KiB\n",
		    rss1, rss_end);
		failed = 1;
	}
	printf("soak: %s\n", failed ? "FAILED" : "passed");
	if (!failed)
		nftw(soak_dir, soak_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return (failed);
}
