/*
 * contrib/sync: rss-sync and gdelt-sync run with python3 against the real
 * daemon and the built annals, on feeds and GDELT files from tests/data
 * read from disk or served by a small HTTP server of the test's own on
 * 127.0.0.1.  Each script runs twice and the second run must add
 * nothing; the events are then looked up by source and key.  The real
 * Guardian feed of ../shared/data, which may not be copied here, goes
 * through rss-sync in a test of its own, skipped without it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "harness.h"
#include "test.h"
#include "../client/annals.h"

extern char	**environ;

/* What one run of a script printed. */
struct sync_run {
	int	 status;	/* exit status, or 128 + signal */
	char	*out;
	char	*err;
};

/* The HTTP server: a child process serving the files of one directory. */
struct sync_http {
	pid_t	pid;
	int	port;
	char	log[PATH_MAX];	/* one line per request: "/path status" */
};

/* The GDELT rows of tests/data, cut into export files of this many. */
#define SYNC_GDELT_ROWS	150
#define SYNC_GDELT_PART	50

static const char *
sync_root(void)
{
	static char	root[1024];
	char		bindir[PATH_MAX];

	/* The runner sits in the build directory, inside the checkout. */
	snprintf(bindir, sizeof bindir, "%s", t_bindir());
	if (snprintf(root, sizeof root, "%s", dirname(bindir)) >=
	    (int)sizeof root)
		T_FAIL("%s: path too long", bindir);
	return (root);
}

/*
 * Run argv (NULL-terminated; argv[0] looked up on PATH) with stdin from
 * /dev/null and its output in files, so that a large output cannot block.
 * No proxy may stand between a script and the test's server.
 */
static void
sync_spawn(struct sync_run *r, const char *const *argv)
{
	char	out[PATH_MAX], err[PATH_MAX];

	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	setenv("no_proxy", "*", 1);
	unsetenv("ANNALS_SOCKET");
	snprintf(out, sizeof out, "%s/run.out", t_dir());
	snprintf(err, sizeof err, "%s/run.err", t_dir());
	r->status = th_spawn(argv, NULL, out, err, 0);
	r->out = th_slurp(out, NULL);
	r->err = th_slurp(err, NULL);
}

static void
sync_run_free(struct sync_run *r)
{
	free(r->out);
	free(r->err);
}

/*
 * Run contrib/sync/SCRIPT with python3 against the daemon's socket and
 * the built annals, then the arguments; expect an exit status.
 */
#define SYNC_RUN(r, d, script, want, ...) do {				\
	const char *sync_args_[] = { __VA_ARGS__, NULL };		\
	sync_script((r), (d), (script), sync_args_);			\
	T_ASSERTF((r)->status == (want), "exit %d, wanted %d; "		\
	    "stdout: %s; stderr: %s", (r)->status, (want), (r)->out,	\
	    (r)->err);							\
} while (0)

static void
sync_script(struct sync_run *r, const struct th_daemon *d,
    const char *script, const char *const *args)
{
	const char	*argv[64];
	char		 path[PATH_MAX], annals[PATH_MAX];
	int		 i = 0;

	snprintf(path, sizeof path, "%s/contrib/sync/%s", sync_root(),
	    script);
	snprintf(annals, sizeof annals, "%s/annals", t_bindir());
	argv[i++] = "python3";
	argv[i++] = path;
	if (d != NULL) {
		argv[i++] = "--annals";
		argv[i++] = annals;
		argv[i++] = "--socket";
		argv[i++] = d->sock;
	}
	while (*args != NULL && i < 63)
		argv[i++] = *args++;
	argv[i] = NULL;
	sync_spawn(r, argv);
}

/* Whether s holds needle; the message shows s when it does not. */
#define SYNC_HAS(s, needle)						\
	T_ASSERTF(strstr((s), (needle)) != NULL, "no \"%s\" in: %s",	\
	    (needle), (s))

/* Serve a request on fd: GET /NAME answers root/NAME, or 404. */
static void
sync_http_serve(int fd, const char *root, const char *log)
{
	struct pollfd	 pfd;
	char		 req[2048], path[PATH_MAX], name[1024], head[256];
	char		 buf[65536];
	size_t		 have = 0;
	ssize_t		 n;
	struct stat	 sb;
	int		 file = -1, code = 404, lfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	req[0] = '\0';
	while (have < sizeof req - 1 && strstr(req, "\r\n\r\n") == NULL) {
		if (poll(&pfd, 1, 5000) != 1)
			return;
		if ((n = read(fd, req + have, sizeof req - 1 - have)) <= 0)
			return;
		have += n;
		req[have] = '\0';
	}
	if (sscanf(req, "GET /%1023[^ ?] ", name) != 1)
		snprintf(name, sizeof name, "..");
	if (snprintf(path, sizeof path, "%s/%s", root, name) >=
	    (int)sizeof path)
		snprintf(name, sizeof name, "..");
	if (strstr(name, "..") == NULL && stat(path, &sb) == 0 &&
	    S_ISREG(sb.st_mode) && (file = open(path, O_RDONLY)) != -1)
		code = 200;
	if (code == 200)
		n = snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\n"
		    "Content-Length: %lld\r\nConnection: close\r\n\r\n",
		    (long long)sb.st_size);
	else
		n = snprintf(head, sizeof head, "HTTP/1.0 404 Not Found\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	if (write(fd, head, n) == n && file != -1) {
		while ((n = read(file, buf, sizeof buf)) > 0)
			if (write(fd, buf, n) != n)
				break;
	}
	if (file != -1)
		close(file);
	if ((lfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) != -1) {
		dprintf(lfd, "/%s %d\n", name, code);
		close(lfd);
	}
}

/*
 * Start the server on 127.0.0.1 and a port the kernel picks.  It listens
 * before the child starts, so requests can be made at once.
 */
