/*
 * The HTTP server: libevent's evhttp on the daemon's event loop.  It
 * answers /v1/... from http-api.c, the change stream from http-sse.c,
 * and serves the timeline page's files from the web directory.
 *
 * Every answer goes through here: CORS headers for the configured
 * origins, RFC 7807 problem bodies for errors, weak ETags made of the
 * store's last change sequence number and the request, and gzip when
 * the client accepts it.  Like --listen, the address must be loopback
 * unless tokens are required (--auth-file); then every /v1 request must
 * carry one as "Authorization: Bearer TOKEN", a write one for writes.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <zlib.h>

#include "annalsd.h"
#include "http.h"

/* Bodies above this are compressed when the client accepts gzip. */
#define HTTP_GZIP_MIN		512
/* Seconds an idle connection is kept. */
#define HTTP_TIMEOUT		120
/* Largest static file served. */
#define HTTP_MAX_FILE		(32u << 20)

static struct evhttp		*http;
static struct evhttp_bound_socket *bound;
static struct http_config	 hcfg;
static char			 web_dir[PATH_MAX];
static int			 have_web;

const struct http_config *
http_config(void)
{
	return (&hcfg);
}

/* The HTTP status of an error code (PROTOCOL.md section 4). */
int
http_status_of(int code)
{
	switch (code) {
	case AERR_INVALID:
	case AERR_MALFORMED:
	case AERR_BAD_CURSOR:
	case AERR_LIMIT:
		return (400);
	case AERR_NOT_FOUND:
		return (404);
	case AERR_UNAUTHORIZED:
		return (401);
	case AERR_DISK_FULL:
		return (507);
	case AERR_UNAVAILABLE:
		return (503);
	case AERR_EXPIRED:
		return (410);
	default:
		return (500);
	}
}

static const char *
http_reason(int status)
{
	switch (status) {
	case 200:
		return ("OK");
	case 201:
		return ("Created");
	case 204:
		return ("No Content");
	case 304:
		return ("Not Modified");
	case 400:
		return ("Bad Request");
	case 401:
		return ("Unauthorized");
	case 403:
		return ("Forbidden");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 406:
		return ("Not Acceptable");
	case 410:
		return ("Gone");
	case 413:
		return ("Content Too Large");
	case 415:
		return ("Unsupported Media Type");
	case 503:
		return ("Service Unavailable");
	case 507:
		return ("Insufficient Storage");
	default:
		return ("Internal Server Error");
	}
}

/* The configured origin that admits origin, or NULL. */
static const char *
http_cors_match(const char *origin)
{
	size_t	i;

	if (origin == NULL)
		return (NULL);
	for (i = 0; i < hcfg.ncors; i++) {
		if (strcmp(hcfg.cors[i], "*") == 0)
			return ("*");
		if (strcmp(hcfg.cors[i], origin) == 0)
			return (origin);
	}
	return (NULL);
}

/* Headers every answer carries: CORS for an admitted origin. */
void
http_headers(struct evhttp_request *req)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	const char		*allow;

	if ((allow = http_cors_match(evhttp_find_header(in,
	    "Origin"))) == NULL)
		return;
	evhttp_add_header(out, "Access-Control-Allow-Origin", allow);
	evhttp_add_header(out, "Access-Control-Expose-Headers",
	    "ETag, Link, Location");
	if (strcmp(allow, "*") != 0)
		evhttp_add_header(out, "Vary", "Origin");
}

/* Whether the client takes gzip (and not with q=0). */
static int
http_accepts_gzip(struct evhttp_request *req)
{
	const char	*ae, *p;

	ae = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Accept-Encoding");
	if (ae == NULL || (p = strstr(ae, "gzip")) == NULL)
		return (0);
	p += 4;
	while (*p == ' ')
		p++;
	if (strncmp(p, ";q=0", 4) == 0 && strspn(p + 4, ".0") ==
	    strcspn(p + 4, ", "))
		return (0);
	return (1);
}

