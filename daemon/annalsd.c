/*
 * annalsd: the Annals timeline database daemon.  Parses options, opens
 * the store, binds the sockets, tells systemd it is ready, and runs the
 * event loop until SIGTERM or SIGINT, when it finishes what is in flight.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "annalsd.h"
#include "http.h"

#define DEFAULT_DATA	"/var/lib/annals"

/* Long options without a letter (the HTTP server's). */
#define OPT_HTTP	1001
#define OPT_CORS	1002
#define OPT_WEB		1003
#define OPT_READERS	1004
#define OPT_PREAUTH	1005
#define OPT_HTTP_HOST	1006
#define OPT_HTTP_TIMEOUT 1007
#define OPT_FOLLOW	1008
#define OPT_STREAM	1009
#define OPT_DURABLE	1010
#define OPT_WRITE_MEMORY 1011
#define OPT_COMPACT	1012

/* A year: longer is a mistake, not a wish. */
#define MAX_IDLE_TIMEOUT	31536000

/* More reader threads than this only contend for the same cores. */
#define MAX_READ_THREADS	256

/* The one server, set up by main(). */
struct server	*server;

/* The time of day, in milliseconds since the epoch. */
uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * Stop: no new connections or requests, commit what is queued, flush
 * every reply, then leave the loop (annalsd_check_done()).
 */
void
annalsd_shutdown(void)
{
	if (server->shutting_down)
		return;
	server->shutting_down = 1;
	log_notice("shutting down: %zu connections, %zu writes queued",
	    conn_count(), commit_pending());
	notify_send("STOPPING=1");
	server_stop_listening();
	/* Answer what is in flight before the connections go. */
	commit_drain();
	readers_drain();
	conn_shutdown_all();
	annalsd_check_done();
}

/*
 * Leave the loop once a shutdown has no client left to answer: called
 * when a client of either face has gone.
 */
void
annalsd_check_done(void)
{
	if (server->shutting_down && conn_count() == 0 &&
	    server->http_conns == 0)
		event_base_loopexit(server->base, NULL);
}

struct readable {
	void	(*fn)(void *);
	void	 *arg;
};

static void
readable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct readable	r = *(struct readable *)arg;

	(void)fd; (void)what;
	free(arg);
	r.fn(r.arg);
}

