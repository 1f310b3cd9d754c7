/*
 * The HTTP server: libevent's evhttp on the daemon's event loop, its
 * connections, and the router.  It admits a request (Host, Origin,
 * tokens), then hands /v1/... to http-api.c and the change stream to
 * http-sse.c, and serves the timeline page's files from the web
 * directory; every answer goes out through http-reply.c.  Like
 * --listen, the address must be loopback unless tokens are required
 * (--auth-file); then every /v1 request must carry one as
 * "Authorization: Bearer TOKEN", a write one for writes.
 */
#include <sys/queue.h>
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
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "annalsd.h"
#include "http.h"

/*
 * The request line and headers together.  evhttp rescans its whole input
 * for each line end, so without a bound a line that never ends costs
 * memory and CPU without limit (issue 15).
 */
#define HTTP_MAX_HEAD		(64u << 10)

/*
 * Our side of an HTTP connection, which evhttp keeps to itself.  It is
 * made when evhttp asks for the connection's bufferevent (bevcb), tied to
 * the evhttp_connection once that exists (on the next loop turn, or at
 * its first request), and goes in the connection's close callback, the
 * one place that sees every connection go.  It knows whether a request
 * is under way, so a drain closes idle connections at once and lets the
 * others finish their request first (issue 15).
 */
struct http_conn {
	struct bufferevent	 *bev;
	struct evhttp_connection *evcon;	/* NULL until tied */
	struct evbuffer_cb_entry *incb;		/* watches the input */
	struct event		 *deadline;	/* of the request arriving */
	int			  state;
#define HTTP_CONN_IDLE		0	/* between requests */
#define HTTP_CONN_READING	1	/* a request is arriving */
#define HTTP_CONN_ANSWERING	2	/* delivered, not yet answered */
	int			  closing;	/* draining: no further request */
	int			  fresh;	/* on freshq, holding a bev ref */
	int			  refuse;	/* over --max-conns: 503, close */
	struct evhttp_request	 *held;		/* until its peer's penalty ends */
	int			  held_refused;	/* then answer it 401 */
	struct event		 *penalty;
	int			  spoke;	/* its first bytes came */
	char			  peer[AUTH_PEER_KEY];	/* auth.c's key */
	TAILQ_ENTRY(http_conn)	  entry;
	TAILQ_ENTRY(http_conn)	  fresh_entry;
	struct http_conn	 *hnext;	/* in its hash bucket */
};

/* Buckets of the bufferevent -> http_conn hash; a power of two. */
#define HTTP_CONN_HASH		1024

static struct evhttp		*http;
static struct evhttp_bound_socket *bound;
static struct http_config	 hcfg;
static char			 web_dir[PATH_MAX];
static int			 have_web;
static int			 draining;
static char			 listen_host[INET6_ADDRSTRLEN + 2];
static unsigned			 listen_port;
static int			 listen_loop;	/* bound to loopback */
static int			 listen_any;	/* bound to 0.0.0.0 or :: */
static TAILQ_HEAD(, http_conn)	 hconns = TAILQ_HEAD_INITIALIZER(hconns);
static TAILQ_HEAD(, http_conn)	 freshq = TAILQ_HEAD_INITIALIZER(freshq);
static struct http_conn		*hhash[HTTP_CONN_HASH];
static struct event		*fresh_ev;	/* ties new connections */
static struct event		*sweep_ev;	/* closes idle ones, draining */
static struct event		*resume_ev;	/* accepts again after EMFILE */
static time_t			 last_full_log;

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

	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		/* An address with a window gets its events listed. */
		if (have_web && http_api_page(req) == 0)
			return;
		path = "/index.html";
	}
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
	if ((fd = http_file_open(req, file, &sb)) == -1)
		return;
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
		http_reply(req, 304, NULL);
		return;
	}
	if ((b = http_file_body(req, fd, &sb)) == NULL)
		return;
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
		/* Authorization: a page may call when tokens are required. */
		evhttp_add_header(out, "Access-Control-Allow-Headers",
		    "Authorization, Content-Type, If-Match, If-None-Match, "
		    "Last-Event-ID");
		evhttp_add_header(out, "Access-Control-Max-Age", "600");
	}
	http_reply(req, 204, NULL);
}