static void
sync_http_start(struct sync_http *h, const char *root)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			lfd, fd;

	snprintf(h->log, sizeof h->log, "%s/http.log", t_dir());
	T_ASSERT((lfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	T_OK(bind(lfd, (struct sockaddr *)&sin, sizeof sin));
	T_OK(listen(lfd, 16));
	T_OK(getsockname(lfd, (struct sockaddr *)&sin, &len));
	h->port = ntohs(sin.sin_port);
	T_ASSERT((h->pid = fork()) != -1);
	if (h->pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		for (;;) {
			if ((fd = accept(lfd, NULL, NULL)) == -1) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			sync_http_serve(fd, root, h->log);
			close(fd);
		}
	}
	close(lfd);
}

static void
sync_http_stop(struct sync_http *h)
{
	kill(h->pid, SIGTERM);
	waitpid(h->pid, NULL, 0);
}

/* The requests the server saw so far, and forget them. */
static char *
sync_http_log(struct sync_http *h)
{
	char	*s;

	if (access(h->log, F_OK) == -1)
		return (strdup(""));
	s = th_slurp(h->log, NULL);
	T_OK(unlink(h->log));
	return (s);
}

static annals_ctx *
sync_connect(const struct th_daemon *d)
{
	annals_ctx	*ctx;

	T_ASSERT((ctx = annals_connect(d->sock)) != NULL);
	T_ASSERTF(annals_errcode(ctx) == 0, "%s", annals_errmsg(ctx));
	return (ctx);
}

static uint64_t
sync_events(const struct th_daemon *d)
{
	struct annals_stats	 st;
	annals_ctx		*ctx = sync_connect(d);

	T_ASSERTF(annals_stats(ctx, &st) == 0, "%s", annals_errmsg(ctx));
	annals_free(ctx);
	return (st.events);
}

/* The event of source and key; fails the test when there is none. */
static struct annals_event *
sync_get(annals_ctx *ctx, const char *source, const char *key)
{
	struct annals_event	*ev;

	T_ASSERTF(annals_get_by_key(ctx, source, key, &ev) == 0,
	    "%s / %s: %s", source, key, annals_errmsg(ctx));
	return (ev);
}

/* Whether the event has an actor name with role (NULL: none). */
static int
sync_has_actor(const struct annals_event *ev, const char *name,
    const char *role)
{
	size_t	i;

	for (i = 0; i < ev->nactors; i++) {
		if (strcmp(ev->actors[i].name, name) != 0)
			continue;
		if (role == NULL ? ev->actors[i].role == NULL :
		    ev->actors[i].role != NULL &&
		    strcmp(ev->actors[i].role, role) == 0)
			return (1);
	}
	return (0);
}

static int
sync_has_tag(const struct annals_event *ev, const char *tag)
{
	size_t	i;

	for (i = 0; i < ev->ntags; i++)
		if (strcmp(ev->tags[i], tag) == 0)
			return (1);
	return (0);
}

/* s with its first "from" replaced by "to", in new memory. */
static char *
sync_replace(const char *s, const char *from, const char *to)
{
	const char	*p;
	char		*out;
	size_t		 len;

	T_ASSERTF((p = strstr(s, from)) != NULL, "no \"%s\"", from);
	len = strlen(s) - strlen(from) + strlen(to);
	T_ASSERT((out = malloc(len + 1)) != NULL);
	snprintf(out, len + 1, "%.*s%s%s", (int)(p - s), s, to,
	    p + strlen(from));
	return (out);
}

static void
sync_data(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/tests/data/%s", sync_root(), name);
}

TEST(sync_scripts_compile_and_explain_themselves)
{
	static const char *const scripts[] = { "rss-sync", "gdelt-sync" };
	struct sync_run		 r;
	char			 path[PATH_MAX], pyc[PATH_MAX];
	size_t			 i;

	snprintf(pyc, sizeof pyc, "%s/script.pyc", t_dir());
	for (i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
		snprintf(path, sizeof path, "%s/contrib/sync/%s",
		    sync_root(), scripts[i]);
		T_ASSERTF(access(path, X_OK) == 0, "%s: not executable",
		    path);
		/* Compiled to a file of the test's: the tree stays clean. */
		{
			const char *argv[] = { "python3", "-c",
			    "import py_compile, sys; py_compile.compile("
			    "sys.argv[1], cfile=sys.argv[2], doraise=True)",
			    path, pyc, NULL };

			sync_spawn(&r, argv);
			T_ASSERTF(r.status == 0, "%s: %s", path, r.err);
			sync_run_free(&r);
		}
		SYNC_RUN(&r, NULL, scripts[i], 0, "--help");
		SYNC_HAS(r.out, "usage: ");
		SYNC_HAS(r.out, "exit status");
		SYNC_HAS(r.out, "--annals PATH");
		SYNC_HAS(r.out, "--socket SOCKET");
		sync_run_free(&r);
		SYNC_RUN(&r, NULL, scripts[i], 2, "--no-such-option", "x");
		SYNC_HAS(r.err, "--no-such-option");
		sync_run_free(&r);
	}
	/* gdelt-sync will not guess where its state goes. */
	unsetenv("STATE_DIRECTORY");
	SYNC_RUN(&r, NULL, "gdelt-sync", 2, t_dir());
	SYNC_HAS(r.err, "--state");
	sync_run_free(&r);
}

TEST(sync_rss_twice_adds_nothing_the_second_time)
{
	struct th_daemon	 d;
	struct sync_run		 r;
	struct annals_event	*ev;
	annals_ctx		*ctx;
	char			 feed[PATH_MAX], map[PATH_MAX], copy[PATH_MAX];
	char			 want[PATH_MAX + 128];
	char			*s, *p;

	sync_data(feed, sizeof feed, "sync-feed.rss");
	sync_data(map, sizeof map, "sync-actors.tsv");
	T_OK(th_daemon_start(&d, NULL));

	SYNC_RUN(&r, &d, "rss-sync", 0, "--via", "add", "--actor-map", map,
	    feed);
	/* The source is the file's absolute path; one item has no date. */
	snprintf(want, sizeof want, "%s: 6 items: added 5, updated 0, "
	    "unchanged 0, skipped 1\n", feed);
	T_EQ_STR(r.out, want);
	SYNC_HAS(r.err, "wire-2015-0005: no publication date: skipped");
	sync_run_free(&r);
	T_EQ_U64(sync_events(&d), 5);

	SYNC_RUN(&r, &d, "rss-sync", 0, "--via", "add", "--actor-map", map,
	    feed);
	snprintf(want, sizeof want, "%s: 6 items: added 0, updated 0, "
	    "unchanged 5, skipped 1\n", feed);
	T_EQ_STR(r.out, want);
	sync_run_free(&r);
	T_EQ_U64(sync_events(&d), 5);

	ctx = sync_connect(&d);
	/* +0300 is three hours ahead of UTC. */
	ev = sync_get(ctx, feed, "wire-2015-0001");
	T_EQ_STR(ev->start, "2015-01-26T07:00:00Z");
	T_EQ_INT(ev->rev, 1);
	T_EQ_STR(ev->title, "Consultations on Syria open in Moscow");
	T_EQ_STR(ev->text, "Talks opened in Moscow & are planned to run for "
	    "four days.\nOfficials called them \xe2\x80\x9c" "consultations"
	    "\xe2\x80\x9d, not negotiations.");
	T_EQ_INT(ev->nurls, 1);
	T_EQ_STR(ev->urls[0],
	    "https://example.org/wire/2015/01/26/moscow-consultations");
	/* Mapped by its text, and by its domain with a role. */
	T_EQ_INT(ev->nactors, 2);
	T_ASSERT(sync_has_actor(ev, "RUS", NULL));
	T_ASSERT(sync_has_actor(ev, "SYR", "target"));
	T_EQ_INT(ev->ntags, 1);
	T_ASSERT(sync_has_tag(ev, "Diplomacy"));
	annals_event_free(ev);
	/* No guid: the link is the key.  EST is five hours behind. */
	ev = sync_get(ctx, feed,
	    "https://example.org/wire/2015/01/27/second-day");
	T_EQ_STR(ev->start, "2015-01-27T14:15:00Z");
	T_EQ_INT(ev->nactors, 1);
	T_ASSERT(sync_has_actor(ev, "Annals test wire", NULL));
	annals_event_free(ev);
	/* dc:date when there is no pubDate; HTML escaped in the text. */
	ev = sync_get(ctx, feed, "wire-2015-0003");
	T_EQ_STR(ev->start, "2015-01-29T03:30:00Z");
	T_EQ_STR(ev->text, "The envoy described the talks as a first step.");
	T_ASSERT(sync_has_actor(ev, "UNO", NULL));
	annals_event_free(ev);
	/* A two-digit year; "Syria" without its domain is only a tag. */
	ev = sync_get(ctx, feed, "wire-2015-0004");
	T_EQ_STR(ev->start, "2015-01-29T12:00:00Z");
	T_ASSERT(sync_has_actor(ev, "Annals test wire", NULL));
	T_ASSERT(sync_has_tag(ev, "Syria"));
	T_ASSERT(sync_has_tag(ev, "Diplomacy"));
	annals_event_free(ev);
	/* Entities escaped twice come out once; the map ignores case. */
	ev = sync_get(ctx, feed, "https://example.org/wire/2015/01/30/comment");
	T_EQ_STR(ev->start, "2015-01-30T08:05:09Z");
	T_EQ_STR(ev->text, "Reactions in & around the capital");
	T_ASSERT(sync_has_actor(ev, "RUS", NULL));
	annals_event_free(ev);
	T_ASSERT(annals_get_by_key(ctx, feed, "wire-2015-0005", &ev) == -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_ENOTFOUND);

	/* The feed changes one title: that event is updated, in place. */
	s = th_slurp(feed, NULL);
	p = sync_replace(s, "without a joint", "with a joint");
	snprintf(copy, sizeof copy, "%s/feed.rss", t_dir());
	th_write(copy, p, strlen(p));
	free(p);
	free(s);
	SYNC_RUN(&r, &d, "rss-sync", 0, "--via", "add", "--actor-map", map,
	    "--source", feed, copy);
	snprintf(want, sizeof want, "%s: 6 items: added 0, updated 1, "
	    "unchanged 4, skipped 1\n", feed);
	T_EQ_STR(r.out, want);
	sync_run_free(&r);
	T_EQ_U64(sync_events(&d), 5);
	ev = sync_get(ctx, feed, "wire-2015-0004");
	T_EQ_STR(ev->title, "Talks end with a joint statement");
	T_EQ_INT(ev->rev, 2);
	annals_event_free(ev);
	annals_free(ctx);
	T_OK(th_daemon_stop(&d));
}

TEST(sync_rss_shared_guardian_twice_adds_nothing)
{
	struct th_daemon	 d;
	struct sync_run		 r;
	struct annals_event	*ev;
	annals_ctx		*ctx;
	char			 guardian[PATH_MAX];

	snprintf(guardian, sizeof guardian, "%s/feed-sample.xml",
	    t_shared_data_or_skip());
	T_OK(th_daemon_start(&d, NULL));
	ctx = annals_connect(d.sock);
	T_ASSERTF(annals_errcode(ctx) == 0, "%s", annals_errmsg(ctx));
	SYNC_RUN(&r, &d, "rss-sync", 0, "--via", "add", "--source",
	    "guardian", guardian);
	T_EQ_STR(r.out, "guardian: 55 items: added 55, updated 0, "
	    "unchanged 0, skipped 0\n");
	sync_run_free(&r);
	SYNC_RUN(&r, &d, "rss-sync", 0, "--via", "add", "--source",
	    "guardian", guardian);
	T_EQ_STR(r.out, "guardian: 55 items: added 0, updated 0, "
	    "unchanged 55, skipped 0\n");
	sync_run_free(&r);
	T_EQ_U64(sync_events(&d), 55);
	ev = sync_get(ctx, "guardian", "https://www.theguardian.com/"
	    "us-news/2018/jan/31/donald-trump-state-of-the-union-"
	    "address-unity-discord");
	T_EQ_STR(ev->start, "2018-01-31T07:26:05Z");
	T_ASSERT(sync_has_actor(ev, "The Guardian", NULL));
	T_ASSERT(sync_has_tag(ev, "State of the Union address"));
	T_ASSERT(strstr(ev->text, "&lt;") == NULL &&
	    strstr(ev->text, "<p>") == NULL);
	annals_event_free(ev);
	annals_free(ctx);
	T_OK(th_daemon_stop(&d));
}

TEST(sync_rss_atom_over_http)
{
	struct th_daemon	 d;
	struct sync_http	 h;
	struct sync_run		 r;
	struct annals_event	*ev;
	annals_ctx		*ctx;
	char			 src[PATH_MAX], dst[PATH_MAX], url[128];
	char			 missing[128], want[256];
	char			*s, *log;

	sync_data(src, sizeof src, "sync-feed.atom");
	snprintf(dst, sizeof dst, "%s/www", t_dir());
	T_OK(mkdir(dst, 0700));
	s = th_slurp(src, NULL);
	snprintf(dst, sizeof dst, "%s/www/notes.atom", t_dir());
	th_write(dst, s, strlen(s));
	free(s);
	snprintf(dst, sizeof dst, "%s/www", t_dir());
	sync_http_start(&h, dst);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/notes.atom", h.port);
	snprintf(missing, sizeof missing, "http://127.0.0.1:%d/gone.atom",
	    h.port);
	T_OK(th_daemon_start(&d, NULL));

	SYNC_RUN(&r, &d, "rss-sync", 0, "--via", "add", url);
	/* The address is the source. */
	snprintf(want, sizeof want, "%s: 3 items: added 3, updated 0, "
	    "unchanged 0, skipped 0\n", url);
	T_EQ_STR(r.out, want);
	sync_run_free(&r);
	SYNC_RUN(&r, &d, "rss-sync", 0, "--via", "add", url);
	snprintf(want, sizeof want, "%s: 3 items: added 0, updated 0, "
	    "unchanged 3, skipped 0\n", url);
	T_EQ_STR(r.out, want);
	sync_run_free(&r);
	log = sync_http_log(&h);
	T_EQ_STR(log, "/notes.atom 200\n/notes.atom 200\n");
	free(log);
	T_EQ_U64(sync_events(&d), 3);

	ctx = sync_connect(&d);
	/* published, not updated, and +01:00 taken back to UTC. */
	ev = sync_get(ctx, url, "urn:uuid:6f1c2a52-0001");
	T_EQ_STR(ev->start, "2015-02-02T09:00:00Z");
	T_EQ_STR(ev->text, "Opposition figures met in Cairo & agreed on a "
	    "text.");
	T_EQ_STR(ev->urls[0], "https://example.org/notes/cairo-meeting");
	/* No map: every category is a tag, the feed's title the actor. */
	T_ASSERT(sync_has_tag(ev, "Egypt"));
	T_ASSERT(sync_has_tag(ev, "opposition"));
	T_EQ_INT(ev->nactors, 1);
	T_ASSERT(sync_has_actor(ev, "Annals test notes", NULL));
	annals_event_free(ev);
	/* Only updated; xhtml content; the alternate link, not self. */
	ev = sync_get(ctx, url, "urn:uuid:6f1c2a52-0002");
	T_EQ_STR(ev->start, "2015-02-03T12:30:45Z");
	T_EQ_STR(ev->text, "The mediators spoke by phone.\nNo date was set.");
	T_EQ_STR(ev->urls[0], "https://example.org/notes/follow-up-call");
	annals_event_free(ev);
	/* Fractions of a second dropped; a text summary keeps its "<". */
	ev = sync_get(ctx, url, "urn:uuid:6f1c2a52-0003");
	T_EQ_STR(ev->start, "2015-02-04T00:00:00Z");
	T_EQ_STR(ev->title, "Statement after the round");
	T_EQ_STR(ev->text, "Plain text keeps <angle brackets> as they are.");
	annals_event_free(ev);
	annals_free(ctx);

	/* --default-actor and --source name another set of events. */
	SYNC_RUN(&r, &d, "rss-sync", 0, "--via", "add", "--source", "notes",
	    "--default-actor", "MEDIATORS", url);
	T_EQ_STR(r.out, "notes: 3 items: added 3, updated 0, unchanged 0, "
	    "skipped 0\n");
	sync_run_free(&r);
	ctx = sync_connect(&d);
	ev = sync_get(ctx, "notes", "urn:uuid:6f1c2a52-0002");
	T_EQ_INT(ev->nactors, 1);
	T_ASSERT(sync_has_actor(ev, "MEDIATORS", NULL));
	annals_event_free(ev);
	annals_free(ctx);

	/* A feed that is not there: a failure, and nothing added. */
	SYNC_RUN(&r, &d, "rss-sync", 1, "--via", "add", missing);
	SYNC_HAS(r.err, "HTTP 404");
	T_EQ_STR(r.out, "");
	sync_run_free(&r);
	T_EQ_U64(sync_events(&d), 6);
	free(sync_http_log(&h));

	sync_http_stop(&h);
	T_OK(th_daemon_stop(&d));
}

TEST(sync_rss_through_annals_import_counts_the_same)
{
	struct th_daemon	 d;
	struct sync_run		 r;
	struct annals_event	*ev;
	annals_ctx		*ctx;
	char			 feed[PATH_MAX], map[PATH_MAX], copy[PATH_MAX];
	char			 want[PATH_MAX + 128], *s, *p;

	sync_data(feed, sizeof feed, "sync-feed.rss");
	sync_data(map, sizeof map, "sync-actors.tsv");
	T_OK(th_daemon_start(&d, NULL));

	/* The default: annals import, which this annals has. */
	SYNC_RUN(&r, &d, "rss-sync", 0, "--actor-map", map, feed);
	snprintf(want, sizeof want, "%s: 6 items: added 5, updated 0, "
	    "unchanged 0, skipped 1\n", feed);
	T_EQ_STR(r.out, want);
	sync_run_free(&r);
	SYNC_RUN(&r, &d, "rss-sync", 0, "--via", "import", "--actor-map",
	    map, feed);
	snprintf(want, sizeof want, "%s: 6 items: added 0, updated 0, "
	    "unchanged 5, skipped 1\n", feed);
	T_EQ_STR(r.out, want);
	sync_run_free(&r);
	/* add - finds the same events as import made them. */
	SYNC_RUN(&r, &d, "rss-sync", 0, "--via", "add", "--actor-map", map,
	    feed);
	T_EQ_STR(r.out, want);
	sync_run_free(&r);
	T_EQ_U64(sync_events(&d), 5);

	s = th_slurp(feed, NULL);
	p = sync_replace(s, "without a joint", "with a joint");
	snprintf(copy, sizeof copy, "%s/feed.rss", t_dir());
	th_write(copy, p, strlen(p));
	free(p);
	free(s);
	SYNC_RUN(&r, &d, "rss-sync", 0, "--via", "import", "--actor-map",
	    map, "--source", feed, copy);
	snprintf(want, sizeof want, "%s: 6 items: added 0, updated 1, "
	    "unchanged 4, skipped 1\n", feed);
	T_EQ_STR(r.out, want);
	sync_run_free(&r);
	T_EQ_U64(sync_events(&d), 5);
	ctx = sync_connect(&d);
	ev = sync_get(ctx, feed, "wire-2015-0004");
	T_EQ_STR(ev->title, "Talks end with a joint statement");
	T_EQ_STR(ev->start, "2015-01-29T12:00:00Z");
	annals_event_free(ev);
	ev = sync_get(ctx, feed, "wire-2015-0001");
	T_ASSERT(sync_has_actor(ev, "SYR", "target"));
	T_EQ_INT(ev->rev, 1);
	annals_event_free(ev);
	annals_free(ctx);
	T_OK(th_daemon_stop(&d));
}

/* The first 32 characters md5sum prints for path. */
static void
sync_md5(const char *path, char md5[33])
{
	const char	*argv[] = { "md5sum", path, NULL };
	struct sync_run	 r;

	sync_spawn(&r, argv);
	T_ASSERTF(r.status == 0, "md5sum %s: %s", path, r.err);
	T_ASSERT(strlen(r.out) > 32 && r.out[32] == ' ');
	memcpy(md5, r.out, 32);
	md5[32] = '\0';
	sync_run_free(&r);
}

static off_t
sync_size(const char *path)
{
	struct stat	sb;

	T_ASSERTF(stat(path, &sb) == 0, "%s: %s", path, strerror(errno));
	return (sb.st_size);
}

/* Rows [from, to) of tests/data/sync-gdelt2.tsv. */
static char *
sync_rows(int from, int to)
{
	char	 path[PATH_MAX], *all, *p, *start = NULL, *out;
	int	 i;

	sync_data(path, sizeof path, "sync-gdelt2.tsv");
	all = th_slurp(path, NULL);
	for (i = 0, p = all; i < to; i++) {
		if (i == from)
			start = p;
		T_ASSERTF((p = strchr(p, '\n')) != NULL, "%s: only %d rows",
		    path, i);
		p++;
	}
	T_ASSERT(start != NULL);
	T_ASSERT((out = strndup(start, p - start)) != NULL);
	free(all);
	return (out);
}

/* An export file of rows [from, to): plain, .gz (zlib) or .zip. */
static void
sync_export(const char *dir, const char *name, int from, int to)
{
	struct sync_run	 r;
	char		 path[PATH_MAX], member[PATH_MAX], *rows;
	const char	*ext;
	gzFile		 gz;
	size_t		 len;

	rows = sync_rows(from, to);
	len = strlen(rows);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	ext = strrchr(name, '.');
	if (strcmp(ext, ".gz") == 0) {
		T_ASSERT((gz = gzopen(path, "wb")) != NULL);
		T_EQ_INT(gzwrite(gz, rows, len), len);
		T_EQ_INT(gzclose(gz), Z_OK);
	} else if (strcmp(ext, ".zip") == 0) {
		/* The member is the name without .zip, as GDELT has it. */
		snprintf(member, sizeof member, "%s/%.*s", t_dir(),
		    (int)(ext - name), name);
		th_write(member, rows, len);
		{
			const char *argv[] = { "python3", "-m", "zipfile",
			    "-c", path, member, NULL };

			sync_spawn(&r, argv);
			T_ASSERTF(r.status == 0, "zip %s: %s", path, r.err);
			sync_run_free(&r);
		}
		T_OK(unlink(member));
	} else
		th_write(path, rows, len);
	free(rows);
}

/* The state file, parsed; its "files" object is checked to be there. */
static json_t *
sync_state(const char *path)
{
	json_error_t	 jerr;
	json_t		*doc;

	doc = json_load_file(path, 0, &jerr);
	T_ASSERTF(doc != NULL, "%s: %s", path, jerr.text);
	T_ASSERT(json_is_object(json_object_get(doc, "files")));
	return (doc);
}

/* A summary count of one file in the state. */
static json_int_t
sync_state_count(json_t *doc, const char *name, const char *what)
{
	json_t	*f;

	f = json_object_get(json_object_get(doc, "files"), name);
	T_ASSERTF(f != NULL, "%s not in the state", name);
	return (json_integer_value(json_object_get(json_object_get(f,
	    "summary"), what)));
}

/*
 * What the state says of a file imported from path: its size and MD5,
 * a time, and a summary that accounts for each of its rows.  Returns
 * the events it added.
 */
static json_int_t
sync_state_check(json_t *doc, const char *name, const char *path,
    int rows)
{
	json_t		*f;
	const char	*t;
	char		 md5[33];

	f = json_object_get(json_object_get(doc, "files"), name);
	T_ASSERTF(f != NULL, "%s not in the state", name);
	T_EQ_INT(json_integer_value(json_object_get(f, "size")),
	    sync_size(path));
	sync_md5(path, md5);
	T_EQ_STR(json_string_value(json_object_get(f, "md5")), md5);
	t = json_string_value(json_object_get(f, "time"));
	T_ASSERTF(t != NULL && strlen(t) == 20 && t[19] == 'Z', "time %s",
	    t ? t : "(none)");
	T_EQ_INT(sync_state_count(doc, name, "added") +
	    sync_state_count(doc, name, "updated") +
	    sync_state_count(doc, name, "unchanged") +
	    sync_state_count(doc, name, "rejected"), rows);
	return (sync_state_count(doc, name, "added"));
}

TEST(sync_gdelt_directory_twice_imports_once)
{
	static const char *const names[] = {
		"20191024143000.export.CSV",
		"20191024144500.export.CSV.zip",
		"20191024150000.export.CSV.gz"
	};
	struct th_daemon	 d;
	struct sync_run		 r;
	struct timespec		 ts[2];
	struct annals_event	*ev;
	annals_ctx		*ctx;
	json_t			*doc;
	json_int_t		 added = 0;
	char			 dir[512], state[512], path[PATH_MAX];
	char			 annals[PATH_MAX], bad[PATH_MAX], line[256];
	char			*before, *after, *rows, *row;
	size_t			 i;
	uint64_t		 events;

	snprintf(dir, sizeof dir, "%s/gdelt", t_dir());
	T_OK(mkdir(dir, 0700));
	for (i = 0; i < 3; i++)
		sync_export(dir, names[i], i * SYNC_GDELT_PART,
		    (i + 1) * SYNC_GDELT_PART);
	/* Not event files: importing them would fail the run. */
	snprintf(path, sizeof path, "%s/20191024143000.mentions.CSV", dir);
	th_write(path, "not\tan\tevent\n", 13);
	snprintf(path, sizeof path, "%s/README.txt", dir);
	th_write(path, "notes\n", 6);
	snprintf(state, sizeof state, "%s/state.json", t_dir());
	T_OK(th_daemon_start(&d, NULL));

	/* annalsd is not there: the run stops and records nothing. */
	snprintf(annals, sizeof annals, "%s/annals", t_bindir());
	snprintf(bad, sizeof bad, "%s/none.sock", t_dir());
	SYNC_RUN(&r, NULL, "gdelt-sync", 1, "--annals", annals, "--socket",
	    bad, "--state", state, dir);
	T_EQ_STR(r.out, "gdelt-sync: 0 imported, 0 already done, 1 failed\n");
	SYNC_HAS(r.err, "cannot reach annalsd; stopping");
	sync_run_free(&r);
	T_ASSERT(access(state, F_OK) == -1);

	SYNC_RUN(&r, &d, "gdelt-sync", 0, "--state", state, dir);
	for (i = 0; i < 3; i++) {
		snprintf(line, sizeof line, "%s: added ", names[i]);
		SYNC_HAS(r.out, line);
	}
	SYNC_HAS(r.out, "gdelt-sync: 3 imported, 0 already done, 0 failed\n");
	sync_run_free(&r);
	doc = sync_state(state);
	T_EQ_INT(json_object_size(json_object_get(doc, "files")), 3);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		added += sync_state_check(doc, names[i], path,
		    SYNC_GDELT_PART);
	}
	json_decref(doc);
	/* Every row is a valid event of its own. */
	events = sync_events(&d);
	T_EQ_U64(events, added);
	T_EQ_U64(events, SYNC_GDELT_ROWS);
	/* GDELT's event id is the key: from the plain and the .gz file. */
	ctx = sync_connect(&d);
	ev = sync_get(ctx, "gdelt", "881990832");
	T_EQ_STR(ev->start, "2018-10-24");
	T_EQ_STR(ev->type, "139");
	annals_event_free(ev);
	ev = sync_get(ctx, "gdelt", "881990981");
	T_EQ_STR(ev->start, "2019-10-24");
	T_EQ_STR(ev->type, "190");
	annals_event_free(ev);
	annals_free(ctx);

	/* Again: nothing to do, and the state is left as it was. */
	before = th_slurp(state, NULL);
	SYNC_RUN(&r, &d, "gdelt-sync", 0, "--state", state, dir);
	T_EQ_STR(r.out, "gdelt-sync: 0 imported, 3 already done, 0 failed\n");
	T_EQ_STR(r.err, "");
	sync_run_free(&r);
	after = th_slurp(state, NULL);
	T_EQ_STR(after, before);
	free(after);
	T_EQ_U64(sync_events(&d), events);

	/* A file touched but not changed is still done (same MD5). */
	snprintf(path, sizeof path, "%s/%s", dir, names[0]);
	ts[0].tv_sec = ts[1].tv_sec = 1500000000;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	T_OK(utimensat(AT_FDCWD, path, ts, 0));
	SYNC_RUN(&r, &d, "gdelt-sync", 0, "--state", state, dir);
	T_EQ_STR(r.out, "gdelt-sync: 0 imported, 3 already done, 0 failed\n");
	sync_run_free(&r);
	/* A file whose content changed is imported again. */
	sync_export(dir, names[0], 0, SYNC_GDELT_PART - 1);
	SYNC_RUN(&r, &d, "gdelt-sync", 0, "--state", state, dir);
	SYNC_HAS(r.out, "gdelt-sync: 1 imported, 2 already done, 0 failed\n");
	sync_run_free(&r);
	doc = sync_state(state);
	sync_state_check(doc, names[0], path, SYNC_GDELT_PART - 1);
	T_EQ_INT(sync_state_count(doc, names[0], "added"), 0);
	json_decref(doc);
	T_EQ_U64(sync_events(&d), events);

	/*
	 * A file with a row annals rejects (30 February) is done all the
	 * same, since importing it again cannot help; the run says so with
	 * exit status 3.
	 */
	rows = sync_rows(0, 2);
	row = sync_replace(rows, "\t20181024\t", "\t20150230\t");
	snprintf(path, sizeof path, "%s/20191024153000.export.CSV", dir);
	th_write(path, row, strlen(row));
	free(row);
	free(rows);
	SYNC_RUN(&r, &d, "gdelt-sync", 3, "--state", state, dir);
	T_EQ_STR(r.out, "20191024153000.export.CSV: added 0, updated 0, "
	    "unchanged 1, rejected 1\n"
	    "gdelt-sync: 1 imported, 3 already done, 0 failed\n");
	SYNC_HAS(r.err, "20191024153000.export.CSV:1: ");
	sync_run_free(&r);
	SYNC_RUN(&r, &d, "gdelt-sync", 0, "--state", state, dir);
	T_EQ_STR(r.out, "gdelt-sync: 0 imported, 4 already done, 0 failed\n");
	sync_run_free(&r);
	T_EQ_U64(sync_events(&d), events);
	free(before);
	T_OK(th_daemon_stop(&d));
}

