/*
 * One client connection: reassembles frames from its bufferevent, hands
 * each request to dispatch, and writes replies in request order.
 *
 * Order: dispatch decides where a request runs and when it must wait
 * (dispatch.c); a request handed on, to a reader thread or the group
 * commit, comes back through conn_done().  While a read is on a reader
 * thread no further request is read (readers.c).
 *
 * Writing: replies are written once the loop has run everything that was
 * ready in this turn, straight from the output buffer, so a request costs
 * one epoll_wait instead of two and no epoll_ctl (Redis writes before it
 * sleeps for the same reason).  Only what the socket does not take at
 * once goes through the bufferevent's EV_WRITE, which is enabled until
 * the output is empty again.
 *
 * Back-pressure (P1, P2): past the output high mark no further request is
 * read; the EV_WRITE low-watermark callback resumes.  Past the hard mark
 * the client is dropped.  Closing flushes what was written, then frees
 * from the write callback (P3).  The struct itself lives until the last
 * reference (a queued write) lets go (P4).
 *
 * Without a token (with --auth-file) a client may only say hello: a
 * frame prefix over CONN_PREAUTH_FRAME is refused before any of the body
 * is buffered, reads and the output high mark are small, and the bytes
 * in the buffers of all such clients are counted together (evbuffer
 * callbacks); past --max-preauth the one holding most is dropped.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "annalsd.h"

struct conn {
	uint64_t		 id;
	int			 refs;
	int			 flags;
#define CONN_DEAD	0x1	/* bufferevent gone; replies are dropped */
#define CONN_CLOSING	0x2	/* flush the output, then go */
#define CONN_PAUSED	0x4	/* output past the high mark */
#define CONN_EOF	0x8	/* the client shut its side: answer, go */
#define CONN_FLUSH	0x10	/* on flushq: output to write this turn */
	struct bufferevent	*bev;
	size_t			 pending;	/* writes awaiting commit */
	void			(*drain)(struct conn *);
	int			 scope;		/* AUTH_*, once it has a token */
	int			 held;		/* a reply outstanding: wait */
	int			 reading;	/* on a reader thread */
	struct event		*penalty;	/* reading resumes when it fires */
	struct evbuffer_cb_entry *count_in;	/* unauthenticated: counted */
	struct evbuffer_cb_entry *count_out;
	char			 authkey[AUTH_PEER_KEY];	/* auth.c's peer */
	msgpack_sbuffer		 sbuf;
	msgpack_packer		 pk;
	char			 peer[64];
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 flush_entry;
};

/* Bytes read from a client in one go; a large batch is about 300 KiB. */
#define CONN_READ_MAX	(1u << 20)
/* Before authentication: the largest frame body (a hello is ~300 bytes). */
#define CONN_PREAUTH_FRAME	4096
/* Before authentication: the output that pauses a client. */
#define CONN_PREAUTH_OUT	(64u * 1024)

static TAILQ_HEAD(, conn)	conns = TAILQ_HEAD_INITIALIZER(conns);
static TAILQ_HEAD(, conn)	flushq = TAILQ_HEAD_INITIALIZER(flushq);
static size_t			nconns;		/* in conns */
static struct event		*flush_ev;	/* active while flushq is not empty */
static uint64_t			next_conn_id = 1;
static size_t			preauth_bytes;	/* of clients without a token */

static void	conn_process(struct conn *);
static void	conn_write_done(struct conn *);
static void	conn_destroy(struct conn *);
static void	conn_flush_close(struct conn *);
static void	conn_flush_cb(evutil_socket_t, short, void *);

/* Set up what every connection shares; the loop must exist. */
void
conn_init(struct event_base *base)
{
	flush_ev = event_new(base, -1, 0, conn_flush_cb, NULL);
	if (flush_ev == NULL)
		fatalx("event_new failed");
}

void
conn_fini(void)
{
	if (flush_ev != NULL)
		event_free(flush_ev);
	flush_ev = NULL;
}