/* Whether s (n bytes) is an IP address literal: a.b.c.d or [v6]. */
static int
http_ip_literal(const char *s, size_t n)
{
	struct in6_addr	a6;
	struct in_addr	a4;
	char		buf[INET6_ADDRSTRLEN + 2];

	if (n == 0 || n >= sizeof buf)
		return (0);
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return (0);
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		return (inet_pton(AF_INET6, buf, &a6) == 1);
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return (inet_pton(AF_INET, buf, &a4) == 1);
}

/*
 * Whether the Host header names this listener: its own address, localhost
 * when it is loopback, any address literal when it is bound to all, or a
 * --http-host name.  A port, when given, must be ours (or the one given
 * with the name).  A page on another name that resolves here (DNS
 * rebinding) is refused: it sends its own name (issue 15).
 */
static int
http_host_ok(const char *host)
{
	const char	*colon, *want;
	char		 port[16];
	size_t		 n, i, wn;

	if (host == NULL)
		return (0);
	if (host[0] == '[')
		colon = strchr(host, ']') != NULL ? strchr(strchr(host, ']'),
		    ':') : NULL;
	else
		colon = strchr(host, ':');
	n = colon != NULL ? (size_t)(colon - host) : strlen(host);
	snprintf(port, sizeof port, "%u", listen_port);
	for (i = 0; i < hcfg.nhosts; i++) {
		want = hcfg.hosts[i];
		if (strcasecmp(want, host) == 0)
			return (1);
		if (strchr(want, ':') != NULL && want[0] != '[')
			continue;
		if ((wn = strlen(want)) == n &&
		    strncasecmp(want, host, n) == 0)
			goto port;
	}
	if ((strlen(listen_host) == n && strncmp(listen_host, host, n) == 0) ||
	    (listen_loop && n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	    (listen_any && http_ip_literal(host, n)))
		goto port;
	return (0);
port:
	/* No port: a client that leaves out the port it connected to. */
	return (colon == NULL || strcmp(colon + 1, port) == 0);
}

/*
 * Whether a write may come from the page that sent it: no Origin (not a
 * browser), an origin --cors admits, or the page's own (the timeline
 * page posting to the server that served it).  Browsers send Origin on
 * every cross-site POST, no-cors ones included.
 */
static int
http_origin_ok(struct evhttp_request *req)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	const char		*origin, *host;

	if ((origin = evhttp_find_header(in, "Origin")) == NULL ||
	    http_cors_match(origin) != NULL)
		return (1);
	host = evhttp_find_header(in, "Host");
	return (host != NULL && strncasecmp(origin, "http://", 7) == 0 &&
	    strcasecmp(origin + 7, host) == 0);
}

/*
 * Whether a body is declared JSON: the media type exactly
 * application/json, parameters (charset) allowed.  A form or a no-cors
 * fetch cannot send that type without a preflight.
 */
static int
http_json_type(struct evhttp_request *req)
{
	const char	*ct;
	size_t		 n;

	ct = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (ct == NULL)
		return (0);
	ct += strspn(ct, " \t");
	n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0);
}

static int
http_unsafe(int cmd)
{
	return (cmd == EVHTTP_REQ_POST || cmd == EVHTTP_REQ_PUT ||
	    cmd == EVHTTP_REQ_PATCH || cmd == EVHTTP_REQ_DELETE);
}

static void	http_request(struct evhttp_request *, void *);

static void
http_unauthorized(struct evhttp_request *req, const char *detail)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "WWW-Authenticate", "Bearer realm=\"annals\"");
	http_problem_status(req, 401, "unauthorized", detail);
}

/* The peer's penalty is over: answer the held request, or run it now. */
static void
http_conn_unhold(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn	*hc = arg;
	struct evhttp_request	*req = hc->held;

	(void)fd; (void)what;
	hc->held = NULL;
	if (hc->held_refused) {
		hc->held_refused = 0;
		http_unauthorized(req, "the token is not valid");
	} else
		http_request(req, NULL);
}

