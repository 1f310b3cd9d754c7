/*
 * Crash consistency: writers over the socket (libannals) and over HTTP
 * (POST /v1/events) put, update and delete events and log every
 * acknowledgement, while a follower (`annals changes --follow`) applies
 * the change feed; the daemon is killed with SIGKILL at a random moment
 * of a short write burst.  Then, on the stopped daemon's data directory,
 * `annalsd --check` must find no problem; after the restart every
 * acknowledged write must be there with at least its acknowledged rev
 * (every acknowledged delete gone), and the follower, started again from
 * the last seq it saw, must reach the same events and revs as the store
 * without missing a change of the log.
 *
 * The keys are the same in every cycle, so the store stays small and
 * --check stays fast however many cycles run.  `make test` runs a few
 * cycles; `make test-crash` runs $ANNALS_CRASH_CYCLES (default 1000).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../client/annals.h"
#include "harness.h"
#include "test.h"

#define CRASH_SOCK_WRITERS	2
#define CRASH_HTTP_WRITERS	2
#define CRASH_WRITERS		(CRASH_SOCK_WRITERS + CRASH_HTTP_WRITERS)
#define CRASH_KEYS		40
#define CRASH_VERSIONS		1000000	/* versions one cycle may use */

struct key_state {
	int		acked;		/* version acknowledged; -1 deleted */
	uint64_t	rev;		/* rev acknowledged with it */
	int		pending;	/* version in flight; -1 delete */
	int		has_pending;
};

/* The follower's view of one event id, built from the feed alone. */
struct fview {
	uint64_t	rev;
	uint64_t	seq;		/* of the change that set it */
	int		alive;
};

struct follower {
	pid_t		 pid;
	char		 path[160];	/* the CLI's output, appended to */
	off_t		 off;		/* read up to here */
	uint64_t	 last;		/* seq of the last change applied */
	struct fview	*v;		/* indexed by id */
	size_t		 nv;
	long		 applied;
	long		 disorder;	/* seqs not above the one before */
};

/* One change of the store's log. */
struct logged {
	uint64_t	seq;
	uint64_t	id;
	uint64_t	rev;
	int		op;
};

struct logbuf {
	struct logged	*c;
	size_t		 n, size;
};

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6);
}

static void
log_line(int fd, char op, int k, int v, uint64_t rev)
{
	char	buf[80];
	int	n = snprintf(buf, sizeof buf, "%c %d %d %llu\n", op, k, v,
		    (unsigned long long)rev);

	if (write(fd, buf, (size_t)n) != n)
		_exit(3);
}

/* One socket writer: random puts and deletes on its keys until it fails. */
static void
sock_writer(const char *sock, int cycle, int w, const char *logpath,
    unsigned seed)
{
	struct annals_event		 ev;
	struct annals_actor		 actor = { "RUS", "source" };
	struct annals_put_result	 res;
	uint64_t			 ids[CRASH_KEYS];
	annals_ctx			*ctx;
	char				 key[32], title[48];
	int				 fd, k, v = cycle * CRASH_VERSIONS, i;

	memset(ids, 0, sizeof ids);
	if ((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		_exit(2);
	ctx = annals_connect(sock);
	if (ctx == NULL || annals_errcode(ctx) != 0)
		_exit(0);
	for (i = 0; i < CRASH_VERSIONS - 1; i++) {
		k = (int)(rand_r(&seed) % CRASH_KEYS);
		/* Only ids this writer put in this cycle are deleted. */
		if (ids[k] != 0 && rand_r(&seed) % 4 == 0) {
			log_line(fd, 'T', k, -1, 0);
			if (annals_delete(ctx, &ids[k], 1, NULL) != 0)
				break;
			log_line(fd, 'A', k, -1, 0);
			ids[k] = 0;
			continue;
		}
		v++;
		snprintf(key, sizeof key, "w%d-k%d", w, k);
		snprintf(title, sizeof title, "version %d", v);
		memset(&ev, 0, sizeof ev);
		ev.source = "crash";
		ev.key = key;
		ev.start = v % 2 ? "2015-01-26/2015-01-29" : "2014-12";
		ev.actors = &actor;
		ev.nactors = 1;
		ev.title = title;
		log_line(fd, 'T', k, v, 0);
		if (annals_put(ctx, &ev, 1, &res) != 0)
			break;
		log_line(fd, 'A', k, v, res.rev);
		ids[k] = res.id;
	}
	annals_free(ctx);
	close(fd);
	_exit(0);
}

/*
 * Read one HTTP/1.1 response with a Content-Length (spelt as libevent
 * spells it) into buf; returns the status and points *body at the
 * NUL-terminated body, or -1.
 */
static int
http_reply(int fd, char *buf, size_t size, char **body)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	size_t		 got = 0, need = 0;
	ssize_t		 n;
	char		*end = NULL, *cl;
	int		 status;

	for (;;) {
		if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			if ((cl = strstr(buf, "\r\nContent-Length:")) ==
			    NULL || cl > end)
				return (-1);
			need = (size_t)(end + 4 - buf) +
			    strtoul(cl + 17, NULL, 10);
			if (need >= size)
				return (-1);
		}
		if (end != NULL && got >= need)
			break;
		if (got + 1 >= size || poll(&pfd, 1, 10000) != 1)
			return (-1);
		n = read(fd, buf + got, size - 1 - got);
		if (n <= 0)
			return (-1);
		got += (size_t)n;
		buf[got] = '\0';
	}
	buf[need] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return (-1);
	*body = end + 4;
	return (status);
}

