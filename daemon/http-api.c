/*
 * The /v1 endpoints of the HTTP API, an adapter over the methods.  The
 * query string (or the body) is turned into the msgpack params a socket
 * client sends, the same m-*.c method runs them (dispatch_local), and
 * its result is written as JSON: both faces of the daemon accept and
 * refuse the same things with the same messages, and a write goes
 * through the group commit like the socket's.  Range pages, the change
 * log's pages and the timeline page are still cut here, on the JSON
 * they write, and read the store through the same query_decode.
 *
 * Paging: a page carries "next", the cursor of the following page as
 * base64url, and a Link header with rel="next"; null means the end.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "annalsd.h"
#include "http.h"
#include "../proto/json.h"

/* How a query parameter is packed. */
#define HP_STR		0
#define HP_UINT		1
#define HP_BOOL		2
#define HP_CURSOR	3	/* base64url -> bin */
#define HP_LOCAL	4	/* a bool for the endpoint itself, not packed */
#define HP_PAGE		5	/* the page's own: neither checked nor packed */
#define HP_LIST		6	/* "a,b,c" -> an array of str */
#define HP_TEXT		7	/* q: the str of the text filter */

struct hparam {
	const char	*name;
	int		 type;
};

#define HP_RANGE_FILTERS						\
	{ "from", HP_STR }, { "to", HP_STR }, { "actor", HP_STR },	\
	{ "role", HP_STR }, { "type", HP_STR }, { "tag", HP_STR },	\
	{ "source", HP_STR }, { "precision", HP_STR },			\
	{ "certain", HP_BOOL }, { "within", HP_BOOL },			\
	{ "q", HP_TEXT }, { "alias", HP_BOOL }

static const struct hparam hp_events[] = {
	HP_RANGE_FILTERS, { "limit", HP_UINT }, { "cursor", HP_CURSOR },
	{ "order", HP_STR }, { "span", HP_LOCAL }, { "fields", HP_LIST },
	{ NULL, 0 }
};
/* TimelineJS has no paging: one document of at most limit events. */
static const struct hparam hp_timelinejs[] = {
	HP_RANGE_FILTERS, { "limit", HP_UINT }, { "order", HP_STR },
	{ NULL, 0 }
};
static const struct hparam hp_histogram[] = {
	HP_RANGE_FILTERS, { "by", HP_STR }, { "count", HP_STR }, { NULL, 0 }
};
static const struct hparam hp_top[] = {
	{ "from", HP_STR }, { "to", HP_STR }, { "type", HP_STR },
	{ "tag", HP_STR }, { "source", HP_STR }, { "precision", HP_STR },
	{ "certain", HP_BOOL }, { "within", HP_BOOL }, { "limit", HP_UINT },
	{ "prefix", HP_STR }, { "q", HP_TEXT }, { NULL, 0 }
};
static const struct hparam hp_co[] = {
	HP_RANGE_FILTERS, { "limit", HP_UINT }, { NULL, 0 }
};
static const struct hparam hp_actors[] = {
	{ "prefix", HP_STR }, { "limit", HP_UINT }, { "cursor", HP_STR },
	{ "match", HP_STR }, { NULL, 0 }
};
/* Where an endpoint's default differs from its method's. */
static const struct {
	const struct hparam	*spec;
	const char		*name;
	uint64_t		 value;
} hp_defaults[] = {
	{ hp_actors, "limit", 100 },	/* actors pages by 1000 */
};
#define HP_NDEFAULTS	(sizeof hp_defaults / sizeof hp_defaults[0])

/* A ticket is taken (or refused) by http_auth() before we see it. */
static const struct hparam hp_changes[] = {
	{ "since", HP_UINT }, { "limit", HP_UINT }, { "ticket", HP_PAGE },
	{ "fields", HP_LIST }, { NULL, 0 }
};
static const struct hparam hp_get[] = { { "fields", HP_LIST }, { NULL, 0 } };
static const struct hparam hp_none[] = { { NULL, 0 } };
/*
 * The timeline page's address: its window and filters, which its list
 * is cut by as the page's own query is, and its selection.
 */
static const struct hparam hp_page[] = {
	{ "from", HP_STR }, { "to", HP_STR }, { "actor", HP_STR },
	{ "type", HP_STR }, { "q", HP_TEXT }, { "alias", HP_BOOL },
	{ "sel", HP_PAGE }, { NULL, 0 }
};

/* A request's parameters, decoded and packed as a params map. */
struct hreq {
	struct evhttp_request	*req;
	struct evkeyvalq	 kv;		/* the query string */
	msgpack_sbuffer		 sb;
	msgpack_unpacked	 up;
	const msgpack_object	*params;	/* NULL: none given */
	int			 local;		/* the HP_LOCAL one was true */
};

static void
hreq_free(struct hreq *h)
{
	evhttp_clear_headers(&h->kv);
	msgpack_sbuffer_destroy(&h->sb);
	msgpack_unpacked_destroy(&h->up);
}

static int
hreq_bool(const char *v, int *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
	    strcmp(v, "no") == 0)
		*out = 0;
	else
		return (-1);
	return (0);
}

static int
hreq_uint(const char *v, uint64_t *out)
{
	char	*end;

	if (*v < '0' || *v > '9' || strlen(v) > 20)
		return (-1);
	*out = strtoull(v, &end, 10);
	return (*end == '\0' ? 0 : -1);
}

/* Pack "a,b,c" as ["a", "b", "c"]; the decoder judges the names. */
static void
hreq_list(msgpack_packer *pk, const char *v)
{
	const char	*p, *comma;
	uint32_t	 n = 1;

	for (p = v; (p = strchr(p, ',')) != NULL; p++)
		n++;
	msgpack_pack_array(pk, n);
	for (p = v;; p = comma + 1) {
		if ((comma = strchr(p, ',')) == NULL)
			comma = p + strlen(p);
		msgpack_pack_str(pk, (size_t)(comma - p));
		msgpack_pack_str_body(pk, p, (size_t)(comma - p));
		if (*comma == '\0')
			break;
	}
}

static void
hreq_init(struct hreq *h, struct evhttp_request *req)
{
	memset(h, 0, sizeof *h);
	h->req = req;
	TAILQ_INIT(&h->kv);
	msgpack_sbuffer_init(&h->sb);
	msgpack_unpacked_init(&h->up);
}