/* Replace body with its gzip form; 0 when done. */
static int
http_gzip(struct evbuffer *body)
{
	struct evbuffer		*out;
	struct evbuffer_iovec	 v;
	z_stream		 zs;
	unsigned char		*in;
	size_t			 len = evbuffer_get_length(body);
	int			 rc;

	if ((in = evbuffer_pullup(body, -1)) == NULL)
		return (-1);
	memset(&zs, 0, sizeof zs);
	/* 16 + 15: a gzip wrapper around a 32K window. */
	if (deflateInit2(&zs, 1, Z_DEFLATED, 16 + 15, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return (-1);
	out = evbuffer_new();
	zs.next_in = in;
	zs.avail_in = (uInt)len;
	do {
		if (evbuffer_reserve_space(out, deflateBound(&zs, len) + 64,
		    &v, 1) != 1) {
			rc = Z_MEM_ERROR;
			break;
		}
		zs.next_out = v.iov_base;
		zs.avail_out = (uInt)v.iov_len;
		rc = deflate(&zs, Z_FINISH);
		v.iov_len -= zs.avail_out;
		evbuffer_commit_space(out, &v, 1);
	} while (rc == Z_OK);
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		evbuffer_free(out);
		return (-1);
	}
	evbuffer_drain(body, len);
	evbuffer_add_buffer(body, out);
	evbuffer_free(out);
	return (0);
}

/* Send body with status; compress it when worth it and accepted. */
static void
http_send(struct evhttp_request *req, int status, const char *type,
    struct evbuffer *body)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);

	evhttp_add_header(out, "Content-Type", type);
	evhttp_add_header(out, "Vary", "Accept-Encoding");
	if (evbuffer_get_length(body) >= HTTP_GZIP_MIN &&
	    http_accepts_gzip(req) && http_gzip(body) == 0)
		evhttp_add_header(out, "Content-Encoding", "gzip");
	evhttp_send_reply(req, status, http_reason(status), body);
}

void
http_send_json(struct evhttp_request *req, int status, struct evbuffer *body,
    int cache)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);

	http_headers(req);
	if (!cache)
		evhttp_add_header(out, "Cache-Control", "no-store");
	http_send(req, status, "application/json", body);
}

/* An RFC 7807 problem: type names the error, detail says what failed. */
void
http_problem_status(struct evhttp_request *req, int status, const char *name,
    const char *detail)
{
	struct evbuffer	*b = evbuffer_new();

	evbuffer_add_printf(b, "{\"type\":\"urn:annals:error:%s\","
	    "\"title\":", name);
	hjson_str(b, http_reason(status), strlen(http_reason(status)));
	evbuffer_add_printf(b, ",\"status\":%d,\"detail\":", status);
	hjson_str(b, detail, strlen(detail));
	evbuffer_add_printf(b, ",\"code\":\"%s\"}", name);
	http_headers(req);
	/* An error is not a version of the resource (issue #14). */
	evhttp_remove_header(evhttp_request_get_output_headers(req), "ETag");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	http_send(req, status, "application/problem+json", b);
	evbuffer_free(b);
}

void
http_problem(struct evhttp_request *req, int status, const struct aerr *err)
{
	if (status == 0)
		status = http_status_of(err->code);
	http_problem_status(req, status, aerr_name(err->code), err->msg);
}

/*
 * Set a weak ETag made of the store's last change and the request line;
 * answer 304 and return 1 when the client already has it.
 */
int
http_not_modified(struct evhttp_request *req)
{
	const char	*uri = evhttp_request_get_uri(req), *inm;
	uint64_t	 h = 0xcbf29ce484222325ULL;
	char		 etag[64];

	for (; *uri != '\0'; uri++) {
		h ^= (unsigned char)*uri;
		h *= 0x100000001b3ULL;
	}
	snprintf(etag, sizeof etag, "W/\"%llx-%llx\"",
	    (unsigned long long)store_last_seq(server->store),
	    (unsigned long long)h);
	evhttp_add_header(evhttp_request_get_output_headers(req), "ETag",
	    etag);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-cache");
	inm = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	/* Weak comparison: W/"x" matches W/"x" and "x". */
	if (inm == NULL || (strstr(inm, etag + 2) == NULL &&
	    strcmp(inm, "*") != 0))
		return (0);
	http_headers(req);
	evhttp_send_reply(req, 304, http_reason(304), NULL);
	return (1);
}

static const char *
http_mime(const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".map", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".md", "text/plain; charset=utf-8" },
	};
	const char	*dot = strrchr(path, '.');
	size_t		 i;

	for (i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++) {
		if (strcmp(dot, types[i][0]) == 0)
			return (types[i][1]);
	}
	return ("application/octet-stream");
}