/*
 * Send one request and read its answer; returns the status, -1 when the
 * daemon went away.
 */
static int
http_call(int hfd, const char *req, size_t len, char *buf, size_t size,
    char **reply)
{
	if (th_send_all(hfd, req, len) != 0)
		return (-1);
	memset(buf, 0, size);
	return (http_reply(hfd, buf, size, reply));
}

/*
 * One HTTP writer: random POSTs and DELETEs on its keys over one
 * keep-alive connection until it fails.
 */
static void
http_writer(int port, int cycle, int w, const char *logpath,
    unsigned seed)
{
	char			 req[1024], body[512], buf[4096];
	char			*reply, *p;
	unsigned long long	 ids[CRASH_KEYS], rev;
	int			 fd, hfd, k, i, st, n;
	int			 v = cycle * CRASH_VERSIONS;

	memset(ids, 0, sizeof ids);
	if ((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		_exit(2);
	if ((hfd = th_tcp_connect(port)) == -1)
		_exit(0);
	for (i = 0; i < CRASH_VERSIONS - 1; i++) {
		k = (int)(rand_r(&seed) % CRASH_KEYS);
		if (ids[k] != 0 && rand_r(&seed) % 4 == 0) {
			n = snprintf(req, sizeof req, "DELETE /v1/events/%llu "
			    "HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			    "Content-Length: 0\r\n\r\n", ids[k]);
			log_line(fd, 'T', k, -1, 0);
			if ((st = http_call(hfd, req, (size_t)n, buf,
			    sizeof buf, &reply)) == -1)
				break;
			if (st != 200 || strstr(reply, "\"deleted\":true") ==
			    NULL)
				goto bad;
			log_line(fd, 'A', k, -1, 0);
			ids[k] = 0;
			continue;
		}
		v++;
		snprintf(body, sizeof body, "[{\"source\":\"crash\","
		    "\"key\":\"w%d-k%d\",\"start\":\"%s\",\"actors\":"
		    "[\"RUS\"],\"title\":\"version %d\"}]", w, k,
		    v % 2 ? "2015-01-26/2015-01-29" : "2014-12", v);
		n = snprintf(req, sizeof req, "POST /v1/events HTTP/1.1\r\n"
		    "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
		log_line(fd, 'T', k, v, 0);
		if ((st = http_call(hfd, req, (size_t)n, buf, sizeof buf,
		    &reply)) == -1)
			break;
		if (st != 200 || (p = strstr(reply, "\"id\":")) == NULL ||
		    sscanf(p + 5, "%llu", &ids[k]) != 1 ||
		    (p = strstr(reply, "\"rev\":")) == NULL ||
		    sscanf(p + 6, "%llu", &rev) != 1)
			goto bad;
		log_line(fd, 'A', k, v, rev);
	}
	close(hfd);
	close(fd);
	_exit(0);
bad:
	/* Anything but a result is the daemon's fault: say so. */
	fprintf(stderr, "http writer %d: %d %s\n", w, st, reply);
	_exit(4);
}

/* Fold a writer's log into its keys' states; returns acked writes. */
static int
read_log(const char *path, struct key_state *ks)
{
	FILE			*f;
	char			 op;
	unsigned long long	 rev;
	int			 k, v, acked = 0;

	if ((f = fopen(path, "r")) == NULL)
		return (0);
	while (fscanf(f, " %c %d %d %llu", &op, &k, &v, &rev) == 4) {
		T_ASSERT(k >= 0 && k < CRASH_KEYS);
		if (op == 'T') {
			ks[k].pending = v;
			ks[k].has_pending = 1;
		} else {
			ks[k].acked = v;
			ks[k].rev = rev;
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

/* Start `annals changes --follow` after since, appending to f->path. */
static void
follower_start(struct follower *f, const char *sock)
{
	char	bin[4200], since[32];
	int	fd;

	snprintf(bin, sizeof bin, "%s/annals", t_bindir());
	snprintf(since, sizeof since, "%llu", (unsigned long long)f->last);
	T_ASSERT((f->pid = fork()) != -1);
	if (f->pid == 0) {
		fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd == -1 || dup2(fd, 1) == -1)
			_exit(2);
		/* It says the daemon went away, once a cycle: not news. */
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, 2);
		execl(bin, bin, "-s", sock, "--format", "jsonl", "changes",
		    "--since", since, "--follow", (char *)NULL);
		_exit(127);
	}
}

static uint64_t
json_u64(const char *line, const char *key)
{
	const char	*p = strstr(line, key);

	return (p != NULL ? strtoull(p + strlen(key), NULL, 10) : 0);
}

/* Apply the complete lines the follower wrote since the last call. */
static void
follower_read(struct follower *f)
{
	FILE		*fp;
	char		*line = NULL;
	size_t		 size = 0, nv;
	ssize_t		 n;
	uint64_t	 seq, id;

	if ((fp = fopen(f->path, "r")) == NULL)
		return;
	T_OK(fseeko(fp, f->off, SEEK_SET));
	while ((n = getline(&line, &size, fp)) > 0 && line[n - 1] == '\n') {
		f->off += n;
		seq = json_u64(line, "\"seq\":");
		id = json_u64(line, "\"id\":");
		T_ASSERTF(seq != 0 && id != 0 && id < 100000000,
		    "follower: %s", line);
		if (seq <= f->last)
			f->disorder++;
		f->last = seq;
		if (id >= f->nv) {
			nv = id * 2 + 64;
			T_ASSERT((f->v = realloc(f->v, nv * sizeof *f->v)) !=
			    NULL);
			memset(f->v + f->nv, 0, (nv - f->nv) * sizeof *f->v);
			f->nv = nv;
		}
		f->v[id].seq = seq;
		f->v[id].alive = strstr(line, "\"op\":\"delete\"") == NULL;
		f->v[id].rev = json_u64(line, "\"rev\":");
		f->applied++;
	}
	free(line);
	fclose(fp);
}

static int
collect_change(const struct annals_change *ch, void *arg)
{
	struct logbuf	*lb = arg;

	if (lb->n == lb->size) {
		lb->size = lb->size * 2 + 256;
		T_ASSERT((lb->c = realloc(lb->c, lb->size * sizeof *lb->c)) !=
		    NULL);
	}
	lb->c[lb->n].seq = ch->seq;
	lb->c[lb->n].id = ch->id;
	lb->c[lb->n].op = ch->op;
	lb->c[lb->n].rev = ch->event != NULL ? ch->event->rev : 0;
	lb->n++;
	return (0);
}

/*
 * Wait for the follower to reach the store's last change, then compare
 * its view with the store's whole (compacted) log: each event's latest
 * change must be the one the follower applied last for that id, and it
 * must hold no event the log does not.  Returns the differences.
 */
static int
follower_compare(struct follower *f, annals_ctx *ctx, int cycle)
{
	struct logbuf		 lb = { NULL, 0, 0 };
	struct annals_feed	 feed;
	struct fview		*fv;
	uint64_t		 since = 0;
	double			 deadline = now_ms() + 20000;
	size_t			 i, alive = 0, puts = 0;
	int			 gaps = 0, status;

	do {
		T_ASSERTF(annals_changes(ctx, since, 10000, collect_change,
		    &lb, &feed) == 0, "changes: %s", annals_errmsg(ctx));
		since = feed.next;
	} while (feed.more);
	for (;;) {
		follower_read(f);
		if (f->last >= feed.last_seq)
			break;
		T_ASSERTF(waitpid(f->pid, &status, WNOHANG) == 0,
		    "cycle %d: the follower exited (status %d) at seq %llu of "
		    "%llu", cycle, status, (unsigned long long)f->last,
		    (unsigned long long)feed.last_seq);
		T_ASSERTF(now_ms() < deadline, "cycle %d: the follower is at "
		    "seq %llu of %llu after 20 s", cycle,
		    (unsigned long long)f->last,
		    (unsigned long long)feed.last_seq);
		usleep(2000);
	}
	for (i = 0; i < lb.n; i++) {
		fv = lb.c[i].id < f->nv ? &f->v[lb.c[i].id] : NULL;
		if (lb.c[i].op == ANNALS_CHANGE_PUT) {
			puts++;
			if (fv != NULL && fv->alive && fv->seq == lb.c[i].seq &&
			    fv->rev == lb.c[i].rev)
				continue;
		} else if (fv == NULL || !fv->alive)
			continue;
		fprintf(stderr, "cycle %d: change %llu (%s %llu rev %llu) "
		    "not as the follower has it\n", cycle,
		    (unsigned long long)lb.c[i].seq,
		    lb.c[i].op == ANNALS_CHANGE_PUT ? "put" : "delete",
		    (unsigned long long)lb.c[i].id,
		    (unsigned long long)lb.c[i].rev);
		gaps++;
	}
	for (i = 0; i < f->nv; i++)
		alive += f->v[i].alive;
	if (alive != puts) {
		fprintf(stderr, "cycle %d: the follower has %zu events, the "
		    "store %zu\n", cycle, alive, puts);
		gaps++;
	}
	free(lb.c);
	return (gaps);
}

/* annalsd --check on the stopped daemon's data; returns its problems. */
static int
check_data(const char *data)
{
	FILE	*p;
	char	 cmd[512], line[1024], *s;
	int	 problems = -1, status;

	snprintf(cmd, sizeof cmd, "%s/annalsd --check --data %s 2>&1",
	    t_bindir(), data);
	T_ASSERT((p = popen(cmd, "r")) != NULL);
	while (fgets(line, sizeof line, p) != NULL) {
		if ((s = strstr(line, " problem")) != NULL) {
			while (s > line && s[-1] >= '0' && s[-1] <= '9')
				s--;
			problems = atoi(s);
		}
		if (problems != 0)
			fputs(line, stderr);
	}
	status = pclose(p);
	if (status != 0 && problems <= 0)
		problems = 1;
	return (problems);
}

static void
run_cycles(int cycles)
{
	struct th_daemon	 d;
	struct key_state	 ks[CRASH_WRITERS][CRASH_KEYS];
	struct follower		 f;
	struct annals_event	*ev;
	annals_ctx		*ctx;
	pid_t			 pids[CRASH_WRITERS];
	const char		*extra[3];
	char			 path[160], key[64], http[32];
	unsigned		 seed = t_seed();
	double			 t0, t, t_start = 0, t_write = 0, t_check = 0;
	double			 t_verify = 0;
	long			 checked[2] = { 0, 0 };
	int			 c, w, k, have, status, lost = 0, gaps = 0;
	int			 problems = 0, n, port;

	T_ASSERT((port = th_free_port()) > 0);
	snprintf(http, sizeof http, "127.0.0.1:%d", port);
	extra[0] = "--http";
	extra[1] = http;
	extra[2] = NULL;
	for (w = 0; w < CRASH_WRITERS; w++)
		for (k = 0; k < CRASH_KEYS; k++) {
			ks[w][k].acked = -1;
			ks[w][k].rev = 0;
		}
	memset(&f, 0, sizeof f);
	snprintf(f.path, sizeof f.path, "%s/follower.jsonl", t_dir());

	t0 = now_ms();
	T_OK(th_daemon_start(&d, extra));
	follower_start(&f, d.sock);
	for (c = 0; c < cycles; c++) {
		/* A burst of writes, killed at a random moment of it. */
		t = now_ms();
		for (w = 0; w < CRASH_WRITERS; w++) {
			snprintf(path, sizeof path, "%s/w%d.log", t_dir(), w);
			if ((pids[w] = fork()) == 0) {
				if (w < CRASH_SOCK_WRITERS)
					sock_writer(d.sock, c, w, path,
					    seed + c * 31 + w);
				http_writer(port, c, w, path,
				    seed + c * 31 + w);
			}
		}
		usleep(20000 + rand_r(&seed) % 300000);
		th_daemon_kill(&d);
		for (w = 0; w < CRASH_WRITERS; w++) {
			waitpid(pids[w], &status, 0);
			T_ASSERTF(WIFEXITED(status) &&
			    WEXITSTATUS(status) == 0, "cycle %d: writer %d "
			    "ended with status %d", c, w, status);
		}
		waitpid(f.pid, &status, 0);
		follower_read(&f);
		t_write += now_ms() - t;

		/* The indexes agree with the records after every crash. */
		t = now_ms();
		if ((n = check_data(d.data)) != 0) {
			fprintf(stderr, "cycle %d: check found %d problems\n",
			    c, n);
			problems += n;
		}
		t_check += now_ms() - t;

		t = now_ms();
		T_OK(th_daemon_start(&d, extra));
		follower_start(&f, d.sock);
		t_start += now_ms() - t;

		t = now_ms();
		ctx = annals_connect(d.sock);
		T_ASSERT(ctx != NULL && annals_errcode(ctx) == 0);
		for (w = 0; w < CRASH_WRITERS; w++) {
			snprintf(path, sizeof path, "%s/w%d.log", t_dir(), w);
			for (k = 0; k < CRASH_KEYS; k++)
				ks[w][k].has_pending = 0;
			checked[w >= CRASH_SOCK_WRITERS] +=
			    read_log(path, ks[w]);
			for (k = 0; k < CRASH_KEYS; k++) {
				struct key_state	*s = &ks[w][k];

				snprintf(key, sizeof key, "w%d-k%d", w, k);
				ev = NULL;
				if (annals_get_by_key(ctx, "crash", key,
				    &ev) != 0)
					T_ASSERTF(annals_errcode(ctx) ==
					    ANNALS_ENOTFOUND, "%s",
					    annals_errmsg(ctx));
				have = version_of(ev);
				/*
				 * The last acknowledged state, with at least
				 * its rev, or the one in flight when the
				 * daemon died, which then counts as done.
				 */
				if (have == s->acked && (have == -1 ||
				    ev->rev >= s->rev))
					;
				else if (s->has_pending && have == s->pending)
					s->acked = have;
				else {
					fprintf(stderr, "cycle %d %s: have %d "
					    "rev %llu, acknowledged %d rev "
					    "%llu\n", c, key, have,
					    ev != NULL ? (unsigned long long)
					    ev->rev : 0, s->acked,
					    (unsigned long long)s->rev);
					lost++;
					s->acked = have;
				}
				s->rev = ev != NULL ? ev->rev : 0;
				annals_event_free(ev);
			}
		}
		gaps += follower_compare(&f, ctx, c);
		annals_free(ctx);
		t_verify += now_ms() - t;
	}
	T_EQ_INT(th_daemon_stop(&d), 0);
	waitpid(f.pid, &status, 0);
	follower_read(&f);
	t = now_ms() - t0;
	printf("crash: %.1f s, %.0f ms a cycle: writes and kill %.0f, check "
	    "%.0f, start %.0f, verify and follow %.0f\n", t / 1000,
	    t / cycles, t_write / cycles, t_check / cycles, t_start / cycles,
	    t_verify / cycles);
	printf("crash: %d cycles, %ld acknowledged writes checked (%ld "
	    "socket, %ld http), lost: %d; follower applied %ld changes, "
	    "gaps: %ld; check: %d runs, %d problems\n", cycles,
	    checked[0] + checked[1], checked[0], checked[1], lost, f.applied,
	    gaps + f.disorder, cycles, problems);
	free(f.v);
	T_EQ_INT(lost, 0);
	T_EQ_INT(gaps + f.disorder, 0);
	T_EQ_INT(problems, 0);
	T_ASSERT(checked[0] > 0 && checked[1] > 0);
}

TEST(crash_kill9_loses_no_acknowledged_write)
{
	const char	*env = getenv("ANNALS_CRASH_CYCLES");

	run_cycles(env != NULL ? atoi(env) : 4);
}
