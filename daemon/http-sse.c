/*
 * The live change stream: GET /v1/changes with Accept: text/event-stream
 * answers with server-sent events, one per change of the change log:
 *
 *	id: 42
 *	event: put			(or delete)
 *	data: {"seq":42,"op":"put","id":7,"event":{...}}
 *
 * A stream starts after `since` (or the Last-Event-ID an EventSource
 * sends when it reconnects) and otherwise at the present.  After each
 * commit the group commit calls us (changes_listen) and every stream
 * reads what it has not sent yet from the log, a page at a time; the
 * next page is read only once the last one was written, so a slow
 * reader costs one page of memory, not the whole log.  A page ends at
 * SSE_PAGE changes or once it holds SSE_PAGE_BYTES, so it is at most that
 * plus one change (issue #15: 256 changes of 2 MB each made pages of
 * half a gigabyte).  A client that takes none of it is dropped by the
 * HTTP write timeout and reconnects with Last-Event-ID.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "annalsd.h"
#include "http.h"

/* Changes read from the log at a time for one stream, and their bytes. */
#define SSE_PAGE	256
#define SSE_PAGE_BYTES	(1u << 20)
/* Seconds between comments that keep idle streams (and proxies) open. */
#define SSE_BEAT	15

struct sse {
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
	struct event		*beat;
	uint64_t		 next;		/* the last seq sent */
	int			 busy;		/* a chunk is being written */
	int			 again;		/* changes came meanwhile */
	TAILQ_ENTRY(sse)	 entry;
};

static TAILQ_HEAD(, sse)	streams = TAILQ_HEAD_INITIALIZER(streams);
static size_t			nstreams;
static int			listening;

static void	sse_pump(struct sse *);

size_t
http_sse_count(void)
{
	return (nstreams);
}

/* Whether the client asks for an event stream. */
int
http_sse_wanted(struct evhttp_request *req)
{
	const char	*accept;

	accept = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Accept");
	return (accept != NULL && strstr(accept, "text/event-stream") != NULL);
}

static void
sse_free(struct sse *s)
{
	TAILQ_REMOVE(&streams, s, entry);
	nstreams--;
	event_free(s->beat);
	free(s);
}

/*
 * The connection is going.  When the client went away libevent has
 * already let go of the unfinished request, which is then ours to free;
 * otherwise the connection frees it.
 */
static void
sse_gone(struct evhttp_connection *evcon, void *arg)
{
	struct sse	*s = arg;

	(void)evcon;
	log_debug("http: event stream closed by the client");
	if (evhttp_request_get_connection(s->req) == NULL)
		evhttp_request_free(s->req);
	sse_free(s);
}

/* End a stream from our side: finish the chunked reply. */
static void
sse_end(struct sse *s)
{
	http_set_closecb(s->evcon, NULL, NULL);
	evhttp_send_reply_end(s->req);
	sse_free(s);
}

static int
sse_change(void *arg, const struct store_change *ch)
{
	struct evbuffer	*b = arg;

	if (STORE_CHANGE_IS_DICT(ch))
		return (STORE_CHANGE_SKIP);	/* events only over HTTP */
	/* The JSON's size is known only once written: stop after, not at. */
	if (evbuffer_get_length(b) >= SSE_PAGE_BYTES)
		return (STORE_PAGE_FULL);
	evbuffer_add_printf(b, "id: %llu\nevent: %s\ndata: {\"seq\":%llu,"
	    "\"op\":\"%s\",\"id\":%llu", (unsigned long long)ch->seq,
	    change_op_name(ch->op), (unsigned long long)ch->seq,
	    change_op_name(ch->op),
	    (unsigned long long)ch->id);
	if (ch->op == CHANGE_PUT) {
		evbuffer_add_printf(b, ",\"event\":");
		if (hjson_record(b, ch->data, ch->len, RECORD_FIELDS_ALL, NULL,
		    NULL) != 0)
			evbuffer_add(b, "null", 4);
	}
	evbuffer_add(b, "}\n\n", 3);
	return (0);
}