/* The value of parameter name, NULL when absent or empty. */
static const char *
hreq_value(struct hreq *h, const char *name)
{
	const char	*v = evhttp_find_header(&h->kv, name);

	return (v != NULL && *v != '\0' ? v : NULL);
}

/*
 * Check the query string's names against spec: each known, none twice.
 * Returns how many go into the params map, or -1.
 */
static int
hreq_check(struct hreq *h, const struct hparam *spec, struct aerr *err)
{
	struct evkeyval	*kv, *k2;
	size_t		 i;
	int		 n = 0;

	TAILQ_FOREACH(kv, &h->kv, next) {
		for (i = 0; spec[i].name != NULL; i++) {
			if (strcmp(spec[i].name, kv->key) == 0)
				break;
		}
		if (spec[i].name == NULL) {
			aerr_set(err, AERR_INVALID, "unknown parameter \"%.64s\"",
			    kv->key);
			return (-1);
		}
		for (k2 = TAILQ_NEXT(kv, next); k2 != NULL;
		    k2 = TAILQ_NEXT(k2, next)) {
			if (strcmp(k2->key, kv->key) == 0) {
				aerr_set(err, AERR_INVALID, "duplicate "
				    "parameter \"%s\"", kv->key);
				return (-1);
			}
		}
		if (spec[i].type == HP_LOCAL) {
			if (*kv->value != '\0' &&
			    hreq_bool(kv->value, &h->local) != 0) {
				aerr_set(err, AERR_INVALID, "%s: \"%.32s\" is "
				    "not true or false", kv->key, kv->value);
				return (-1);
			}
		} else if (spec[i].type != HP_PAGE && *kv->value != '\0')
			n++;
	}
	return (n);
}

/* Pack the value of kv as its type says. */
static int
hreq_pack(msgpack_packer *pk, int type, const struct evkeyval *kv,
    struct aerr *err)
{
	unsigned char	bin[64];
	uint64_t	u;
	size_t		blen;
	int		b;

	switch (type) {
	case HP_UINT:
		if (hreq_uint(kv->value, &u) != 0) {
			aerr_set(err, AERR_INVALID, "%s: \"%.32s\" is not an "
			    "unsigned integer", kv->key, kv->value);
			return (-1);
		}
		msgpack_pack_uint64(pk, u);
		break;
	case HP_BOOL:
		if (hreq_bool(kv->value, &b) != 0) {
			aerr_set(err, AERR_INVALID, "%s: \"%.32s\" is not true "
			    "or false", kv->key, kv->value);
			return (-1);
		}
		if (b)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case HP_CURSOR:
		if (b64url_decode(kv->value, bin, sizeof bin, &blen) != 0) {
			aerr_set(err, AERR_BAD_CURSOR, "cursor is malformed");
			return (-1);
		}
		msgpack_pack_bin(pk, blen);
		msgpack_pack_bin_body(pk, bin, blen);
		break;
	case HP_LIST:
		hreq_list(pk, kv->value);
		break;
	default:
		mp_pack_str(pk, kv->value);
	}
	return (0);
}

/*
 * Parse the query string against spec into h->params, with "ids": [id]
 * first when id is not 0, and the endpoint's defaults (hp_defaults);
 * spec NULL leaves the query string unread.  An empty value counts as
 * absent, as HTML forms and dashboard variables send them.
 */
static int
hreq_parse_ids(struct hreq *h, struct evhttp_request *req,
    const struct hparam *spec, uint64_t id, struct aerr *err)
{
	const char		*qs;
	struct evkeyval		*kv;
	msgpack_packer		 pk;
	size_t			 i;
	int			 n = 0;

	hreq_init(h, req);
	qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (spec != NULL && qs != NULL &&
	    evhttp_parse_query_str(qs, &h->kv) != 0) {
		aerr_set(err, AERR_INVALID, "the query string is malformed");
		return (-1);
	}
	if (spec != NULL && (n = hreq_check(h, spec, err)) == -1)
		return (-1);
	if (id != 0)
		n++;
	for (i = 0; i < HP_NDEFAULTS; i++) {
		if (hp_defaults[i].spec == spec &&
		    hreq_value(h, hp_defaults[i].name) == NULL)
			n++;
	}
	msgpack_packer_init(&pk, &h->sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, (uint32_t)n);
	if (id != 0) {
		mp_pack_str(&pk, "ids");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_uint64(&pk, id);
	}
	for (i = 0; i < HP_NDEFAULTS; i++) {
		if (hp_defaults[i].spec == spec &&
		    hreq_value(h, hp_defaults[i].name) == NULL)
			mp_pack_kv_uint(&pk, hp_defaults[i].name,
			    hp_defaults[i].value);
	}
	TAILQ_FOREACH(kv, &h->kv, next) {
		if (*kv->value == '\0')
			continue;
		for (i = 0; strcmp(spec[i].name, kv->key) != 0; i++)
			;
		if (spec[i].type == HP_LOCAL || spec[i].type == HP_PAGE)
			continue;
		mp_pack_str(&pk, spec[i].type == HP_TEXT ? "text" : kv->key);
		if (hreq_pack(&pk, spec[i].type, kv, err) != 0)
			return (-1);
	}
	if (msgpack_unpack_next(&h->up, h->sb.data, h->sb.size, NULL) !=
	    MSGPACK_UNPACK_SUCCESS) {
		aerr_set(err, AERR_INTERNAL, "parameters did not pack");
		return (-1);
	}
	h->params = n > 0 ? &h->up.data : NULL;
	return (0);
}

static int
hreq_parse(struct hreq *h, struct evhttp_request *req,
    const struct hparam *spec, struct aerr *err)
{
	return (hreq_parse_ids(h, req, spec, 0, err));
}

/* Add a Link rel="next" header: this request with cursor replaced. */
static void
hreq_link_next(struct hreq *h, const char *path, const char *cursor)
{
	struct evbuffer	*b = evbuffer_new();
	struct evkeyval	*kv;
	char		*enc;
	int		 first = 1;

	evbuffer_add_printf(b, "<%s?", path);
	TAILQ_FOREACH(kv, &h->kv, next) {
		if (strcmp(kv->key, "cursor") == 0 || *kv->value == '\0')
			continue;
		enc = evhttp_encode_uri(kv->value);
		evbuffer_add_printf(b, "%s%s=%s", first ? "" : "&", kv->key,
		    enc != NULL ? enc : "");
		free(enc);
		first = 0;
	}
	evbuffer_add_printf(b, "%scursor=%s>; rel=\"next\"", first ? "" : "&",
	    cursor);
	evbuffer_add(b, "", 1);
	evhttp_add_header(evhttp_request_get_output_headers(h->req), "Link",
	    (const char *)evbuffer_pullup(b, -1));
	evbuffer_free(b);
}