/* Go on with req (or refuse it) only after ms: its peer is penalised. */
static void
http_conn_hold(struct http_conn *hc, struct evhttp_request *req,
    uint64_t ms, int refused)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	hc->held = req;
	hc->held_refused = refused;
	if (hc->penalty == NULL && (hc->penalty = evtimer_new(server->base,
	    http_conn_unhold, hc)) == NULL)
		fatalx("evtimer_new failed");
	evtimer_add(hc->penalty, &tv);
}

/*
 * A request without a token that carries ?ticket=: it may open the
 * change stream, and nothing else, with a live ticket (http-ticket.c),
 * which it uses up.  A wrong ticket is not penalised like a wrong token:
 * 256 random bits are not guessed, and an EventSource retries with the
 * ticket it was given, used or not.
 */
static int
http_auth_ticket(struct evhttp_request *req, const char *path,
    const char *ticket)
{
	if (strcmp(path, "/v1/changes") != 0 ||
	    evhttp_request_get_command(req) != EVHTTP_REQ_GET ||
	    !http_sse_wanted(req)) {
		http_unauthorized(req, "a ticket opens only the event stream "
		    "of /v1/changes; send the token: Authorization: Bearer "
		    "TOKEN");
		return (0);
	}
	if (!http_ticket_take(ticket, strlen(ticket))) {
		http_unauthorized(req, "the ticket is not valid: it was used "
		    "or is over a minute old; POST /v1/tickets gives another");
		return (0);
	}
	return (1);
}

/*
 * Whether req may go on: with tokens required, it must have one, or a
 * ticket for the change stream.  A wrong token penalises its peer
 * (auth.c), and the peer's requests, on any connection and on the socket
 * too, wait out the penalty; so does the answer to the wrong token
 * itself.  A read token may ask for tickets, though that is a POST.
 */
static int
http_auth(struct evhttp_request *req, const char *path, int cmd,
    struct http_conn *hc)
{
	struct evkeyvalq	 q;
	const char		*h, *query, *ticket;
	uint64_t		 ms;
	int			 scope, ok;

	if (!auth_enabled())
		return (1);
	if (hc != NULL && (ms = auth_wait(hc->peer)) > 0) {
		http_conn_hold(hc, req, ms, 0);
		return (0);
	}
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (h == NULL && query != NULL && strstr(query, "ticket=") != NULL &&
	    evhttp_parse_query_str(query, &q) == 0) {
		ticket = evhttp_find_header(&q, "ticket");
		ok = -1;
		if (ticket != NULL && *ticket != '\0')
			ok = http_auth_ticket(req, path, ticket);
		evhttp_clear_headers(&q);
		if (ok != -1)
			return (ok);
	}
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0) {
		http_unauthorized(req, "a token is required: Authorization: "
		    "Bearer TOKEN");
		return (0);
	}
	if ((scope = auth_check(h + 7, strlen(h + 7))) == AUTH_NONE) {
		if (hc == NULL) {
			http_unauthorized(req, "the token is not valid");
			return (0);
		}
		ms = auth_failed(hc->peer);
		log_warn("http: wrong token from %s; its answers wait %llu s",
		    hc->peer, (unsigned long long)ms / 1000);
		http_conn_hold(hc, req, ms, 1);
		return (0);
	}
	if (http_unsafe(cmd) && scope != AUTH_WRITE &&
	    strcmp(path, "/v1/tickets") != 0) {
		http_problem_status(req, 403, "unauthorized", "the token only "
		    "allows reading");
		return (0);
	}
	return (1);
}

static size_t
http_conn_bucket(const struct bufferevent *bev)
{
	uint64_t	h = (uint64_t)(uintptr_t)bev * 0x9e3779b97f4a7c15ULL;

	return ((size_t)(h >> 32) & (HTTP_CONN_HASH - 1));
}

static struct http_conn *
http_conn_find(struct bufferevent *bev)
{
	struct http_conn	*hc;

	for (hc = hhash[http_conn_bucket(bev)]; hc != NULL; hc = hc->hnext) {
		if (hc->bev == bev)
			return (hc);
	}
	return (NULL);
}