uint64_t
conn_id(const struct conn *c)
{
	return (c->id);
}

int
conn_dead(const struct conn *c)
{
	return ((c->flags & (CONN_DEAD | CONN_CLOSING)) != 0);
}

/* The clients connected now, alive or closing. */
size_t
conn_count(void)
{
	return (nconns);
}

void
conn_ref(struct conn *c)
{
	c->refs++;
}

void
conn_unref(struct conn *c)
{
	if (--c->refs > 0)
		return;
	msgpack_sbuffer_destroy(&c->sbuf);
	free(c);
}

/* Count what the buffers of a client without a token gain and lose. */
static void
conn_count_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	(void)buf; (void)arg;
	preauth_bytes += info->n_added;
	preauth_bytes -= info->n_deleted;
}

/* The client has no token: count its bytes, read a little at a time. */
static void
conn_preauth_begin(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	if (c->count_in != NULL)
		return;
	preauth_bytes += evbuffer_get_length(in) + evbuffer_get_length(out);
	c->count_in = evbuffer_add_cb(in, conn_count_cb, NULL);
	c->count_out = evbuffer_add_cb(out, conn_count_cb, NULL);
	if (c->count_in == NULL || c->count_out == NULL)
		fatalx("evbuffer_add_cb failed");
	bufferevent_set_max_single_read(c->bev, PROTO_FRAME_HEADER +
	    CONN_PREAUTH_FRAME);
}

/* The client has a token, or is going: stop counting its bytes. */
static void
conn_preauth_end(struct conn *c)
{
	if (c->count_in == NULL)
		return;
	preauth_bytes -= evbuffer_get_length(bufferevent_get_input(c->bev)) +
	    evbuffer_get_length(bufferevent_get_output(c->bev));
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->count_in);
	evbuffer_remove_cb_entry(bufferevent_get_output(c->bev),
	    c->count_out);
	c->count_in = c->count_out = NULL;
	bufferevent_set_max_single_read(c->bev, CONN_READ_MAX);
}

/*
 * Clients without a token hold more than --max-preauth together: drop
 * the ones holding most until they do not.  Whoever has not said hello
 * and holds a lot is not reading its replies.
 */
static void
conn_preauth_shed(void)
{
	struct conn	*c, *big;
	size_t		 held, most;

	while (preauth_bytes > server->cfg->max_preauth) {
		big = NULL;
		most = 0;
		TAILQ_FOREACH(c, &conns, entry) {
			if (c->count_in == NULL)
				continue;
			held = evbuffer_get_length(bufferevent_get_input(
			    c->bev)) + evbuffer_get_length(
			    bufferevent_get_output(c->bev));
			if (big == NULL || held > most) {
				big = c;
				most = held;
			}
		}
		if (big == NULL)
			fatalx("%zu bytes counted for no client",
			    preauth_bytes);
		log_notice("conn %llu: dropped: it holds %zu bytes, and "
		    "clients without a token hold %zu, over --max-preauth "
		    "%zu", (unsigned long long)big->id, most, preauth_bytes,
		    server->cfg->max_preauth);
		conn_destroy(big);
	}
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	conn_ref(c);
	if (c->count_in != NULL)
		conn_preauth_shed();
	if (!conn_dead(c))
		conn_process(c);
	conn_unref(c);
}

/* The output that pauses c. */
static size_t
conn_out_high(const struct conn *c)
{
	return (c->count_in != NULL ? CONN_PREAUTH_OUT :
	    server->cfg->out_high);
}

/*
 * The output is at or below half the high mark: feed a subscriber, and
 * read requests again if the output had paused them.
 */
