/*
 * The HTTP/JSON API against the real daemon on a loopback port: every
 * endpoint and filter compared with the msgpack socket's answers, paging
 * compared with the one-shot answer, the error statuses and problem
 * bodies, ETag, gzip, CORS, tokens, and the event stream delivering a
 * put made through the socket.  Requests are written by hand on a raw
 * socket, so what is checked is what goes over the wire.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "harness.h"
#include "test.h"
#include "../client/annals.h"

struct hresp {
	int	 status;
	char	*head;		/* status line and headers */
	char	*body;		/* decoded from chunks, NUL-terminated */
	size_t	 len;
};

struct hd {
	struct th_daemon	 d;
	int			 port;
	char			 portarg[32];
	annals_ctx		*ctx;
};

/* Read until the peer closes (or 10 s pass). */
static char *
ht_read_all(int fd, size_t *len)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		*buf = NULL;
	size_t		 n = 0, cap = 0;
	ssize_t		 r;

	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 131072;
			buf = realloc(buf, cap + 1);
		}
		T_ASSERTF(poll(&pfd, 1, 10000) == 1, "no answer in 10 s");
		if ((r = read(fd, buf + n, cap - n)) <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return (buf);
}

static void
ht_dechunk(struct hresp *r, char *p, size_t len)
{
	char	*end = p + len, *out = r->body;
	size_t	 n;

	while (p < end) {
		n = strtoul(p, &p, 16);
		p = strstr(p, "\r\n") + 2;
		if (n == 0)
			break;
		memmove(out, p, n);
		out += n;
		p += n + 2;
	}
	*out = '\0';
	r->len = (size_t)(out - r->body);
}

/* The value of header name in r, or NULL; valid until the next call. */
static const char *
ht_header(const struct hresp *r, const char *name)
{
	static char	 val[4096];
	const char	*p = r->head;
	size_t		 n = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " ");
			snprintf(val, sizeof val, "%.*s", (int)strcspn(p, "\r"),
			    p);
			return (val);
		}
	}
	return (NULL);
}

static void
ht_free(struct hresp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof *r);
}

/* Send one request with Connection: close and read the whole answer. */
static void
ht_request(int port, const char *method, const char *path,
    const char *headers, const char *body, size_t blen, struct hresp *r)
{
	char	 head[4096], *all, *sep;
	size_t	 len;
	int	 fd;

	memset(r, 0, sizeof *r);
	if (body != NULL && blen == 0)
		blen = strlen(body);
	T_ASSERTF((fd = th_tcp_connect(port)) != -1, "connect %d: %s", port,
	    strerror(errno));
	snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n%s%s", method, path,
	    headers != NULL ? headers : "", body != NULL && (headers == NULL ||
	    strstr(headers, "Content-Type") == NULL) ?
	    "Content-Type: application/json\r\n" : "");
	if (body != NULL)
		snprintf(head + strlen(head), sizeof head - strlen(head),
		    "Content-Length: %zu\r\n", blen);
	strcat(head, "\r\n");
	T_OK(th_send_all(fd, head, strlen(head)));
	if (body != NULL)
		T_OK(th_send_all(fd, body, blen));
	all = ht_read_all(fd, &len);
	close(fd);
	T_ASSERTF((sep = strstr(all, "\r\n\r\n")) != NULL, "no headers in "
	    "%.200s", all);
	r->head = strndup(all, (size_t)(sep - all));
	T_ASSERT(sscanf(all, "HTTP/1.1 %d", &r->status) == 1);
	sep += 4;
	r->body = malloc(len - (size_t)(sep - all) + 1);
	if (ht_header(r, "Transfer-Encoding") != NULL)
		ht_dechunk(r, sep, len - (size_t)(sep - all));
	else {
		r->len = len - (size_t)(sep - all);
		memcpy(r->body, sep, r->len);
		r->body[r->len] = '\0';
	}
	free(all);
}

static json_t *
ht_json(const struct hresp *r)
{
	json_error_t	 err;
	json_t		*j;

	j = json_loadb(r->body, r->len, 0, &err);
	T_ASSERTF(j != NULL, "not JSON (%s): %.300s", err.text, r->body);
	return (j);
}

/* GET path, expect status and a JSON body. */
static json_t *
ht_get(struct hd *h, const char *path, int status)
{
	struct hresp	 r;
	json_t		*j;

	ht_request(h->port, "GET", path, NULL, NULL, 0, &r);
	T_ASSERTF(r.status == status, "GET %s: %d, want %d: %.300s", path,
	    r.status, status, r.body);
	j = ht_json(&r);
	ht_free(&r);
	return (j);
}

/* The problem body of an error: its status, code, and detail. */
static void
ht_problem(struct hd *h, const char *method, const char *path,
    const char *body, int status, const char *code, const char *detail)
{
	struct hresp	 r;
	json_t		*j;

	ht_request(h->port, method, path, NULL, body, body ? strlen(body) : 0,
	    &r);
	T_ASSERTF(r.status == status, "%s %s: %d, want %d: %.300s", method,
	    path, r.status, status, r.body);
	T_EQ_STR(ht_header(&r, "Content-Type"), "application/problem+json");
	/* Issue #14: an error never carries an ETag. */
	T_ASSERTF(ht_header(&r, "ETag") == NULL, "%s %s: ETag %s", method,
	    path, ht_header(&r, "ETag"));
	j = ht_json(&r);
	T_EQ_INT(json_integer_value(json_object_get(j, "status")), status);
	T_EQ_STR(json_string_value(json_object_get(j, "code")), code);
	T_ASSERT(json_string_value(json_object_get(j, "title")) != NULL);
	T_ASSERT(strncmp(json_string_value(json_object_get(j, "type")),
	    "urn:annals:error:", 17) == 0);
	if (detail != NULL)
		T_EQ_STR(json_string_value(json_object_get(j, "detail")),
		    detail);
	json_decref(j);
	ht_free(&r);
}

/* Start annalsd with --http on a free port and the demo data posted. */
static void
ht_start(struct hd *h, const char *const *extra, int demo)
{
	const char	*argv[16];
	char		 path[4096], line[8192], *all = NULL;
	size_t		 n = 0, i = 0, l;
	struct hresp	 r;
	FILE		*f;

	memset(h, 0, sizeof *h);
	T_ASSERT((h->port = th_free_port()) > 0);
	snprintf(h->portarg, sizeof h->portarg, "127.0.0.1:%d", h->port);
	argv[i++] = "--http";
	argv[i++] = h->portarg;
	while (extra != NULL && *extra != NULL)
		argv[i++] = *extra++;
	argv[i] = NULL;
	T_OK(th_daemon_start(&h->d, argv));
	h->ctx = annals_connect(h->d.sock);
	T_ASSERTF(annals_errcode(h->ctx) == 0, "%s", annals_errmsg(h->ctx));
	if (!demo)
		return;
	/* The demo events, as one JSON array. */
	snprintf(path, sizeof path, "%s/../contrib/demo/events.jsonl",
	    t_bindir());
	T_ASSERTF((f = fopen(path, "r")) != NULL, "%s", path);
	all = malloc(1 << 20);
	all[n++] = '[';
	while (fgets(line, sizeof line, f) != NULL) {
		l = strcspn(line, "\n");
		if (l == 0)
			continue;
		if (n > 1)
			all[n++] = ',';
		memcpy(all + n, line, l);
		n += l;
	}
	fclose(f);
	all[n++] = ']';
	ht_request(h->port, "POST", "/v1/events", NULL, all, n, &r);
	T_ASSERTF(r.status == 200, "%d %.300s", r.status, r.body);
	ht_free(&r);
	free(all);
}

static void
ht_stop(struct hd *h)
{
	annals_free(h->ctx);
	T_EQ_INT(th_daemon_stop(&h->d), 0);
}

/* The ids of a range query made over the socket. */
static size_t
ht_socket_ids(struct hd *h, annals_query *q, int actor, uint64_t *ids,
    size_t max)
{
	const struct annals_event	*ev;
	annals_iter			*it;
	size_t				 n = 0;

	it = actor ? annals_actor(h->ctx, q) : annals_range(h->ctx, q);
	T_ASSERTF(it != NULL, "%s", annals_errmsg(h->ctx));
	while ((ev = annals_iter_next(it)) != NULL && n < max)
		ids[n++] = ev->id;
	T_EQ_INT(annals_iter_error(it), 0);
	annals_iter_free(it);
	return (n);
}

/*
 * Follow the pages of /v1/events?qs with limit page; return the ids.
 * Each page's Link header names the next page's URL.
 */
static size_t
ht_http_ids(struct hd *h, const char *qs, int page, uint64_t *ids,
    size_t max)
{
	struct hresp	 r;
	json_t		*j, *evs, *ev, *next;
	char		 path[2048];
	const char	*link;
	size_t		 n = 0, i;

	snprintf(path, sizeof path, "/v1/events?%s%slimit=%d", qs,
	    *qs ? "&" : "", page);
	for (;;) {
		ht_request(h->port, "GET", path, NULL, NULL, 0, &r);
		T_ASSERTF(r.status == 200, "GET %s: %d %.300s", path,
		    r.status, r.body);
		j = ht_json(&r);
		evs = json_object_get(j, "events");
		T_ASSERT(json_is_array(evs));
		T_ASSERT(json_array_size(evs) <= (size_t)page);
		json_array_foreach(evs, i, ev) {
			T_ASSERT(n < max);
			ids[n++] = (uint64_t)json_integer_value(
			    json_object_get(ev, "id"));
			T_ASSERT(json_string_value(json_object_get(ev,
			    "match")) != NULL);
		}
		next = json_object_get(j, "next");
		link = ht_header(&r, "Link");
		if (json_is_null(next)) {
			T_ASSERT(link == NULL);
			json_decref(j);
			ht_free(&r);
			break;
		}
		T_ASSERT(link != NULL && link[0] == '<');
		T_ASSERT(strstr(link, json_string_value(next)) != NULL);
		T_ASSERT(strstr(link, ">; rel=\"next\"") != NULL);
		snprintf(path, sizeof path, "%.*s", (int)strcspn(link + 1, ">"),
		    link + 1);
		json_decref(j);
		ht_free(&r);
	}
	return (n);
}

struct ht_filter {
	const char	*qs;		/* the HTTP query string */
	const char	*from, *to, *actor, *role, *type, *tag, *source;
	int		 prec, certain, within, desc;
	const char	*text;
};

