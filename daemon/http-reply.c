/*
 * The common response path of the HTTP server: every answer goes
 * through here, from the router (http.c), the endpoints (http-api.c)
 * and the stream (http-sse.c).  CORS headers for the configured origins,
 * RFC 7807 problem bodies for errors, weak ETags made of the store's last
 * change sequence number and the request, gzip when the client accepts
 * it; and the answers given later, whose client may leave first.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <zlib.h>

#include "annalsd.h"
#include "http.h"

/* Bodies above this are compressed when the client accepts gzip. */
#define HTTP_GZIP_MIN		512
/* Largest static file served. */
#define HTTP_MAX_FILE		(32u << 20)
/* Where index.html takes the list of a window's events (http_page_send). */
#define HTTP_PAGE_LIST		"<ol id=\"event-list\">"
/* Buckets of the connection -> waiter hash; a power of two. */
#define HTTP_WAIT_HASH		256

/*
 * Who waits for a connection to go: a request answered later (on a
 * reader thread, after the commit) or a stream.  evhttp has one close
 * callback per connection, and it is http.c's, which tells us
 * (http_reply_gone).
 */
struct http_waiter {
	struct evhttp_connection *evcon;
	void			(*gone)(struct evhttp_connection *, void *);
	void			 *arg;
	struct http_waiter	 *next;
};

static const struct http_config	*hcfg;
static const char		*web_dir;
static int			 draining;
static struct http_waiter	*waiters[HTTP_WAIT_HASH];

/*
 * What the answers need of the server: its configuration (CORS origins,
 * limits) and the web directory, both http.c's and living as long.
 */
void
http_reply_init(const struct http_config *cfg, const char *web)
{
	hcfg = cfg;
	web_dir = web;
}

/* From now on each answer is its connection's last. */
void
http_reply_drain(void)
{
	draining = 1;
}

const struct http_config *
http_config(void)
{
	return (hcfg);
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
	case AERR_CONFLICT:
		return (409);
	case AERR_READ_ONLY:
		return (403);
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
	case 409:
		return ("Conflict");
	case 410:
		return ("Gone");
	case 413:
		return ("Content Too Large");
	case 415:
		return ("Unsupported Media Type");
	case 421:
		return ("Misdirected Request");
	case 503:
		return ("Service Unavailable");
	case 507:
		return ("Insufficient Storage");
	default:
		return ("Internal Server Error");
	}
}

/* The configured origin that admits origin, or NULL. */
const char *
http_cors_match(const char *origin)
{
	size_t	i;

	if (origin == NULL)
		return (NULL);
	for (i = 0; i < hcfg->ncors; i++) {
		if (strcmp(hcfg->cors[i], "*") == 0)
			return ("*");
		if (strcmp(hcfg->cors[i], origin) == 0)
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

/* Send an answer; while draining, each is its connection's last. */
void
http_reply(struct evhttp_request *req, int status, struct evbuffer *body)
{
	if (draining)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
	evhttp_send_reply(req, status, http_reason(status), body);
}

/* Send body with status; compress it when worth it and accepted. */
void
http_send(struct evhttp_request *req, int status, const char *type,
    struct evbuffer *body)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);

	evhttp_add_header(out, "Content-Type", type);
	evhttp_add_header(out, "Vary", "Accept-Encoding");
	if (evbuffer_get_length(body) >= HTTP_GZIP_MIN &&
	    http_accepts_gzip(req) && http_gzip(body) == 0)
		evhttp_add_header(out, "Content-Encoding", "gzip");
	http_reply(req, status, body);
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
	http_reply(req, 304, NULL);
	return (1);
}

/*
 * Open a file of the web directory to serve, and fstat it into sb; -1,
 * having answered 404, when it is not a regular file of at most
 * HTTP_MAX_FILE bytes.
 */
int
http_file_open(struct evhttp_request *req, const char *file, struct stat *sb)
{
	int	fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, sb) == -1 || !S_ISREG(sb->st_mode) ||
	    sb->st_size > HTTP_MAX_FILE) {
		if (fd != -1)
			close(fd);
		http_problem_status(req, 404, "not_found", "no such file");
		return (-1);
	}
	return (fd);
}

/* The file opened by http_file_open(); NULL, having answered, if unread. */
struct evbuffer *
http_file_body(struct evhttp_request *req, int fd, const struct stat *sb)
{
	struct evbuffer	*b = evbuffer_new();

	if (evbuffer_add_file(b, fd, 0, sb->st_size) != 0) {
		evbuffer_free(b);
		http_problem_status(req, 500, "internal", "cannot read file");
		return (NULL);
	}
	return (b);
}

/*
 * Send index.html with list (the <li> of a window's events, from
 * http-api.c) inside its HTTP_PAGE_LIST element; as it is when it has
 * no such element.  The answer is made for this address: no ETag.
 */
void
http_page_send(struct evhttp_request *req, struct evbuffer *list)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*b;
	struct evbuffer_ptr	 at;
	struct stat		 sb;
	char			 file[PATH_MAX + 32];
	int			 fd;

	snprintf(file, sizeof file, "%s/index.html", web_dir);
	if ((fd = http_file_open(req, file, &sb)) == -1)
		return;
	if ((b = http_file_body(req, fd, &sb)) == NULL)
		return;
	at = evbuffer_search(b, HTTP_PAGE_LIST, strlen(HTTP_PAGE_LIST), NULL);
	if (at.pos != -1) {
		struct evbuffer	*rest = evbuffer_new();

		evbuffer_remove_buffer(b, rest, at.pos + strlen(HTTP_PAGE_LIST));
		evbuffer_add_buffer(rest, list);
		evbuffer_add_buffer(rest, b);
		evbuffer_free(b);
		b = rest;
	}
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	http_headers(req);
	http_send(req, 200, "text/html; charset=utf-8", b);
	evbuffer_free(b);
}

static struct http_waiter **
http_waiter_find(const struct evhttp_connection *evcon)
{
	struct http_waiter	**pp;
	uint64_t		  h;

	h = (uint64_t)(uintptr_t)evcon * 0x9e3779b97f4a7c15ULL;
	pp = &waiters[(h >> 32) & (HTTP_WAIT_HASH - 1)];
	while (*pp != NULL && (*pp)->evcon != evcon)
		pp = &(*pp)->next;
	return (pp);
}

/*
 * Have fn(evcon, arg) called when the connection goes, or no longer with
 * fn NULL: one waiter a connection.
 */
void
http_set_closecb(struct evhttp_connection *evcon,
    void (*fn)(struct evhttp_connection *, void *), void *arg)
{
	struct http_waiter	**pp = http_waiter_find(evcon), *w = *pp;

	if (fn == NULL) {
		if (w != NULL) {
			*pp = w->next;
			free(w);
		}
		return;
	}
	if (w == NULL) {
		w = xcalloc(1, sizeof *w);
		w->evcon = evcon;
		*pp = w;
	}
	w->gone = fn;
	w->arg = arg;
}

/* evcon goes (http.c's close callback): tell who waits on it. */
void
http_reply_gone(struct evhttp_connection *evcon)
{
	struct http_waiter	**pp = http_waiter_find(evcon), *w = *pp;

	if (w == NULL)
		return;
	*pp = w->next;
	w->gone(evcon, w->arg);
	free(w);
}