/* Unlink hc and free it; the bufferevent is evhttp's, or going. */
static void
http_conn_free(struct http_conn *hc)
{
	struct http_conn	**pp;

	for (pp = &hhash[http_conn_bucket(hc->bev)]; *pp != hc;
	    pp = &(*pp)->hnext)
		;
	*pp = hc->hnext;
	TAILQ_REMOVE(&hconns, hc, entry);
	evbuffer_remove_cb_entry(bufferevent_get_input(hc->bev), hc->incb);
	if (hc->deadline != NULL)
		event_free(hc->deadline);
	if (hc->penalty != NULL)
		event_free(hc->penalty);
	if (hc->fresh) {
		TAILQ_REMOVE(&freshq, hc, fresh_entry);
		bufferevent_decref(hc->bev);
	}
	free(hc);
	server->http_conns--;
	annalsd_check_done();
}

/* evhttp frees the connection: tell who waits on it, then forget it. */
static void
http_conn_gone(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn	*hc = arg;

	http_reply_gone(evcon);
	/* A held request libevent let go of (the client left) is ours. */
	if (hc->held != NULL && evhttp_request_get_connection(hc->held) ==
	    NULL)
		evhttp_request_free(hc->held);
	http_conn_free(hc);
}

static void
http_conn_tie(struct http_conn *hc, struct evhttp_connection *evcon)
{
	hc->evcon = evcon;
	evhttp_connection_set_closecb(evcon, http_conn_gone, hc);
	auth_peer_key(bufferevent_getfd(hc->bev), hc->peer, sizeof hc->peer);
	if (hc->fresh) {
		hc->fresh = 0;
		TAILQ_REMOVE(&freshq, hc, fresh_entry);
		bufferevent_decref(hc->bev);
	}
}

/*
 * A request took longer than --http-timeout to arrive in full.  evhttp's
 * own timeout only measures silence, which a client sending a byte now
 * and then never lets happen.  Say so (best effort: a fresh answer on a
 * socket that has been writing nothing fits its buffer) and hang up.
 */
static void
http_conn_expire(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn	*hc = arg;
	char			 body[256], msg[512];
	int			 n;

	(void)fd; (void)what;
	if (hc->evcon == NULL || hc->state != HTTP_CONN_READING)
		return;
	n = snprintf(body, sizeof body, "{\"type\":\"urn:annals:error:limit\","
	    "\"title\":\"Request Timeout\",\"status\":408,\"detail\":"
	    "\"the request did not arrive in full within %u seconds\","
	    "\"code\":\"limit\"}", hcfg.timeout);
	n = snprintf(msg, sizeof msg, "HTTP/1.1 408 Request Timeout\r\n"
	    "Content-Type: application/problem+json\r\nConnection: close\r\n"
	    "Content-Length: %d\r\n\r\n%s", n, body);
	if (send(bufferevent_getfd(hc->bev), msg, (size_t)n, MSG_NOSIGNAL |
	    MSG_DONTWAIT) == -1)
		log_debug("http: answering a timeout: %s", strerror(errno));
	log_info("http: a request took over %u seconds to arrive; closing",
	    hcfg.timeout);
	evhttp_connection_free(hc->evcon);
}

/* Bytes came in on an idle connection: a request is under way. */
static void
http_conn_reading(struct http_conn *hc)
{
	struct timeval	tv = { hcfg.timeout, 0 };

	hc->state = HTTP_CONN_READING;
	if (hc->deadline == NULL && (hc->deadline = evtimer_new(server->base,
	    http_conn_expire, hc)) == NULL)
		fatalx("evtimer_new failed");
	evtimer_add(hc->deadline, &tv);
}

/*
 * A client of the msgpack protocol pointed at this port (annals -H with
 * the --http address): evhttp would wait for a request line that never
 * comes.  Say in HTTP what happened, which libannals reports as "the
 * server answered in HTTP", and hang up; evhttp frees the connection at
 * the end of the stream.
 */
static void
http_conn_protocol(struct http_conn *hc)
{
	static const char	body[] = "{\"type\":\"urn:annals:error:"
	    "malformed\",\"title\":\"Bad Request\",\"status\":400,"
	    "\"detail\":\"this is annalsd's HTTP port; the msgpack protocol "
	    "is on its --socket or --listen address\",\"code\":\"malformed\"}";
	char			msg[512];
	int			n, fd = bufferevent_getfd(hc->bev);

	n = snprintf(msg, sizeof msg, "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: application/problem+json\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", sizeof body - 1, body);
	if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_debug("http: answering a protocol client: %s",
		    strerror(errno));
	log_info("http: a msgpack protocol client on the HTTP port; closing");
	shutdown(fd, SHUT_RDWR);
}