TEST(http_events_filters_and_paging_match_socket)
{
	static const struct ht_filter	 f[] = {
		{ "", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0,
		    NULL },
		{ "from=2015-01&to=2015-01", "2015-01", "2015-01", NULL, NULL,
		    NULL, NULL, NULL, 0, 0, 0, 0, NULL },
		{ "from=2014&to=2015&order=desc", "2014", "2015", NULL, NULL,
		    NULL, NULL, NULL, 0, 0, 0, 1, NULL },
		{ "actor=RUS", NULL, NULL, "RUS", NULL, NULL, NULL, NULL, 0, 0,
		    0, 0, NULL },
		{ "actor=SYR*&from=2015", "2015", NULL, "SYR*", NULL, NULL,
		    NULL, NULL, 0, 0, 0, 0, NULL },
		{ "actor=RUS&role=source", NULL, NULL, "RUS", "source", NULL,
		    NULL, NULL, 0, 0, 0, 0, NULL },
		{ "type=03", NULL, NULL, NULL, NULL, "03", NULL, NULL, 0, 0, 0,
		    0, NULL },
		{ "tag=moscow-talks", NULL, NULL, NULL, NULL, NULL,
		    "moscow-talks", NULL, 0, 0, 0, 0, NULL },
		{ "source=demo&from=2016", "2016", NULL, NULL, NULL, NULL, NULL,
		    "demo", 0, 0, 0, 0, NULL },
		{ "precision=day&from=2015&to=2015", "2015", "2015", NULL, NULL,
		    NULL, NULL, NULL, ANNALS_PREC_DAY, 0, 0, 0, NULL },
		{ "certain=true&from=2015-01-28&to=2015-01-28", "2015-01-28",
		    "2015-01-28", NULL, NULL, NULL, NULL, NULL, 0, 1, 0, 0,
		    NULL },
		{ "within=1&from=2015-01&to=2015-02", "2015-01", "2015-02",
		    NULL, NULL, NULL, NULL, NULL, 0, 0, 1, 0, NULL },
		{ "q=TALKS%20moscow", NULL, NULL, NULL, NULL, NULL, NULL,
		    NULL, 0, 0, 0, 0, "talks Moscow" },
		{ "q=%22the%20moscow%20talks%22&actor=SYR*", NULL, NULL,
		    "SYR*", NULL, NULL, NULL, NULL, 0, 0, 0, 0,
		    "\"The Moscow talks\"" },
		{ "q=genev*&order=desc", NULL, NULL, NULL, NULL, NULL, NULL,
		    NULL, 0, 0, 0, 1, "GENEV*" },
	};
	struct hd	 h;
	annals_query	*q;
	uint64_t	 want[200], got[200], one[200];
	size_t		 i, j, nw, ng, no;

	ht_start(&h, NULL, 1);
	for (i = 0; i < sizeof f / sizeof f[0]; i++) {
		T_ASSERT((q = annals_query_new()) != NULL);
		T_OK(annals_query_set_range(q, f[i].from, f[i].to));
		T_OK(annals_query_set_actor(q, f[i].actor, f[i].role));
		T_OK(annals_query_set_type(q, f[i].type));
		T_OK(annals_query_set_tag(q, f[i].tag));
		T_OK(annals_query_set_source(q, f[i].source));
		T_OK(annals_query_set_text(q, f[i].text));
		T_OK(annals_query_set_precision(q, f[i].prec));
		T_OK(annals_query_set_certain(q, f[i].certain));
		T_OK(annals_query_set_within(q, f[i].within));
		T_OK(annals_query_set_desc(q, f[i].desc));
		nw = ht_socket_ids(&h, q, 0, want, 200);
		annals_query_free(q);
		T_ASSERTF(nw > 0, "filter %s matches nothing", f[i].qs);
		ng = ht_http_ids(&h, f[i].qs, 3, got, 200);
		no = ht_http_ids(&h, f[i].qs, 1000, one, 200);
		T_ASSERTF(ng == nw && no == nw, "%s: %zu and %zu events over "
		    "HTTP, %zu over the socket", f[i].qs, ng, no, nw);
		for (j = 0; j < nw; j++) {
			T_EQ_U64(got[j], want[j]);
			T_EQ_U64(one[j], want[j]);
		}
	}
	/* The whole demo is there, and "all" is smaller than a 1000 page. */
	T_EQ_INT(ht_http_ids(&h, "", 1000, got, 200), 78);
	ht_stop(&h);
}

/* The jobs the reader threads ran so far: reader_jobs of /v1/stats. */
static unsigned long long
ht_reader_jobs(int port)
{
	struct hresp		 r;
	const char		*p;
	unsigned long long	 n;

	ht_request(port, "GET", "/v1/stats", NULL, NULL, 0, &r);
	T_ASSERTF(r.status == 200, "%d %.300s", r.status, r.body);
	p = strstr(r.body, "\"reader_jobs\":");
	T_ASSERTF(p != NULL, "%.300s", r.body);
	n = strtoull(p + strlen("\"reader_jobs\":"), NULL, 10);
	ht_free(&r);
	return (n);
}

/*
 * GET /v1/events and the aggregations run on a reader thread: a
 * dashboard's queries use the thread's CPU, not the loop's; a client that
 * leaves while its query runs costs nothing, and the next one is answered.
 */
TEST(http_queries_run_on_reader_threads)
{
	static const char *const extra[] = { "--read-threads", "1", NULL };
	static const char	 heavy[] = "/v1/events?from=2015&to=2015"
				    "&source=nomatch";
	static const char	 hist[] = "/v1/histogram?from=2015&to=2015"
				    "&by=day&source=nomatch";
	struct hd		 h;
	struct hresp		 r;
	unsigned long long	 j0, j1;
	char			*all, head[256];
	size_t			 n = 0;
	int			 i, nthreads, fd;

	ht_start(&h, extra, 0);
	/* 3000 events of 2015, which the source filter decodes one by one. */
	all = malloc(1 << 20);
	all[n++] = '[';
	for (i = 0; i < 3000; i++)
		n += (size_t)snprintf(all + n, (1 << 20) - n, "%s{\"start\":"
		    "\"2015-%02d-%02d\",\"actors\":[\"SYRGOV\",\"RUS\"],"
		    "\"title\":\"background event\",\"source\":\"bg\","
		    "\"key\":\"bg-%d\"}", i ? "," : "", i % 12 + 1, i % 28 + 1,
		    i);
	all[n++] = ']';
	ht_request(h.port, "POST", "/v1/events", NULL, all, n, &r);
	T_ASSERTF(r.status == 200, "%d %.300s", r.status, r.body);
	ht_free(&r);
	free(all);

	th_thread_ticks(h.d.pid, "annalsd-reader", &nthreads);
	T_EQ_INT(nthreads, 1);
	j0 = ht_reader_jobs(h.port);
	for (i = 0; i < 40; i++) {
		ht_request(h.port, "GET", heavy, NULL, NULL, 0, &r);
		T_ASSERTF(r.status == 200, "%d %.300s", r.status, r.body);
		T_ASSERTF(strstr(r.body, "\"events\":[]") != NULL, "%.300s",
		    r.body);
		ht_free(&r);
	}
	j1 = ht_reader_jobs(h.port);
	T_ASSERTF(j1 - j0 == 40, "the reader thread ran %llu jobs for 40 "
	    "queries", j1 - j0);
	for (i = 0; i < 40; i++) {
		ht_request(h.port, "GET", hist, NULL, NULL, 0, &r);
		T_ASSERTF(r.status == 200, "%d %.300s", r.status, r.body);
		T_ASSERTF(strstr(r.body, "\"total\":0") != NULL, "%.300s",
		    r.body + (r.len > 300 ? r.len - 300 : 0));
		ht_free(&r);
	}
	j0 = ht_reader_jobs(h.port);
	T_ASSERTF(j0 - j1 == 40, "the reader thread ran %llu jobs for 40 "
	    "histograms", j0 - j1);

	/* Clients that ask and leave at once. */
	snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "\r\n", heavy);
	for (i = 0; i < 20; i++) {
		T_ASSERT((fd = th_tcp_connect(h.port)) != -1);
		T_OK(th_send_all(fd, head, strlen(head)));
		close(fd);
	}
	ht_request(h.port, "GET", heavy, NULL, NULL, 0, &r);
	T_ASSERTF(r.status == 200, "%d %.300s", r.status, r.body);
	ht_free(&r);
	ht_stop(&h);
}