struct events_ctx {
	struct hreq		*h;
	const struct query	*q;
	struct evbuffer		*out;
	int			 timelinejs;
	int			 span;		/* add each event's span */
	char			 next[64];	/* the next page's cursor */
};

/* Append "key":ms to buf, null for the infinities. */
static void
span_ms(char *buf, size_t size, const char *key, int64_t t)
{
	size_t	len = strlen(buf);

	if (t == DATE_NEG_INF || t == DATE_POS_INF ||
	    t > INT64_MAX / 1000 || t < INT64_MIN / 1000)
		snprintf(buf + len, size - len, "\"%s\":null,", key);
	else
		snprintf(buf + len, size - len, "\"%s\":%lld,", key,
		    (long long)t * 1000);
}

/*
 * "span":{...} of an event into buf: its strict, fuzzy and inner ranges
 * in ms and its precision, for drawing (DATES.md); "" when it has none.
 */
static void
span_json(char *buf, size_t size, const void *data, size_t len)
{
	msgpack_unpacked	 up;
	const msgpack_object	*o;
	struct date_span	 s;
	struct aerr		 err;
	char			 start[EVENT_MAX_DATE + 1], end[EVENT_MAX_DATE + 1];

	msgpack_unpacked_init(&up);
	buf[0] = start[0] = end[0] = '\0';
	if (msgpack_unpack_next(&up, data, len, NULL) == MSGPACK_UNPACK_SUCCESS) {
		if ((o = mp_get(&up.data, "start")) != NULL &&
		    o->type == MSGPACK_OBJECT_STR)
			snprintf(start, sizeof start, "%.*s",
			    (int)o->via.str.size, o->via.str.ptr);
		if ((o = mp_get(&up.data, "end")) != NULL &&
		    o->type == MSGPACK_OBJECT_STR)
			snprintf(end, sizeof end, "%.*s",
			    (int)o->via.str.size, o->via.str.ptr);
	}
	msgpack_unpacked_destroy(&up);
	if (date_event_span(start, end[0] != '\0' ? end : NULL, &s,
	    &err) != 0)
		return;
	snprintf(buf, size, "\"span\":{");
	span_ms(buf, size, "lo", s.lo);
	span_ms(buf, size, "hi", s.hi);
	span_ms(buf, size, "flo", s.flo);
	span_ms(buf, size, "fhi", s.fhi);
	span_ms(buf, size, "ilo", s.ilo <= s.ihi ? s.ilo : DATE_POS_INF);
	span_ms(buf, size, "ihi", s.ilo <= s.ihi ? s.ihi : DATE_POS_INF);
	len = strlen(buf);
	snprintf(buf + len, size - len, "\"precision\":\"%s\"}",
	    date_prec_name(s.prec));
}

/*
 * "via":{"alias":...,"code":...} of an alias query's hit into b, as the
 * range method's via (m-range.c): the alias, and the first of its codes
 * that the event has.
 */
static void
via_json(struct evbuffer *b, const struct query *q,
    const struct store_hit *hit)
{
	const char	*code = hit->via != NULL ? hit->via : "";

	evbuffer_add_printf(b, "\"via\":{\"alias\":");
	hjson_str(b, q->actor, strlen(q->actor));
	evbuffer_add_printf(b, ",\"code\":");
	hjson_str(b, code, strlen(code));
	evbuffer_add(b, "}", 1);
}

static void	tl_event(struct evbuffer *, const void *, size_t);

static int
events_page(void *arg, const struct store_page *page)
{
	struct events_ctx	*ec = arg;
	struct evbuffer		*extra = evbuffer_new();
	unsigned char		 cur[QUERY_CURSOR_LEN];
	char			 next[64], span[512];
	size_t			 i;

	evbuffer_add_printf(ec->out, "{\"events\":[");
	for (i = 0; i < page->nhits; i++) {
		if (i > 0)
			evbuffer_add(ec->out, ",", 1);
		if (ec->timelinejs) {
			tl_event(ec->out, page->hits[i].data,
			    page->hits[i].len);
			continue;
		}
		/* The keys after the record's own: span, via. */
		evbuffer_drain(extra, evbuffer_get_length(extra));
		if (ec->span) {
			span_json(span, sizeof span, page->hits[i].data,
			    page->hits[i].len);
			evbuffer_add_printf(extra, "%s", span);
		}
		if (ec->q->ncodes > 0) {
			if (evbuffer_get_length(extra) > 0)
				evbuffer_add(extra, ",", 1);
			via_json(extra, ec->q, &page->hits[i]);
		}
		evbuffer_add(extra, "", 1);
		if (hjson_record(ec->out, page->hits[i].data,
		    page->hits[i].len, ec->q->fields, page->hits[i].match ==
		    DATE_MATCH_CERTAIN ? "certain" : "possible",
		    (const char *)evbuffer_pullup(extra, -1)) != 0)
			evbuffer_add(ec->out, "null", 4);
	}
	evbuffer_free(extra);
	evbuffer_add(ec->out, "]", 1);
	if (ec->timelinejs) {
		evbuffer_add(ec->out, "}", 1);
		return (0);
	}
	if (page->more && page->nhits > 0) {
		query_cursor_encode(ec->q, page->hits[page->nhits - 1].start,
		    page->hits[page->nhits - 1].id, cur, sizeof cur);
		b64url_encode(cur, sizeof cur, next, sizeof next);
		evbuffer_add_printf(ec->out, ",\"next\":\"%s\"}", next);
		/* The Link header is added on the loop (events_done). */
		snprintf(ec->next, sizeof ec->next, "%s", next);
	} else
		evbuffer_add_printf(ec->out, ",\"next\":null}");
	return (0);
}

/*
 * A GET answered on a reader thread (readers_call), so that a dashboard's
 * queries neither hold the loop nor stay on one core.  The thread runs
 * only the store and the encoding into the job's own buffers; the
 * request is touched on the loop alone.  A client that leaves meanwhile
 * has its orphaned request freed and its answer dropped.
 */