static void
http_conn_input(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct http_conn	*hc = arg;
	unsigned char		 first;

	if (info->n_added > 0 && !hc->spoke) {
		hc->spoke = 1;
		if (evbuffer_copyout(b, &first, 1) == 1 &&
		    first == PROTO_FRAME_PREFIX) {
			http_conn_protocol(hc);
			return;
		}
	}
	if (info->n_added > 0 && hc->state == HTTP_CONN_IDLE)
		http_conn_reading(hc);
}

/*
 * evhttp wants a bufferevent for a connection it accepted: make it as
 * evhttp would (no BEV_OPT_CLOSE_ON_FREE: evhttp closes the socket), and
 * our http_conn with it.  The evhttp_connection does not exist yet; a
 * reference keeps the bufferevent until http_conn_fresh() ties the two.
 */
static struct bufferevent *
http_conn_new(struct event_base *base, void *arg)
{
	struct http_conn	*hc;
	size_t			 b;

	(void)arg;
	hc = xcalloc(1, sizeof *hc);
	if ((hc->bev = bufferevent_socket_new(base, -1, 0)) == NULL)
		fatalx("bufferevent_socket_new failed");
	hc->incb = evbuffer_add_cb(bufferevent_get_input(hc->bev),
	    http_conn_input, hc);
	if (hc->incb == NULL)
		fatalx("evbuffer_add_cb failed");
	bufferevent_incref(hc->bev);
	hc->fresh = 1;
	hc->refuse = server->http_conns >= server->cfg->max_conns;
	/*
	 * Accept no more this turn: each refused connection holds a
	 * descriptor until http_conn_fresh() answers it, and a burst of
	 * them would starve the Unix socket of descriptors.
	 */
	if (hc->refuse && bound != NULL)
		evconnlistener_disable(evhttp_bound_socket_get_listener(
		    bound));
	TAILQ_INSERT_TAIL(&freshq, hc, fresh_entry);
	TAILQ_INSERT_TAIL(&hconns, hc, entry);
	b = http_conn_bucket(hc->bev);
	hc->hnext = hhash[b];
	hhash[b] = hc;
	server->http_conns++;
	event_active(fresh_ev, EV_TIMEOUT, 0);
	return (hc->bev);
}

/*
 * A connection over --max-conns: say why and hang up, as the socket does
 * (best effort: a fresh socket's buffer takes this whole).
 */
static void
http_conn_refuse(struct http_conn *hc)
{
	char	body[256], msg[512];
	time_t	now = time(NULL);
	int	n;

	if (now - last_full_log >= 60) {
		log_warn("http: refusing connections: limit of %zu reached",
		    server->cfg->max_conns);
		last_full_log = now;
	}
	n = snprintf(body, sizeof body, "{\"type\":\"urn:annals:error:limit\","
	    "\"title\":\"Service Unavailable\",\"status\":503,\"detail\":"
	    "\"max-conns: the server has its limit of %zu HTTP connections\","
	    "\"code\":\"limit\"}", server->cfg->max_conns);
	n = snprintf(msg, sizeof msg, "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/problem+json\r\nConnection: close\r\n"
	    "Retry-After: 1\r\nContent-Length: %d\r\n\r\n%s", n, body);
	if (send(bufferevent_getfd(hc->bev), msg, (size_t)n, MSG_NOSIGNAL |
	    MSG_DONTWAIT) == -1)
		log_debug("http: refusing a connection: %s", strerror(errno));
	evhttp_connection_free(hc->evcon);
}