TEST(http_event_crud_and_errors)
{
	struct hd	 h;
	struct hresp	 r;
	json_t		*j;
	char		*big;
	const char	*loc;
	char		 path[64];

	ht_start(&h, NULL, 1);
	/* One record: 201 and where it is; the same again: unchanged. */
	ht_request(h.port, "POST", "/v1/events", NULL, "{\"start\":\"2015-01-"
	    "27\",\"actors\":[\"RUS\",{\"name\":\"EGY\",\"role\":\"host\"}],"
	    "\"title\":\"Posted\",\"source\":\"t\",\"key\":\"k1\",\"attrs\":"
	    "{\"x\":1.0,\"n\":[1,2]}}", 0, &r);
	T_ASSERTF(r.status == 201, "%d %s", r.status, r.body);
	loc = ht_header(&r, "Location");
	T_ASSERT(loc != NULL && strncmp(loc, "/v1/events/", 11) == 0);
	snprintf(path, sizeof path, "%s", loc);
	j = ht_json(&r);
	T_EQ_STR(json_string_value(json_object_get(j, "status")), "added");
	json_decref(j);
	ht_free(&r);
	j = ht_get(&h, path, 200);
	T_EQ_STR(json_string_value(json_object_get(j, "title")), "Posted");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "actors"), 1), "role")), "host");
	/* A float stays a float, an integer an integer. */
	T_ASSERT(json_is_real(json_object_get(json_object_get(j, "attrs"),
	    "x")));
	T_ASSERT(json_is_integer(json_array_get(json_object_get(
	    json_object_get(j, "attrs"), "n"), 1)));
	T_EQ_INT(json_integer_value(json_object_get(j, "rev")), 1);
	json_decref(j);
	ht_request(h.port, "POST", "/v1/events", NULL, "{\"start\":\"2015-01-"
	    "27\",\"actors\":[\"RUS\",{\"name\":\"EGY\",\"role\":\"host\"}],"
	    "\"title\":\"Posted\",\"source\":\"t\",\"key\":\"k1\",\"attrs\":"
	    "{\"x\":1.0,\"n\":[1,2]}}", 0, &r);
	T_EQ_INT(r.status, 200);
	T_ASSERT(strstr(r.body, "\"unchanged\"") != NULL);
	ht_free(&r);
	ht_request(h.port, "DELETE", path, NULL, NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	T_ASSERT(strstr(r.body, "\"deleted\":true") != NULL);
	ht_free(&r);
	ht_problem(&h, "DELETE", path, NULL, 404, "not_found", NULL);
	ht_problem(&h, "GET", path, NULL, 404, "not_found", NULL);

	/* Statuses and problem bodies. */
	ht_problem(&h, "GET", "/v1/events?from=2015-02-30", NULL, 400,
	    "invalid", "from: 2015-02-30 is not a date");
	ht_problem(&h, "GET", "/v1/events?to=2014&from=2015", NULL, 400,
	    "invalid", NULL);
	ht_problem(&h, "GET", "/v1/events?cursor=AAAA", NULL, 400,
	    "bad_cursor", "cursor is malformed");
	ht_problem(&h, "GET", "/v1/events?cursor=%25%25", NULL, 400,
	    "bad_cursor", NULL);
	ht_problem(&h, "GET", "/v1/events?limit=3&from=2015&cursor="
	    "AYAAAABNfqwAAAAAAAAAAAI3bPFA8mp3YQ", NULL, 400, "bad_cursor",
	    "cursor does not belong to this query");
	ht_problem(&h, "GET", "/v1/events?limit=0", NULL, 400, "invalid",
	    NULL);
	ht_problem(&h, "GET", "/v1/events?limit=x", NULL, 400, "invalid",
	    "limit: \"x\" is not an unsigned integer");
	ht_problem(&h, "GET", "/v1/top?limit=-1", NULL, 400, "invalid",
	    "limit: \"-1\" is not an unsigned integer");
	/* Issue #14: no paging in a TimelineJS document, so no cursor. */
	ht_problem(&h, "GET", "/v1/timelinejs?cursor=AAAA", NULL, 400,
	    "invalid", "unknown parameter \"cursor\"");
	ht_problem(&h, "GET", "/v1/events?certain=maybe", NULL, 400,
	    "invalid", NULL);
	ht_problem(&h, "GET", "/v1/events?colour=red", NULL, 400, "invalid",
	    "unknown parameter \"colour\"");
	ht_problem(&h, "GET", "/v1/events?actor=A&actor=B", NULL, 400,
	    "invalid", "duplicate parameter \"actor\"");
	ht_problem(&h, "GET", "/v1/events/123456", NULL, 404, "not_found",
	    "event 123456 not found");
	ht_problem(&h, "GET", "/v1/events/abc", NULL, 404, "not_found", NULL);
	ht_problem(&h, "GET", "/v1/nothing", NULL, 404, "not_found", NULL);
	ht_problem(&h, "GET", "/no/such/file.html", NULL, 404, "not_found",
	    NULL);
	ht_problem(&h, "GET", "/../etc/passwd", NULL, 404, "not_found", NULL);
	ht_problem(&h, "PUT", "/v1/events", NULL, 405, "method_not_allowed",
	    NULL);
	ht_problem(&h, "POST", "/v1/stats", NULL, 405, "method_not_allowed",
	    NULL);
	ht_problem(&h, "POST", "/v1/events", "nope", 400, "invalid", NULL);
	ht_problem(&h, "POST", "/v1/events", "[]", 400, "invalid",
	    "records: 0 given, at least 1 required");
	ht_problem(&h, "POST", "/v1/events", "[{\"start\":\"2015\",\"actors\":"
	    "[\"A\"]},{\"start\":\"2015-02-30\",\"actors\":[\"A\"]}]", 400,
	    "invalid", "records[1]: start: 2015-02-30 is not a date");
	ht_problem(&h, "POST", "/v1/events", "{\"start\":\"2015\",\"colour\""
	    ":\"red\"}", 400, "invalid", "record: unknown field \"colour\"");
	/* Issue #14: actors are required on this path too. */
	ht_problem(&h, "POST", "/v1/events", "{\"start\":\"2015\"}", 400,
	    "invalid", "record: actors: required");
	ht_problem(&h, "POST", "/v1/events", "[{\"start\":\"2015\","
	    "\"actors\":null}]", 400, "invalid",
	    "records[0]: actors: required");
	ht_problem(&h, "GET", "/v1/histogram?to=2015", NULL, 400, "invalid",
	    "from: required for a histogram");
	ht_problem(&h, "GET", "/v1/histogram?from=1000&to=2015&by=day", NULL,
	    400, "limit", NULL);
	ht_problem(&h, "GET", "/v1/changes?limit=20000", NULL, 400, "invalid",
	    "limit: 20000 is outside 1 to 10000");
	ht_problem(&h, "GET", "/v1/changes?since=1000000000000", NULL, 400,
	    "invalid", NULL);
	/* 20 MB of JSON: over the 16 MB body limit. */
	big = malloc(20 << 20);
	memset(big, ' ', 20 << 20);
	big[0] = '[';
	big[(20 << 20) - 1] = ']';
	ht_request(h.port, "POST", "/v1/events", NULL, big, 20 << 20, &r);
	T_EQ_INT(r.status, 413);
	T_EQ_STR(ht_header(&r, "Content-Type"), "application/problem+json");
	T_ASSERT(strstr(r.body, "exceed limit 16777216") != NULL);
	ht_free(&r);
	free(big);
	/* A form post is refused: only JSON, so browsers must preflight. */
	ht_request(h.port, "POST", "/v1/events", "Content-Type: text/plain\r\n",
	    "{\"start\":\"2020\",\"actors\":[\"X\"]}", 0, &r);
	T_EQ_INT(r.status, 415);
	T_ASSERT(strstr(r.body, "\"code\":\"unsupported_media_type\"") !=
	    NULL);
	ht_free(&r);
	ht_stop(&h);
}

/*
 * The protocol requires start and actors, not a title (PROTOCOL.md,
 * "The event record"): a POST without one is stored as a put without one
 * is, and only annals add's options ask for --title (annals(1)).
 */
TEST(http_post_without_a_title_is_stored_as_put_stores_it)
{
	struct annals_actor	 a = { "RUS", NULL };
	struct annals_event	 ev, *got;
	struct annals_put_result res;
	struct hd		 h;
	struct hresp		 r;
	json_t			*j;
	char			 path[64];

	ht_start(&h, NULL, 0);
	ht_request(h.port, "POST", "/v1/events", NULL, "{\"start\":\"2015-"
	    "02\",\"actors\":[\"RUS\"]}", 0, &r);
	T_ASSERTF(r.status == 201, "%d %s", r.status, r.body);
	snprintf(path, sizeof path, "%s", ht_header(&r, "Location"));
	ht_free(&r);
	j = ht_get(&h, path, 200);
	T_ASSERT(json_object_get(j, "title") == NULL);
	T_EQ_STR(json_string_value(json_object_get(j, "start")), "2015-02");
	json_decref(j);

	memset(&ev, 0, sizeof ev);
	ev.start = "2015-02";
	ev.actors = &a;
	ev.nactors = 1;
	T_OK(annals_put(h.ctx, &ev, 1, &res));
	T_OK(annals_get(h.ctx, res.id, &got));
	T_ASSERT(got->title == NULL);
	annals_event_free(got);
	ht_stop(&h);
}

TEST(http_aggregations_actors_stats_changes)
{
	struct annals_histogram		*hist;
	struct annals_actor_counts	*c;
	struct hd			 h;
	annals_query			*q;
	json_t				*j, *b;
	size_t				 i;

	ht_start(&h, NULL, 1);
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_range(q, "2011", "2016"));
	T_OK(annals_histogram(h.ctx, q, ANNALS_BY_MONTH, ANNALS_COUNT_OVERLAP,
	    &hist));
	j = ht_get(&h, "/v1/histogram?from=2011&to=2016&by=month", 200);
	b = json_object_get(j, "buckets");
	T_EQ_U64(json_array_size(b), hist->nbuckets);
	T_EQ_U64(json_array_size(b), 72);
	for (i = 0; i < hist->nbuckets; i++) {
		T_EQ_STR(json_string_value(json_object_get(json_array_get(b,
		    i), "start")), hist->buckets[i].start);
		T_EQ_U64(json_integer_value(json_object_get(json_array_get(b,
		    i), "count")), hist->buckets[i].count);
	}
	T_EQ_U64(json_integer_value(json_object_get(j, "total")),
	    hist->total);
	json_decref(j);
	annals_histogram_free(hist);
	j = ht_get(&h, "/v1/histogram?from=2015-01-20&to=2015-02-10&by=week&"
	    "count=start&actor=RUS", 200);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "buckets"), 0), "start")), "2015-W04");
	json_decref(j);

	T_OK(annals_top_actors(h.ctx, q, 5, &c));
	j = ht_get(&h, "/v1/top?from=2011&to=2016&limit=5", 200);
	b = json_object_get(j, "actors");
	T_EQ_U64(json_array_size(b), 5);
	for (i = 0; i < 5; i++) {
		T_EQ_STR(json_string_value(json_object_get(json_array_get(b,
		    i), "name")), c->actors[i].name);
		T_EQ_U64(json_integer_value(json_object_get(json_array_get(b,
		    i), "count")), c->actors[i].count);
	}
	json_decref(j);
	annals_actor_counts_free(c);
	T_OK(annals_query_set_actor(q, "RUS", NULL));
	T_OK(annals_co_actors(h.ctx, q, 3, &c));
	j = ht_get(&h, "/v1/co-actors?actor=RUS&from=2011&to=2016&limit=3",
	    200);
	T_EQ_U64(json_integer_value(json_object_get(j, "events")), c->events);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "actors"), 0), "name")), c->actors[0].name);
	json_decref(j);
	annals_actor_counts_free(c);
	annals_query_free(q);

	/* Actor completion, paged by name. */
	j = ht_get(&h, "/v1/actors?prefix=SYR&limit=2", 200);
	T_EQ_U64(json_array_size(json_object_get(j, "actors")), 2);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "actors"), 0), "name")), "SYR");
	T_EQ_STR(json_string_value(json_object_get(j, "next")), "SYRCVL");
	json_decref(j);
	j = ht_get(&h, "/v1/actors?prefix=SYR&cursor=SYRCVL", 200);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "actors"), 0), "name")), "SYRGOV");
	T_ASSERT(json_is_null(json_object_get(j, "next")));
	json_decref(j);

	j = ht_get(&h, "/v1/stats", 200);
	T_EQ_INT(json_integer_value(json_object_get(j, "events")), 78);
	T_EQ_INT(json_integer_value(json_object_get(j, "last_seq")), 78);
	json_decref(j);
	j = ht_get(&h, "/v1/changes?since=76&limit=1", 200);
	T_EQ_U64(json_array_size(json_object_get(j, "changes")), 1);
	T_EQ_INT(json_integer_value(json_object_get(j, "next")), 77);
	T_ASSERT(json_is_true(json_object_get(j, "more")));
	T_EQ_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(j, "changes"), 0), "event"),
	    "key")), "moscow-declaration-2016-12-20");
	json_decref(j);

	/* TimelineJS: dates as parts, as precise as the event. */
	j = ht_get(&h, "/v1/timelinejs?from=2015-01-26&to=2015-01-29&"
	    "within=true&actor=RUS&type=043", 200);
	T_EQ_U64(json_array_size(json_object_get(j, "events")), 1);
	b = json_array_get(json_object_get(j, "events"), 0);
	T_ASSERT(b != NULL);
	T_EQ_INT(json_integer_value(json_object_get(json_object_get(b,
	    "start_date"), "day")), 26);
	T_EQ_INT(json_integer_value(json_object_get(json_object_get(b,
	    "end_date"), "day")), 29);
	T_ASSERT(json_string_value(json_object_get(json_object_get(b, "text"),
	    "headline")) != NULL);
	json_decref(j);
	j = ht_get(&h, "/v1", 200);
	T_ASSERT(json_array_size(json_object_get(j, "endpoints")) >= 9);
	json_decref(j);
	ht_stop(&h);
}