static void
conn_drained(struct conn *c)
{
	if (c->drain != NULL) {
		conn_ref(c);
		c->drain(c);
		if (conn_dead(c)) {
			conn_unref(c);
			return;
		}
		conn_unref(c);
	}
	if ((c->flags & CONN_PAUSED) && !conn_output_full(c) &&
	    (c->penalty == NULL || !evtimer_pending(c->penalty, NULL))) {
		c->flags &= ~CONN_PAUSED;
		if ((c->flags & CONN_EOF) == 0)
			bufferevent_enable(c->bev, EV_READ);
		conn_process(c);
	}
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*out = bufferevent_get_output(bev);

	if (c->flags & CONN_CLOSING) {
		if (evbuffer_get_length(out) == 0)
			conn_destroy(c);
		return;
	}
	/* Caught up: the next replies are written directly again. */
	if (evbuffer_get_length(out) == 0)
		bufferevent_disable(bev, EV_WRITE);
	if (evbuffer_get_length(out) > server->cfg->out_high / 2)
		return;
	conn_drained(c);
}

/*
 * Write what this turn queued for c.  What the socket does not take is
 * left to the bufferevent, which also reports a failed write (the event
 * callback then drops the client).
 */
static void
conn_flush(struct conn *c)
{
	struct evbuffer	*out;

	if (conn_dead(c) || (bufferevent_get_enabled(c->bev) & EV_WRITE))
		return;
	out = bufferevent_get_output(c->bev);
	/* The bufferevent keeps its output's front frozen but to write. */
	evbuffer_unfreeze(out, 1);
	(void)evbuffer_write(out, bufferevent_getfd(c->bev));
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) > 0) {
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	conn_drained(c);
}

/*
 * Run after the callbacks that were ready when it was activated, so the
 * replies to pipelined requests leave in one write.
 */
static void
conn_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c;

	(void)fd; (void)what; (void)arg;
	while ((c = TAILQ_FIRST(&flushq)) != NULL) {
		TAILQ_REMOVE(&flushq, c, flush_entry);
		c->flags &= ~CONN_FLUSH;
		conn_ref(c);
		conn_flush(c);
		conn_unref(c);
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF) {
		/*
		 * What it sent before still gets its replies (a pipeline
		 * through nc -N, or reads that were on a reader thread).
		 */
		c->flags |= CONN_EOF;
		bufferevent_disable(c->bev, EV_READ);
		conn_process(c);
	} else if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
		/* A subscriber waits for us, not we for it. */
		if (c->drain != NULL) {
			bufferevent_enable(bev, EV_READ);
			return;
		}
		log_info("conn %llu: idle for %u seconds, closing",
		    (unsigned long long)c->id, server->cfg->idle_timeout);
		conn_close(c, NULL);
	} else if (what & BEV_EVENT_TIMEOUT) {
		log_info("conn %llu: timed out flushing its output",
		    (unsigned long long)c->id);
		conn_destroy(c);
	} else if (what & BEV_EVENT_ERROR) {
		log_info("conn %llu: %s", (unsigned long long)c->id,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		conn_destroy(c);
	}
}