/* Tie the connections accepted since the last turn to their evcons. */
static void
http_conn_fresh(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn	*hc;
	bufferevent_data_cb	 rcb;
	void			*cbarg;

	(void)fd; (void)what; (void)arg;
	while ((hc = TAILQ_FIRST(&freshq)) != NULL) {
		/* A bufferevent evhttp has freed has lost its callbacks. */
		bufferevent_getcb(hc->bev, &rcb, NULL, NULL, &cbarg);
		if (rcb == NULL)
			http_conn_free(hc);
		else {
			http_conn_tie(hc, cbarg);
			if (hc->refuse)
				http_conn_refuse(hc);
		}
	}
	if (bound != NULL && !evtimer_pending(resume_ev, NULL))
		evconnlistener_enable(evhttp_bound_socket_get_listener(bound));
	if (draining)
		event_active(sweep_ev, EV_TIMEOUT, 0);
}

/*
 * Draining: close every connection that is between requests.  One whose
 * request waits in the socket, not yet read, is sending it: it stays.
 */
static void
http_conn_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn	*hc, *next;
	char			 c;

	(void)fd; (void)what; (void)arg;
	for (hc = TAILQ_FIRST(&hconns); hc != NULL; hc = next) {
		next = TAILQ_NEXT(hc, entry);
		if (hc->evcon == NULL || hc->state != HTTP_CONN_IDLE)
			continue;
		if (!hc->closing && recv(bufferevent_getfd(hc->bev), &c, 1,
		    MSG_PEEK | MSG_DONTWAIT) == 1) {
			http_conn_reading(hc);
			continue;
		}
		evhttp_connection_free(hc->evcon);
	}
}

static void
http_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	if (bound != NULL)
		evconnlistener_enable(evhttp_bound_socket_get_listener(bound));
}

/*
 * accept() failed, for lack of descriptors (EMFILE, ENFILE) most
 * likely.  The listener stays readable, so without this the loop spins
 * (issue 15): pause it for a second, as server.c pauses the socket's.
 */
static void
http_accept_error(struct evconnlistener *l, void *arg)
{
	struct timeval	tv = { 1, 0 };
	int		err = EVUTIL_SOCKET_ERROR();
	time_t		now = time(NULL);

	(void)arg;
	if (now - last_full_log >= 60) {
		log_warn("http: accept: %s; pausing for a second",
		    evutil_socket_error_to_string(err));
		last_full_log = now;
	}
	evconnlistener_disable(l);
	evtimer_add(resume_ev, &tv);
}

/* The answer has been written in full. */
static void
http_conn_done(struct evhttp_request *req, void *arg)
{
	struct http_conn	*hc = arg;

	(void)req;
	if (draining) {
		/* It came before the drain; anything after it does not. */
		hc->closing = 1;
		hc->state = HTTP_CONN_IDLE;
		event_active(sweep_ev, EV_TIMEOUT, 0);
		return;
	}
	hc->state = HTTP_CONN_IDLE;
	/* The next request, pipelined, is already arriving. */
	if (evbuffer_get_length(bufferevent_get_input(hc->bev)) > 0)
		http_conn_reading(hc);
}

/* A request has come in full on hc: it is ours to answer now. */
static void
http_conn_request(struct http_conn *hc, struct evhttp_request *req)
{
	if (hc->evcon == NULL)
		http_conn_tie(hc, evhttp_request_get_connection(req));
	hc->state = HTTP_CONN_ANSWERING;
	if (hc->deadline != NULL)
		evtimer_del(hc->deadline);
	evhttp_request_set_on_complete_cb(req, http_conn_done, hc);
}