static char *
ht_gunzip(const char *in, size_t len, size_t *outlen)
{
	z_stream	 zs;
	char		*out = malloc(1 << 20);

	memset(&zs, 0, sizeof zs);
	T_EQ_INT(inflateInit2(&zs, 16 + 15), Z_OK);
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = (unsigned)len;
	zs.next_out = (unsigned char *)out;
	zs.avail_out = 1 << 20;
	T_EQ_INT(inflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	inflateEnd(&zs);
	return (out);
}

TEST(http_etag_gzip_cors)
{
	const char	*allow[] = { "--cors", "http://dash.example", NULL };
	struct hd	 h;
	struct hresp	 r, z;
	char		 etag[128], hdr[256], *plain;
	size_t		 plen;

	ht_start(&h, allow, 1);
	ht_request(h.port, "GET", "/v1/events?from=2015", NULL, NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	T_ASSERT(ht_header(&r, "ETag") != NULL);
	snprintf(etag, sizeof etag, "%s", ht_header(&r, "ETag"));
	snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", etag);
	ht_request(h.port, "GET", "/v1/events?from=2015", hdr, NULL, 0, &z);
	T_EQ_INT(z.status, 304);
	T_EQ_INT(z.len, 0);
	ht_free(&z);
	/* Another request, or a write to the store, changes the tag. */
	ht_request(h.port, "GET", "/v1/events?from=2016", hdr, NULL, 0, &z);
	T_EQ_INT(z.status, 200);
	ht_free(&z);
	ht_request(h.port, "POST", "/v1/events", NULL,
	    "{\"start\":\"2020\",\"actors\":[\"X\"]}", 0, &z);
	T_EQ_INT(z.status, 201);
	ht_free(&z);
	ht_request(h.port, "GET", "/v1/events?from=2015", hdr, NULL, 0, &z);
	T_EQ_INT(z.status, 200);
	T_ASSERT(strcmp(ht_header(&z, "ETag"), etag) != 0);
	ht_free(&z);
	ht_free(&r);

	/* gzip: the same bytes, smaller. */
	ht_request(h.port, "GET", "/v1/events?from=2015", NULL, NULL, 0, &r);
	ht_request(h.port, "GET", "/v1/events?from=2015",
	    "Accept-Encoding: gzip, deflate\r\n", NULL, 0, &z);
	T_EQ_STR(ht_header(&z, "Content-Encoding"), "gzip");
	T_ASSERT(ht_header(&r, "Content-Encoding") == NULL);
	T_ASSERT(z.len < r.len / 2);
	plain = ht_gunzip(z.body, z.len, &plen);
	T_EQ_U64(plen, r.len);
	T_ASSERT(memcmp(plain, r.body, plen) == 0);
	free(plain);
	ht_free(&z);
	ht_free(&r);
	ht_request(h.port, "GET", "/v1/events?from=2015",
	    "Accept-Encoding: gzip;q=0\r\n", NULL, 0, &z);
	T_ASSERT(ht_header(&z, "Content-Encoding") == NULL);
	ht_free(&z);

	/* CORS for the configured origin only, preflight included. */
	ht_request(h.port, "GET", "/v1/stats", "Origin: http://dash.example"
	    "\r\n", NULL, 0, &r);
	T_EQ_STR(ht_header(&r, "Access-Control-Allow-Origin"),
	    "http://dash.example");
	ht_free(&r);
	ht_request(h.port, "GET", "/v1/stats", "Origin: http://evil.example"
	    "\r\n", NULL, 0, &r);
	T_ASSERT(ht_header(&r, "Access-Control-Allow-Origin") == NULL);
	ht_free(&r);
	ht_request(h.port, "OPTIONS", "/v1/events", "Origin: http://dash."
	    "example\r\nAccess-Control-Request-Method: POST\r\n", NULL, 0, &r);
	T_EQ_INT(r.status, 204);
	T_ASSERT(strstr(ht_header(&r, "Access-Control-Allow-Methods"),
	    "POST") != NULL);
	ht_free(&r);
	/* A page sending a token is let through the preflight (issue 15). */
	ht_request(h.port, "OPTIONS", "/v1/events", "Origin: http://dash."
	    "example\r\nAccess-Control-Request-Method: GET\r\n"
	    "Access-Control-Request-Headers: authorization\r\n", NULL, 0, &r);
	T_EQ_INT(r.status, 204);
	T_ASSERT(strstr(ht_header(&r, "Access-Control-Allow-Headers"),
	    "Authorization") != NULL);
	ht_free(&r);
	ht_stop(&h);
}

/* How many times needle occurs in hay. */
static size_t
ht_count(const char *hay, const char *needle)
{
	size_t	n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return (n);
}

/* The ids the page as served lists, as "1,2,3", into buf. */
static void
ht_page_ids(const char *body, char *buf, size_t size)
{
	const char	*p = body;

	*buf = '\0';
	while ((p = strstr(p, "<li data-id=\"")) != NULL) {
		p += strlen("<li data-id=\"");
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%.*s",
		    *buf != '\0' ? "," : "", (int)strcspn(p, "\""), p);
	}
}

/* The ids of the events of a /v1/events answer, as ht_page_ids(). */
static void
ht_json_ids(json_t *j, char *buf, size_t size)
{
	json_t	*ev;
	size_t	 i;

	*buf = '\0';
	json_array_foreach(json_object_get(j, "events"), i, ev)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%lld",
		    i > 0 ? "," : "", (long long)json_integer_value(
		    json_object_get(ev, "id")));
}

/*
 * GET / with a window: the page as served lists the window's events,
 * the same as /v1/events with the address's filters, q= included,
 * escaped; without a window, or with one the API refuses, the page
 * comes as it is.
 */