/* Call fn(arg) once, from the loop, when fd becomes readable. */
void
annalsd_when_readable(int fd, void (*fn)(void *), void *arg)
{
	struct readable	*r = xmalloc(sizeof *r);

	r->fn = fn;
	r->arg = arg;
	if (event_base_once(server->base, fd, EV_READ, readable_cb, r,
	    NULL) != 0)
		fatalx("event_base_once failed");
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: annalsd [options]\n"
"  -d, --data DIR          data directory (default " DEFAULT_DATA ")\n"
"  -s, --socket PATH       Unix socket (default " PROTO_DEFAULT_SOCKET ")\n"
"  -l, --listen HOST:PORT  also listen on TCP (loopback only, unless\n"
"                          --auth-file is given)\n"
"      --socket-mode MODE  permissions of the Unix socket (default 0660)\n"
"      --socket-group NAME group of the Unix socket\n"
"      --auth-file FILE    require tokens: lines of \"TOKEN read|write\"\n"
"      --user NAME         drop privileges to NAME after binding\n"
"      --idle-timeout SECS close clients silent this long (default 600,\n"
"                          0: never)\n"
"      --map-size SIZE     initial LMDB map size (default 1G)\n"
"      --max-map-size SIZE the map grows up to this (default 64G)\n"
"      --max-frame SIZE    largest request or reply frame (default 16M)\n"
"      --max-conns N       simultaneous clients (default 4096)\n"
"      --max-inflight N    writes read ahead per client (default 64)\n"
"      --read-threads N    threads answering queries beside the event\n"
"                          loop (default: one per CPU; 0: none)\n"
"      --write-memory SIZE when writes stop for a second, give back the\n"
"                          memory LMDB kept for them if more than SIZE\n"
"                          (default 16M)\n"
"      --out-high SIZE     output that pauses a client (default 8M)\n"
"      --out-hard SIZE     output that drops a client (default 256M)\n"
"      --max-preauth SIZE  bytes all clients without a token may hold\n"
"                          together, with --auth-file (default 16M)\n"
"      --check             check the store's integrity and exit\n"
"      --compact           rewrite the store to fill its pages and leave\n"
"                          out its free ones, and exit (not while a\n"
"                          daemon runs on it)\n"
"      --http HOST:PORT    serve the HTTP/JSON API and the timeline page\n"
"                          (loopback only, unless --auth-file is given)\n"
"      --cors ORIGIN       let pages from ORIGIN (or *) call the HTTP API;\n"
"                          repeatable\n"
"      --http-timeout SECS HTTP connections idle this long, or requests\n"
"                          not received in full this long, are closed\n"
"                          (default 120)\n"
"      --http-host NAME    a name (NAME or NAME:PORT) clients may use for\n"
"                          the HTTP listener besides its address;\n"
"                          repeatable\n"
"      --web DIR           serve the timeline page from DIR\n"
"      --changes-keep DAYS deletions stay in the change log this long\n"
"                          (default 30)\n"
"      --follow URL        be a read replica of the NATS JetStream stream\n"
"                          --stream NAME on the server at URL\n"
"                          (nats://HOST:PORT, comma-separated for a\n"
"                          cluster); writes are refused\n"
"      --stream NAME       the stream to follow\n"
"      --durable NAME      the replica's consumer (default: annalsd-UUID\n"
"                          of the store)\n"
"  -v, --verbose           more logging (repeat for debug)\n"
"  -q, --quiet             only warnings and errors\n"
"  -V, --version           print the version and exit\n"
"  -h, --help              this help\n"
"SIZE takes a K, M or G suffix.\n");
}

/*
 * The options taking a size, a count or a number of seconds, with the
 * range each allows: every error names the option and the range (issue
 * #14).  A size takes a K, M or G suffix; a count of seconds or threads
 * does not.
 */
static const struct {
	int		 ch;
	const char	*name;
	unsigned long long min, max;
	const char	*range;		/* as the error message says it */
	int		 digits_only;	/* no K, M or G suffix */
} numeric_opts[] = {
	{ 'm', "map-size", 64ULL << 10, 16ULL << 40, "a size from 64K to 16T",
	    0 },
	{ 'M', "max-map-size", 64ULL << 10, 16ULL << 40,
	    "a size from 64K to 16T", 0 },
	{ 'F', "max-frame", 4ULL << 10, UINT32_MAX,
	    "a size from 4K to 4294967295", 0 },
	{ 'C', "max-conns", 1, 1000000, "a number from 1 to 1000000", 0 },
	{ 'I', "max-inflight", 1, 65536, "a number from 1 to 65536", 0 },
	{ 'O', "out-high", 1ULL << 10, 64ULL << 30, "a size from 1K to 64G",
	    0 },
	{ 'H', "out-hard", 1ULL << 10, 64ULL << 30, "a size from 1K to 64G",
	    0 },
	{ 'K', "changes-keep", 1, 36500, "a number of days from 1 to 36500",
	    0 },
	{ OPT_PREAUTH, "max-preauth", 4ULL << 10, 64ULL << 30,
	    "a size from 4K to 64G", 0 },
	{ 'T', "idle-timeout", 0, MAX_IDLE_TIMEOUT,
	    "a number of seconds from 0 to 31536000", 1 },
	{ OPT_HTTP_TIMEOUT, "http-timeout", 1, 86400,
	    "a number of seconds from 1 to 86400", 1 },
	{ OPT_READERS, "read-threads", 0, MAX_READ_THREADS,
	    "a number from 0 to 256", 1 },
	{ OPT_WRITE_MEMORY, "write-memory", 0, 64ULL << 30,
	    "a size from 0 to 64G", 0 },
};
#define NNUMERIC_OPTS (sizeof numeric_opts / sizeof numeric_opts[0])