static void
http_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = evhttp_uri_get_path(uri);
	const char		*host, *origin;
	struct http_conn	*hc;
	char			 detail[256], esc[96];
	int			 cmd = evhttp_request_get_command(req);

	(void)arg;
	if (path == NULL || *path == '\0')
		path = "/";
	/* A ticket in the address is a credential: it is not logged. */
	if (strstr(evhttp_request_get_uri(req), "ticket=") != NULL)
		log_debug("http %d %s?(withheld: it has a ticket)", cmd, path);
	else
		log_debug("http %d %s", cmd, evhttp_request_get_uri(req));
	hc = http_conn_find(evhttp_connection_get_bufferevent(
	    evhttp_request_get_connection(req)));
	if (hc != NULL)
		http_conn_request(hc, req);
	/*
	 * A request that was arriving when the drain began is answered; one
	 * after an answer given while draining, or a stream, is not.
	 */
	if ((hc != NULL && hc->closing) || (draining &&
	    http_sse_wanted(req))) {
		http_problem_status(req, 503, "unavailable",
		    "server is shutting down");
		return;
	}
	host = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Host");
	if (!http_host_ok(host)) {
		snprintf(detail, sizeof detail, "Host %s is not served here; "
		    "annalsd --http-host names others", host == NULL ?
		    "(none)" : log_escape(host, strlen(host), esc, sizeof esc));
		http_problem_status(req, 421, "misdirected_request", detail);
		return;
	}
	if (http_unsafe(cmd) && !http_origin_ok(req)) {
		origin = evhttp_find_header(
		    evhttp_request_get_input_headers(req), "Origin");
		snprintf(detail, sizeof detail, "writes from %s are not "
		    "allowed; annalsd --cors admits an origin", log_escape(
		    origin, strlen(origin), esc, sizeof esc));
		http_problem_status(req, 403, "unauthorized", detail);
		return;
	}
	if (cmd == EVHTTP_REQ_OPTIONS) {
		http_options(req);
		return;
	}
	if (strcmp(path, "/v1") == 0 || strncmp(path, "/v1/", 4) == 0) {
		if (!http_auth(req, path, cmd, hc))
			return;
		if (evbuffer_get_length(evhttp_request_get_input_buffer(
		    req)) > 0 && !http_json_type(req)) {
			http_problem_status(req, 415, "unsupported_media_type",
			    "Content-Type must be application/json");
			return;
		}
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
	http_reply_init(&hcfg, web_dir);
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
	/*
	 * Over it libevent answers a bare text/html 400 and closes: 2.1 has
	 * no hook to make that a problem body or a 431.
	 */
	evhttp_set_max_headers_size(http, HTTP_MAX_HEAD);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_timeout(http, (int)cfg->timeout);
	evhttp_set_gencb(http, http_request, NULL);
	evhttp_set_bevcb(http, http_conn_new, NULL);
	fresh_ev = event_new(server->base, -1, 0, http_conn_fresh, NULL);
	sweep_ev = event_new(server->base, -1, 0, http_conn_sweep, NULL);
	resume_ev = evtimer_new(server->base, http_accept_resume, NULL);
	if (fresh_ev == NULL || sweep_ev == NULL || resume_ev == NULL)
		fatalx("event_new failed");
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(bound),
	    http_accept_error);
	http_find_web();

	slen = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &slen);
	listen_loop = loop;
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    addr, sizeof addr);
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		listen_port = port;
		snprintf(listen_host, sizeof listen_host, "[%s]", addr);
		listen_any = IN6_IS_ADDR_UNSPECIFIED(
		    &((struct sockaddr_in6 *)&ss)->sin6_addr);
		log_notice("http on [%s]:%u%s%s", addr, port,
		    have_web ? ", page from " : "", have_web ? web_dir : "");
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    addr, sizeof addr);
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		listen_port = port;
		snprintf(listen_host, sizeof listen_host, "%s", addr);
		listen_any = ((struct sockaddr_in *)&ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
		log_notice("http on %s:%u%s%s", addr, port,
		    have_web ? ", page from " : "", have_web ? web_dir : "");
	}
	return (0);
}

/*
 * Drain (shutdown): take no new connection, end the event streams, close
 * connections between requests; the others get the answer to the request
 * they were sending, marked as their last.  The loop ends when the last
 * connection has gone (annalsd_check_done()).
 */
void
http_stop(void)
{
	if (http == NULL)
		return;
	if (bound != NULL) {
		evhttp_del_accept_socket(http, bound);
		bound = NULL;
	}
	http_sse_free();
	draining = 1;
	http_reply_drain();
	event_active(sweep_ev, EV_TIMEOUT, 0);
}

void
http_free(void)
{
	struct http_conn	*hc;

	if (http == NULL)
		return;
	http_stop();
	http_ticket_free();
	/* Each connection's close callback frees its http_conn. */
	evhttp_free(http);
	http = NULL;
	while ((hc = TAILQ_FIRST(&freshq)) != NULL)
		http_conn_free(hc);
	event_free(fresh_ev);
	event_free(sweep_ev);
	event_free(resume_ev);
	fresh_ev = sweep_ev = resume_ev = NULL;
}