TEST(http_page_lists_the_window)
{
	struct hd	 h;
	struct hresp	 r;
	json_t		*j;
	char		 want[512], got[512];

	ht_start(&h, NULL, 1);
	ht_request(h.port, "POST", "/v1/events", NULL, "{\"start\":"
	    "\"2015-01-22\",\"actors\":[\"X\"],\"title\":"
	    "\"<b>Tom & \\\"Jerry\\\"</b>\"}", 0, &r);
	T_EQ_INT(r.status, 201);
	ht_free(&r);

	ht_request(h.port, "GET", "/?from=2015-01-20&to=2015-02-05&sel=54",
	    NULL, NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	T_EQ_STR(ht_header(&r, "Content-Type"), "text/html; charset=utf-8");
	T_ASSERT(ht_header(&r, "ETag") == NULL);
	T_ASSERTF(ht_count(r.body, "<li data-id=") == 17, "%zu listed: %s",
	    ht_count(r.body, "<li data-id="), r.body);
	T_ASSERT(strstr(r.body, "<time>2015-01-26/2015-01-29</time> Moscow "
	    "consultations on Syria</li>") != NULL);
	T_ASSERT(strstr(r.body, "&lt;b&gt;Tom &amp; &quot;Jerry&quot;"
	    "&lt;/b&gt;</li>") != NULL);
	T_ASSERT(strstr(r.body, "<b>Tom") == NULL);
	T_ASSERT(strstr(r.body, "</html>") != NULL);
	ht_free(&r);

	/* The actor filter, as /v1/events has it. */
	ht_request(h.port, "GET", "/v1/events?from=2015&to=2015&actor=SYROPP",
	    NULL, NULL, 0, &r);
	j = ht_json(&r);
	ht_free(&r);
	ht_request(h.port, "GET", "/index.html?from=2015&to=2015&actor=SYROPP",
	    NULL, NULL, 0, &r);
	T_ASSERT(json_array_size(json_object_get(j, "events")) > 0);
	T_EQ_U64(ht_count(r.body, "<li data-id="),
	    json_array_size(json_object_get(j, "events")));
	json_decref(j);
	ht_free(&r);

	/*
	 * The words too (q=): the page lists no event that its own query
	 * then takes away, here Tom and Jerry's and those without "talks".
	 */
	j = ht_get(&h, "/v1/events?from=2015-01-20&to=2015-02-05&q=TALKS",
	    200);
	ht_json_ids(j, want, sizeof want);
	json_decref(j);
	ht_request(h.port, "GET", "/?from=2015-01-20&to=2015-02-05&q=TALKS&"
	    "sel=54", NULL, NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	ht_page_ids(r.body, got, sizeof got);
	T_ASSERTF(ht_count(r.body, "<li data-id=") > 0 &&
	    ht_count(r.body, "<li data-id=") < 16, "%zu listed: %s",
	    ht_count(r.body, "<li data-id="), r.body);
	T_EQ_STR(got, want);
	T_ASSERT(strstr(r.body, "Moscow consultations on Syria</li>") != NULL);
	T_ASSERT(strstr(r.body, "Jerry") == NULL);
	ht_free(&r);

	/* No window, half of one, or one the API refuses: the page alone. */
	ht_request(h.port, "GET", "/", NULL, NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	T_ASSERT(strstr(r.body, "<ol id=\"event-list\"></ol>") != NULL);
	T_ASSERT(ht_header(&r, "ETag") != NULL);
	ht_free(&r);
	ht_request(h.port, "GET", "/?from=2015-01", NULL, NULL, 0, &r);
	T_ASSERT(strstr(r.body, "<ol id=\"event-list\"></ol>") != NULL);
	ht_free(&r);
	ht_request(h.port, "GET", "/?from=2015-02-30&to=2015-03", NULL, NULL,
	    0, &r);
	T_EQ_INT(r.status, 200);
	T_ASSERT(strstr(r.body, "<ol id=\"event-list\"></ol>") != NULL);
	ht_free(&r);
	ht_request(h.port, "GET", "/?from=2015&to=2016&limit=3", NULL, NULL,
	    0, &r);
	T_EQ_INT(r.status, 200);
	T_ASSERT(strstr(r.body, "<ol id=\"event-list\"></ol>") != NULL);
	ht_free(&r);
	ht_request(h.port, "GET", "/?from=2015&to=2016&q=%22%22", NULL, NULL,
	    0, &r);
	T_EQ_INT(r.status, 200);
	T_ASSERT(strstr(r.body, "<ol id=\"event-list\"></ol>") != NULL);
	ht_free(&r);
	ht_stop(&h);
}

/* Read from an event stream until want appears (5 s at most). */
static void
ht_sse_wait(int fd, char *buf, size_t size, size_t *len, const char *want)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	ssize_t		n;
	int		i;

	for (i = 0; i < 100 && strstr(buf, want) == NULL; i++) {
		if (poll(&pfd, 1, 50) != 1)
			continue;
		n = read(fd, buf + *len, size - *len - 1);
		T_ASSERT(n > 0);
		*len += (size_t)n;
		buf[*len] = '\0';
	}
	T_ASSERTF(strstr(buf, want) != NULL, "no \"%s\" in the stream: %s",
	    want, buf);
}

/* /v1/actors pages by 100 when no limit is given, the socket by 1000. */
TEST(http_actors_default_page)
{
	struct hd	 h;
	struct hresp	 r;
	json_t		*j;
	char		*body;
	size_t		 len = 0, i;

	ht_start(&h, NULL, 0);
	body = malloc(150 * 64 + 2);
	body[len++] = '[';
	for (i = 0; i < 150; i++)
		len += (size_t)sprintf(body + len, "%s{\"start\":\"2015\","
		    "\"actors\":[\"P%03zu\"]}", i > 0 ? "," : "", i);
	body[len++] = ']';
	body[len] = '\0';
	ht_request(h.port, "POST", "/v1/events", NULL, body, len, &r);
	T_ASSERTF(r.status == 200, "%d %.200s", r.status, r.body);
	ht_free(&r);
	free(body);
	j = ht_get(&h, "/v1/actors?prefix=P", 200);
	T_EQ_U64(json_array_size(json_object_get(j, "actors")), 100);
	T_EQ_STR(json_string_value(json_object_get(j, "next")), "P099");
	json_decref(j);
	j = ht_get(&h, "/v1/actors?prefix=P&limit=150", 200);
	T_EQ_U64(json_array_size(json_object_get(j, "actors")), 150);
	T_ASSERT(json_is_null(json_object_get(j, "next")));
	json_decref(j);
	ht_stop(&h);
}

/* If-Match on a POST of one record is put's check_rev: 409 when stale. */
TEST(http_if_match_is_put_check_rev)
{
	static const char rec[] = "{\"start\":\"2015-01-27\",\"actors\":"
	    "[\"RUS\"],\"title\":\"%s\",\"source\":\"t\",\"key\":\"%s\"}";
	struct hd	 h;
	struct hresp	 r;
	json_t		*j;
	char		 body[256], path[64];
	json_int_t	 id;

	ht_start(&h, NULL, 0);
	snprintf(body, sizeof body, rec, "one", "k1");
	ht_request(h.port, "POST", "/v1/events", NULL, body, 0, &r);
	T_ASSERTF(r.status == 201, "%d %s", r.status, r.body);
	j = ht_json(&r);
	id = json_integer_value(json_object_get(j, "id"));
	T_EQ_INT(json_integer_value(json_object_get(j, "rev")), 1);
	json_decref(j);
	ht_free(&r);

	/* At the rev it names: updated. */
	snprintf(body, sizeof body, rec, "two", "k1");
	ht_request(h.port, "POST", "/v1/events", "If-Match: \"1\"\r\n", body,
	    0, &r);
	T_ASSERTF(r.status == 200, "%d %s", r.status, r.body);
	j = ht_json(&r);
	T_EQ_STR(json_string_value(json_object_get(j, "status")), "updated");
	T_EQ_INT(json_integer_value(json_object_get(j, "rev")), 2);
	json_decref(j);
	ht_free(&r);

	/* Stale: 409 and nothing written, whatever rev the body says. */
	ht_request(h.port, "POST", "/v1/events", "If-Match: 1\r\n", "{\"rev\":"
	    "2,\"start\":\"2015\",\"actors\":[\"RUS\"],\"title\":\"three\","
	    "\"source\":\"t\",\"key\":\"k1\"}", 0, &r);
	T_ASSERTF(r.status == 409, "%d %s", r.status, r.body);
	T_ASSERTF(strstr(r.body, "is at rev 2, not 1") != NULL, "%s", r.body);
	T_EQ_STR(ht_header(&r, "Content-Type"), "application/problem+json");
	ht_free(&r);
	snprintf(path, sizeof path, "/v1/events/%lld", (long long)id);
	j = ht_get(&h, path, 200);
	T_EQ_STR(json_string_value(json_object_get(j, "title")), "two");
	json_decref(j);

	/* 0: the source and key must not be taken yet. */
	snprintf(body, sizeof body, rec, "new", "k2");
	ht_request(h.port, "POST", "/v1/events", "If-Match: 0\r\n", body, 0,
	    &r);
	T_ASSERTF(r.status == 201, "%d %s", r.status, r.body);
	ht_free(&r);
	ht_request(h.port, "POST", "/v1/events", "If-Match: 0\r\n", body, 0,
	    &r);
	T_ASSERTF(r.status == 409, "%d %s", r.status, r.body);
	ht_free(&r);

	/* Only one record, and only a rev. */
	ht_request(h.port, "POST", "/v1/events", "If-Match: 1\r\n", "[{}]", 0,
	    &r);
	T_EQ_INT(r.status, 400);
	T_ASSERTF(strstr(r.body, "If-Match: takes one record") != NULL, "%s",
	    r.body);
	ht_free(&r);
	ht_request(h.port, "POST", "/v1/events", "If-Match: *\r\n", body, 0,
	    &r);
	T_EQ_INT(r.status, 400);
	T_ASSERTF(strstr(r.body, "is not a rev") != NULL, "%s", r.body);
	ht_free(&r);
	ht_stop(&h);
}

TEST(http_event_stream_delivers_socket_put)
{
	struct annals_actor	 a = { "SSE", NULL };
	struct annals_event	 ev;
	struct annals_put_result res;
	struct hd		 h;
	char			 buf[65536], want[64];
	const char		*req = "GET /v1/changes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Accept: text/event-stream\r\n\r\n";
	const char		*back = "GET /v1/changes?since=77 HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
	size_t			 len = 0;
	json_t			*j;
	int			 fd, fd2;

	ht_start(&h, NULL, 1);
	T_ASSERT((fd = th_tcp_connect(h.port)) != -1);
	T_OK(th_send_all(fd, req, strlen(req)));
	buf[0] = '\0';
	ht_sse_wait(fd, buf, sizeof buf, &len, ": annals changes");
	T_ASSERT(strstr(buf, "text/event-stream") != NULL);
	/* The stream starts now: none of the demo's changes come. */
	T_ASSERT(strstr(buf, "event: put") == NULL);

	memset(&ev, 0, sizeof ev);
	ev.start = "2021-02-03";
	ev.actors = &a;
	ev.nactors = 1;
	ev.title = "through the socket";
	T_OK(annals_put(h.ctx, &ev, 1, &res));
	snprintf(want, sizeof want, "\"id\":%llu", (unsigned long long)res.id);
	ht_sse_wait(fd, buf, sizeof buf, &len, "through the socket");
	T_ASSERT(strstr(buf, "id: 79\nevent: put\ndata: {") != NULL);
	T_ASSERT(strstr(buf, want) != NULL);
	j = json_loads(strstr(buf, "data: ") + 6, JSON_DISABLE_EOF_CHECK,
	    NULL);
	T_ASSERT(j != NULL);
	T_EQ_STR(json_string_value(json_object_get(json_object_get(j, "event"),
	    "title")), "through the socket");
	json_decref(j);

	/* A deletion too; and a stream from since replays the backlog. */
	T_OK(annals_delete(h.ctx, &res.id, 1, NULL));
	ht_sse_wait(fd, buf, sizeof buf, &len, "event: delete");
	T_ASSERT((fd2 = th_tcp_connect(h.port)) != -1);
	T_OK(th_send_all(fd2, back, strlen(back)));
	len = 0;
	buf[0] = '\0';
	ht_sse_wait(fd2, buf, sizeof buf, &len, "event: delete");
	T_ASSERT(strstr(buf, "id: 78\nevent: put") != NULL);
	/* A reader that leaves: the next change finds it gone. */
	close(fd2);
	ev.title = "after one reader left";
	T_OK(annals_put(h.ctx, &ev, 1, &res));
	ht_sse_wait(fd, buf, sizeof buf, &len, "after one reader left");
	usleep(100000);
	/* The daemon stops cleanly with a stream open. */
	ht_stop(&h);
	close(fd);
}

TEST(http_tokens_and_loopback)
{
	const char	*remote[] = { "--http", "0.0.0.0:1", NULL };
	const char	*auth[] = { "--auth-file", NULL, NULL };
	struct th_daemon d;
	struct hd	 h;
	struct hresp	 r;
	char		 file[256];
	FILE		*f;

	/* Other hosts only with tokens. */
	T_ASSERT(th_daemon_start(&d, remote) != 0);

	snprintf(file, sizeof file, "%s/tokens", t_dir());
	T_ASSERT((f = fopen(file, "w")) != NULL);
	fprintf(f, "reader-0123456789abcdef read\n"
	    "writer-0123456789abcdef write\n");
	fclose(f);
	auth[1] = file;
	ht_start(&h, auth, 0);
	ht_problem(&h, "GET", "/v1/stats", NULL, 401, "unauthorized", NULL);
	ht_request(h.port, "GET", "/v1/stats", "Authorization: Bearer "
	    "wrong-0123456789abcdef\r\n", NULL, 0, &r);
	T_EQ_INT(r.status, 401);
	T_ASSERT(ht_header(&r, "WWW-Authenticate") != NULL);
	ht_free(&r);
	ht_request(h.port, "GET", "/v1/stats", "Authorization: Bearer "
	    "reader-0123456789abcdef\r\n", NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	ht_free(&r);
	ht_request(h.port, "POST", "/v1/events", "Authorization: Bearer "
	    "reader-0123456789abcdef\r\n", "{\"start\":\"2020\",\"actors\":"
	    "[\"X\"]}", 0, &r);
	T_EQ_INT(r.status, 403);
	ht_free(&r);
	ht_request(h.port, "POST", "/v1/events", "Authorization: Bearer "
	    "writer-0123456789abcdef\r\n", "{\"start\":\"2020\",\"actors\":"
	    "[\"X\"]}", 0, &r);
	T_EQ_INT(r.status, 201);
	ht_free(&r);
	ht_stop(&h);
}

/* POST /v1/tickets with the read token: the ticket it answers. */
static void
ht_ticket(struct hd *h, char *ticket, size_t size)
{
	struct hresp	 r;
	json_t		*j;
	long long	 expires, now = (long long)time(NULL) * 1000;

	ht_request(h->port, "POST", "/v1/tickets", "Authorization: Bearer "
	    "reader-0123456789abcdef\r\n", NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	T_EQ_STR(ht_header(&r, "Cache-Control"), "no-store");
	T_ASSERT((j = json_loads(r.body, 0, NULL)) != NULL);
	T_EQ_INT(strlen(json_string_value(json_object_get(j, "ticket"))), 43);
	snprintf(ticket, size, "%s", json_string_value(json_object_get(j,
	    "ticket")));
	expires = json_integer_value(json_object_get(j, "expires"));
	T_ASSERTF(expires > now + 55000 && expires < now + 65000,
	    "expires %lld, now %lld", expires, now);
	json_decref(j);
	ht_free(&r);
}

/* GET /v1/changes?ticket=ticket as an EventSource: the status. */
static int
ht_ticket_stream(struct hd *h, const char *ticket, int *fdp)
{
	char	 req[512], buf[4096];
	size_t	 len = 0;
	int	 fd, status;

	snprintf(req, sizeof req, "GET /v1/changes?ticket=%s HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n", ticket);
	T_ASSERT((fd = th_tcp_connect(h->port)) != -1);
	T_OK(th_send_all(fd, req, strlen(req)));
	buf[0] = '\0';
	ht_sse_wait(fd, buf, sizeof buf, &len, "\r\n\r\n");
	T_ASSERT(sscanf(buf, "HTTP/1.1 %d", &status) == 1);
	if (status == 200)
		ht_sse_wait(fd, buf, sizeof buf, &len, ": annals changes");
	if (fdp != NULL)
		*fdp = fd;
	else
		close(fd);
	return (status);
}

/*
 * Issue 15: an EventSource cannot send a token, so a token buys a
 * ticket that opens the change stream once, within a minute, and opens
 * nothing else; a read token may buy one; the table of them is bounded.
 */
TEST(http_tickets_open_the_event_stream_once)
{
	const char	*auth[] = { "-vv", "--auth-file", NULL, NULL };
	struct annals_actor	 a = { "TICKET", NULL };
	struct annals_event	 ev;
	struct annals_put_result res;
	struct hd	 h;
	struct hresp	 r;
	char		 file[256], t[64], first[64], path[128], buf[65536];
	size_t		 len = 0;
	int		 i, fd;
	FILE		*f;

	snprintf(file, sizeof file, "%s/tokens", t_dir());
	T_ASSERT((f = fopen(file, "w")) != NULL);
	fprintf(f, "reader-0123456789abcdef read\n"
	    "writer-0123456789abcdef write\n");
	fclose(f);
	auth[2] = file;
	ht_start(&h, auth, 0);
	ht_problem(&h, "POST", "/v1/tickets", NULL, 401, "unauthorized", NULL);
	ht_problem(&h, "GET", "/v1/tickets", NULL, 401, "unauthorized", NULL);

	/* The stream opens with the ticket, and gets the changes. */
	ht_ticket(&h, t, sizeof t);
	T_EQ_INT(ht_ticket_stream(&h, t, &fd), 200);
	/* The socket with the write token (each test is its own process). */
	annals_free(h.ctx);
	setenv("ANNALS_TOKEN", "writer-0123456789abcdef", 1);
	h.ctx = annals_connect(h.d.sock);
	T_ASSERTF(annals_errcode(h.ctx) == 0, "%s", annals_errmsg(h.ctx));
	memset(&ev, 0, sizeof ev);
	ev.start = "2021-02-03";
	ev.actors = &a;
	ev.nactors = 1;
	ev.title = "seen through a ticket";
	T_OK(annals_put(h.ctx, &ev, 1, &res));
	buf[0] = '\0';
	ht_sse_wait(fd, buf, sizeof buf, &len, "seen through a ticket");
	close(fd);
	/* Once. */
	T_EQ_INT(ht_ticket_stream(&h, t, NULL), 401);
	T_EQ_INT(ht_ticket_stream(&h, "not-a-ticket", NULL), 401);

	/* Nothing but the stream: not a page of changes, not events. */
	ht_ticket(&h, t, sizeof t);
	snprintf(path, sizeof path, "/v1/changes?ticket=%s", t);
	ht_problem(&h, "GET", path, NULL, 401, "unauthorized", NULL);
	snprintf(path, sizeof path, "/v1/events?ticket=%s", t);
	ht_problem(&h, "GET", path, NULL, 401, "unauthorized", NULL);
	/* A wrong ticket is not a wrong token: no penalty follows it. */
	ht_request(h.port, "GET", "/v1/stats", "Authorization: Bearer "
	    "reader-0123456789abcdef\r\n", NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	ht_free(&r);

	/* Bounded: past 64 live tickets the first issued is gone. */
	ht_ticket(&h, first, sizeof first);
	for (i = 0; i < 64; i++)
		ht_ticket(&h, t, sizeof t);
	T_EQ_INT(ht_ticket_stream(&h, first, NULL), 401);
	T_EQ_INT(ht_ticket_stream(&h, t, NULL), 200);
	ht_stop(&h);
	/* Requests are logged at debug level, but not their tickets. */
	T_ASSERT((f = fopen(h.d.log, "r")) != NULL);
	len = fread(buf, 1, sizeof buf - 1, f);
	buf[len] = '\0';
	fclose(f);
	T_ASSERT(strstr(buf, "http 1 /v1/changes?(withheld") != NULL);
	T_ASSERT(strstr(buf, first) == NULL && strstr(buf, t) == NULL);
}

TEST(http_openapi_description_matches_server)
{
	static const char *const syrgov[] = { "SYRGOV" };
	const struct annals_dict_entry assad = { ANNALS_DICT_ALIAS, "Assad",
	    NULL, syrgov, 1, "2000-07-17/2024-12-08", 0 };
	struct hd	 h;
	char		 cmd[8192];
	int		 rc;

	/*
	 * tests/openapi-check.py makes every x-checks request of the spec,
	 * some by the alias (whose events carry via).
	 */
	ht_start(&h, NULL, 1);
	T_OK(annals_dict_put(h.ctx, &assad, 1, 0, NULL));
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/../tests/openapi-check.py "
	    "%s/../proto/openapi.yaml http://127.0.0.1:%d > %s/check.out 2>&1",
	    t_bindir(), t_bindir(), h.port, t_dir());
	if ((rc = system(cmd)) != 0) {
		snprintf(cmd, sizeof cmd, "cat %s/check.out >&2", t_dir());
		system(cmd);
	}
	T_ASSERTF(rc == 0, "openapi-check.py: status %d", rc);
	ht_stop(&h);
}

/* Replace every from in s (at most size bytes) with to. */
static void
ht_subst(char *s, size_t size, const char *from, const char *to)
{
	char	*p, tail[4096];

	while ((p = strstr(s, from)) != NULL) {
		snprintf(tail, sizeof tail, "%s", p + strlen(from));
		snprintf(p, size - (size_t)(p - s), "%s%s", to, tail);
	}
}

TEST(http_grafana_dashboard_queries_answer)
{
	struct hd	 h;
	json_error_t	 jerr;
	json_t		*dash, *panel, *target, *col, *body, *rows, *row, *val;
	const char	*key;
	char		 file[4096], url[4096], base[64];
	size_t		 i, j, k, n = 0;
	int		 drawn;

	/* Each Infinity query of the dashboard, as Grafana would make it. */
	ht_start(&h, NULL, 1);
	snprintf(file, sizeof file, "%s/../contrib/grafana/"
	    "annals-dashboard.json", t_bindir());
	dash = json_load_file(file, 0, &jerr);
	T_ASSERTF(dash != NULL, "%s: %s", file, jerr.text);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", h.port);
	json_array_foreach(json_object_get(dash, "panels"), i, panel) {
		json_array_foreach(json_object_get(panel, "targets"), j,
		    target) {
			snprintf(url, sizeof url, "%s", json_string_value(
			    json_object_get(target, "url")));
			ht_subst(url, sizeof url, "${annals}", base);
			ht_subst(url, sizeof url, "${__from:date:YYYY-MM-DD}",
			    "2014-06-01");
			ht_subst(url, sizeof url, "${__to:date:YYYY-MM-DD}",
			    "2016-12-31");
			ht_subst(url, sizeof url, "${actor}", "");
			ht_subst(url, sizeof url, "${type}", "");
			T_ASSERTF(strncmp(url, base, strlen(base)) == 0 &&
			    strchr(url, '$') == NULL, "%s", url);
			body = ht_get(&h, url + strlen(base), 200);
			rows = json_object_get(body, json_string_value(
			    json_object_get(target, "root_selector")));
			T_ASSERTF(json_array_size(rows) > 0, "%s: no rows", url);
			row = json_array_get(rows, 0);
			json_array_foreach(json_object_get(target, "columns"), k,
			    col) {
				/* end is absent where an event has none. */
				if (strcmp(json_string_value(json_object_get(col,
				    "selector")), "end") == 0)
					continue;
				T_ASSERTF(json_object_get(row, json_string_value(
				    json_object_get(col, "selector"))) != NULL,
				    "%s: no %s", url, json_string_value(
				    json_object_get(col, "selector")));
			}
			/* An event list asks for the columns it draws only. */
			json_object_foreach(row, key, val) {
				if (strstr(url, "/v1/events?") == NULL)
					break;
				drawn = 0;
				json_array_foreach(json_object_get(target,
				    "columns"), k, col)
					drawn |= strcmp(key, json_string_value(
					    json_object_get(col, "selector"))) == 0;
				T_ASSERTF(drawn, "%s: %s is fetched, not drawn",
				    url, key);
			}
			json_decref(body);
			n++;
		}
	}
	T_EQ_INT(n, 3);
	json_decref(dash);
	ht_stop(&h);
}

/* The "attrs":{...} text of a one-line JSON record, as a new string. */
static char *
ht_attrs_text(const char *rec)
{
	const char	*p = strstr(rec, "\"attrs\":{");
	int		 depth = 0;
	size_t		 i;

	T_ASSERTF(p != NULL, "no attrs in %.300s", rec);
	for (i = 8; p[i] != '\0'; i++) {
		if (p[i] == '{')
			depth++;
		else if (p[i] == '}' && --depth == 0)
			return (strndup(p, i + 1));
	}
	T_FAIL("attrs not closed in %.300s", rec);
}

/*
 * HTTP and annals(1) convert JSON with one set of rules (proto/json.c):
 * integers up to UINT64_MAX go in over HTTP (jansson alone refuses them),
 * both print the same attrs text for the same record, and a record nested
 * deeper than a frame allows is refused naming the record.
 */
TEST(http_json_rules_are_the_cli_rules)
{
	static const char	 rec[] = "{\"start\":\"2015\",\"actors\":"
	    "[\"RUS\"],\"title\":\"numbers\",\"attrs\":{\"max\":"
	    "18446744073709551615,\"neg\":-9223372036854775808,\"big\":1e15,"
	    "\"tiny\":1e-07,\"tenth\":0.1,\"ten\":10.0,\"del\":\"a\\u007fb\"}}";
	const char	*argv[] = { "--format", "jsonl", "get", NULL, NULL };
	struct th_run	 run;
	struct hresp	 r;
	struct hd	 h;
	json_t		*j;
	char		 path[64], id[24], deep[400], *a, *b;
	int		 i, k, n;

	ht_start(&h, NULL, 0);
	ht_request(h.port, "POST", "/v1/events", NULL, rec, 0, &r);
	T_ASSERTF(r.status == 201, "%d %s", r.status, r.body);
	j = ht_json(&r);
	snprintf(id, sizeof id, "%lld",
	    (long long)json_integer_value(json_object_get(j, "id")));
	json_decref(j);
	ht_free(&r);
	snprintf(path, sizeof path, "/v1/events/%s", id);
	ht_request(h.port, "GET", path, NULL, NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	a = ht_attrs_text(r.body);
	T_EQ_STR(a, "\"attrs\":{\"max\":18446744073709551615,\"neg\":"
	    "-9223372036854775808,\"big\":1000000000000000.0,\"tiny\":1e-07,"
	    "\"tenth\":0.1,\"ten\":10.0,\"del\":\"a\\u007fb\"}");
	ht_free(&r);
	argv[3] = id;
	th_annals(&run, h.d.sock, NULL, argv);
	T_EQ_INT(run.status, 0);
	b = ht_attrs_text(run.out);
	T_EQ_STR(b, a);
	th_run_free(&run);
	free(a);
	free(b);

	/* 10 maps below attrs fill the frame's 16 levels; 11 do not fit. */
	for (n = 10; n <= 11; n++) {
		i = snprintf(deep, sizeof deep, "[{\"start\":\"2015\",\"actors\":"
		    "[\"RUS\"],\"title\":\"deep\",\"attrs\":{\"d\":");
		for (k = 0; k < n; k++)
			i += snprintf(deep + i, sizeof deep - (size_t)i,
			    "{\"k\":");
		i += snprintf(deep + i, sizeof deep - (size_t)i, "1");
		for (k = 0; k < n + 2; k++)
			deep[i++] = '}';
		deep[i++] = ']';
		deep[i] = '\0';
		if (n == 10) {
			ht_request(h.port, "POST", "/v1/events", NULL, deep, 0,
			    &r);
			T_ASSERTF(r.status == 200, "%d %s", r.status, r.body);
			ht_free(&r);
		} else
			ht_problem(&h, "POST", "/v1/events", deep, 400,
			    "invalid", "records[0]: nesting deeper than 16");
	}
	annals_free(h.ctx);
	T_EQ_INT(th_daemon_stop(&h.d), 0);
}

/* /v1/timelinejs and annals export --format timelinejs: the same slides. */
TEST(http_timelinejs_is_the_cli_export)
{
	const char	*argv[] = { "export", "2015-01-20", "2015-02-10",
			    "--format", "timelinejs", NULL };
	struct th_run	 run;
	struct hd	 h;
	json_t		*web, *cli;

	ht_start(&h, NULL, 1);
	web = ht_get(&h, "/v1/timelinejs?from=2015-01-20&to=2015-02-10&"
	    "limit=1000", 200);
	th_annals(&run, h.d.sock, NULL, argv);
	T_EQ_INT(run.status, 0);
	T_ASSERTF((cli = json_loads(run.out, 0, NULL)) != NULL, "%.300s",
	    run.out);
	T_ASSERT(json_array_size(json_object_get(web, "events")) >= 5);
	T_ASSERTF(json_equal(json_object_get(web, "events"),
	    json_object_get(cli, "events")), "web %.300s\ncli %.300s",
	    json_dumps(web, JSON_COMPACT), run.out);
	json_decref(web);
	json_decref(cli);
	th_run_free(&run);
	annals_free(h.ctx);
	T_EQ_INT(th_daemon_stop(&h.d), 0);
}

/* GET /v1/actors/{code}: the dictionary's view of a code. */
TEST(http_actor_code_shows_its_label)
{
	struct hd	 h;
	json_t		*j;
	char		 params[256];
	void		*res;
	size_t		 len;
	int		 n;

	ht_start(&h, NULL, 0);
	j = ht_get(&h, "/v1/actors/SYRGOV", 200);
	T_EQ_STR(json_string_value(json_object_get(j, "code")), "SYRGOV");
	T_EQ_STR(json_string_value(json_object_get(j, "label")),
	    "Syria: government");
	T_EQ_STR(json_string_value(json_object_get(j, "label_from")),
	    "cameo");
	T_ASSERT(json_is_null(json_object_get(j, "imported")));
	json_decref(j);
	/* An importer's name shows beside CAMEO's, which wins the label. */
	n = snprintf(params, sizeof params, "%s", "\x81\xa7" "entries\x91"
	    "\x84\xa4kind\xa4name\xa4" "code\xa3USA\xa4name\xad"
	    "UNITED STATES\xa8" "imported\xc3");
	T_OK(annals_call(h.ctx, "dict_put", params, (size_t)n, &res, &len));
	annals_buf_free(res);
	j = ht_get(&h, "/v1/actors/USA", 200);
	T_EQ_STR(json_string_value(json_object_get(j, "label")),
	    "United States");
	T_EQ_STR(json_string_value(json_object_get(j, "imported")),
	    "UNITED STATES");
	json_decref(j);
	/* A user's name, and an alias, set over the socket. */
	n = snprintf(params, sizeof params, "%s", "\x81\xa7" "entries\x92"
	    "\x83\xa4kind\xa4name\xa4" "code\xa6SYRGOV\xa4name\xa5" "Assad"
	    "\x83\xa4kind\xa5" "alias\xa5" "alias\xa4" "ISIS\xa5" "codes\x91"
	    "\xa6SYRGOV");
	T_OK(annals_call(h.ctx, "dict_put", params, (size_t)n, &res, &len));
	annals_buf_free(res);
	j = ht_get(&h, "/v1/actors/SYRGOV", 200);
	T_EQ_STR(json_string_value(json_object_get(j, "label")), "Assad");
	T_EQ_STR(json_string_value(json_object_get(j, "cameo")),
	    "Syria: government");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "aliases"), 0), "alias")), "ISIS");
	json_decref(j);
	/* Percent-escaped, and a code nobody named nor CAMEO knows. */
	j = ht_get(&h, "/v1/actors/a%20b", 200);
	T_EQ_STR(json_string_value(json_object_get(j, "code")), "a b");
	T_ASSERT(json_is_null(json_object_get(j, "label")));
	json_decref(j);
	ht_problem(&h, "POST", "/v1/actors/SYR", "{}", 405,
	    "method_not_allowed", NULL);
	ht_stop(&h);
}