struct api_job {
	struct evhttp_request	 *req;		/* NULL once the client left */
	struct evhttp_connection *evcon;	/* while on a thread */
	struct hreq		  h;
	struct aerr		  err;
	int			  rc;
};

/*
 * A close callback for a request answered later (arg: where it is kept):
 * the client left, so the answer is dropped; an orphaned request (one
 * libevent has let go of) is ours to free.
 */
static void
request_gone(struct evhttp_connection *evcon, void *arg)
{
	struct evhttp_request	**req = arg;

	(void)evcon;
	if (evhttp_request_get_connection(*req) == NULL)
		evhttp_request_free(*req);
	*req = NULL;
}

/* Run work(job) on a reader thread and then done(job), or both here. */
static void
api_job_start(struct api_job *j, void (*work)(void *), void (*done)(void *))
{
	if (readers_call(work, done, j) == 0) {
		j->evcon = evhttp_request_get_connection(j->req);
		http_set_closecb(j->evcon, request_gone, &j->req);
		return;
	}
	work(j);
	done(j);
}

/* In done: whether the client is still there to be answered. */
static int
api_job_answerable(struct api_job *j)
{
	if (j->req == NULL)
		return (0);
	if (j->evcon != NULL)
		http_set_closecb(j->evcon, NULL, NULL);
	return (1);
}

struct events_job {
	struct api_job		 a;		/* first: the job is an api_job */
	struct query		 q;
	struct events_ctx	 ec;
};

/* An actor that names an alias asks for its codes, as range does. */
static void
events_run(void *arg)
{
	struct events_job	*j = arg;

	if ((j->a.rc = names_resolve(&j->q, &j->a.err)) != 0)
		return;
	j->a.rc = store_query(server->store, &j->q, NULL, events_page,
	    &j->ec, &j->a.err);
}

static void
events_done(void *arg)
{
	struct events_job	*j = arg;

	if (api_job_answerable(&j->a)) {
		if (j->a.rc != 0)
			http_problem(j->a.req, 0, &j->a.err);
		else {
			if (j->ec.next[0] != '\0')
				hreq_link_next(&j->a.h, "/v1/events",
				    j->ec.next);
			http_send_json(j->a.req, 200, j->ec.out, 1);
		}
	}
	evbuffer_free(j->ec.out);
	query_clear(&j->q);
	hreq_free(&j->a.h);
	free(j);
}

/* GET /v1/events and GET /v1/timelinejs: one page of a range query. */
static void
api_events(struct evhttp_request *req, int timelinejs)
{
	struct events_job	*j = xcalloc(1, sizeof *j);

	aerr_clear(&j->a.err);
	if (hreq_parse(&j->a.h, req, timelinejs ? hp_timelinejs : hp_events,
	    &j->a.err) != 0 ||
	    query_decode(j->a.h.params, QUERY_RANGE, &j->q, &j->a.err) != 0) {
		http_problem(req, 0, &j->a.err);
		hreq_free(&j->a.h);
		free(j);
		return;
	}
	if (http_not_modified(req)) {
		query_clear(&j->q);
		hreq_free(&j->a.h);
		free(j);
		return;
	}
	j->a.req = req;
	j->ec.h = &j->a.h;
	j->ec.q = &j->q;
	j->ec.out = evbuffer_new();
	j->ec.timelinejs = timelinejs;
	j->ec.span = j->a.h.local;
	api_job_start(&j->a, events_run, events_done);
}

/* The id of /v1/events/{id}; 0 when it is not one. */
static uint64_t
api_id(const char *s)
{
	uint64_t	id;

	if (hreq_uint(s, &id) != 0 || id == 0)
		return (0);
	return (id);
}

/*
 * A request that a method answers (dispatch_local): its params packed
 * from the request, the same m-*.c code as the socket's runs them, and
 * answer turns the method's result into the HTTP answer.  The client may
 * leave meanwhile: then the answer is dropped, and a write still
 * commits, as on the socket.
 */
struct method_job {
	struct api_job	 a;		/* first: the job is an api_job */
	void		(*answer)(struct method_job *, const msgpack_object *);
	uint64_t	 id;		/* of /v1/events/{id} */
	int		 array;		/* POST of an array */
	int		 write;		/* 413 for the store's limits */
	int		 have_rev;	/* POST with If-Match */
	uint64_t	 rev;
	struct evbuffer	*body;		/* POST, until packed */
	struct put_batch *batch;	/* POST, decoded */
};

static void
method_done(void *arg, const msgpack_object *result, const struct aerr *err)
{
	struct method_job	*j = arg;

	if (api_job_answerable(&j->a)) {
		/* A write the store refused for its size is too large. */
		if (err != NULL)
			http_problem(j->a.req, err->code == AERR_LIMIT &&
			    j->write ? 413 : 0, err);
		else
			j->answer(j, result);
	}
	hreq_free(&j->a.h);
	free(j);
}

/* The answer comes later: drop it if the client leaves meanwhile. */
static void
method_wait(struct method_job *j)
{
	if (j->a.req != NULL) {
		j->a.evcon = evhttp_request_get_connection(j->a.req);
		http_set_closecb(j->a.evcon, request_gone, &j->a.req);
	}
}

static void
method_start(struct method_job *j, const struct method *m)
{
	method_wait(j);
	dispatch_local(m, j->a.h.params, method_done, j);
}

/* The one element of the array result[key], or NULL. */
static const msgpack_object *
method_first(const msgpack_object *result, const char *key)
{
	const msgpack_object	*o = mp_get(result, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY ||
	    o->via.array.size == 0)
		return (NULL);
	return (&o->via.array.ptr[0]);
}

static void
method_send(struct method_job *j, int status, const msgpack_object *o,
    int cache)
{
	struct evbuffer	*out = evbuffer_new();
	struct aerr	 err;

	if (hjson_from_mp(out, o) != 0) {
		aerr_set(&err, AERR_INTERNAL, "result has no JSON form");
		http_problem(j->a.req, 0, &err);
	} else
		http_send_json(j->a.req, status, out, cache);
	evbuffer_free(out);
}