/* Write www/NAME's list line "SIZE MD5 URL" to fp; md5 NULL: the real. */
static void
sync_list_line(FILE *fp, const char *www, int port, const char *name,
    const char *md5)
{
	char	path[PATH_MAX], real[33];

	snprintf(path, sizeof path, "%s/%s", www, name);
	sync_md5(path, real);
	fprintf(fp, "%lld %s http://127.0.0.1:%d/%s\n",
	    (long long)sync_size(path), md5 != NULL ? md5 : real, port, name);
}

static const char *const sync_gdelt_names[] = {
	"20191024143000.export.CSV.zip",
	"20191024144500.export.CSV.zip",
	"20191024150000.export.CSV.zip",
	"20191024151500.export.CSV.zip",
	"20191024153000.export.CSV.zip"
};

/*
 * A GDELT server on loopback: www holds the first three exports, a
 * fourth that repeats rows of the first, and a mentions file that is not
 * a zip.  list is its master file list (url), local a list on disk.
 */
struct sync_gdelt_site {
	struct th_daemon	d;
	struct sync_http	h;
	char			www[512], state[512], list[PATH_MAX];
	char			local[PATH_MAX], url[128];
};

static void
sync_gdelt_site_start(struct sync_gdelt_site *g)
{
	char	path[PATH_MAX];
	size_t	i;

	snprintf(g->www, sizeof g->www, "%s/www", t_dir());
	T_OK(mkdir(g->www, 0700));
	for (i = 0; i < 3; i++)
		sync_export(g->www, sync_gdelt_names[i], i * SYNC_GDELT_PART,
		    (i + 1) * SYNC_GDELT_PART);
	/* The fourth file repeats rows of the first. */
	sync_export(g->www, sync_gdelt_names[3], 0, 10);
	snprintf(path, sizeof path, "%s/20191024143000.mentions.CSV.zip",
	    g->www);
	th_write(path, "not a zip\n", 10);
	sync_http_start(&g->h, g->www);
	snprintf(g->list, sizeof g->list, "%s/masterfilelist.txt", g->www);
	snprintf(g->url, sizeof g->url,
	    "http://127.0.0.1:%d/masterfilelist.txt", g->h.port);
	snprintf(g->local, sizeof g->local, "%s/lastupdate.txt", t_dir());
	snprintf(g->state, sizeof g->state, "%s/state.json", t_dir());
	T_OK(th_daemon_start(&g->d, NULL));
}