/*
 * The events of /v1/events (or /v1/timelinejs) at path, each as
 * "title" and, when given, ":match" and ":alias=code" of its via, joined
 * by spaces into buf; the whole answer must be a single page.
 */
static const char *
ht_hits(struct hd *h, const char *path, char *buf, size_t size)
{
	json_t		*j, *ev, *via, *title;
	const char	*t;
	size_t		 i, len = 0;

	j = ht_get(h, path, 200);
	T_ASSERTF(json_is_null(json_object_get(j, "next")) ||
	    strncmp(path, "/v1/timelinejs", 14) == 0, "%s: more pages", path);
	buf[0] = '\0';
	json_array_foreach(json_object_get(j, "events"), i, ev) {
		if ((title = json_object_get(ev, "title")) == NULL)
			title = json_object_get(json_object_get(ev, "text"),
			    "headline");	/* a TimelineJS slide */
		T_ASSERT((t = json_string_value(title)) != NULL);
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i > 0 ? " " : "", t);
		if (json_object_get(ev, "match") != NULL)
			len += (size_t)snprintf(buf + len, size - len, ":%s",
			    json_string_value(json_object_get(ev, "match")));
		if ((via = json_object_get(ev, "via")) != NULL)
			len += (size_t)snprintf(buf + len, size - len,
			    ":%s=%s", json_string_value(json_object_get(via,
			    "alias")), json_string_value(json_object_get(via,
			    "code")));
		T_ASSERT(len < size);
	}
	json_decref(j);
	return (buf);
}