static void
method_not_found(struct method_job *j)
{
	struct aerr	err;

	aerr_set(&err, AERR_NOT_FOUND, "event %llu not found",
	    (unsigned long long)j->id);
	http_problem(j->a.req, 0, &err);
}

static void
get_answer(struct method_job *j, const msgpack_object *result)
{
	const msgpack_object	*ev = method_first(result, "events");

	if (ev == NULL || ev->type == MSGPACK_OBJECT_NIL)
		method_not_found(j);
	else
		method_send(j, 200, ev, 1);
}

static struct method_job *
method_job_new(struct evhttp_request *req, uint64_t id,
    void (*answer)(struct method_job *, const msgpack_object *))
{
	struct method_job	*j = xcalloc(1, sizeof *j);

	hreq_init(&j->a.h, req);
	aerr_clear(&j->a.err);
	j->a.req = req;
	j->id = id;
	j->answer = answer;
	return (j);
}

static void
method_job_fail(struct method_job *j)
{
	http_problem(j->a.req, 0, &j->a.err);
	hreq_free(&j->a.h);
	free(j);
}

/*
 * A GET that method m answers: its query string checked against spec
 * and packed, with "ids": [id] when id is not 0.
 */
static void
api_method_get(struct evhttp_request *req, const struct hparam *spec,
    uint64_t id, const struct method *m,
    void (*answer)(struct method_job *, const msgpack_object *))
{
	struct method_job	*j = method_job_new(req, id, answer);

	if (hreq_parse_ids(&j->a.h, req, spec, id, &j->a.err) != 0) {
		method_job_fail(j);
		return;
	}
	if (http_not_modified(req)) {
		hreq_free(&j->a.h);
		free(j);
		return;
	}
	method_start(j, m);
}

static void
delete_answer(struct method_job *j, const msgpack_object *result)
{
	const msgpack_object	*done = method_first(result, "deleted");
	struct evbuffer		*out;

	if (done == NULL || done->type != MSGPACK_OBJECT_BOOLEAN ||
	    !done->via.boolean) {
		method_not_found(j);
		return;
	}
	out = evbuffer_new();
	evbuffer_add_printf(out, "{\"id\":%llu,\"deleted\":true}",
	    (unsigned long long)j->id);
	http_send_json(j->a.req, 200, out, 0);
	evbuffer_free(out);
}

/* DELETE /v1/events/{id}: the delete method with one id. */
static void
api_event_delete(struct evhttp_request *req, uint64_t id)
{
	struct method_job	*j = method_job_new(req, id, delete_answer);

	j->write = 1;
	/* It takes no parameters, and never looked at the query string. */
	if (hreq_parse_ids(&j->a.h, req, NULL, id, &j->a.err) != 0) {
		method_job_fail(j);
		return;
	}
	method_start(j, &method_delete);
}

static void
put_answer(struct method_job *j, const msgpack_object *result)
{
	const msgpack_object	*one, *id, *status;
	char			 loc[64];

	if (j->array) {
		method_send(j, 200, result, 0);
		return;
	}
	/* One record: its own result, and where a new one is. */
	one = method_first(result, "results");
	if (one == NULL || (id = mp_get(one, "id")) == NULL ||
	    (status = mp_get(one, "status")) == NULL) {
		method_send(j, 200, result, 0);
		return;
	}
	if (!mp_key_is(status, "added")) {
		method_send(j, 200, one, 0);
		return;
	}
	snprintf(loc, sizeof loc, "/v1/events/%llu",
	    (unsigned long long)id->via.u64);
	evhttp_add_header(evhttp_request_get_output_headers(j->a.req),
	    "Location", loc);
	method_send(j, 201, one, 0);
}

/*
 * On a reader thread: the body as the put method's params, {"records":
 * [...]} for an array, {"record": {...}} for one, checked as a socket
 * frame would be (frame_check), and decoded by put (put_decode).
 */
static void
post_run(void *arg)
{
	struct method_job	*j = arg;
	struct hreq		*h = &j->a.h;
	msgpack_sbuffer		 recs;
	msgpack_packer		 pk;
	size_t			 len = evbuffer_get_length(j->body);

	j->a.rc = -1;
	msgpack_sbuffer_init(&recs);
	msgpack_packer_init(&pk, &recs, msgpack_sbuffer_write);
	if (hjson_to_mp((const char *)evbuffer_pullup(j->body, -1), len, &pk,
	    &j->array, j->have_rev ? &j->rev : NULL, &j->a.err) != 0)
		goto out;
	msgpack_packer_init(&pk, &h->sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, j->have_rev ? 2 : 1);
	mp_pack_str(&pk, j->array ? "records" : "record");
	msgpack_sbuffer_write(&h->sb, recs.data, recs.size);
	if (j->have_rev) {
		mp_pack_str(&pk, "check_rev");
		msgpack_pack_true(&pk);
	}
	if (frame_check((const unsigned char *)h->sb.data, h->sb.size,
	    &j->a.err) != 0 || msgpack_unpack_next(&h->up, h->sb.data,
	    h->sb.size, NULL) != MSGPACK_UNPACK_SUCCESS) {
		if (j->a.err.code == 0)
			aerr_set(&j->a.err, AERR_INVALID, "body: cannot be "
			    "packed");
		goto out;
	}
	h->params = &h->up.data;
	if (put_decode(h->params, &j->batch, &j->a.err) != 0)
		goto out;
	j->a.rc = 0;
out:
	/*
	 * The batch holds copies: free the packed body here, not on the
	 * loop (millions of objects for a large one).
	 */
	hreq_free(h);
	hreq_init(h, h->req);
	msgpack_sbuffer_destroy(&recs);
	/* The text is not needed any more; the packed form is. */
	evbuffer_free(j->body);
	j->body = NULL;
}

static void
post_done(void *arg)
{
	struct method_job	*j = arg;

	if (!api_job_answerable(&j->a))
		j->a.req = NULL;
	if (j->a.rc == 0) {
		/* A client that left still has its write committed. */
		method_wait(j);
		put_local(j->batch, method_done, j);
		return;
	}
	if (j->a.req != NULL)
		http_problem(j->a.req, 0, &j->a.err);
	hreq_free(&j->a.h);
	free(j);
}

/*
 * If-Match: "rev" (or rev) makes a POST of one record conditional, as
 * put's check_rev: 1 if there is one, 0 if not, -1 if it is not one.
 */