static void
sync_gdelt_site_stop(struct sync_gdelt_site *g)
{
	sync_http_stop(&g->h);
	T_OK(th_daemon_stop(&g->d));
}

TEST(sync_gdelt_list_over_http_retries_only_failures)
{
	const char *const	*names = sync_gdelt_names;
	struct sync_gdelt_site	 g;
	struct sync_run		 r;
	json_t			*doc;
	json_int_t		 added = 0;
	FILE			*fp;
	char			 path[PATH_MAX], hidden[PATH_MAX], want[512];
	char			*log;
	size_t			 i;

	sync_gdelt_site_start(&g);
	/*
	 * The second file's MD5 is wrong and the third is listed but not
	 * on the server yet; the mentions file is never fetched.
	 */
	T_ASSERT((fp = fopen(g.list, "w")) != NULL);
	sync_list_line(fp, g.www, g.h.port, names[0], NULL);
	sync_list_line(fp, g.www, g.h.port,
	    "20191024143000.mentions.CSV.zip", NULL);
	sync_list_line(fp, g.www, g.h.port, names[1],
	    "0123456789abcdef0123456789abcdef");
	sync_list_line(fp, g.www, g.h.port, names[2], NULL);
	T_OK(fclose(fp));
	snprintf(path, sizeof path, "%s/%s", g.www, names[2]);
	snprintf(hidden, sizeof hidden, "%s/hidden.zip", t_dir());
	T_OK(rename(path, hidden));

	SYNC_RUN(&r, &g.d, "gdelt-sync", 1, "--state", g.state, g.url);
	snprintf(want, sizeof want, "%s: added ", names[0]);
	SYNC_HAS(r.out, want);
	SYNC_HAS(r.out, "gdelt-sync: 1 imported, 0 already done, 2 failed\n");
	snprintf(want, sizeof want, "%s: MD5 ", names[1]);
	SYNC_HAS(r.err, want);
	SYNC_HAS(r.err, "the list says 0123456789abcdef0123456789abcdef");
	SYNC_HAS(r.err, "HTTP 404");
	sync_run_free(&r);
	log = sync_http_log(&g.h);
	snprintf(want, sizeof want, "/masterfilelist.txt 200\n/%s 200\n"
	    "/%s 200\n/%s 404\n", names[0], names[1], names[2]);
	T_EQ_STR(log, want);
	free(log);
	doc = sync_state(g.state);
	T_EQ_INT(json_object_size(json_object_get(doc, "files")), 1);
	T_EQ_INT(json_object_size(json_object_get(doc, "pending")), 2);
	snprintf(path, sizeof path, "%s/%s", g.www, names[0]);
	added += sync_state_check(doc, names[0], path, SYNC_GDELT_PART);
	json_decref(doc);
	/* Nothing of the failed files went in. */
	T_EQ_U64(sync_events(&g.d), added);

	/*
	 * The third file appears.  A lastupdate.txt read from disk names
	 * only the fourth, beside mentions and GKG files: the failed files
	 * are tried again all the same, and the second fails again.
	 */
	snprintf(path, sizeof path, "%s/%s", g.www, names[2]);
	T_OK(rename(hidden, path));
	T_ASSERT((fp = fopen(g.local, "w")) != NULL);
	sync_list_line(fp, g.www, g.h.port, names[3], NULL);
	fprintf(fp, "10 0123456789abcdef0123456789abcdef "
	    "http://127.0.0.1:%d/20191024151500.mentions.CSV.zip\n",
	    g.h.port);
	fprintf(fp, "10 0123456789abcdef0123456789abcdef "
	    "http://127.0.0.1:%d/20191024151500.gkg.csv.zip\n", g.h.port);
	T_OK(fclose(fp));
	SYNC_RUN(&r, &g.d, "gdelt-sync", 1, "--state", g.state, g.local);
	SYNC_HAS(r.out, "gdelt-sync: 2 imported, 0 already done, 1 failed\n");
	sync_run_free(&r);
	log = sync_http_log(&g.h);
	snprintf(want, sizeof want, "/%s 200\n/%s 200\n/%s 200\n", names[1],
	    names[2], names[3]);
	T_EQ_STR(log, want);
	free(log);
	doc = sync_state(g.state);
	T_EQ_INT(json_object_size(json_object_get(doc, "files")), 3);
	T_EQ_INT(json_object_size(json_object_get(doc, "pending")), 1);
	snprintf(path, sizeof path, "%s/%s", g.www, names[2]);
	added += sync_state_check(doc, names[2], path, SYNC_GDELT_PART);
	/* Its rows were all there already. */
	snprintf(path, sizeof path, "%s/%s", g.www, names[3]);
	sync_state_check(doc, names[3], path, 10);
	T_EQ_INT(sync_state_count(doc, names[3], "added"), 0);
	json_decref(doc);
	T_EQ_U64(sync_events(&g.d), added);

	/* The list is fixed: only the second file is fetched. */
	T_ASSERT((fp = fopen(g.list, "w")) != NULL);
	for (i = 0; i < 3; i++)
		sync_list_line(fp, g.www, g.h.port, names[i], NULL);
	T_OK(fclose(fp));
	SYNC_RUN(&r, &g.d, "gdelt-sync", 0, "--state", g.state, g.url);
	T_EQ_STR(r.err, "");
	SYNC_HAS(r.out, "gdelt-sync: 1 imported, 2 already done, 0 failed\n");
	sync_run_free(&r);
	log = sync_http_log(&g.h);
	snprintf(want, sizeof want, "/masterfilelist.txt 200\n/%s 200\n",
	    names[1]);
	T_EQ_STR(log, want);
	free(log);
	doc = sync_state(g.state);
	T_EQ_INT(json_object_size(json_object_get(doc, "files")), 4);
	T_ASSERT(json_object_get(doc, "pending") == NULL);
	snprintf(path, sizeof path, "%s/%s", g.www, names[1]);
	added += sync_state_check(doc, names[1], path, SYNC_GDELT_PART);
	json_decref(doc);
	T_EQ_U64(sync_events(&g.d), added);
	T_ASSERT(added > SYNC_GDELT_ROWS / 2);

	/* Once more: the list is fetched and nothing else. */
	SYNC_RUN(&r, &g.d, "gdelt-sync", 0, "--state", g.state, g.url);
	T_EQ_STR(r.out, "gdelt-sync: 0 imported, 3 already done, 0 failed\n");
	sync_run_free(&r);
	log = sync_http_log(&g.h);
	T_EQ_STR(log, "/masterfilelist.txt 200\n");
	free(log);
	sync_gdelt_site_stop(&g);
}