/* Take over an accepted socket. */
struct conn *
conn_new(int fd, const char *peer)
{
	struct conn	*c;

	c = xcalloc(1, sizeof *c);
	c->id = next_conn_id++;
	c->refs = 1;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	auth_peer_key(fd, c->authkey, sizeof c->authkey);
	msgpack_sbuffer_init(&c->sbuf);
	c->bev = bufferevent_socket_new(server->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	bufferevent_priority_set(c->bev, 0);
	/*
	 * libevent reads 16 KiB per callback by default, so a batch of a
	 * thousand records took dozens of loop turns and each commit held
	 * one batch.  Reading up to a frame at once lets the batches a
	 * client pipelines, and those of other clients, share a commit.
	 */
	bufferevent_set_max_single_read(c->bev, CONN_READ_MAX);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	bufferevent_setwatermark(c->bev, EV_WRITE, server->cfg->out_high / 2,
	    0);
	if (server->cfg->idle_timeout > 0) {
		struct timeval	tv = { server->cfg->idle_timeout, 0 };

		bufferevent_set_timeouts(c->bev, &tv, NULL);
	}
	c->scope = auth_enabled() ? AUTH_NONE : AUTH_WRITE;
	if (c->scope == AUTH_NONE)
		conn_preauth_begin(c);
	/* A new bufferevent has EV_WRITE on; conn_flush() writes. */
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
	log_debug("conn %llu: connected from %s", (unsigned long long)c->id,
	    peer);
	return (c);
}

static void
conn_destroy(struct conn *c)
{
	if (c->flags & CONN_DEAD)
		return;
	c->flags |= CONN_DEAD;
	TAILQ_REMOVE(&conns, c, entry);
	if (c->flags & CONN_FLUSH) {
		TAILQ_REMOVE(&flushq, c, flush_entry);
		c->flags &= ~CONN_FLUSH;
	}
	if (c->penalty != NULL) {
		event_free(c->penalty);
		c->penalty = NULL;
	}
	conn_preauth_end(c);
	bufferevent_free(c->bev);
	c->bev = NULL;
	log_debug("conn %llu: closed", (unsigned long long)c->id);
	nconns--;
	annalsd_check_done();
	conn_unref(c);
}

/*
 * Stop reading and go once the output is flushed.  A reason is logged;
 * NULL means the client simply left or the server is stopping.
 */
void
conn_close(struct conn *c, const char *reason)
{
	if (c->flags & (CONN_DEAD | CONN_CLOSING))
		return;
	if (reason != NULL)
		log_notice("conn %llu: closing: %s", (unsigned long long)c->id,
		    reason);
	c->flags |= CONN_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
	/*
	 * A read answered on the loop was in the output already: one on a
	 * reader thread is sent too (conn_done finishes the close).
	 */
	if (!c->reading)
		conn_flush_close(c);
}

static void
conn_flush_close(struct conn *c)
{
	struct timeval	tv = { 5, 0 };

	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_destroy(c);
		return;
	}
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_enable(c->bev, EV_WRITE);
}

void
conn_shutdown_all(void)
{
	struct conn	*c, *next;

	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		conn_close(c, NULL);
	}
}

/* Start a successful reply; the caller packs the result, then ends it. */
msgpack_packer *
conn_reply_begin(struct conn *c, uint32_t msgid)
{
	msgpack_sbuffer_clear(&c->sbuf);
	msgpack_packer_init(&c->pk, &c->sbuf, msgpack_sbuffer_write);
	msg_pack_response_ok(&c->pk, msgid);
	return (&c->pk);
}

/* Start a notification [2, method, [params]]; the caller packs params. */
msgpack_packer *
conn_notify_begin(struct conn *c, const char *method)
{
	msgpack_sbuffer_clear(&c->sbuf);
	msgpack_packer_init(&c->pk, &c->sbuf, msgpack_sbuffer_write);
	msgpack_pack_array(&c->pk, 3);
	msgpack_pack_uint8(&c->pk, MSG_NOTIFY);
	mp_pack_str(&c->pk, method);
	msgpack_pack_array(&c->pk, 1);
	return (&c->pk);
}

/* Whether the output is past the high mark: produce nothing more now. */
int
conn_output_full(struct conn *c)
{
	if (conn_dead(c))
		return (1);
	return (evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    conn_out_high(c));
}

/* Have fn called when the output drains below half the high mark. */
void
conn_set_drain(struct conn *c, void (*fn)(struct conn *))
{
	c->drain = fn;
}

int
conn_scope(const struct conn *c)
{
	return (c->scope);
}

void
conn_set_scope(struct conn *c, int scope)
{
	c->scope = scope;
	if (scope != AUTH_NONE)
		conn_preauth_end(c);
	else if (!conn_dead(c))
		conn_preauth_begin(c);
}

const char *
conn_peer(const struct conn *c)
{
	return (c->peer);
}