static int
post_if_match(struct evhttp_request *req, uint64_t *rev, struct aerr *err)
{
	const char	*v;
	char		 digits[24];
	size_t		 n;

	v = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-Match");
	if (v == NULL)
		return (0);
	n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	snprintf(digits, sizeof digits, "%.*s", (int)n, v);
	if (n >= sizeof digits || hreq_uint(digits, rev) != 0) {
		aerr_set(err, AERR_INVALID, "If-Match: \"%.32s\" is not a "
		    "rev", v);
		return (-1);
	}
	return (1);
}

/*
 * POST /v1/events: a record or an array of them, the put method's.  The
 * JSON is parsed on a reader thread (readers_call): a body of 16 MiB
 * takes a while, and the loop answers everyone else meanwhile.  The job
 * owns the body, moved out of the request's buffer, so that the thread
 * never touches the request.
 */
static void
api_events_post(struct evhttp_request *req)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct method_job	*j;
	size_t			 len = evbuffer_get_length(in);

	j = method_job_new(req, 0, put_answer);
	j->write = 1;
	if (len > http_config()->max_body) {
		aerr_set(&j->a.err, AERR_LIMIT, "body: %zu bytes exceed "
		    "limit %zu", len, http_config()->max_body);
		http_problem(req, 413, &j->a.err);
		hreq_free(&j->a.h);
		free(j);
		return;
	}
	if ((j->have_rev = post_if_match(req, &j->rev, &j->a.err)) == -1) {
		method_job_fail(j);
		return;
	}
	/* Moved, not copied: the request's buffer is left empty. */
	if ((j->body = evbuffer_new()) == NULL ||
	    evbuffer_add_buffer(j->body, in) != 0)
		fatalx("cannot take a body of %zu bytes", len);
	api_job_start(&j->a, post_run, post_done);
}

static void
actors_answer(struct method_job *j, const msgpack_object *result)
{
	const msgpack_object	*names = mp_get(result, "actors");
	const msgpack_object	*cursor = mp_get(result, "cursor");
	struct evbuffer		*out = evbuffer_new();
	char			*enc, last[EVENT_MAX_ACTOR + 1];

	evbuffer_add_printf(out, "{\"actors\":");
	if (names == NULL || hjson_from_mp(out, names) != 0)
		evbuffer_add(out, "[]", 2);
	/* The cursor is the last name given, or nil after the last page. */
	if (cursor != NULL && cursor->type == MSGPACK_OBJECT_STR) {
		evbuffer_add_printf(out, ",\"next\":");
		hjson_str(out, cursor->via.str.ptr, cursor->via.str.size);
		evbuffer_add(out, "}", 1);
		snprintf(last, sizeof last, "%.*s", (int)cursor->via.str.size,
		    cursor->via.str.ptr);
		enc = evhttp_encode_uri(last);
		hreq_link_next(&j->a.h, "/v1/actors", enc);
		free(enc);
	} else
		evbuffer_add_printf(out, ",\"next\":null}");
	http_send_json(j->a.req, 200, out, 1);
	evbuffer_free(out);
}

/* GET /v1/histogram, /v1/top, /v1/co-actors: the result as it is. */
static void
agg_answer(struct method_job *j, const msgpack_object *result)
{
	method_send(j, 200, result, 1);
}

static void
api_stats(struct evhttp_request *req)
{
	struct evbuffer		*out;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	struct hreq		 h;
	struct aerr		 err;

	aerr_clear(&err);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (hreq_parse(&h, req, hp_none, &err) != 0 ||
	    stats_pack(&pk, (long)http_sse_count(), &err) != 0) {
		http_problem(req, 0, &err);
		hreq_free(&h);
		msgpack_sbuffer_destroy(&sb);
		return;
	}
	hreq_free(&h);
	out = evbuffer_new();
	hjson_result(out, &sb);
	msgpack_sbuffer_destroy(&sb);
	http_send_json(req, 200, out, 0);
	evbuffer_free(out);
}

struct changes_ctx {
	struct evbuffer	*out;
	size_t		 n;
	uint32_t	 fields;
};

static int
api_change_one(void *arg, const struct store_change *ch)
{
	struct changes_ctx	*c = arg;

	if (STORE_CHANGE_IS_DICT(ch))
		return (STORE_CHANGE_SKIP);	/* events only over HTTP */
	/* A page as large as the protocol's, give or take one change. */
	if (c->n > 0 && evbuffer_get_length(c->out) >= dispatch_page_budget())
		return (STORE_PAGE_FULL);
	evbuffer_add_printf(c->out, "%s{\"seq\":%llu,\"op\":\"%s\","
	    "\"id\":%llu", c->n++ ? "," : "", (unsigned long long)ch->seq,
	    change_op_name(ch->op), (unsigned long long)ch->id);
	if (ch->op == CHANGE_PUT) {
		evbuffer_add_printf(c->out, ",\"event\":");
		if (hjson_record(c->out, ch->data, ch->len, c->fields, NULL,
		    NULL) != 0)
			evbuffer_add(c->out, "null", 4);
	}
	evbuffer_add(c->out, "}", 1);
	return (0);
}

/* GET /v1/changes: a page of the change log, or the live stream. */
static void
api_changes(struct evhttp_request *req)
{
	const msgpack_object	*o;
	struct changes_ctx	 c;
	struct hreq		 h;
	struct aerr		 err;
	const char		*lei;
	uint64_t		 since = 0, limit = PROTO_DEFAULT_PAGE, next;
	uint64_t		 last;
	int			 more, have_since = 0;

	aerr_clear(&err);
	if (hreq_parse(&h, req, hp_changes, &err) != 0)
		goto fail;
	if ((o = mp_get(h.params, "since")) != NULL) {
		since = o->via.u64;
		have_since = 1;
	}
	if ((o = mp_get(h.params, "limit")) != NULL)
		limit = o->via.u64;
	if (limit == 0 || limit > PROTO_MAX_PAGE) {
		aerr_set(&err, AERR_INVALID, "limit: %llu is outside 1 to %d",
		    (unsigned long long)limit, PROTO_MAX_PAGE);
		goto fail;
	}
	if (fields_param(h.params, &c.fields, &err) != 0)
		goto fail;
	if (http_sse_wanted(req)) {
		if (c.fields != RECORD_FIELDS_ALL) {
			aerr_set(&err, AERR_INVALID, "fields: the event "
			    "stream sends whole records");
			goto fail;
		}
		/* A reconnecting EventSource says where it stopped. */
		lei = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "Last-Event-ID");
		if (lei != NULL && hreq_uint(lei, &since) == 0)
			have_since = 1;
		hreq_free(&h);
		http_sse_start(req, since, have_since);
		return;
	}
	if (http_not_modified(req))
		goto out;
	c.out = evbuffer_new();
	c.n = 0;
	evbuffer_add_printf(c.out, "{\"changes\":[");
	if (store_changes(server->store, since, (uint32_t)limit,
	    api_change_one, &c, &next, &more, &last, &err) != 0) {
		evbuffer_free(c.out);
		goto fail;
	}
	evbuffer_add_printf(c.out, "],\"next\":%llu,\"more\":%s,"
	    "\"last_seq\":%llu}", (unsigned long long)next,
	    more ? "true" : "false", (unsigned long long)last);
	http_send_json(req, 200, c.out, 1);
	evbuffer_free(c.out);
	goto out;