/* Whether a URL path names a file we may serve: no dot files, no "..". */
static int
http_path_ok(const char *p)
{
	if (*p != '/' || strlen(p) > 256)
		return (0);
	for (; *p != '\0'; p++) {
		if (*p == '/' && (p[1] == '.' || p[1] == '/'))
			return (0);
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/._-", *p) != NULL))
			return (0);
	}
	return (1);
}

static void
http_static(struct evhttp_request *req, const char *path)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*b;
	struct stat		 sb;
	const char		*inm;
	char			 file[PATH_MAX + 300], etag[80];
	int			 fd;

	if (strcmp(path, "/") == 0)
		path = "/index.html";
	if (!have_web) {
		http_problem_status(req, 404, "not_found", "the timeline page "
		    "is not installed; start annalsd with --web DIR");
		return;
	}
	if (!http_path_ok(path)) {
		http_problem_status(req, 404, "not_found", "no such file");
		return;
	}
	snprintf(file, sizeof file, "%s%s", web_dir, path);
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > HTTP_MAX_FILE) {
		if (fd != -1)
			close(fd);
		http_problem_status(req, 404, "not_found", "no such file");
		return;
	}
	snprintf(etag, sizeof etag, "\"%llx-%llx-%llx\"",
	    (unsigned long long)sb.st_ino, (unsigned long long)sb.st_size,
	    (unsigned long long)sb.st_mtime);
	evhttp_add_header(out, "ETag", etag);
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	inm = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	if (inm != NULL && strstr(inm, etag) != NULL) {
		close(fd);
		evhttp_send_reply(req, 304, http_reason(304), NULL);
		return;
	}
	b = evbuffer_new();
	if (evbuffer_add_file(b, fd, 0, sb.st_size) != 0) {
		evbuffer_free(b);
		http_problem_status(req, 500, "internal", "cannot read file");
		return;
	}
	http_headers(req);
	http_send(req, 200, http_mime(path), b);
	evbuffer_free(b);
}

/* A CORS preflight: say what an admitted origin may send. */
static void
http_options(struct evhttp_request *req)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);

	http_headers(req);
	evhttp_add_header(out, "Allow", "GET, HEAD, POST, DELETE, OPTIONS");
	if (http_cors_match(evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Origin")) != NULL) {
		evhttp_add_header(out, "Access-Control-Allow-Methods",
		    "GET, HEAD, POST, DELETE, OPTIONS");
		evhttp_add_header(out, "Access-Control-Allow-Headers",
		    "Content-Type, If-None-Match, Last-Event-ID");
		evhttp_add_header(out, "Access-Control-Max-Age", "600");
	}
	evhttp_send_reply(req, 204, http_reason(204), NULL);
}

/* Whether req may go on: with tokens required, it must have one. */
static int
http_auth(struct evhttp_request *req, int cmd)
{
	const char	*h;
	int		 scope;

	if (!auth_enabled())
		return (1);
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0 ||
	    (scope = auth_check(h + 7, strlen(h + 7))) == AUTH_NONE) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer realm=\"annals\"");
		http_problem_status(req, 401, "unauthorized", h == NULL ?
		    "a token is required: Authorization: Bearer TOKEN" :
		    "the token is not valid");
		return (0);
	}
	if ((cmd == EVHTTP_REQ_POST || cmd == EVHTTP_REQ_DELETE ||
	    cmd == EVHTTP_REQ_PUT || cmd == EVHTTP_REQ_PATCH) &&
	    scope != AUTH_WRITE) {
		http_problem_status(req, 403, "unauthorized", "the token only "
		    "allows reading");
		return (0);
	}
	return (1);
}

static void
http_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = evhttp_uri_get_path(uri);
	int			 cmd = evhttp_request_get_command(req);

	(void)arg;
	if (path == NULL || *path == '\0')
		path = "/";
	log_debug("http %d %s", cmd, evhttp_request_get_uri(req));
	if (server->shutting_down) {
		http_problem_status(req, 503, "unavailable",
		    "server is shutting down");
		return;
	}
	if (cmd == EVHTTP_REQ_OPTIONS) {
		http_options(req);
		return;
	}
	if (strcmp(path, "/v1") == 0 || strncmp(path, "/v1/", 4) == 0) {
		if (http_auth(req, cmd))
			http_api(req, path);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD, OPTIONS");
		http_problem_status(req, 405, "method_not_allowed", "files are "
		    "only read with GET and HEAD");
		return;
	}
	http_static(req, path);
}