/* The count of bucket i of a histogram answer. */
static json_int_t
ht_bucket(json_t *j, size_t i)
{
	return (json_integer_value(json_object_get(json_array_get(
	    json_object_get(j, "buckets"), i), "count")));
}

/* The actors of a top or co-actors answer as "name=count ...". */
static const char *
ht_counts(json_t *j, char *buf, size_t size)
{
	json_t	*a;
	size_t	 i, len = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(j, "actors"), i, a) {
		len += (size_t)snprintf(buf + len, size - len, "%s%s=%lld",
		    i > 0 ? " " : "", json_string_value(json_object_get(a,
		    "name")), (long long)json_integer_value(
		    json_object_get(a, "count")));
		T_ASSERT(len < size);
	}
	return (buf);
}

/* GET path, a co-actors answer: its events and its actors' counts. */
static void
ht_co_actors_are(struct hd *h, const char *path, int events,
    const char *counts)
{
	json_t	*j = ht_get(h, path, 200);
	char	 buf[256];

	T_EQ_INT(json_integer_value(json_object_get(j, "events")), events);
	T_EQ_STR(ht_counts(j, buf, sizeof buf), counts);
	json_decref(j);
}

/*
 * Issue #20: an actor that names an alias in the dictionary finds, over
 * HTTP as over the socket, the events of any of its codes within its
 * interval, each saying through which code; alias=false asks for the
 * code of that name.  The events list, TimelineJS, the page's list, the
 * histogram and co-actors all resolve it.
 */