fail:
	http_problem(req, 0, &err);
out:
	hreq_free(&h);
}

/* s as HTML text; with quotes, also fit for an attribute's value. */
static void
html_text(struct evbuffer *b, const char *s, int quotes)
{
	for (; *s != '\0'; s++) {
		if (*s == '<')
			evbuffer_add(b, "&lt;", 4);
		else if (*s == '>')
			evbuffer_add(b, "&gt;", 4);
		else if (*s == '&')
			evbuffer_add(b, "&amp;", 5);
		else if (*s == '"' && quotes)
			evbuffer_add(b, "&quot;", 6);
		else
			evbuffer_add(b, s, 1);
	}
}

static void
tl_write(void *arg, const void *data, size_t len)
{
	evbuffer_add(arg, data, len);
}

/* One event as a TimelineJS slide (null if the record is unreadable). */
static void
tl_event(struct evbuffer *b, const void *data, size_t len)
{
	const struct json_out	 out = { tl_write, b };
	msgpack_unpacked	 up;
	struct event		 ev;
	struct aerr		 err;

	memset(&ev, 0, sizeof ev);
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, data, len, NULL) !=
	    MSGPACK_UNPACK_SUCCESS ||
	    record_decode_stored(&up.data, &ev, &err) != 0) {
		msgpack_unpacked_destroy(&up);
		evbuffer_add(b, "null", 4);
		return;
	}
	msgpack_unpacked_destroy(&up);
	if (timelinejs_slide(&out, ev.id, ev.start, ev.end, &ev.span,
	    ev.title, ev.text, ev.type) != 0)
		fatalx("out of memory");
	record_clear(&ev);
}

/*
 * GET / with a window (?from=...&to=...): the timeline page with the
 * window's events already listed in it, so that the first paint, a
 * reader without scripts and chromium --dump-dom see them before the
 * page's own requests come back.  The list is the first page of the
 * query the page makes (/v1/events with from, to, actor, type, q and
 * alias), so that it never shows events the page then takes away.
 */
struct page_job {
	struct api_job	 a;		/* first: the job is an api_job */
	struct query	 q;
	struct evbuffer	*list;
};

/* One event as the page lists it: <li data-id><time>when</time> label. */
static void
page_item(struct evbuffer *b, const void *data, size_t len)
{
	msgpack_unpacked up;
	struct event	 ev;
	struct aerr	 err;
	char		 label[64];

	memset(&ev, 0, sizeof ev);
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, data, len, NULL) !=
	    MSGPACK_UNPACK_SUCCESS || record_decode(&up.data, &ev, &err) != 0) {
		msgpack_unpacked_destroy(&up);
		return;
	}
	msgpack_unpacked_destroy(&up);
	evbuffer_add_printf(b, "<li data-id=\"%llu\"><time>",
	    (unsigned long long)ev.id);
	html_text(b, ev.start, 1);
	if (ev.end != NULL) {
		evbuffer_add(b, " / ", 3);
		html_text(b, ev.end, 1);
	}
	evbuffer_add(b, "</time> ", 8);
	snprintf(label, sizeof label, "event %llu", (unsigned long long)ev.id);
	html_text(b, ev.title != NULL ? ev.title : ev.type != NULL ? ev.type :
	    label, 1);
	evbuffer_add(b, "</li>\n", 6);
	record_clear(&ev);
}

static int
page_list(void *arg, const struct store_page *page)
{
	struct page_job	*j = arg;
	size_t		 i;

	for (i = 0; i < page->nhits; i++)
		page_item(j->list, page->hits[i].data, page->hits[i].len);
	if (page->more)
		evbuffer_add_printf(j->list, "<li class=\"more\">and more: "
		    "the first %zu are listed</li>\n", page->nhits);
	return (0);
}

static void
page_run(void *arg)
{
	struct page_job	*j = arg;

	if ((j->a.rc = names_resolve(&j->q, &j->a.err)) != 0)
		return;
	j->a.rc = store_query(server->store, &j->q, NULL, page_list, j,
	    &j->a.err);
}

static void
page_done(void *arg)
{
	struct page_job	*j = arg;

	if (api_job_answerable(&j->a)) {
		/* Without the list the page still works: it asks for it. */
		if (j->a.rc != 0) {
			log_warn("http page list: %s", j->a.err.msg);
			evbuffer_drain(j->list, evbuffer_get_length(j->list));
		}
		http_page_send(j->a.req, j->list);
	}
	evbuffer_free(j->list);
	query_clear(&j->q);
	hreq_free(&j->a.h);
	free(j);
}

/*
 * Start answering GET / for an address with a window; -1 (nothing sent)
 * when it has none or it is not one the API takes: then the page is
 * sent as it is, and says what is wrong once it asks.
 */
int
http_api_page(struct evhttp_request *req)
{
	struct page_job	*j = xcalloc(1, sizeof *j);
	const char	*from, *to;

	aerr_clear(&j->a.err);
	if (hreq_parse(&j->a.h, req, hp_page, &j->a.err) != 0 ||
	    (from = evhttp_find_header(&j->a.h.kv, "from")) == NULL ||
	    (to = evhttp_find_header(&j->a.h.kv, "to")) == NULL ||
	    *from == '\0' || *to == '\0' ||
	    query_decode(j->a.h.params, QUERY_RANGE, &j->q, &j->a.err) != 0) {
		query_clear(&j->q);
		hreq_free(&j->a.h);
		free(j);
		return (-1);
	}
	j->a.req = req;
	j->list = evbuffer_new();
	api_job_start(&j->a, page_run, page_done);
	return (0);
}

