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
"      --out-high SIZE     output that pauses a client (default 8M)\n"
"      --out-hard SIZE     output that drops a client (default 256M)\n"
"      --max-preauth SIZE  bytes all clients without a token may hold\n"
"                          together, with --auth-file (default 16M)\n"
"      --check             check the store's integrity and exit\n"
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
 * The options taking a size or a count, with the range each allows:
 * every error names the option and the range (issue #14).
 */
static const struct {
	int		 ch;
	const char	*name;
	unsigned long long min, max;
	const char	*range;		/* as the error message says it */
} numeric_opts[] = {
	{ 'm', "map-size", 64ULL << 10, 16ULL << 40, "a size from 64K to 16T" },
	{ 'M', "max-map-size", 64ULL << 10, 16ULL << 40,
	    "a size from 64K to 16T" },
	{ 'F', "max-frame", 4ULL << 10, UINT32_MAX,
	    "a size from 4K to 4294967295" },
	{ 'C', "max-conns", 1, 1000000, "a number from 1 to 1000000" },
	{ 'I', "max-inflight", 1, 65536, "a number from 1 to 65536" },
	{ 'O', "out-high", 1ULL << 10, 64ULL << 30, "a size from 1K to 64G" },
	{ 'H', "out-hard", 1ULL << 10, 64ULL << 30, "a size from 1K to 64G" },
	{ 'K', "changes-keep", 1, 36500, "a number of days from 1 to 36500" },
	{ OPT_PREAUTH, "max-preauth", 4ULL << 10, 64ULL << 30,
	    "a size from 4K to 64G" },
};

/* A number with an optional K, M or G suffix (powers of 1024). */
static int
parse_size(const char *s, unsigned long long *out)
{
	char			*end;
	unsigned long long	 v;
	int			 shift = 0;

	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
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

/* Parse the value of numeric option ch into *out, or say what it takes. */
static int
parse_numeric(int ch, const char *arg, size_t *out)
{
	unsigned long long	v;
	size_t			i;

	for (i = 0; numeric_opts[i].ch != ch; i++)
		;
	if (parse_size(arg, &v) != 0 || v < numeric_opts[i].min ||
	    v > numeric_opts[i].max || v > SIZE_MAX) {
		fprintf(stderr, "annalsd: --%s %s: not %s\n",
		    numeric_opts[i].name, arg, numeric_opts[i].range);
		return (-1);
	}
	*out = (size_t)v;
	return (0);
}

/*
 * With --user, become that user once the sockets are bound, handing it
 * the socket.  Without it, root refuses a data directory that belongs to
 * someone else: files it created there would lock that user out.
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
	if (chown(cfg->socket_path, pw->pw_uid, (gid_t)-1) == -1 ||
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

/* annalsd --check: report on the store and exit 0 only if it is sound. */
static int
run_check(struct store *st, const char *dir)
{
	struct store_check	*c;
	struct aerr		 err;
	uint64_t		 i;
	int			 rc;

	c = xcalloc(1, sizeof *c);
	if (store_check(st, c, &err) != 0) {
		log_err("check %s: %s", dir, err.msg);
		rc = 2;
	} else {
		for (i = 0; i < c->nproblems && i < STORE_CHECK_KEEP; i++)
			printf("%s\n", c->problems[i]);
		printf("check %s: %llu events, %llu index entries, %llu "
		    "changes: %s%llu problems\n", dir,
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

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what; (void)arg;
	log_notice("received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	/* No more batches from the stream while the writes drain. */
	replica_stop();
	http_stop();
	server_shutdown();
}

static void
libevent_log(int severity, const char *msg)
{
	(void)severity;
	log_debug("libevent: %s", msg);
}

int
main(int argc, char **argv)
{
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
		{ "max-preauth", required_argument, NULL, OPT_PREAUTH },
		{ "check", no_argument, NULL, 'c' },
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
	struct config		 cfg;
	struct store_config	 scfg;
	struct server		 srv;
	struct event		*sigterm, *sigint;
	struct http_config	 hcfg;
	struct aerr		 err;
	size_t			 n;
	unsigned long		 ul;
	long			 ncpu;
	int			 ch, level = LOG_NOTICE_LVL;
	int			 check = 0;
	char			*end;
	const char		*follow = NULL, *stream = NULL;
	const char		*durable = NULL;

	memset(&cfg, 0, sizeof cfg);
	cfg.data_dir = DEFAULT_DATA;
	cfg.socket_path = PROTO_DEFAULT_SOCKET;
	cfg.map_size = (size_t)1 << 30;
	cfg.max_map_size = (size_t)64 << 30;
	cfg.max_frame = PROTO_MAX_FRAME;
	cfg.max_conns = 4096;
	cfg.max_inflight = 64;
	cfg.out_high = (size_t)8 << 20;
	cfg.out_hard = (size_t)256 << 20;
	cfg.max_preauth = (size_t)16 << 20;
	cfg.changes_keep_days = 30;
	memset(&hcfg, 0, sizeof hcfg);
	hcfg.timeout = HTTP_TIMEOUT;
	cfg.socket_mode = 0660;
	cfg.idle_timeout = 600;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cfg.read_threads = ncpu < 1 ? 1 : ncpu > MAX_READ_THREADS ?
	    MAX_READ_THREADS : (size_t)ncpu;

	while ((ch = getopt_long(argc, argv, "d:s:l:vqVh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			cfg.data_dir = optarg;
			break;
		case 's':
			cfg.socket_path = optarg;
			break;
		case 'l':
			cfg.listen = optarg;
			break;
		case 'P':
			errno = 0;
			cfg.socket_mode = (unsigned)strtoul(optarg, &end, 8);
			if (errno != 0 || *end != '\0' || *optarg == '\0' ||
			    cfg.socket_mode > 0777) {
				fprintf(stderr, "annalsd: --socket-mode %s: not "
				    "an octal mode from 0 to 0777\n", optarg);
				return (2);
			}
			break;
		case 'G':
			cfg.socket_group = optarg;
			break;
		case 'A':
			cfg.auth_file = optarg;
			break;
		case 'u':
			cfg.user = optarg;
			break;
		case 'T':
			errno = 0;
			ul = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' ||
			    !isdigit((unsigned char)*optarg) ||
			    ul > MAX_IDLE_TIMEOUT) {
				fprintf(stderr, "annalsd: --idle-timeout %s: not "
				    "a number of seconds from 0 to %d\n",
				    optarg, MAX_IDLE_TIMEOUT);
				return (2);
			}
			cfg.idle_timeout = (unsigned)ul;
			break;
		case 'c':
			check = 1;
			break;
		case OPT_HTTP:
			hcfg.listen = optarg;
			break;
		case OPT_CORS:
			if (hcfg.ncors == HTTP_MAX_CORS) {
				fprintf(stderr, "annalsd: more than %d --cors "
				    "origins\n", HTTP_MAX_CORS);
				return (2);
			}
			hcfg.cors[hcfg.ncors++] = optarg;
			break;
		case OPT_HTTP_HOST:
			if (hcfg.nhosts == HTTP_MAX_HOSTS) {
				fprintf(stderr, "annalsd: more than %d "
				    "--http-host names\n", HTTP_MAX_HOSTS);
				return (2);
			}
			hcfg.hosts[hcfg.nhosts++] = optarg;
			break;
		case OPT_HTTP_TIMEOUT:
			errno = 0;
			hcfg.timeout = (unsigned)strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' ||
			    !isdigit((unsigned char)*optarg) ||
			    hcfg.timeout == 0 || hcfg.timeout > 86400) {
				fprintf(stderr, "annalsd: --http-timeout %s: not "
				    "a number of seconds from 1 to 86400\n",
				    optarg);
				return (2);
			}
			break;
		case OPT_WEB:
			hcfg.web_dir = optarg;
			break;
		case OPT_FOLLOW:
			follow = optarg;
			break;
		case OPT_STREAM:
			stream = optarg;
			break;
		case OPT_DURABLE:
			durable = optarg;
			break;
		case OPT_READERS:
			errno = 0;
			cfg.read_threads = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' ||
			    !isdigit((unsigned char)*optarg) ||
			    cfg.read_threads > MAX_READ_THREADS) {
				fprintf(stderr, "annalsd: --read-threads %s: "
				    "not a number from 0 to %d\n", optarg,
				    MAX_READ_THREADS);
				return (2);
			}
			break;
		case 'm':
		case 'M':
		case 'F':
		case 'C':
		case 'I':
		case 'O':
		case 'H':
		case 'K':
		case OPT_PREAUTH:
			if (parse_numeric(ch, optarg, &n) != 0)
				return (2);
			if (ch == 'm')
				cfg.map_size = n;
			else if (ch == 'M')
				cfg.max_map_size = n;
			else if (ch == 'F')
				cfg.max_frame = n;
			else if (ch == 'C')
				cfg.max_conns = n;
			else if (ch == 'I')
				cfg.max_inflight = n;
			else if (ch == 'O')
				cfg.out_high = n;
			else if (ch == 'K')
				cfg.changes_keep_days = n;
			else if (ch == OPT_PREAUTH)
				cfg.max_preauth = n;
			else
				cfg.out_hard = n;
			break;
		case 'v':
			level++;
			break;
		case 'q':
			level = LOG_WARN_LVL;
			break;
		case 'V':
			printf("annalsd %s (protocol %d)\n",
			    ANNALS_VERSION_STRING, ANNALS_PROTO_VERSION);
			return (0);
		case 'h':
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		return (2);
	}
	if ((follow == NULL) != (stream == NULL) ||
	    (durable != NULL && follow == NULL)) {
		fprintf(stderr, "annalsd: --follow and --stream go together "
		    "(and --durable with them)\n");
		return (2);
	}
	if (cfg.max_map_size < cfg.map_size)
		cfg.max_map_size = cfg.map_size;
	log_set_level(level > LOG_DEBUG_LVL ? LOG_DEBUG_LVL : level);
	/* libevent writes with writev and cannot pass MSG_NOSIGNAL (P7). */
	signal(SIGPIPE, SIG_IGN);
	event_set_log_callback(libevent_log);

	memset(&srv, 0, sizeof srv);
	server = &srv;
	srv.cfg = &cfg;
	srv.started = now_ms();
	if ((srv.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	memset(&scfg, 0, sizeof scfg);
	scfg.path = cfg.data_dir;
	scfg.map_size = cfg.map_size;
	scfg.max_map_size = cfg.max_map_size;
	scfg.changes_keep_ms = (uint64_t)cfg.changes_keep_days * 86400000;
	if (check) {
		event_base_free(srv.base);
		if ((srv.store = store_open(&scfg, &err)) == NULL) {
			log_err("%s", err.msg);
			return (2);
		}
		return (run_check(srv.store, cfg.data_dir));
	}
	if (cfg.auth_file != NULL && auth_load(cfg.auth_file, &err) != 0) {
		log_err("%s", err.msg);
		event_base_free(srv.base);
		return (1);
	}
	cfg.allow_remote = auth_enabled();
	notify_init();
	/* Bind as who we start as; open the store as who we run as. */
	if (server_start(&srv, &err) != 0 || drop_privileges(&cfg, &err) != 0 ||
	    (srv.store = store_open(&scfg, &err)) == NULL) {
		log_err("%s", err.msg);
		server_free();
		auth_free();
		event_base_free(srv.base);
		return (1);
	}
	commit_init();
	if (follow != NULL && replica_start(follow, stream, durable,
	    &err) != 0) {
		log_err("%s", err.msg);
		commit_free();
		server_free();
		store_close(srv.store);
		event_base_free(srv.base);
		return (1);
	}
	hcfg.allow_remote = cfg.allow_remote;
	hcfg.max_body = cfg.max_frame;
	if (hcfg.listen != NULL && http_start(&hcfg, &err) != 0) {
		log_err("%s", err.msg);
		http_free();
		replica_stop();
		commit_free();
		server_free();
		store_close(srv.store);
		event_base_free(srv.base);
		return (1);
	}
	sigterm = evsignal_new(srv.base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(srv.base, SIGINT, on_signal, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	readers_init(cfg.read_threads);

	log_notice("annalsd %s (protocol %d) on %s: libevent %s (%s), "
	    "%s, msgpack-c %s", ANNALS_VERSION_STRING,
	    ANNALS_PROTO_VERSION, cfg.socket_path, event_get_version(),
	    event_base_get_method(srv.base), store_lmdb_version(),
	    msgpack_version());
	log_info("data %s, map %zu bytes (max %zu)", cfg.data_dir,
	    cfg.map_size, cfg.max_map_size);
	if (cfg.listen != NULL)
		log_notice("also listening on %s", cfg.listen);
	notify_send("READY=1");

	event_base_dispatch(srv.base);

	http_free();
	replica_stop();
	readers_free();
	commit_free();
	subs_free();
	changes_free();
	server_free();
	auth_free();
	event_free(sigterm);
	event_free(sigint);
	store_close(srv.store);
	event_base_free(srv.base);
	log_notice("stopped");
	return (0);
}