/* The web directory: --web, or beside the binary (source or install). */
static void
http_find_web(void)
{
	static const char *const rel[] = { "/../contrib/web",
	    "/../share/annals/web" };
	struct stat	 sb;
	char		 exe[PATH_MAX], probe[PATH_MAX + 300], *slash;
	ssize_t		 n;
	size_t		 i;

	if (hcfg.web_dir != NULL) {
		snprintf(web_dir, sizeof web_dir, "%s", hcfg.web_dir);
		snprintf(probe, sizeof probe, "%s/index.html", web_dir);
		have_web = stat(probe, &sb) == 0;
		if (!have_web)
			log_warn("--web %s: no index.html there", web_dir);
		return;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
		return;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return;
	*slash = '\0';
	for (i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		snprintf(probe, sizeof probe, "%s%s/index.html", exe, rel[i]);
		if (stat(probe, &sb) == 0 &&
		    realpath(probe, web_dir) != NULL) {
			*strrchr(web_dir, '/') = '\0';
			have_web = 1;
			return;
		}
	}
	log_notice("no timeline page found next to %s; use --web DIR", exe);
}

int
http_start(const struct http_config *cfg, struct aerr *err)
{
	struct sockaddr_storage	 ss;
	socklen_t		 slen;
	char			 addr[INET6_ADDRSTRLEN];
	int			 len = sizeof ss, fd, one = 1, loop = 0;
	unsigned		 port;

	hcfg = *cfg;
	memset(&ss, 0, sizeof ss);
	if (evutil_parse_sockaddr_port(cfg->listen, (struct sockaddr *)&ss,
	    &len) != 0) {
		aerr_set(err, AERR_INVALID, "--http %s: not HOST:PORT",
		    cfg->listen);
		return (-1);
	}
	if (ss.ss_family == AF_INET)
		loop = (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >>
		    24) == 127;
	else if (ss.ss_family == AF_INET6)
		loop = IN6_IS_ADDR_LOOPBACK(
		    &((struct sockaddr_in6 *)&ss)->sin6_addr);
	if (!loop && !cfg->allow_remote) {
		aerr_set(err, AERR_INVALID, "--http %s: not a loopback address; "
		    "other hosts are served only with --auth-file",
		    cfg->listen);
		return (-1);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	/*
	 * Accepted sockets inherit TCP_NODELAY (on Linux): an answer larger
	 * than a segment must not wait for the client's delayed ACK.
	 */
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof one) == -1 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof one) == -1 || bind(fd, (struct sockaddr *)&ss,
	    len) == -1 || listen(fd, 511) == -1) {
		aerr_set(err, AERR_INTERNAL, "--http %s: %s", cfg->listen,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if ((http = evhttp_new(server->base)) == NULL ||
	    (bound = evhttp_accept_socket_with_handle(http, fd)) == NULL) {
		aerr_set(err, AERR_INTERNAL, "--http %s: evhttp failed",
		    cfg->listen);
		close(fd);
		return (-1);
	}
	/*
	 * Bodies up to max_body get a problem answer from us; libevent
	 * itself refuses (with its own page) only what is far larger.
	 */
	evhttp_set_max_body_size(http, (ev_ssize_t)cfg->max_body * 4);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_timeout(http, HTTP_TIMEOUT);
	evhttp_set_gencb(http, http_request, NULL);
	http_find_web();

	slen = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &slen);
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    addr, sizeof addr);
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		log_notice("http on [%s]:%u%s%s", addr, port,
		    have_web ? ", page from " : "", have_web ? web_dir : "");
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    addr, sizeof addr);
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		log_notice("http on %s:%u%s%s", addr, port,
		    have_web ? ", page from " : "", have_web ? web_dir : "");
	}
	return (0);
}

/* Stop taking connections and end the event streams (shutdown). */
void
http_stop(void)
{
	if (http != NULL && bound != NULL) {
		evhttp_del_accept_socket(http, bound);
		bound = NULL;
	}
	http_sse_free();
}

void
http_free(void)
{
	http_stop();
	if (http != NULL)
		evhttp_free(http);
	http = NULL;
}