/*
 * A number with an optional K, M or G suffix (powers of 1024), or with
 * digits_only, a plain number.
 */
static int
parse_size(const char *s, int digits_only, unsigned long long *out)
{
	char			*end;
	unsigned long long	 v;
	int			 shift = 0;

	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || (digits_only && *end != '\0'))
		return (-1);
	switch (toupper((unsigned char)*end)) {
	case 'G':
		shift += 10;
		/* FALLTHROUGH */
	case 'M':
		shift += 10;
		/* FALLTHROUGH */
	case 'K':
		shift += 10;
		end++;
		break;
	case '\0':
		break;
	default:
		return (-1);
	}
	if (*end != '\0' || (shift != 0 && v > ULLONG_MAX >> shift))
		return (-1);
	*out = v << shift;
	return (0);
}

/*
 * Parse the value of numeric option ch into *out, or say what it takes.
 * Returns 1 if ch is not a numeric option.
 */
static int
parse_numeric(int ch, const char *arg, size_t *out)
{
	unsigned long long	v;
	size_t			i;

	for (i = 0; i < NNUMERIC_OPTS && numeric_opts[i].ch != ch; i++)
		;
	if (i == NNUMERIC_OPTS)
		return (1);
	if (parse_size(arg, numeric_opts[i].digits_only, &v) != 0 ||
	    v < numeric_opts[i].min || v > numeric_opts[i].max ||
	    v > SIZE_MAX) {
		fprintf(stderr, "annalsd: --%s %s: not %s\n",
		    numeric_opts[i].name, arg, numeric_opts[i].range);
		return (-1);
	}
	*out = (size_t)v;
	return (0);
}

/*
 * With --user, become that user once the sockets are bound, handing it
 * the socket (if there is one: --compact has none).  Without it, root
 * refuses a data directory that belongs to someone else: files it
 * created there would lock that user out.
 */