static void
conn_penalty_over(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd; (void)what;
	if (conn_dead(c))
		return;
	if ((c->flags & CONN_EOF) == 0)
		bufferevent_enable(c->bev, EV_READ);
	conn_process(c);
}

/* Read nothing more from c for ms, then go on. */
static void
conn_penalise(struct conn *c, uint64_t ms)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if (c->penalty == NULL)
		c->penalty = evtimer_new(server->base, conn_penalty_over, c);
	bufferevent_disable(c->bev, EV_READ);
	evtimer_add(c->penalty, &tv);
}

/*
 * A wrong token: its peer waits (auth.c, longer after each failure, on
 * every connection it has or makes), and so does this connection.
 */
void
conn_auth_failed(struct conn *c)
{
	conn_penalise(c, auth_failed(c->authkey));
}

msgpack_sbuffer *
conn_sbuf(struct conn *c)
{
	return (&c->sbuf);
}

static void
conn_free_data(const void *data, size_t len, void *arg)
{
	(void)len; (void)arg;
	free((void *)data);
}

/*
 * Frame a packed reply and queue it on the socket: copied, or with take
 * the output takes sb's memory (and sb is left empty).
 */
static void
conn_send(struct conn *c, msgpack_sbuffer *sb, int take)
{
	unsigned char	 hdr[PROTO_FRAME_HEADER];
	struct evbuffer	*out;
	char		 reason[96];

	out = bufferevent_get_output(c->bev);
	frame_header(hdr, (uint32_t)sb->size);
	evbuffer_add(out, hdr, sizeof hdr);
	if (!take)
		evbuffer_add(out, sb->data, sb->size);
	else {
		if (evbuffer_add_reference(out, sb->data, sb->size,
		    conn_free_data, NULL) != 0)
			fatalx("evbuffer_add_reference failed");
		sb->data = NULL;
		sb->size = sb->alloc = 0;
	}
	if (evbuffer_get_length(out) > server->cfg->out_hard) {
		snprintf(reason, sizeof reason, "output buffer over %zu bytes",
		    server->cfg->out_hard);
		/* The client is not reading: nothing more will reach it. */
		log_notice("conn %llu: dropped: %s", (unsigned long long)c->id,
		    reason);
		conn_destroy(c);
		return;
	}
	if ((c->flags & CONN_FLUSH) == 0) {
		c->flags |= CONN_FLUSH;
		TAILQ_INSERT_TAIL(&flushq, c, flush_entry);
		event_active(flush_ev, EV_TIMEOUT, 0);
	}
}

/* Frame the packed reply and queue it on the socket. */
void
conn_reply_end(struct conn *c)
{
	if (conn_dead(c))
		return;
	conn_send(c, &c->sbuf, 0);
	/* A large page's buffer is not kept for the connection's life. */
	if (c->sbuf.alloc > (1u << 20)) {
		msgpack_sbuffer_destroy(&c->sbuf);
		msgpack_sbuffer_init(&c->sbuf);
	}
}

/*
 * A request handed on, to a reader thread or the group commit, is
 * answered: send its reply (taking reply's memory) unless the client
 * is gone, go on with the next request, and drop the reference taken
 * when it was handed on.
 */
void
conn_done(struct conn *c, msgpack_sbuffer *reply)
{
	if (c->reading) {
		/* A close waited for this reply (conn_close). */
		c->reading = 0;
		if ((c->flags & CONN_DEAD) == 0 && reply->size > 0)
			conn_send(c, reply, 1);
		if ((c->flags & (CONN_DEAD | CONN_CLOSING)) == CONN_CLOSING)
			conn_flush_close(c);
		conn_release(c);
	} else {
		if (!conn_dead(c) && reply->size > 0)
			conn_send(c, reply, 1);
		conn_write_done(c);
	}
	conn_unref(c);
}

void
conn_reply_error(struct conn *c, uint32_t msgid, int code, const char *msg)
{
	msgpack_sbuffer_clear(&c->sbuf);
	msgpack_packer_init(&c->pk, &c->sbuf, msgpack_sbuffer_write);
	msg_pack_response_error(&c->pk, msgid, code, msg);
	conn_reply_end(c);
}