TEST(http_alias_queries_find_its_codes_within_its_interval)
{
	static const char *const isis[] = { "IRQREB", "SYRREB" };
	static const char *const assad[] = { "SYRGOV" };
	const struct annals_dict_entry dict[] = {
		{ ANNALS_DICT_ALIAS, "ISIS", NULL, isis, 2, "2014-06/2017",
		    0 },
		{ ANNALS_DICT_ALIAS, "Bashar al-Assad", NULL, assad, 1,
		    "2000-07-17/2024-12-08", 0 },
	};
	struct annals_histogram	*hist;
	struct hd		 h;
	struct hresp		 r;
	annals_query		*q;
	json_t			*j;
	uint64_t		 want[16], got[16];
	char			 buf[1024];
	size_t			 i, n;

	ht_start(&h, NULL, 0);
	T_OK(annals_dict_put(h.ctx, dict, 2, 0, NULL));
	ht_request(h.port, "POST", "/v1/events", NULL, "["
	    "{\"start\":\"2015-03-01\",\"actors\":[\"IRQREB\",\"USA\"],"
	    "\"title\":\"irq\"},"
	    "{\"start\":\"2016-06-01\",\"actors\":[\"SYRREB\"],"
	    "\"title\":\"syr\"},"
	    "{\"start\":\"2016-07-01\",\"actors\":[\"SYRREB\",\"IRQREB\"],"
	    "\"title\":\"both\"},"
	    "{\"start\":\"2012-01-01\",\"actors\":[\"IRQREB\"],"
	    "\"title\":\"before\"},"
	    "{\"start\":\"2018-05-01\",\"actors\":[\"SYRREB\"],"
	    "\"title\":\"after\"},"
	    "{\"start\":\"2015-05-01\",\"actors\":[\"USA\"],"
	    "\"title\":\"other\"},"
	    "{\"start\":\"2014\",\"actors\":[\"IRQREB\"],"
	    "\"title\":\"edge\"},"
	    "{\"start\":\"2015-01-01\",\"actors\":[\"ISIS\"],"
	    "\"title\":\"code\"},"
	    "{\"start\":\"2012-03-15\",\"actors\":[\"SYRGOV\",\"USA\"],"
	    "\"title\":\"assad\"},"
	    "{\"start\":\"1999\",\"actors\":[\"SYRGOV\"],"
	    "\"title\":\"earlier\"}]", 0, &r);
	T_ASSERTF(r.status == 200, "%d %.300s", r.status, r.body);
	ht_free(&r);

	/*
	 * Both codes, in the interval only; 2014 may fall before 2014-06;
	 * "both" came through IRQREB, the alias's first code.
	 */
	T_EQ_STR(ht_hits(&h, "/v1/events?actor=ISIS", buf, sizeof buf),
	    "edge:possible:ISIS=IRQREB irq:certain:ISIS=IRQREB "
	    "syr:certain:ISIS=SYRREB both:certain:ISIS=IRQREB");
	T_EQ_STR(ht_hits(&h, "/v1/events?actor=ISIS&certain=true&"
	    "order=desc", buf, sizeof buf), "both:certain:ISIS=IRQREB "
	    "syr:certain:ISIS=SYRREB irq:certain:ISIS=IRQREB");
	T_EQ_STR(ht_hits(&h, "/v1/events?actor=ISIS&from=2016", buf,
	    sizeof buf), "syr:certain:ISIS=SYRREB both:certain:ISIS=IRQREB");
	T_EQ_STR(ht_hits(&h, "/v1/events?actor=ISIS&from=2018", buf,
	    sizeof buf), "");
	/* The same events as the socket's range finds. */
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_actor(q, "ISIS", NULL));
	n = ht_socket_ids(&h, q, 0, want, 16);
	T_EQ_U64(n, 4);
	T_EQ_U64(ht_http_ids(&h, "actor=ISIS", 1, got, 16), n);
	for (i = 0; i < n; i++)
		T_EQ_U64(got[i], want[i]);
	annals_query_free(q);
	/* Paged, a cursor resumes the alias query. */
	T_EQ_U64(ht_http_ids(&h, "actor=ISIS&from=2016", 1, got, 16), 2);
	T_EQ_STR(ht_hits(&h, "/v1/events?actor=Bashar%20al-Assad", buf,
	    sizeof buf), "assad:certain:Bashar al-Assad=SYRGOV");
	/* via comes with fields (from the whole record) and with span. */
	j = ht_get(&h, "/v1/events?actor=ISIS&from=2016-07&fields=title&"
	    "span=true", 200);
	T_EQ_U64(json_array_size(json_object_get(j, "events")), 1);
	T_ASSERT(json_object_get(json_array_get(json_object_get(j, "events"),
	    0), "actors") == NULL);
	T_ASSERT(json_object_get(json_array_get(json_object_get(j, "events"),
	    0), "span") != NULL);
	T_EQ_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(j, "events"), 0), "via"), "code")),
	    "IRQREB");
	json_decref(j);
	/* The code of the alias's name, a code, a prefix: no via. */
	T_EQ_STR(ht_hits(&h, "/v1/events?actor=ISIS&alias=false", buf,
	    sizeof buf), "code:certain");
	T_EQ_STR(ht_hits(&h, "/v1/events?actor=SYRREB", buf, sizeof buf),
	    "syr:certain both:certain after:certain");
	T_EQ_STR(ht_hits(&h, "/v1/events?actor=IRQ*&to=2014", buf,
	    sizeof buf), "before:certain edge:certain");
	ht_problem(&h, "GET", "/v1/events?actor=ISIS&alias=maybe", NULL, 400,
	    "invalid", "alias: \"maybe\" is not true or false");

	/* TimelineJS and the page's own list. */
	T_EQ_STR(ht_hits(&h, "/v1/timelinejs?actor=ISIS", buf, sizeof buf),
	    "edge irq syr both");
	ht_request(h.port, "GET", "/?from=2010&to=2020&actor=ISIS", NULL,
	    NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	T_ASSERTF(ht_count(r.body, "<li data-id=") == 4, "%s", r.body);
	T_ASSERT(strstr(r.body, "</time> both</li>") != NULL);
	T_ASSERT(strstr(r.body, "</time> after</li>") == NULL);
	ht_free(&r);
	/* alias=false there too: the code of that name, as PROTOCOL.md says. */
	ht_request(h.port, "GET", "/?from=2010&to=2020&actor=ISIS&"
	    "alias=false", NULL, NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	T_ASSERTF(ht_count(r.body, "<li data-id=") == 1, "%s", r.body);
	T_ASSERT(strstr(r.body, "</time> code</li>") != NULL);
	ht_free(&r);
	/* One the API refuses: the page alone, which then says why. */
	ht_request(h.port, "GET", "/?from=2010&to=2020&actor=ISIS&"
	    "alias=maybe", NULL, NULL, 0, &r);
	T_EQ_INT(r.status, 200);
	T_ASSERT(strstr(r.body, "<ol id=\"event-list\"></ol>") != NULL);
	ht_free(&r);

	/* The histogram counts what the events list finds, per year. */
	j = ht_get(&h, "/v1/histogram?from=2012&to=2018&by=year&actor=ISIS",
	    200);
	T_EQ_U64(json_array_size(json_object_get(j, "buckets")), 7);
	T_EQ_INT(ht_bucket(j, 0), 0);		/* 2012: before */
	T_EQ_INT(ht_bucket(j, 2), 1);		/* 2014: edge */
	T_EQ_INT(ht_bucket(j, 3), 1);		/* 2015: irq */
	T_EQ_INT(ht_bucket(j, 4), 2);		/* 2016: syr, both */
	T_EQ_INT(ht_bucket(j, 6), 0);		/* 2018: after */
	T_EQ_INT(json_integer_value(json_object_get(j, "total")), 4);
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_range(q, "2012", "2018"));
	T_OK(annals_query_set_actor(q, "ISIS", NULL));
	T_OK(annals_histogram(h.ctx, q, ANNALS_BY_YEAR, ANNALS_COUNT_OVERLAP,
	    &hist));
	for (i = 0; i < hist->nbuckets; i++)
		T_EQ_U64(ht_bucket(j, i), hist->buckets[i].count);
	annals_histogram_free(hist);
	annals_query_free(q);
	json_decref(j);
	j = ht_get(&h, "/v1/histogram?from=2012&to=2018&by=year&actor=ISIS&"
	    "alias=false", 200);
	T_EQ_INT(json_integer_value(json_object_get(j, "total")), 1);
	T_EQ_INT(ht_bucket(j, 3), 1);		/* 2015: code */
	json_decref(j);

	/* Co-actors: the alias's events, its own codes left out. */
	j = ht_get(&h, "/v1/co-actors?actor=ISIS", 200);
	T_EQ_STR(json_string_value(json_object_get(j, "actor")), "ISIS");
	T_EQ_INT(json_integer_value(json_object_get(j, "events")), 4);
	T_EQ_STR(ht_counts(j, buf, sizeof buf), "USA=1");
	json_decref(j);
	ht_co_actors_are(&h, "/v1/co-actors?actor=Bashar%20al-Assad",
	    1, "USA=1");
	ht_co_actors_are(&h, "/v1/co-actors?actor=SYRREB", 3, "IRQREB=1");
	ht_stop(&h);
}

/*
 * q= narrows the aggregations as it narrows /v1/events: the histogram,
 * the top actors and the co-actors count only the events whose title or
 * text has every word.
 */
TEST(http_text_filter_narrows_the_aggregations)
{
	struct hd	 h;
	struct hresp	 r;
	json_t		*j;
	char		 buf[256];

	ht_start(&h, NULL, 0);
	ht_request(h.port, "POST", "/v1/events", NULL, "["
	    "{\"start\":\"2015-01-10\",\"actors\":[\"AAA\",\"BBB\"],"
	    "\"title\":\"Peace talks in Geneva\"},"
	    "{\"start\":\"2015-02-10\",\"actors\":[\"AAA\",\"CCC\"],"
	    "\"title\":\"Peace march\"},"
	    "{\"start\":\"2015-02-20\",\"actors\":[\"BBB\",\"CCC\"],"
	    "\"title\":\"Border clash\"},"
	    "{\"start\":\"2016-03-01\",\"actors\":[\"AAA\",\"DDD\"],"
	    "\"title\":\"Talks collapse\"}]", 0, &r);
	T_ASSERTF(r.status == 200, "%d %.300s", r.status, r.body);
	ht_free(&r);

	j = ht_get(&h, "/v1/histogram?from=2015&to=2016&by=year", 200);
	T_EQ_INT(ht_bucket(j, 0), 3);
	T_EQ_INT(ht_bucket(j, 1), 1);
	json_decref(j);
	j = ht_get(&h, "/v1/histogram?from=2015&to=2016&by=year&q=PEACE",
	    200);
	T_EQ_INT(ht_bucket(j, 0), 2);
	T_EQ_INT(ht_bucket(j, 1), 0);
	T_EQ_INT(json_integer_value(json_object_get(j, "total")), 2);
	json_decref(j);
	j = ht_get(&h, "/v1/histogram?from=2015&to=2016&by=year&q=talks",
	    200);
	T_EQ_INT(ht_bucket(j, 0), 1);
	T_EQ_INT(ht_bucket(j, 1), 1);
	json_decref(j);

	j = ht_get(&h, "/v1/top?from=2015&to=2016", 200);
	T_EQ_STR(ht_counts(j, buf, sizeof buf),
	    "AAA=3 BBB=2 CCC=2 DDD=1");
	json_decref(j);
	j = ht_get(&h, "/v1/top?from=2015&to=2016&q=peace", 200);
	T_EQ_STR(ht_counts(j, buf, sizeof buf), "AAA=2 BBB=1 CCC=1");
	json_decref(j);
	j = ht_get(&h, "/v1/top?q=talks%20geneva", 200);
	T_EQ_STR(ht_counts(j, buf, sizeof buf), "AAA=1 BBB=1");
	json_decref(j);

	ht_co_actors_are(&h, "/v1/co-actors?actor=AAA", 3, "BBB=1 CCC=1 DDD=1");
	ht_co_actors_are(&h, "/v1/co-actors?actor=AAA&q=talks",
	    2, "BBB=1 DDD=1");
	ht_co_actors_are(&h, "/v1/co-actors?actor=AAA&q=clash", 0, "");
	ht_problem(&h, "GET", "/v1/top?q=%22%22", NULL, 400, "invalid",
	    NULL);
	ht_stop(&h);
}