/* GET /v1: what there is. */
static void
api_index(struct evhttp_request *req)
{
	struct evbuffer	*out;
	struct hreq	 h;
	struct aerr	 err;

	/* It takes no parameters, and says so like every endpoint. */
	aerr_clear(&err);
	if (hreq_parse(&h, req, hp_none, &err) != 0) {
		http_problem(req, 0, &err);
		hreq_free(&h);
		return;
	}
	hreq_free(&h);
	out = evbuffer_new();
	evbuffer_add_printf(out, "{\"server\":\"annalsd\",\"version\":\"%s\","
	    "\"endpoints\":[\"/v1/events\",\"/v1/events/{id}\","
	    "\"/v1/actors\",\"/v1/actors/{code}\",\"/v1/histogram\",\"/v1/top\",\"/v1/co-actors\","
	    "\"/v1/stats\",\"/v1/changes\",\"/v1/tickets\","
	    "\"/v1/timelinejs\"]}",
	    ANNALS_VERSION_STRING);
	http_send_json(req, 200, out, 0);
	evbuffer_free(out);
}

static void
api_method_not_allowed(struct evhttp_request *req, const char *allow)
{
	char	detail[128];

	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    allow);
	snprintf(detail, sizeof detail, "this resource takes %s", allow);
	http_problem_status(req, 405, "method_not_allowed", detail);
}

/*
 * POST /v1/tickets: a ticket that opens the change stream once, for a
 * page whose EventSource cannot send its token (http-ticket.c).
 */
static void
api_tickets(struct evhttp_request *req)
{
	struct evbuffer	*out;
	struct hreq	 h;
	struct aerr	 err;
	char		 ticket[HTTP_TICKET_SIZE];
	uint64_t	 expires;

	aerr_clear(&err);
	if (hreq_parse(&h, req, hp_none, &err) != 0 ||
	    http_ticket_new(ticket, sizeof ticket, &expires, &err) != 0) {
		http_problem(req, 0, &err);
		hreq_free(&h);
		return;
	}
	hreq_free(&h);
	out = evbuffer_new();
	evbuffer_add_printf(out, "{\"ticket\":\"%s\",\"expires\":%llu}",
	    ticket, (unsigned long long)expires);
	explicit_bzero(ticket, sizeof ticket);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	http_send_json(req, 200, out, 0);
	evbuffer_free(out);
}

void
http_api(struct evhttp_request *req, const char *path)
{
	int		 cmd = evhttp_request_get_command(req);
	int		 get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
	uint64_t	 id;
	char		 detail[128];
	struct aerr	 err;

	/* A replica: writes go to the primary (and tickets are no write). */
	if (strcmp(path, "/v1/stats") != 0 &&
	    strcmp(path, "/v1/tickets") != 0 && replica_refuse(path,
	    cmd == EVHTTP_REQ_POST || cmd == EVHTTP_REQ_DELETE, &err)) {
		http_problem(req, 0, &err);
		return;
	}
	if (strcmp(path, "/v1/events") == 0) {
		if (get)
			api_events(req, 0);
		else if (cmd == EVHTTP_REQ_POST)
			api_events_post(req);
		else
			api_method_not_allowed(req, "GET, HEAD, POST");
		return;
	}
	if (strncmp(path, "/v1/events/", 11) == 0) {
		if ((id = api_id(path + 11)) == 0) {
			snprintf(detail, sizeof detail, "%.32s is not an event "
			    "id", path + 11);
			http_problem_status(req, 404, "not_found", detail);
		} else if (get)
			api_method_get(req, hp_get, id, &method_get,
			    get_answer);
		else if (cmd == EVHTTP_REQ_DELETE)
			api_event_delete(req, id);
		else
			api_method_not_allowed(req, "GET, HEAD, DELETE");
		return;
	}
	if (strncmp(path, "/v1/actors/", 11) == 0) {
		if (get)
			http_actor_get(req, path + 11);	/* http-actor.c */
		else
			api_method_not_allowed(req, "GET, HEAD");
		return;
	}
	if (strcmp(path, "/v1/tickets") == 0) {
		if (cmd == EVHTTP_REQ_POST)
			api_tickets(req);
		else
			api_method_not_allowed(req, "POST");
		return;
	}
	if (!get) {
		if (strcmp(path, "/v1") == 0 || strcmp(path, "/v1/") == 0 ||
		    strcmp(path, "/v1/actors") == 0 ||
		    strcmp(path, "/v1/histogram") == 0 ||
		    strcmp(path, "/v1/top") == 0 ||
		    strcmp(path, "/v1/co-actors") == 0 ||
		    strcmp(path, "/v1/stats") == 0 ||
		    strcmp(path, "/v1/changes") == 0 ||
		    strcmp(path, "/v1/timelinejs") == 0) {
			api_method_not_allowed(req, "GET, HEAD");
			return;
		}
	} else if (strcmp(path, "/v1") == 0 || strcmp(path, "/v1/") == 0) {
		api_index(req);
		return;
	} else if (strcmp(path, "/v1/actors") == 0) {
		api_method_get(req, hp_actors, 0, &method_actors,
		    actors_answer);
		return;
	} else if (strcmp(path, "/v1/histogram") == 0) {
		api_method_get(req, hp_histogram, 0, &method_histogram,
		    agg_answer);
		return;
	} else if (strcmp(path, "/v1/top") == 0) {
		api_method_get(req, hp_top, 0, &method_top_actors,
		    agg_answer);
		return;
	} else if (strcmp(path, "/v1/co-actors") == 0) {
		api_method_get(req, hp_co, 0, &method_co_actors,
		    agg_answer);
		return;
	} else if (strcmp(path, "/v1/stats") == 0) {
		api_stats(req);
		return;
	} else if (strcmp(path, "/v1/changes") == 0) {
		api_changes(req);
		return;
	} else if (strcmp(path, "/v1/timelinejs") == 0) {
		api_events(req, 1);
		return;
	}
	snprintf(detail, sizeof detail, "no resource %.64s", path);
	http_problem_status(req, 404, "not_found", detail);
}