static int
drop_privileges(const struct config *cfg, struct aerr *err)
{
	struct passwd	*pw;
	struct stat	 sb;

	if (cfg->user == NULL) {
		if (geteuid() == 0 && stat(cfg->data_dir, &sb) == 0 &&
		    sb.st_uid != 0) {
			aerr_set(err, AERR_INVALID, "data directory %s belongs "
			    "to uid %u; run as that user or with --user",
			    cfg->data_dir, (unsigned)sb.st_uid);
			return (-1);
		}
		return (0);
	}
	if ((pw = getpwnam(cfg->user)) == NULL) {
		aerr_set(err, AERR_INVALID, "--user %s: no such user",
		    cfg->user);
		return (-1);
	}
	if ((cfg->socket_path != NULL &&
	    chown(cfg->socket_path, pw->pw_uid, (gid_t)-1) == -1) ||
	    setgroups(0, NULL) == -1 || initgroups(pw->pw_name,
	    pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		aerr_set(err, AERR_INTERNAL, "--user %s: %s", cfg->user,
		    strerror(errno));
		return (-1);
	}
	/* Make sure there is no way back. */
	if (pw->pw_uid != 0 && setuid(0) != -1) {
		aerr_set(err, AERR_INTERNAL, "--user %s: could regain root",
		    cfg->user);
		return (-1);
	}
	log_info("running as %s", cfg->user);
	return (0);
}

/* The store's settings, from the daemon's. */
static void
store_config_of(const struct config *cfg, struct store_config *scfg)
{
	memset(scfg, 0, sizeof *scfg);
	scfg->path = cfg->data_dir;
	scfg->map_size = cfg->map_size;
	scfg->max_map_size = cfg->max_map_size;
	scfg->changes_keep_ms = (uint64_t)cfg->changes_keep_days * 86400000;
}

/* annalsd --check: report on the store and exit 0 only if it is sound. */
static int
run_check(const struct config *cfg)
{
	struct store_config	 scfg;
	struct store		*st;
	struct store_check	*c;
	struct aerr		 err;
	uint64_t		 i;
	int			 rc;

	store_config_of(cfg, &scfg);
	if ((st = store_open(&scfg, &err)) == NULL) {
		log_err("%s", err.msg);
		return (2);
	}
	c = xcalloc(1, sizeof *c);
	if (store_check(st, c, &err) != 0) {
		log_err("check %s: %s", cfg->data_dir, err.msg);
		rc = 2;
	} else {
		for (i = 0; i < c->nproblems && i < STORE_CHECK_KEEP; i++)
			printf("%s\n", c->problems[i]);
		printf("check %s: %llu events, %llu index entries, %llu "
		    "changes: %s%llu problems\n", cfg->data_dir,
		    (unsigned long long)c->events,
		    (unsigned long long)c->index_entries,
		    (unsigned long long)c->changes,
		    c->nproblems ? "" : "ok, ",
		    (unsigned long long)c->nproblems);
		rc = c->nproblems ? 1 : 0;
	}
	free(c);
	store_close(st);
	return (rc);
}

/* annalsd --compact: rewrite the store in place; 0 once it is done. */
static int
run_compact(const struct config *cfg)
{
	struct config		 own = *cfg;
	struct store_config	 scfg;
	struct store_compacted	 c;
	struct aerr		 err;
	uint64_t		 t0 = now_ms();

	/* The copy must belong to whoever the daemon runs as. */
	own.socket_path = NULL;
	if (drop_privileges(&own, &err) != 0) {
		log_err("compact %s: %s", cfg->data_dir, err.msg);
		return (1);
	}
	store_config_of(cfg, &scfg);
	if (store_compact(&scfg, &c, &err) != 0) {
		log_err("compact %s: %s", cfg->data_dir, err.msg);
		return (1);
	}
	printf("compact %s: %llu entries; data.mdb %llu bytes, was %llu, "
	    "in %.1f s\n", cfg->data_dir, (unsigned long long)c.entries,
	    (unsigned long long)c.bytes_after,
	    (unsigned long long)c.bytes_before,
	    (double)(now_ms() - t0) / 1000);
	return (0);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what; (void)arg;
	log_notice("received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	/* No more batches from the stream while the writes drain. */
	replica_stop();
	http_stop();
	annalsd_shutdown();
}

static void
libevent_log(int severity, const char *msg)
{
	(void)severity;
	log_debug("libevent: %s", msg);
}

static const struct option longopts[] = {
	{ "data", required_argument, NULL, 'd' },
	{ "socket", required_argument, NULL, 's' },
	{ "listen", required_argument, NULL, 'l' },
	{ "socket-mode", required_argument, NULL, 'P' },
	{ "socket-group", required_argument, NULL, 'G' },
	{ "auth-file", required_argument, NULL, 'A' },
	{ "user", required_argument, NULL, 'u' },
	{ "idle-timeout", required_argument, NULL, 'T' },
	{ "map-size", required_argument, NULL, 'm' },
	{ "max-map-size", required_argument, NULL, 'M' },
	{ "max-frame", required_argument, NULL, 'F' },
	{ "max-conns", required_argument, NULL, 'C' },
	{ "max-inflight", required_argument, NULL, 'I' },
	{ "out-high", required_argument, NULL, 'O' },
	{ "out-hard", required_argument, NULL, 'H' },
	{ "changes-keep", required_argument, NULL, 'K' },
	{ "read-threads", required_argument, NULL, OPT_READERS },
	{ "write-memory", required_argument, NULL, OPT_WRITE_MEMORY },
	{ "max-preauth", required_argument, NULL, OPT_PREAUTH },
	{ "check", no_argument, NULL, 'c' },
	{ "compact", no_argument, NULL, OPT_COMPACT },
	{ "http", required_argument, NULL, OPT_HTTP },
	{ "cors", required_argument, NULL, OPT_CORS },
	{ "http-host", required_argument, NULL, OPT_HTTP_HOST },
	{ "http-timeout", required_argument, NULL, OPT_HTTP_TIMEOUT },
	{ "web", required_argument, NULL, OPT_WEB },
	{ "follow", required_argument, NULL, OPT_FOLLOW },
	{ "stream", required_argument, NULL, OPT_STREAM },
	{ "durable", required_argument, NULL, OPT_DURABLE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* What the command line asks for, before anything is set up. */
struct options {
	struct config		cfg;
	struct http_config	http;
	int			check;		/* --check: check and exit */
	int			compact;	/* --compact: compact and exit */
	int			log_level;
	const char		*follow;	/* --follow: a read replica */
	const char		*stream;
	const char		*durable;
};

static void
options_default(struct options *o)
{
	long	ncpu;

	memset(o, 0, sizeof *o);
	o->cfg.data_dir = DEFAULT_DATA;
	o->cfg.socket_path = PROTO_DEFAULT_SOCKET;
	o->cfg.map_size = (size_t)1 << 30;
	o->cfg.max_map_size = (size_t)64 << 30;
	o->cfg.max_frame = PROTO_MAX_FRAME;
	o->cfg.max_conns = 4096;
	o->cfg.max_inflight = 64;
	o->cfg.out_high = (size_t)8 << 20;
	o->cfg.out_hard = (size_t)256 << 20;
	o->cfg.max_preauth = (size_t)16 << 20;
	o->cfg.changes_keep_days = 30;
	o->cfg.socket_mode = 0660;
	o->cfg.idle_timeout = 600;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	o->cfg.read_threads = ncpu < 1 ? 1 : ncpu > MAX_READ_THREADS ?
	    MAX_READ_THREADS : (size_t)ncpu;
	o->cfg.write_memory = (size_t)16 << 20;
	o->http.timeout = HTTP_TIMEOUT;
	o->log_level = LOG_NOTICE_LVL;
}

/* Store the value of a numeric option, parsed by parse_numeric. */
static void
options_set_number(struct options *o, int ch, size_t n)
{
	switch (ch) {
	case 'm':
		o->cfg.map_size = n;
		break;
	case 'M':
		o->cfg.max_map_size = n;
		break;
	case 'F':
		o->cfg.max_frame = n;
		break;
	case 'C':
		o->cfg.max_conns = n;
		break;
	case 'I':
		o->cfg.max_inflight = n;
		break;
	case 'O':
		o->cfg.out_high = n;
		break;
	case 'H':
		o->cfg.out_hard = n;
		break;
	case 'K':
		o->cfg.changes_keep_days = n;
		break;
	case OPT_PREAUTH:
		o->cfg.max_preauth = n;
		break;
	case 'T':
		o->cfg.idle_timeout = (unsigned)n;
		break;
	case OPT_HTTP_TIMEOUT:
		o->http.timeout = (unsigned)n;
		break;
	case OPT_READERS:
		o->cfg.read_threads = n;
		break;
	case OPT_WRITE_MEMORY:
		o->cfg.write_memory = n;
		break;
	}
}

/* Take one of the HTTP server's options, as options_set() does. */
static int
options_set_http(struct http_config *http, int ch, const char *arg)
{
	switch (ch) {
	case OPT_HTTP:
		http->listen = arg;
		break;
	case OPT_CORS:
		if (http->ncors == HTTP_MAX_CORS) {
			fprintf(stderr, "annalsd: more than %d --cors "
			    "origins\n", HTTP_MAX_CORS);
			return (2);
		}
		http->cors[http->ncors++] = arg;
		break;
	case OPT_HTTP_HOST:
		if (http->nhosts == HTTP_MAX_HOSTS) {
			fprintf(stderr, "annalsd: more than %d --http-host "
			    "names\n", HTTP_MAX_HOSTS);
			return (2);
		}
		http->hosts[http->nhosts++] = arg;
		break;
	case OPT_WEB:
		http->web_dir = arg;
		break;
	}
	return (-1);
}

/*
 * Take one option.  Returns -1 to go on, or the status to exit with
 * (after --version, --help or a bad value).
 */
static int
options_set(struct options *o, int ch, const char *arg)
{
	char	*end;
	size_t	 n;

	switch (ch) {
	case 'd':
		o->cfg.data_dir = arg;
		break;
	case 's':
		o->cfg.socket_path = arg;
		break;
	case 'l':
		o->cfg.listen = arg;
		break;
	case 'P':
		errno = 0;
		o->cfg.socket_mode = (unsigned)strtoul(arg, &end, 8);
		if (errno != 0 || *end != '\0' || *arg == '\0' ||
		    o->cfg.socket_mode > 0777) {
			fprintf(stderr, "annalsd: --socket-mode %s: not an "
			    "octal mode from 0 to 0777\n", arg);
			return (2);
		}
		break;
	case 'G':
		o->cfg.socket_group = arg;
		break;
	case 'A':
		o->cfg.auth_file = arg;
		break;
	case 'u':
		o->cfg.user = arg;
		break;
	case 'c':
		o->check = 1;
		break;
	case OPT_COMPACT:
		o->compact = 1;
		break;
	case OPT_FOLLOW:
		o->follow = arg;
		break;
	case OPT_STREAM:
		o->stream = arg;
		break;
	case OPT_DURABLE:
		o->durable = arg;
		break;
	case OPT_HTTP:
	case OPT_CORS:
	case OPT_HTTP_HOST:
	case OPT_WEB:
		return (options_set_http(&o->http, ch, arg));
	case 'v':
		o->log_level++;
		break;
	case 'q':
		o->log_level = LOG_WARN_LVL;
		break;
	case 'V':
		printf("annalsd %s (protocol %d)\n", ANNALS_VERSION_STRING,
		    ANNALS_PROTO_VERSION);
		return (0);
	case 'h':
		usage(stdout);
		return (0);
	default:
		switch (parse_numeric(ch, arg, &n)) {
		case 0:
			options_set_number(o, ch, n);
			break;
		case 1:
			usage(stderr);
			return (2);
		default:
			return (2);
		}
	}
	return (-1);
}

/* Parse the command line: -1 to go on, or the status to exit with. */
static int
options_parse(struct options *o, int argc, char **argv)
{
	int	ch, rc;

	options_default(o);
	while ((ch = getopt_long(argc, argv, "d:s:l:vqVh", longopts,
	    NULL)) != -1) {
		if ((rc = options_set(o, ch, optarg)) != -1)
			return (rc);
	}
	if (optind != argc) {
		usage(stderr);
		return (2);
	}
	if (o->check && o->compact) {
		fprintf(stderr, "annalsd: --check and --compact are run one "
		    "at a time\n");
		return (2);
	}
	if ((o->follow == NULL) != (o->stream == NULL) ||
	    (o->durable != NULL && o->follow == NULL)) {
		fprintf(stderr, "annalsd: --follow and --stream go together "
		    "(and --durable with them)\n");
		return (2);
	}
	if (o->cfg.max_map_size < o->cfg.map_size)
		o->cfg.max_map_size = o->cfg.map_size;
	if (o->log_level > LOG_DEBUG_LVL)
		o->log_level = LOG_DEBUG_LVL;
	return (-1);
}

/* The signals that stop the daemon, set up by main_start(). */
static struct event	*sigterm_event, *sigint_event;

/*
 * Set up the server: tokens, sockets, privileges, store, group commit,
 * HTTP, signals and reader threads.  Returns 0, or the status to exit
 * with, having undone what it did.
 */
static int
main_start(struct options *o, struct server *srv)
{
	struct config		*cfg = &o->cfg;
	struct store_config	 scfg;
	struct aerr		 err;

	memset(srv, 0, sizeof *srv);
	server = srv;
	srv->cfg = cfg;
	srv->started = now_ms();
	if ((srv->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (cfg->auth_file != NULL && auth_load(cfg->auth_file, &err) != 0) {
		log_err("%s", err.msg);
		event_base_free(srv->base);
		return (1);
	}
	cfg->allow_remote = auth_enabled();
	notify_init();
	store_config_of(cfg, &scfg);
	scfg.exclusive = 1;
	/* Bind as who we start as; open the store as who we run as. */
	if (server_start(srv, &err) != 0 || drop_privileges(cfg, &err) != 0 ||
	    (srv->store = store_open(&scfg, &err)) == NULL) {
		log_err("%s", err.msg);
		server_free();
		auth_free();
		event_base_free(srv->base);
		return (1);
	}
	commit_init();
	if (o->follow != NULL && replica_start(o->follow, o->stream,
	    o->durable, &err) != 0) {
		log_err("%s", err.msg);
		commit_free();
		server_free();
		store_close(srv->store);
		event_base_free(srv->base);
		return (1);
	}
	o->http.allow_remote = cfg->allow_remote;
	o->http.max_body = cfg->max_frame;
	if (o->http.listen != NULL && http_start(&o->http, &err) != 0) {
		log_err("%s", err.msg);
		http_free();
		replica_stop();
		commit_free();
		server_free();
		store_close(srv->store);
		event_base_free(srv->base);
		return (1);
	}
	sigterm_event = evsignal_new(srv->base, SIGTERM, on_signal, NULL);
	sigint_event = evsignal_new(srv->base, SIGINT, on_signal, NULL);
	evsignal_add(sigterm_event, NULL);
	evsignal_add(sigint_event, NULL);
	readers_init(cfg->read_threads);
	return (0);
}

/* Say what is running, tell systemd, and serve until the drain ends. */
static void
main_run(struct server *srv)
{
	const struct config	*cfg = srv->cfg;

	log_notice("annalsd %s (protocol %d) on %s: libevent %s (%s), "
	    "%s, msgpack-c %s", ANNALS_VERSION_STRING,
	    ANNALS_PROTO_VERSION, cfg->socket_path, event_get_version(),
	    event_base_get_method(srv->base), store_lmdb_version(),
	    msgpack_version());
	log_info("data %s, map %zu bytes (max %zu)", cfg->data_dir,
	    cfg->map_size, cfg->max_map_size);
	if (cfg->listen != NULL)
		log_notice("also listening on %s", cfg->listen);
	notify_send("READY=1");

	event_base_dispatch(srv->base);
}

/* Undo main_start(), in reverse. */
static void
main_stop(struct server *srv)
{
	http_free();
	replica_stop();
	readers_free();
	commit_free();
	subs_free();
	changes_free();
	server_free();
	auth_free();
	event_free(sigterm_event);
	event_free(sigint_event);
	store_close(srv->store);
	event_base_free(srv->base);
	log_notice("stopped");
}

int
main(int argc, char **argv)
{
	struct options	opts;
	struct server	srv;
	int		rc;

	if ((rc = options_parse(&opts, argc, argv)) != -1)
		return (rc);
	log_set_level(opts.log_level);
	/* libevent writes with writev and cannot pass MSG_NOSIGNAL (P7). */
	signal(SIGPIPE, SIG_IGN);
	event_set_log_callback(libevent_log);

	if (opts.check)
		return (run_check(&opts.cfg));
	if (opts.compact)
		return (run_compact(&opts.cfg));
	if ((rc = main_start(&opts, &srv)) != 0)
		return (rc);
	main_run(&srv);
	main_stop(&srv);
	return (0);
}