/* The chunk was written: send what came meanwhile. */
static void
sse_sent(struct evhttp_connection *evcon, void *arg)
{
	struct sse	*s = arg;

	(void)evcon;
	s->busy = 0;
	if (s->again) {
		s->again = 0;
		sse_pump(s);
	}
}

/* Send the changes after s->next, a page at a time. */
static void
sse_pump(struct sse *s)
{
	struct evbuffer	*b;
	struct aerr	 err;
	uint64_t	 next, last;
	int		 more;

	if (s->busy) {
		s->again = 1;
		return;
	}
	b = evbuffer_new();
	aerr_clear(&err);
	if (store_changes(server->store, s->next, SSE_PAGE, sse_change, b,
	    &next, &more, &last, &err) != 0) {
		evbuffer_drain(b, evbuffer_get_length(b));
		evbuffer_add_printf(b, "event: error\ndata: {\"code\":\"%s\","
		    "\"detail\":", aerr_name(err.code));
		hjson_str(b, err.msg, strlen(err.msg));
		evbuffer_add(b, "}\n\n", 3);
		evhttp_send_reply_chunk(s->req, b);
		evbuffer_free(b);
		sse_end(s);
		return;
	}
	s->next = next;
	if (evbuffer_get_length(b) > 0) {
		s->busy = 1;
		s->again = more;
		evhttp_send_reply_chunk_with_cb(s->req, b, sse_sent, s);
	}
	evbuffer_free(b);
}

static void
sse_committed(void *arg, uint64_t last_seq)
{
	struct sse	*s, *next;

	(void)arg; (void)last_seq;
	for (s = TAILQ_FIRST(&streams); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		sse_pump(s);
	}
}

static void
sse_beat(evutil_socket_t fd, short what, void *arg)
{
	struct sse	*s = arg;
	struct evbuffer	*b;

	(void)fd; (void)what;
	if (s->busy)
		return;
	b = evbuffer_new();
	evbuffer_add_printf(b, ": keep-alive\n\n");
	s->busy = 1;
	evhttp_send_reply_chunk_with_cb(s->req, b, sse_sent, s);
	evbuffer_free(b);
}

/* Answer req with an event stream of the changes after since. */
void
http_sse_start(struct evhttp_request *req, uint64_t since, int have_since)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct timeval		 tv = { SSE_BEAT, 0 };
	struct evbuffer		*b;
	struct sse		*s;

	s = xcalloc(1, sizeof *s);
	s->req = req;
	s->evcon = evhttp_request_get_connection(req);
	s->next = have_since ? since : store_last_seq(server->store);
	s->beat = event_new(server->base, -1, EV_PERSIST, sse_beat, s);
	evtimer_add(s->beat, &tv);
	TAILQ_INSERT_TAIL(&streams, s, entry);
	nstreams++;
	if (!listening) {
		changes_listen(sse_committed, NULL);
		listening = 1;
	}
	http_set_closecb(s->evcon, sse_gone, s);

	http_headers(req);
	evhttp_add_header(out, "Content-Type", "text/event-stream");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	/* Tell the client where it starts and how soon to reconnect. */
	b = evbuffer_new();
	evbuffer_add_printf(b, "retry: 2000\nid: %llu\n: annals changes\n\n",
	    (unsigned long long)s->next);
	s->busy = 1;
	s->again = 1;
	evhttp_send_reply_chunk_with_cb(req, b, sse_sent, s);
	evbuffer_free(b);
}

/* End every stream (shutdown). */
void
http_sse_free(void)
{
	struct sse	*s;

	while ((s = TAILQ_FIRST(&streams)) != NULL)
		sse_end(s);
	if (listening)
		changes_unlisten(sse_committed, NULL);
	listening = 0;
}