/*
 * A method will answer later (a backup): read nothing more from this
 * connection until conn_release(), so replies keep their order.
 */
void
conn_hold(struct conn *c)
{
	c->held = 1;
	c->pending++;
}

void
conn_release(struct conn *c)
{
	c->held = 0;
	conn_write_done(c);
}

/* A write goes to the group commit: conn_done() follows its commit. */
void
conn_write_begin(struct conn *c)
{
	c->pending++;
}

/* A read went to a reader thread: nothing more is read until conn_done(). */
void
conn_read_begin(struct conn *c)
{
	c->reading = 1;
	conn_hold(c);
}

/* Requests of c still to be answered, in order: writes, a held reply. */
size_t
conn_pending(const struct conn *c)
{
	return (c->pending);
}

/*
 * Whether c's peer, serving a penalty for wrong tokens, must wait to say
 * hello again; then c reads nothing until the penalty is over.
 */
int
conn_hello_waits(struct conn *c)
{
	uint64_t	ms = auth_wait(c->authkey);

	if (ms == 0)
		return (0);
	conn_penalise(c, ms);
	return (1);
}

/* A write of this connection was acknowledged: go on reading. */
static void
conn_write_done(struct conn *c)
{
	if (c->pending > 0)
		c->pending--;
	if (c->pending == 0 && !conn_dead(c))
		conn_process(c);
}

/*
 * Hand every complete frame in the input to dispatch, as far as
 * back-pressure, the in-flight cap and dispatch's order allow.
 */
static void
conn_process(struct conn *c)
{
	struct evbuffer		*in;
	struct aerr		 err;
	unsigned char		 hdr[PROTO_FRAME_HEADER], *frame;
	uint32_t		 len;
	size_t			 avail;
	int			 r;

	/* A method may close the connection under us. */
	conn_ref(c);
	while (!conn_dead(c)) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    conn_out_high(c)) {
			c->flags |= CONN_PAUSED;
			bufferevent_disable(c->bev, EV_READ);
			break;
		}
		if (c->pending >= server->cfg->max_inflight || c->held)
			break;
		in = bufferevent_get_input(c->bev);
		avail = evbuffer_get_length(in);
		if (avail < PROTO_FRAME_HEADER)
			break;
		evbuffer_copyout(in, hdr, sizeof hdr);
		if (frame_peek(hdr, sizeof hdr, c->count_in != NULL ?
		    CONN_PREAUTH_FRAME : server->cfg->max_frame, &len,
		    &err) != 1) {
			if (c->count_in != NULL && err.code == AERR_LIMIT)
				aerr_prefix(&err, "before hello with a "
				    "token: ");
			/* The frame boundary is lost: reply, then hang up. */
			conn_reply_error(c, 0, err.code, err.msg);
			conn_close(c, err.msg);
			break;
		}
		if (avail < PROTO_FRAME_HEADER + (size_t)len)
			break;
		frame = evbuffer_pullup(in, PROTO_FRAME_HEADER + (size_t)len);
		r = dispatch_request(c, frame + PROTO_FRAME_HEADER, len);
		if (r == DISPATCH_WAIT)
			break;
		if ((c->flags & CONN_DEAD) == 0)
			evbuffer_drain(in, PROTO_FRAME_HEADER + (size_t)len);
		if (r == DISPATCH_RAN && c->penalty != NULL &&
		    evtimer_pending(c->penalty, NULL))
			break;
	}
	/* A client that shut its side has had every reply it can get. */
	if ((c->flags & (CONN_EOF | CONN_PAUSED)) == CONN_EOF &&
	    !conn_dead(c) && c->pending == 0 &&
	    (c->penalty == NULL || !evtimer_pending(c->penalty, NULL)))
		conn_close(c, NULL);
	conn_unref(c);
}