TEST(sync_gdelt_gives_up_on_a_file_after_retry_hours)
{
	const char		*never = sync_gdelt_names[4];
	struct sync_gdelt_site	 g;
	struct sync_run		 r;
	json_t			*doc;
	FILE			*fp;
	char			 want[512], *log;

	sync_gdelt_site_start(&g);
	T_ASSERT((fp = fopen(g.local, "w")) != NULL);
	fprintf(fp, "10 0123456789abcdef0123456789abcdef "
	    "http://127.0.0.1:%d/%s\n", g.h.port, never);
	T_OK(fclose(fp));
	SYNC_RUN(&r, &g.d, "gdelt-sync", 1, "--state", g.state, g.local);
	SYNC_HAS(r.err, "HTTP 404");
	sync_run_free(&r);
	/* Still pending when the list no longer names it. */
	th_write(g.local, "", 0);
	SYNC_RUN(&r, &g.d, "gdelt-sync", 1, "--state", g.state, g.local);
	SYNC_HAS(r.err, "HTTP 404");
	sync_run_free(&r);
	SYNC_RUN(&r, &g.d, "gdelt-sync", 1, "--state", g.state,
	    "--retry-hours", "0", g.local);
	snprintf(want, sizeof want, "%s: failing since ", never);
	SYNC_HAS(r.err, want);
	SYNC_HAS(r.err, "given up, not imported");
	sync_run_free(&r);
	SYNC_RUN(&r, &g.d, "gdelt-sync", 0, "--state", g.state, g.local);
	T_EQ_STR(r.out, "gdelt-sync: 0 imported, 0 already done, 0 failed\n");
	sync_run_free(&r);
	log = sync_http_log(&g.h);
	snprintf(want, sizeof want, "/%s 404\n/%s 404\n", never, never);
	T_EQ_STR(log, want);
	free(log);
	doc = sync_state(g.state);
	T_ASSERT(json_object_get(json_object_get(doc, "files"), never) ==
	    NULL);
	T_ASSERT(json_object_get(doc, "pending") == NULL);
	json_decref(doc);
	T_EQ_U64(sync_events(&g.d), 0);
	sync_gdelt_site_stop(&g);
}
